import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InboundEvent, Input } from '../../src/channels/types';
import { BATCH_CUSTOMERS, createEngine, type Engine, type EngineDeps } from '../../src/conversation/engine';
import { DEFAULT_FLOW_SETTINGS, type Flow } from '../../src/conversation/flow';
import { handoffFlow } from '../../src/conversation/flows/handoff';
import { languageFlow } from '../../src/conversation/flows/language';
import { createTranslator } from '../../src/i18n';
import { manualClock } from '../../src/ops/clock';
import { silentLogger } from '../../src/ops/logger';
import { Metrics } from '../../src/ops/metrics';
import type { Store } from '../../src/store/store';
import { testConfig } from '../helpers/config';
import { openCountingStore, type CountingStore } from '../helpers/counting-dialect';

/** A flow with a bug: it writes, then throws. Its write must not survive, nor take anyone else's with it. */
const brokenFlow: Flow = {
  name: 'broken',
  stateVersion: 1,
  intent: 'complaint',
  menuOrder: 50,
  settings: DEFAULT_FLOW_SETTINGS,
  async start(ctx) {
    await ctx.tx.updateTable('customers').set({ notes: 'half-done' }).where('id', '=', ctx.customer.id).execute();
    throw new Error('bug in a flow');
  },
  async step() {
    throw new Error('unreachable');
  },
};

const dialects = ['sqlite', ...(process.env.TEST_DATABASE_URL ? ['postgres' as const] : [])] as const;

describe.each(dialects)('engine batches on %s', (dialect) => {
  let db: CountingStore;
  let store: Store;
  const clock = manualClock('2026-11-20T02:00:00.000Z');
  const translator = createTranslator('en');
  let seq = 0;

  function engineWith(extra: Partial<EngineDeps> = {}): Engine {
    return createEngine({ store, flows: [handoffFlow, languageFlow, brokenFlow], translator, clock, logger: silentLogger, metrics: new Metrics(), config: testConfig(), ...extra });
  }

  function event(visitor: string, input: Input, id = `evt-${++seq}`): InboundEvent {
    return { channel: 'web', eventId: id, externalId: visitor, occurredAt: clock.now().toISOString(), replyToken: null, profile: { displayName: null, languageHint: 'en' }, input };
  }

  /** What a customer said, as the transcript keeps it, in order. */
  async function said(visitor: string): Promise<string[]> {
    const rows = await store.db
      .selectFrom('messages')
      .innerJoin('channel_identities', 'channel_identities.customer_id', 'messages.customer_id')
      .select(['messages.text', 'messages.event_id'])
      .where('channel_identities.external_id', '=', visitor)
      .where('messages.direction', '=', 'in')
      .orderBy('messages.id')
      .execute();
    return rows.map((r) => r.text ?? '');
  }

  /** The replies queued for a customer, as their first text key. */
  async function queued(visitor: string): Promise<string[]> {
    const rows = await store.db.selectFrom('outbox').select('payload').where('external_id', '=', visitor).orderBy('id').execute();
    return rows.map((r) => {
      const [reply] = JSON.parse(r.payload) as { text?: { key?: string } | { key?: string }[] }[];
      const text = reply?.text;
      return (Array.isArray(text) ? text[0]?.key : text?.key) ?? '';
    });
  }

  beforeEach(async () => {
    db = await openCountingStore(dialect);
    store = db.store;
  });
  afterEach(async () => {
    await db.drop();
  });

  it('processes a batch of good and failing events: the good ones once, the broken step answered with an apology and rolled back, the failing one kept for a retry', async () => {
    // A profile lookup that fails for one customer stands in for a failure outside the step (the platform
    // or the store): that customer's event stays queued, the others are processed.
    const engine = engineWith({
      enrich: async (e) => {
        if (e.externalId === 'unlucky') throw new Error('profile lookup failed');
        return e;
      },
    });
    const good = Array.from({ length: 10 }, (_, i) => `good-${i}`);
    for (const visitor of good) expect(await engine.accept(event(visitor, { type: 'text', text: 'hello' }))).toBe('accepted');
    await engine.accept(event('buggy', { type: 'choice', id: 'i:complaint', params: null }));
    await engine.accept(event('unlucky', { type: 'text', text: 'first' }));
    await engine.accept(event('unlucky', { type: 'text', text: 'second' }));
    await engine.accept(event('good-0', { type: 'text', text: 'menu' }));
    // A redelivery the inbox no longer remembers, but which was handled: it must not be handled twice.
    await store.db.insertInto('processed_events').values({ channel: 'web', event_id: 'handled-long-ago', received_at: clock.now().toISOString() }).execute();
    await engine.accept(event('returning', { type: 'text', text: 'hello' }, 'handled-long-ago'));

    db.counter.reset();
    expect(await engine.drain()).toBe(13);
    // Batched: the good customers went together, not a transaction each (the failed batch, the batch
    // again without the broken step, the broken step and its apology alone, then good-0's second event).
    expect(db.counter.transactions).toBeLessThanOrEqual(6);

    for (const visitor of good.slice(1)) {
      expect(await said(visitor)).toEqual(['hello']);
      expect(await queued(visitor)).toHaveLength(1);
    }
    expect(await said('good-0')).toEqual(['hello', 'menu']);
    expect(await queued('good-0')).toEqual(['greeting.welcome', 'menu.prompt']);
    expect(await said('buggy')).toHaveLength(1);
    expect(await queued('buggy')).toEqual(['error']);
    const notes = await store.db.selectFrom('customers').select('notes').where('notes', '=', 'half-done').execute();
    expect(notes).toHaveLength(0);
    expect(await said('returning')).toEqual([]);
    // The unlucky customer's first event waits for its retry, and the second waits behind it.
    expect(await said('unlucky')).toEqual([]);
    const waiting = await store.db.selectFrom('inbound_events').select(['status', 'attempts', 'payload']).where('external_id', '=', 'unlucky').orderBy('id').execute();
    expect(waiting.map((w) => [w.status, w.attempts])).toEqual([
      ['pending', 1],
      ['pending', 0],
    ]);
    const handled = await store.db.selectFrom('processed_events').select('event_id').execute();
    expect(handled).toHaveLength(13);
    expect(new Set(handled.map((h) => h.event_id)).size).toBe(13);
  });

  it('keeps each customer’s order across batches when more customers wait than a batch takes', async () => {
    const engine = engineWith();
    const customers = Array.from({ length: BATCH_CUSTOMERS + 6 }, (_, i) => `many-${i}`);
    for (let round = 0; round < 3; round++) for (const visitor of customers) await engine.accept(event(visitor, { type: 'text', text: `message ${round}` }));
    expect(await engine.drain()).toBe(customers.length * 3);
    for (const visitor of [customers[0]!, customers[BATCH_CUSTOMERS]!, customers.at(-1)!]) expect(await said(visitor)).toEqual(['message 0', 'message 1', 'message 2']);
    const pending = await store.db.selectFrom('inbound_events').select('id').where('status', '=', 'pending').execute();
    expect(pending).toHaveLength(0);
  });

  it('processes every event exactly once and in order with two instances draining the same inbox at once', async () => {
    const a = engineWith();
    const b = engineWith();
    const customers = Array.from({ length: 24 }, (_, i) => `shared-${i}`);
    for (let round = 0; round < 4; round++) for (const visitor of customers) await (round % 2 ? a : b).accept(event(visitor, { type: 'text', text: `message ${round}` }));
    const [fromA, fromB] = await Promise.all([a.drain(), b.drain()]);
    expect(fromA + fromB).toBe(customers.length * 4);
    for (const visitor of customers) expect(await said(visitor)).toEqual(['message 0', 'message 1', 'message 2', 'message 3']);
    const outbox = await store.db.selectFrom('outbox').select('id').execute();
    expect(outbox).toHaveLength(customers.length * 4);
  });
});
