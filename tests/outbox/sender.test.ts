import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChannelSender, Delivery, SendOutcome } from '../../src/channels/types';
import { createTranslator } from '../../src/i18n';
import { manualClock } from '../../src/ops/clock';
import { silentLogger } from '../../src/ops/logger';
import { Metrics } from '../../src/ops/metrics';
import { enqueueReplies } from '../../src/outbox/outbox';
import { backoffMs, createOutboxSender } from '../../src/outbox/sender';
import { resolveCustomer } from '../../src/store/customers';
import { beatInstance } from '../../src/store/instances';
import type { Store } from '../../src/store/store';
import { closeTestD1, flowDialects, type TestStore } from '../helpers/stores';

/** A channel whose answers the test scripts, recording every delivery it was asked to make. */
function scriptedChannel(channel: 'line' | 'telegram', answers: SendOutcome[] = []) {
  const deliveries: Delivery[] = [];
  const sender: ChannelSender & { deliveries: Delivery[]; answers: SendOutcome[] } = {
    channel,
    maxMessagesPerDelivery: channel === 'line' ? 5 : 1,
    deliveries,
    answers,
    async send(delivery) {
      deliveries.push(delivery);
      return answers.shift() ?? { ok: true, via: delivery.replyToken ? 'reply' : 'push' };
    },
  };
  return sender;
}

const fail = (status: number, retryable: boolean, retryAfterMs: number | null = null, unreachable = false): SendOutcome => ({
  ok: false,
  status,
  retryable,
  retryAfterMs,
  error: `status ${status}`,
  unreachable,
});

afterAll(closeTestD1);

// D1 too: the Workers drain sends with these same claims, without BEGIN and without counts inside a batch.
describe.each(flowDialects)('outbox sender on $name', (dialect) => {
  let db: TestStore;
  let store: Store;
  const clock = manualClock('2026-11-20T02:00:00.000Z');
  const translator = createTranslator('en');
  const limits = { linePerSecond: 2000, telegramPerSecond: 30, telegramPerChatPerSecond: 1 };

  beforeEach(async () => {
    db = await dialect.open();
    store = db.store;
  });
  afterEach(async () => {
    await db.drop();
  });

  async function customerOn(channel: 'line' | 'telegram', externalId: string) {
    return resolveCustomer(store.db, { channel, externalId, displayName: null, locale: 'en', now: clock.now().toISOString() });
  }

  async function enqueue(channel: 'line' | 'telegram', externalId: string, texts: string[], replyToken: string | null = null) {
    const { customer } = await customerOn(channel, externalId);
    await enqueueReplies(store.db, {
      customerId: customer.id,
      channel,
      externalId,
      replies: texts.map((raw) => ({ type: 'text' as const, text: { raw } })),
      replyToken: replyToken ? { token: replyToken, expiresAt: new Date(clock.now().getTime() + 30_000).toISOString() } : null,
      source: 'bot',
      now: clock.now().toISOString(),
    });
  }

  function sender(channels: ChannelSender[], opts: { maxAttempts?: number; metrics?: Metrics; instanceId?: string; reclaimAllOnStart?: boolean } = {}) {
    return createOutboxSender({
      store,
      senders: Object.fromEntries(channels.map((c) => [c.channel, c])),
      translator,
      clock,
      logger: silentLogger,
      metrics: opts.metrics ?? new Metrics(),
      defaultLocale: 'en',
      maxAttempts: opts.maxAttempts ?? 4,
      rateLimits: limits,
      random: () => 0.5,
      monotonicMs: () => clock.now().getTime(),
      ...(opts.instanceId ? { instanceId: opts.instanceId } : {}),
      ...(opts.reclaimAllOnStart !== undefined ? { reclaimAllOnStart: opts.reclaimAllOnStart } : {}),
    });
  }

  it('packs up to five LINE messages per request and uses the reply token only on the first', async () => {
    const line = scriptedChannel('line');
    await enqueue('line', 'U1', ['1', '2', '3', '4', '5', '6', '7'], 'reply-token-1');
    await sender([line]).runOnce();
    await sender([line]).runOnce();
    expect(line.deliveries.map((d) => d.messages.length)).toEqual([5, 2]);
    expect(line.deliveries.map((d) => d.replyToken)).toEqual(['reply-token-1', null]);
    const transcript = await store.db.selectFrom('messages').select('text').orderBy('id').execute();
    expect(transcript.map((m) => m.text)).toEqual(['1', '2', '3', '4', '5', '6', '7']);
  });

  it('waits as long as Retry-After says after a 429, then delivers once with the same idempotency key', async () => {
    const line = scriptedChannel('line', [fail(429, true, 7000)]);
    const metrics = new Metrics();
    const s = sender([line], { metrics });
    await enqueue('line', 'U2', ['hello']);
    expect(await s.runOnce()).toMatchObject({ failed: 1 });
    clock.advance(6000);
    expect(await s.runOnce()).toMatchObject({ sent: 0, failed: 0, nextDueInMs: 1000 });
    clock.advance(1000);
    expect(await s.runOnce()).toMatchObject({ sent: 1 });
    expect(await s.runOnce()).toMatchObject({ sent: 0, failed: 0 });
    expect(line.deliveries).toHaveLength(2);
    expect(line.deliveries[0]!.key).toBe(line.deliveries[1]!.key);
    expect(metrics.sends.get({ platform: 'line', result: 'rate_limited' })).toBe(1);
    expect(metrics.sends.get({ platform: 'line', result: 'sent' })).toBe(1);
  });

  it('backs off exponentially on 5xx and gives up after the configured attempts, keeping the error for staff', async () => {
    const line = scriptedChannel('line', [fail(500, true), fail(502, true), fail(503, true)]);
    const s = sender([line], { maxAttempts: 3 });
    await enqueue('line', 'U3', ['hello']);
    await s.runOnce();
    clock.advance(backoffMs(1, () => 0.5));
    await s.runOnce();
    clock.advance(backoffMs(2, () => 0.5));
    await s.runOnce();
    clock.advance(3600_000);
    await s.runOnce();
    expect(line.deliveries).toHaveLength(3);
    const row = await store.db.selectFrom('outbox').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'dead', attempts: 3, last_error: '503: status 503' });
    expect(await store.db.selectFrom('messages').select('id').execute()).toHaveLength(0);
  });

  it('does not retry what the platform refused for good, and marks a blocked customer unreachable', async () => {
    const telegram = scriptedChannel('telegram', [fail(403, false, null, true)]);
    await enqueue('telegram', '42', ['hello', 'again']);
    const s = sender([telegram]);
    await s.runOnce();
    await s.runOnce();
    expect(telegram.deliveries).toHaveLength(1);
    const rows = await store.db.selectFrom('outbox').select(['status', 'last_error']).orderBy('id').execute();
    expect(rows.map((r) => r.status)).toEqual(['dead', 'dead']);
    expect(rows[1]!.last_error).toContain('cannot be reached');
    expect((await store.db.selectFrom('channel_identities').select('reachable').executeTakeFirstOrThrow()).reachable).toBe(0);
  });

  it('keeps one recipient in order: a later message waits while an earlier one is backing off', async () => {
    const telegram = scriptedChannel('telegram');
    // Chat 7's first attempt fails; the two chats are sent side by side, so the failure is tied to the chat.
    const send = telegram.send.bind(telegram);
    let failedOnce = false;
    telegram.send = async (delivery) => {
      if (delivery.externalId !== '7' || failedOnce) return send(delivery);
      failedOnce = true;
      telegram.deliveries.push(delivery);
      return fail(500, true);
    };
    await enqueue('telegram', '7', ['first', 'second']);
    await enqueue('telegram', '8', ['other chat']);
    const s = sender([telegram]);
    await s.runOnce();
    // Two chats are sent side by side, so only the order within one chat is fixed.
    expect(telegram.deliveries.map((d) => (d.messages[0] as { text: string }).text).sort()).toEqual(['first', 'other chat']);
    clock.advance(60_000);
    await s.runOnce();
    await s.runOnce();
    clock.advance(2000);
    await s.runOnce();
    expect(telegram.deliveries.filter((d) => d.externalId === '7').map((d) => (d.messages[0] as { text: string }).text)).toEqual(['first', 'first', 'second']);
  });

  it('keeps Telegram to about one message a second per chat', async () => {
    const telegram = scriptedChannel('telegram');
    await enqueue('telegram', '9', ['a', 'b', 'c', 'd', 'e']);
    const s = sender([telegram]);
    for (let i = 0; i < 10; i++) await s.runOnce();
    // A short burst of three, then nothing until a second has passed.
    expect(telegram.deliveries).toHaveLength(3);
    clock.advance(1000);
    for (let i = 0; i < 5; i++) await s.runOnce();
    expect(telegram.deliveries).toHaveLength(4);
  });

  it('never sends a row twice when two senders (two instances) run at once', async () => {
    const line = scriptedChannel('line');
    for (let i = 0; i < 30; i++) await enqueue('line', `U-${i}`, [`hello ${i}`]);
    const a = sender([line]);
    const b = sender([line]);
    await Promise.all([a.runOnce(), b.runOnce(), a.runOnce(), b.runOnce()]);
    await a.drain();
    const keys = line.deliveries.map((d) => d.key);
    expect(keys).toHaveLength(30);
    expect(new Set(keys).size).toBe(30);
  });

  it('picks up a row whose sender died mid-send once its lease has run out', async () => {
    const line = scriptedChannel('line');
    await enqueue('line', 'U4', ['hello']);
    await store.db.updateTable('outbox').set({ status: 'sending', lease_until: new Date(clock.now().getTime() + 60_000).toISOString() }).execute();
    const s = sender([line]);
    await s.runOnce();
    expect(line.deliveries).toHaveLength(0);
    clock.advance(61_000);
    await s.runOnce();
    expect(line.deliveries).toHaveLength(1);
  });
  it("does not count 429s, the platform's pacing, toward giving up", async () => {
    const line = scriptedChannel('line', [fail(429, true, 1000), fail(429, true, 1000), fail(429, true, 1000), fail(500, true)]);
    const s = sender([line], { maxAttempts: 2 });
    await enqueue('line', 'U5', ['hello']);
    for (let i = 0; i < 4; i++) {
      await s.runOnce();
      clock.advance(2000);
    }
    await s.runOnce();
    expect(line.deliveries).toHaveLength(5);
    expect(await store.db.selectFrom('outbox').selectAll().executeTakeFirstOrThrow()).toMatchObject({ status: 'sent', attempts: 5, rate_limited: 3 });
  });

  it("takes back a dead instance's claims once its heartbeat is 15 s old, not before, and leaves a live one's alone", async () => {
    const line = scriptedChannel('line');
    await enqueue('line', 'U6', ['from the dead one']);
    await enqueue('line', 'U7', ['from the live one']);
    const [dead, live] = await store.db.selectFrom('outbox').select('id').orderBy('id').execute();
    const leaseUntil = new Date(clock.now().getTime() + 60_000).toISOString();
    const s = sender([line]);
    const other = sender([line]);
    await s.recover();
    await other.recover();
    await store.db.updateTable('outbox').set({ status: 'sending', claimed_by: 'gone', lease_until: leaseUntil }).where('id', '=', dead!.id).execute();
    await store.db.updateTable('outbox').set({ status: 'sending', claimed_by: other.instanceId, lease_until: leaseUntil }).where('id', '=', live!.id).execute();
    await store.db.insertInto('instances').values({ id: 'gone', started_at: clock.now().toISOString(), heartbeat_at: clock.now().toISOString() }).execute();
    clock.advance(14_000);
    await beatInstance(store.db, other.instanceId, clock.now().toISOString());
    await s.runOnce();
    expect(line.deliveries).toHaveLength(0);
    clock.advance(2000);
    await s.runOnce();
    expect(line.deliveries.map((d) => d.externalId)).toEqual(['U6']);
  });

  it('takes back at start what the same instance was sending before a restart, and only that, without waiting', async () => {
    const line = scriptedChannel('line');
    await enqueue('line', 'U8', ['claimed before the restart']);
    await enqueue('line', 'U9', ['claimed by another instance']);
    const [mine, theirs] = await store.db.selectFrom('outbox').select('id').orderBy('id').execute();
    const leaseUntil = new Date(clock.now().getTime() + 60_000).toISOString();
    await store.db.updateTable('outbox').set({ status: 'sending', claimed_by: 'host-a:3001', lease_until: leaseUntil }).where('id', '=', mine!.id).execute();
    await store.db.updateTable('outbox').set({ status: 'sending', claimed_by: 'host-b:3001', lease_until: leaseUntil }).where('id', '=', theirs!.id).execute();
    await beatInstance(store.db, 'host-b:3001', clock.now().toISOString());
    // The process comes back under its name (as on Postgres, where the others may be alive).
    const restarted = sender([line], { instanceId: 'host-a:3001', reclaimAllOnStart: false });
    expect(await restarted.recover()).toBe(1);
    await restarted.runOnce();
    expect(line.deliveries.map((d) => d.externalId)).toEqual(['U8']);
  });

  it("sends one customer's messages, in order, and leaves everyone else's for the next pass", async () => {
    const line = scriptedChannel('line');
    await enqueue('line', 'U10', ['one']);
    await enqueue('line', 'U11', ['not yet']);
    await enqueue('line', 'U10', ['two']);
    await sender([line]).drainRecipient({ channel: 'line', externalId: 'U10' });
    expect(line.deliveries.map((d) => [d.externalId, (d.messages[0] as { text: string }).text])).toEqual([
      ['U10', 'one'],
      ['U10', 'two'],
    ]);
    expect(await store.db.selectFrom('outbox').select('status').where('external_id', '=', 'U11').executeTakeFirstOrThrow()).toEqual({ status: 'pending' });
  });
});
