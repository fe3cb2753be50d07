import { startTestD1, type TestD1 } from '../helpers/d1';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { InboundEvent } from '../../src/channels/types';
import { createD1Store } from '../../src/store/d1-driver';
import { acceptEvents, EVENTS_PER_INSERT, headOfQueue } from '../../src/store/inbox';
import { migrateToLatest, type Store } from '../../src/store/store';
import { dialects, type TestDialect } from '../helpers/stores';

const NOW = '2026-11-20T02:00:00.000Z';

function event(eventId: string, externalId = 'U1', text = eventId): InboundEvent {
  return { channel: 'line', eventId, externalId, occurredAt: NOW, replyToken: null, profile: null, input: { type: 'text', text } };
}

let mf: TestD1;
beforeAll(() => {
  mf = startTestD1(['INBOX']);
});
afterAll(async () => {
  await mf.dispose();
});

const d1: TestDialect = {
  name: 'sqlite',
  async open() {
    const store = createD1Store(mf.database('INBOX'));
    await migrateToLatest(store.db);
    await store.db.deleteFrom('inbound_events').execute();
    return { store, drop: async () => {} };
  },
};

describe.each([...dialects.map((d) => [d.name, d] as const), ['d1', d1] as const])('inbox on %s', (_name, dialect) => {
  let store: Store;
  let drop: () => Promise<void>;
  beforeEach(async () => {
    ({ store, drop } = await dialect.open());
  });
  afterEach(async () => {
    await drop();
  });

  const kept = () => store.db.selectFrom('inbound_events').select(['event_id', 'external_id', 'status', 'attempts']).orderBy('id').execute();

  it('keeps many events in order, more than one statement holds, and says which were new', async () => {
    const events = Array.from({ length: EVENTS_PER_INSERT * 2 + 3 }, (_, i) => event(`e${String(i).padStart(3, '0')}`, `U${i % 3}`));
    expect(await acceptEvents(store.db, events, NOW)).toEqual(events.map(() => true));
    const rows = await kept();
    expect(rows.map((r) => r.event_id)).toEqual(events.map((e) => e.eventId));
    expect(rows.every((r) => r.status === 'pending' && Number(r.attempts) === 0)).toBe(true);
    // Each customer's queue starts with their first event.
    expect((await headOfQueue(store.db, 'line', 'U1'))?.event_id).toBe('e001');
  });

  it('refuses a repeat, whether it was kept before or comes twice in the same call', async () => {
    expect(await acceptEvents(store.db, [event('a')], NOW)).toEqual([true]);
    expect(await acceptEvents(store.db, [event('b'), event('a', 'U1', 'changed'), event('b'), event('c')], NOW)).toEqual([true, false, false, true]);
    expect(await acceptEvents(store.db, [event('c')], NOW)).toEqual([false]);
    const rows = await kept();
    expect(rows.map((r) => r.event_id)).toEqual(['a', 'b', 'c']);
  });

  it('tells a LINE event from a Telegram update with the same id', async () => {
    expect(await acceptEvents(store.db, [event('7'), { ...event('7'), channel: 'telegram', externalId: '42' }], NOW)).toEqual([true, true]);
  });
});
