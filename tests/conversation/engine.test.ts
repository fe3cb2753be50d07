import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InboundEvent, Input } from '../../src/channels/types';
import { createWebSender } from '../../src/channels/web/sender';
import { createEngine, type Engine } from '../../src/conversation/engine';
import { DEFAULT_FLOW_SETTINGS, type Flow } from '../../src/conversation/flow';
import { handoffFlow } from '../../src/conversation/flows/handoff';
import { languageFlow } from '../../src/conversation/flows/language';
import { createTranslator } from '../../src/i18n';
import { manualClock } from '../../src/ops/clock';
import { silentLogger } from '../../src/ops/logger';
import { Metrics } from '../../src/ops/metrics';
import { createOutboxSender, type OutboxSender } from '../../src/outbox/sender';
import type { Store } from '../../src/store/store';
import { testConfig } from '../helpers/config';
import { closeTestD1, flowDialects, type TestStore } from '../helpers/stores';

/** A flow that fails on purpose, standing in for a bug in a business flow. */
const brokenFlow: Flow = {
  name: 'broken',
  stateVersion: 1,
  intent: 'complaint',
  menuOrder: 50,
  settings: DEFAULT_FLOW_SETTINGS,
  async start(ctx) {
    // Writes first, then fails: the write must be rolled back with everything else.
    await ctx.tx.updateTable('customers').set({ notes: 'half-done' }).where('id', '=', ctx.customer.id).execute();
    throw new Error('bug in a flow');
  },
  async step() {
    throw new Error('unreachable');
  },
};

afterAll(closeTestD1);

describe.each(flowDialects)('conversation engine on $name', (dialect) => {
  let db: TestStore;
  let store: Store;
  let engine: Engine;
  let outbox: OutboxSender;
  let metrics: Metrics;
  const clock = manualClock('2026-11-20T02:00:00.000Z');
  const translator = createTranslator('en');
  let seq = 0;

  beforeEach(async () => {
    db = await dialect.open();
    store = db.store;
    metrics = new Metrics();
    const config = testConfig();
    engine = createEngine({ store, flows: [handoffFlow, languageFlow, brokenFlow], translator, clock, logger: silentLogger, metrics, config });
    outbox = createOutboxSender({
      store,
      senders: { web: createWebSender() },
      translator,
      clock,
      logger: silentLogger,
      metrics,
      defaultLocale: config.dealer.defaultLocale,
      maxAttempts: 3,
      rateLimits: config.outbox.rateLimits,
    });
  });
  afterEach(async () => {
    await db.drop();
  });

  function event(visitor: string, input: Input, opts: { id?: string; language?: string } = {}): InboundEvent {
    return {
      channel: 'web',
      eventId: opts.id ?? `evt-${++seq}`,
      externalId: visitor,
      occurredAt: clock.now().toISOString(),
      replyToken: null,
      profile: { displayName: null, languageHint: opts.language ?? 'en' },
      input,
    };
  }

  /** Sends what is due and returns the texts the customer received since `afterId`. */
  async function received(visitor: string, afterId = 0) {
    await outbox.drain();
    const rows = await store.db
      .selectFrom('messages')
      .innerJoin('channel_identities', 'channel_identities.customer_id', 'messages.customer_id')
      .select(['messages.id', 'messages.text', 'messages.payload'])
      .where('channel_identities.external_id', '=', visitor)
      .where('messages.direction', '=', 'out')
      .where('messages.id', '>', afterId)
      .orderBy('messages.id')
      .execute();
    return rows.map((r) => ({ id: r.id, text: r.text ?? '', choices: (JSON.parse(r.payload ?? '{}') as { choices: { id: string; label: string }[] }).choices }));
  }

  it('greets a new customer in their language with the menu as buttons', async () => {
    expect(await engine.handle(event('v1', { type: 'start', payload: null }, { language: 'ja' }))).toBe('processed');
    const [greeting] = await received('v1');
    expect(greeting!.text).toContain('Test Motors');
    expect(greeting!.text).toContain('ようこそ');
    expect(greeting!.choices.map((c) => c.id)).toEqual(['i:complaint', 'i:human', 'i:language']);
    expect(greeting!.choices.map((c) => c.label)).toContain('スタッフに相談');
  });

  it('handles a redelivered event once', async () => {
    const first = event('v2', { type: 'text', text: 'hello' }, { id: 'same-id' });
    expect(await engine.handle(first)).toBe('processed');
    expect(await engine.handle({ ...first })).toBe('duplicate');
    const rows = await store.db.selectFrom('outbox').select('id').execute();
    expect(rows).toHaveLength(1);
    const inbound = await store.db.selectFrom('messages').select('id').where('direction', '=', 'in').execute();
    expect(inbound).toHaveLength(1);
    expect(metrics.eventsDeduplicated.get({ channel: 'web' })).toBe(1);
  });

  it('understands the menu word in any language and unknown text with a helpful answer', async () => {
    await engine.handle(event('v3', { type: 'start', payload: null }));
    const start = await received('v3');
    await engine.handle(event('v3', { type: 'text', text: '選單' }));
    const menu = await received('v3', start.at(-1)!.id);
    expect(menu[0]!.text).toBe('What would you like to do?');
    await engine.handle(event('v3', { type: 'text', text: 'asdf qwerty' }));
    const unknown = await received('v3', menu.at(-1)!.id);
    expect(unknown[0]!.text).toContain("didn't understand");
    expect(unknown[0]!.choices.length).toBeGreaterThan(0);
  });

  it('switches language by button, then by typing the language name, and re-asks politely on nonsense', async () => {
    await engine.handle(event('v4', { type: 'choice', id: 'i:language', params: null }));
    const prompt = await received('v4');
    expect(prompt[0]!.choices.map((c) => c.id)).toEqual(['lang:zh-TW', 'lang:zh-CN', 'lang:en', 'lang:ja', 'lang:th']);
    await engine.handle(event('v4', { type: 'text', text: 'banana' }));
    const reask = await received('v4', prompt.at(-1)!.id);
    expect(reask[0]!.text).toBe('Please choose one of the languages below.');
    await engine.handle(event('v4', { type: 'choice', id: 'lang:th', params: null }));
    const changed = await received('v4', reask.at(-1)!.id);
    expect(changed[0]!.text).toContain('ภาษาไทย');
    const customer = await store.db.selectFrom('customers').select('locale').executeTakeFirstOrThrow();
    expect(customer.locale).toBe('th');
    await engine.handle(event('v4', { type: 'text', text: 'language' }));
    await engine.handle(event('v4', { type: 'text', text: '日本語' }));
    expect((await store.db.selectFrom('customers').select('locale').executeTakeFirstOrThrow()).locale).toBe('ja');
  });

  it('starts fresh with a short note after the idle timeout', async () => {
    await engine.handle(event('v5', { type: 'text', text: 'language' }));
    const before = await received('v5');
    clock.advance(31 * 60_000);
    await engine.handle(event('v5', { type: 'text', text: 'zzz' }));
    const after = await received('v5', before.at(-1)!.id);
    expect(after.map((m) => m.text)).toEqual([expect.stringContaining('started over'), expect.stringContaining("didn't understand")]);
    const conversation = await store.db.selectFrom('conversations').selectAll().executeTakeFirstOrThrow();
    expect(conversation.flow).toBeNull();
  });

  it('answers a failing step with an apology and the menu, rolls back its writes, and is not stuck', async () => {
    await engine.handle(event('v6', { type: 'text', text: 'complaint' }, { id: 'boom' }));
    const [apology] = await received('v6');
    expect(apology!.text).toContain('something went wrong');
    expect(apology!.choices.length).toBeGreaterThan(0);
    const customer = await store.db.selectFrom('customers').select('notes').executeTakeFirstOrThrow();
    expect(customer.notes).toBeNull();
    // The failed event still counts as handled: a redelivery does not apologise twice.
    expect(await engine.handle(event('v6', { type: 'text', text: 'complaint' }, { id: 'boom' }))).toBe('duplicate');
    await engine.handle(event('v6', { type: 'text', text: 'menu' }));
    const next = await received('v6', apology!.id);
    expect(next[0]!.text).toBe('What would you like to do?');
  });

  it('hands over to a person, acknowledges once, stays quiet, and comes back on "menu"', async () => {
    await engine.handle(event('v7', { type: 'text', text: 'human' }));
    await engine.handle(event('v7', { type: 'text', text: 'My brakes squeak' }));
    await engine.handle(event('v7', { type: 'text', text: 'Since Monday' }));
    clock.advance(3 * 3600_000); // Waiting for a person does not time out.
    await engine.handle(event('v7', { type: 'text', text: 'Anyone there?' }));
    const texts = (await received('v7')).map((m) => m.text);
    expect(texts).toHaveLength(2);
    expect(texts[0]).toContain('asked our team');
    expect(texts[1]).toContain('passed on');
    const inbound = await store.db.selectFrom('messages').select(['text', 'flow']).where('direction', '=', 'in').orderBy('id').execute();
    expect(inbound.slice(1).map((m) => m.flow)).toEqual(['handoff', 'handoff', 'handoff']);
    await engine.handle(event('v7', { type: 'text', text: 'menu' }));
    const conversation = await store.db.selectFrom('conversations').selectAll().executeTakeFirstOrThrow();
    expect(conversation.flow).toBeNull();
  });

  it('restarts politely when a saved state has an older shape', async () => {
    await engine.handle(event('v8', { type: 'text', text: 'language' }));
    await store.db.updateTable('conversations').set({ state_version: 0 }).execute();
    await engine.handle(event('v8', { type: 'choice', id: 'lang:en', params: null }));
    const conversation = await store.db.selectFrom('conversations').selectAll().executeTakeFirstOrThrow();
    expect(conversation.flow).toBeNull();
    const texts = (await received('v8')).map((m) => m.text);
    expect(texts.at(-2)).toContain('started over');
  });

  it('processes one customer’s events in the order they arrived, even with several processors draining at once', async () => {
    const words = Array.from({ length: 25 }, (_, i) => `message ${i}`);
    for (const text of words) expect(await engine.accept(event('v9', { type: 'text', text }))).toBe('accepted');
    // Three processors (as on three instances) work the same queue at the same time.
    await Promise.all([engine.drain(), engine.drain(), engine.drain()]);
    const inbound = await store.db.selectFrom('messages').select('text').where('direction', '=', 'in').orderBy('id').execute();
    expect(inbound.map((m) => m.text)).toEqual(words);
    const conversation = await store.db.selectFrom('conversations').select('version').executeTakeFirstOrThrow();
    expect(conversation.version).toBe(25);
  });

  it('handles simultaneous events of one customer one at a time, each exactly once', async () => {
    const words = Array.from({ length: 25 }, (_, i) => `message ${i}`);
    await Promise.all(words.map((text) => engine.handle(event('v11', { type: 'text', text }))));
    const inbound = await store.db.selectFrom('messages').select('text').where('direction', '=', 'in').execute();
    expect(inbound.map((m) => m.text).sort()).toEqual([...words].sort());
    const conversation = await store.db.selectFrom('conversations').select('version').executeTakeFirstOrThrow();
    expect(conversation.version).toBe(25);
  });

  it('marks the customer unreachable when they block the bot, and reachable when they come back', async () => {
    await engine.handle(event('v10', { type: 'start', payload: null }));
    await engine.handle(event('v10', { type: 'stop' }));
    expect((await store.db.selectFrom('channel_identities').select('reachable').executeTakeFirstOrThrow()).reachable).toBe(0);
    await engine.handle(event('v10', { type: 'start', payload: null }));
    expect((await store.db.selectFrom('channel_identities').select('reachable').executeTakeFirstOrThrow()).reachable).toBe(1);
    const texts = (await received('v10')).map((m) => m.text);
    expect(texts.at(-1)).toContain('Welcome back');
  });
});
