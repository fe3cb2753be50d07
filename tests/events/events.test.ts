import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEventDispatcher, emitEvent, type DomainEvent, type Subscriber } from '../../src/events/events';
import { manualClock } from '../../src/ops/clock';
import { silentLogger } from '../../src/ops/logger';
import { migrateToLatest } from '../../src/store/store';
import { dialects, type TestStore } from '../helpers/stores';

/*
 * Domain events: written with the change that caused them (or not at all), handed to each subscriber of
 * their type exactly once — even by two instances running the job at the same moment — and retried with a
 * pause when a subscriber fails, until it is set aside.
 */

const START = '2026-05-04T01:00:00.000Z';

describe.each(dialects)('domain events on $name', (dialect) => {
  let db: TestStore;
  const clock = manualClock(START);

  beforeEach(async () => {
    clock.set(START);
    db = await dialect.open();
    await migrateToLatest(db.store.db);
  });
  afterEach(async () => {
    await db.drop();
  });

  /** A subscriber that writes a setting row per event it handles: what it did is in the database, or not. */
  function recorder(name: string, types: string[], fail: () => boolean = () => false): Subscriber & { seen: DomainEvent[] } {
    const seen: DomainEvent[] = [];
    return {
      name,
      types,
      seen,
      async handle(tx, event) {
        seen.push(event);
        if (fail()) throw new Error('the survey service is down');
        await tx.insertInto('settings').values({ key: `${name}:${event.id}`, value: String(event.payload.number) }).execute();
      },
    };
  }

  const written = async (prefix: string) => (await db.store.db.selectFrom('settings').select(['key', 'value']).where('key', 'like', `${prefix}:%`).execute()).map((r) => r.value).sort();

  it('hands an event written with its change to each subscriber of its type once, however many instances run', async () => {
    await db.store.transaction(async (tx) => {
      await emitEvent(tx, { type: 'repair_order.collected', aggregateId: 'ro-1', payload: { number: 'RO-1' }, now: clock.now().toISOString() });
      await emitEvent(tx, { type: 'repair_order.status_changed', aggregateId: 'ro-1', payload: { number: 'RO-1' }, now: clock.now().toISOString() });
    });
    // A change that rolls back leaves no event behind.
    await expect(
      db.store.transaction(async (tx) => {
        await emitEvent(tx, { type: 'repair_order.collected', aggregateId: 'ro-2', payload: { number: 'RO-2' }, now: clock.now().toISOString() });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');

    const survey = recorder('survey', ['repair_order.collected']);
    const audit = recorder('audit', ['repair_order.collected', 'repair_order.status_changed']);
    const instances = [0, 1, 2].map(() => createEventDispatcher({ store: db.store, subscribers: [survey, audit], clock, logger: silentLogger }));
    const handled = await Promise.all(instances.map((d) => d.runOnce()));
    expect(handled.reduce((a, b) => a + b, 0)).toBe(3);
    expect(await written('survey')).toEqual(['RO-1']);
    expect(await written('audit')).toEqual(['RO-1', 'RO-1']);
    expect(await instances[0]!.runOnce()).toBe(0);
    const handlings = await db.store.db.selectFrom('event_handlings').select(['subscriber']).orderBy('subscriber').execute();
    expect(handlings.map((h) => h.subscriber)).toEqual(['audit', 'audit', 'survey']);
  });

  it('retries a failing subscriber after a pause, then sets the event aside; others are not held up', async () => {
    await emitEvent(db.store.db, { type: 'repair_order.collected', aggregateId: 'ro-3', payload: { number: 'RO-3' }, now: clock.now().toISOString() });
    let failures = 0;
    const flaky = recorder('flaky', ['repair_order.collected'], () => failures++ < 1);
    const broken = recorder('broken', ['repair_order.collected'], () => true);
    const fine = recorder('fine', ['repair_order.collected']);
    const dispatcher = createEventDispatcher({ store: db.store, subscribers: [flaky, broken, fine], clock, logger: silentLogger, maxAttempts: 3 });
    expect(await dispatcher.runOnce()).toBe(1);
    expect(await written('fine')).toEqual(['RO-3']);
    // Not again at once: the failure waits its pause.
    expect(await dispatcher.runOnce()).toBe(0);
    expect(flaky.seen).toHaveLength(1);
    clock.advance(31_000);
    expect(await dispatcher.runOnce()).toBe(1);
    expect(await written('flaky')).toEqual(['RO-3']);
    for (let i = 0; i < 5; i++) {
      clock.advance(3_600_000);
      await dispatcher.runOnce();
    }
    expect(broken.seen).toHaveLength(3);
    expect(await db.store.db.selectFrom('event_failures').select(['subscriber', 'attempts', 'given_up', 'last_error']).execute()).toEqual([{ subscriber: 'broken', attempts: 3, given_up: 1, last_error: 'the survey service is down' }]);
  });
});
