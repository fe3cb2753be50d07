import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLineSender } from '../../src/channels/line/sender';
import { createTelegramSender } from '../../src/channels/telegram/sender';
import type { ChannelSender, Delivery, SendOutcome } from '../../src/channels/types';
import { createTranslator } from '../../src/i18n';
import { manualClock } from '../../src/ops/clock';
import { silentLogger } from '../../src/ops/logger';
import { Metrics } from '../../src/ops/metrics';
import { enqueueReplies } from '../../src/outbox/outbox';
import { backoffMs, createOutboxSender, type OutboxSender } from '../../src/outbox/sender';
import { resolveCustomer } from '../../src/store/customers';
import type { Store } from '../../src/store/store';
import { startFakeLineApi, type FakeLineApi } from '../fakes/line-api';
import { startFakeTelegramApi, type FakeTelegramApi } from '../fakes/telegram-api';
import { dialects, type TestStore } from '../helpers/stores';

/*
 * Delivery once and in order when things go wrong, through the real LINE and Telegram senders against the
 * fake platforms. A process killed mid-send is a channel sender that never returns once the platform took
 * the request (or once a part was recorded): its row stays claimed exactly as after a kill -9, and a second
 * sender with its own instance id, started over the same database, has to finish the job.
 */

const SECOND = 1000;

/** A channel sender that "dies" (never returns) right after the real one finished, or after the given part was recorded. */
function dyingAfter(real: ChannelSender, when: { part?: number } = {}) {
  let reached!: () => void;
  const died = new Promise<void>((resolve) => (reached = resolve));
  const sender: ChannelSender = {
    channel: real.channel,
    maxMessagesPerDelivery: real.maxMessagesPerDelivery,
    async send(delivery: Delivery): Promise<SendOutcome> {
      const hang = () => {
        reached();
        return new Promise<never>(() => undefined);
      };
      if (when.part === undefined) {
        await real.send(delivery);
        return hang();
      }
      return real.send({
        ...delivery,
        onPartSent: async (parts) => {
          await delivery.onPartSent?.(parts);
          if (parts === when.part) await hang();
        },
      });
    },
  };
  return { sender, died };
}

describe.each(dialects)('outbox delivery on $name', (dialect) => {
  let db: TestStore;
  let store: Store;
  let line: FakeLineApi;
  let telegram: FakeTelegramApi;
  const clock = manualClock('2026-11-20T02:00:00.000Z');
  const translator = createTranslator('en');
  const limits = { linePerSecond: 2000, telegramPerSecond: 30, telegramPerChatPerSecond: 100, telegramPerChatBurst: 100 };

  beforeEach(async () => {
    db = await dialect.open();
    store = db.store;
    line = await startFakeLineApi({ now: () => clock.now().getTime() });
    telegram = await startFakeTelegramApi();
  });
  afterEach(async () => {
    await line.close();
    await telegram.close();
    await db.drop();
  });

  const lineSender = (timeoutMs?: number) => createLineSender({ channelAccessToken: line.channelAccessToken, apiBaseUrl: line.url, logger: silentLogger, ...(timeoutMs ? { timeoutMs } : {}) });
  const telegramSender = () => createTelegramSender({ botToken: telegram.token, apiBaseUrl: telegram.url, logger: silentLogger });

  function outbox(channels: ChannelSender[], metrics = new Metrics()): OutboxSender {
    return createOutboxSender({
      store,
      senders: Object.fromEntries(channels.map((c) => [c.channel, c])),
      translator,
      clock,
      logger: silentLogger,
      metrics,
      defaultLocale: 'en',
      maxAttempts: 4,
      rateLimits: limits,
      random: () => 0.5,
      monotonicMs: () => clock.now().getTime(),
    });
  }

  async function enqueue(channel: 'line' | 'telegram', externalId: string, texts: string[], replyToken: string | null = null) {
    const now = clock.now().toISOString();
    const { customer } = await resolveCustomer(store.db, { channel, externalId, displayName: null, locale: 'en', now });
    await enqueueReplies(store.db, {
      customerId: customer.id,
      channel,
      externalId,
      replies: texts.map((raw) => ({ type: 'text' as const, text: { raw } })),
      replyToken: replyToken ? { token: replyToken, expiresAt: new Date(clock.now().getTime() + 30 * SECOND).toISOString() } : null,
      source: 'bot',
      now,
    });
  }

  const rows = () => store.db.selectFrom('outbox').selectAll().orderBy('id').execute();
  const textsTo = (userId: string) => line.accepted.messagesTo(userId).map((m) => m.text);

  /**
   * Lets a second instance notice that the one that died is gone: at once at a single node's start
   * (SQLite), after the dead instance's heartbeat is older than 15 s with instances sharing Postgres.
   */
  async function noticeDeath(survivor: OutboxSender): Promise<void> {
    await survivor.recover();
    if (dialect.name === 'postgres') {
      clock.advance(5 * SECOND);
      await survivor.runOnce();
      expect((await rows()).some((r) => r.status === 'sending')).toBe(true);
      clock.advance(11 * SECOND);
    }
  }

  it('delivers a reply LINE accepted but answered 500 once: the retry with the same token is taken as delivered', async () => {
    const token = line.issueReplyToken({ userId: 'U1' });
    await enqueue('line', 'U1', ['Your booking is confirmed'], token);
    line.failNext('reply', { status: 500, afterAccepting: true });
    const metrics = new Metrics();
    const s = outbox([lineSender()], metrics);
    expect(await s.runOnce()).toMatchObject({ failed: 1 });
    clock.advance(backoffMs(1, () => 0.5));
    expect(await s.runOnce()).toMatchObject({ sent: 1 });

    expect(line.accepted.all()).toHaveLength(1);
    expect(line.accepted.pushes()).toEqual([]);
    expect(line.requests.filter((r) => r.kind === 'reply').map((r) => (r.body as { replyToken: string }).replyToken)).toEqual([token, token]);
    const [row] = await rows();
    expect(row).toMatchObject({ status: 'sent', sent_via: 'reply-assumed', possible_duplicate: 0 });
    const transcript = await store.db.selectFrom('messages').select(['text', 'payload']).execute();
    expect(transcript).toHaveLength(1);
    expect(JSON.parse(transcript[0]!.payload!)).toMatchObject({ via: 'reply-assumed' });
    expect(metrics.sends.get({ platform: 'line', result: 'reply_assumed' })).toBe(1);
  });

  it('retries the reply token, not a push, after a process died between LINE accepting the reply and recording it', async () => {
    const token = line.issueReplyToken({ userId: 'U2' });
    await enqueue('line', 'U2', ['Thanks, see you Monday'], token);
    const { sender: dying, died } = dyingAfter(lineSender());
    const first = outbox([dying]);
    await first.recover();
    void first.runOnce();
    await died;
    expect(await rows()).toMatchObject([{ status: 'sending', claimed_by: first.instanceId }]);

    const second = outbox([lineSender()]);
    expect(second.instanceId).not.toBe(first.instanceId);
    await noticeDeath(second);
    expect(await second.runOnce()).toMatchObject({ sent: 1 });

    expect(line.accepted.all()).toHaveLength(1);
    expect(line.requests.filter((r) => r.kind === 'push')).toEqual([]);
    expect(textsTo('U2')).toEqual(['Thanks, see you Monday']);
    expect(await rows()).toMatchObject([{ status: 'sent', sent_via: 'reply-assumed', claimed_by: second.instanceId }]);
  });

  it('pushes a reply whose token ran out after an attempt that may have arrived, and records and counts the possible duplicate', async () => {
    const token = line.issueReplyToken({ userId: 'U3' });
    await enqueue('line', 'U3', ['Your car is ready'], token);
    line.failNext('reply', { status: 500, afterAccepting: true });
    const metrics = new Metrics();
    const s = outbox([lineSender()], metrics);
    await s.runOnce();
    clock.advance(31 * SECOND);
    expect(await s.runOnce()).toMatchObject({ sent: 1 });

    // LINE took the reply and then the push: the customer sees it twice, and the record says so.
    expect(line.accepted.all().map((a) => a.kind)).toEqual(['reply', 'push']);
    expect(await rows()).toMatchObject([{ status: 'sent', sent_via: 'push', possible_duplicate: 1 }]);
    const [message] = await store.db.selectFrom('messages').select('payload').execute();
    expect(JSON.parse(message!.payload!)).toMatchObject({ via: 'push', possibleDuplicate: true });
    expect(metrics.sends.get({ platform: 'line', result: 'possible_duplicate' })).toBe(1);
    expect(metrics.sends.get({ platform: 'line', result: 'sent' })).toBe(0);
  });

  it('pushes without a duplicate suspected when the token was never tried', async () => {
    const token = line.issueReplyToken({ userId: 'U4' });
    await enqueue('line', 'U4', ['Reminder'], token);
    clock.advance(31 * SECOND);
    const metrics = new Metrics();
    await outbox([lineSender()], metrics).runOnce();
    expect(line.accepted.all().map((a) => a.kind)).toEqual(['push']);
    expect(await rows()).toMatchObject([{ status: 'sent', sent_via: 'push', possible_duplicate: 0, reply_attempted_at: null }]);
    expect(metrics.sends.get({ platform: 'line', result: 'sent' })).toBe(1);
  });

  it('does not take a reply LINE refused with 429 for delivered when LINE later refuses its token', async () => {
    // LINE keeps this token a shorter time than the outbox expects, so the retry finds it refused.
    const token = line.issueReplyToken({ userId: 'U10', ttlMs: 1000 });
    await enqueue('line', 'U10', ['Your estimate is ready'], token);
    line.failNext('reply', { status: 429, headers: { 'retry-after': '2' } });
    const s = outbox([lineSender()]);
    await s.runOnce();
    expect(await rows()).toMatchObject([{ status: 'pending', reply_attempted_at: null, rate_limited: 1 }]);
    clock.advance(2 * SECOND);
    expect(await s.runOnce()).toMatchObject({ sent: 1 });
    expect(line.accepted.all().map((a) => a.kind)).toEqual(['push']);
    expect(await rows()).toMatchObject([{ status: 'sent', sent_via: 'push', possible_duplicate: 0 }]);
  });

  it('pushes on the next attempt, without suspecting a duplicate, after LINE refused a token never used and the push failed', async () => {
    const token = line.issueReplyToken({ userId: 'U11', ttlMs: 0 });
    await enqueue('line', 'U11', ['Booking changed'], token);
    line.failNext('push', { status: 500 });
    const s = outbox([lineSender()]);
    await s.runOnce();
    expect(await rows()).toMatchObject([{ status: 'pending', reply_token: null, reply_attempted_at: null }]);
    clock.advance(backoffMs(1, () => 0.5));
    await s.runOnce();
    expect(line.requests.filter((r) => r.kind === 'reply')).toHaveLength(1);
    expect(line.accepted.all().map((a) => a.kind)).toEqual(['push']);
    expect(await rows()).toMatchObject([{ status: 'sent', sent_via: 'push', possible_duplicate: 0 }]);
  });

  it('retries a reply whose connection was reset with the same token, delivering it once', async () => {
    const token = line.issueReplyToken({ userId: 'U12' });
    await enqueue('line', 'U12', ['Hello'], token);
    line.dropNext('reply');
    const s = outbox([lineSender()]);
    await s.runOnce();
    clock.advance(backoffMs(1, () => 0.5));
    await s.runOnce();
    expect(line.accepted.all().map((a) => a.kind)).toEqual(['reply']);
    expect(await rows()).toMatchObject([{ status: 'sent', sent_via: 'reply' }]);
  });

  it('takes a reply LINE carried out but answered after our timeout as delivered once', async () => {
    const token = line.issueReplyToken({ userId: 'U13' });
    await enqueue('line', 'U13', ['Your loaner car is booked'], token);
    line.slowNext('reply', 600);
    const s = outbox([lineSender(150)]);
    expect(await s.runOnce()).toMatchObject({ failed: 1 });
    clock.advance(backoffMs(1, () => 0.5));
    expect(await s.runOnce()).toMatchObject({ sent: 1 });
    expect(line.accepted.all().map((a) => a.kind)).toEqual(['reply']);
    expect(await rows()).toMatchObject([{ status: 'sent', sent_via: 'reply-assumed' }]);
  });

  it('sends a Telegram message again after Telegram took it and answered 500: at least once, as the Bot API allows', async () => {
    await enqueue('telegram', '91', ['Your car is ready']);
    telegram.failNext('sendMessage', { errorCode: 500, description: 'Internal Server Error', afterAccepting: true });
    const s = outbox([telegramSender()]);
    await s.runOnce();
    clock.advance(backoffMs(1, () => 0.5));
    await s.runOnce();
    expect(telegram.sent('91')).toHaveLength(2);
    expect(await rows()).toMatchObject([{ status: 'sent', attempts: 2 }]);
  });

  it('delivers a push LINE accepted but answered 500 once, through its retry key', async () => {
    await enqueue('line', 'U5', ['Recall notice']);
    line.failNext('push', { status: 500, afterAccepting: true });
    const s = outbox([lineSender()]);
    await s.runOnce();
    clock.advance(backoffMs(1, () => 0.5));
    expect(await s.runOnce()).toMatchObject({ sent: 1 });
    expect(line.accepted.pushes()).toHaveLength(1);
    expect(line.requests.filter((r) => r.kind === 'push').map((r) => r.status)).toEqual([500, 409]);
  });

  it('resumes a Telegram delivery split into several messages after the parts recorded before a process died', async () => {
    const long = ['a', 'b', 'c'].map((c) => c.repeat(4000)).join('\n\n');
    await enqueue('telegram', '4242', [long]);
    const { sender: dying, died } = dyingAfter(telegramSender(), { part: 2 });
    const first = outbox([dying]);
    await first.recover();
    void first.runOnce();
    await died;
    expect(await rows()).toMatchObject([{ status: 'sending', parts_sent: 2 }]);
    expect(telegram.sent('4242')).toHaveLength(2);

    const second = outbox([telegramSender()]);
    await noticeDeath(second);
    expect(await second.runOnce()).toMatchObject({ sent: 1 });
    expect(telegram.sent('4242').map((r) => String(r.params.text).charAt(0))).toEqual(['a', 'b', 'c']);
    expect(await rows()).toMatchObject([{ status: 'sent', parts_sent: 2 }]);
  });

  it('resumes a split Telegram delivery after a failed part without repeating the parts before it, in a new process too', async () => {
    const long = ['a', 'b', 'c'].map((c) => c.repeat(4000)).join('\n\n');
    await enqueue('telegram', '77', [long]);
    telegram.setRateLimits({ perChatPerSecond: 1 });
    await outbox([telegramSender()]).runOnce();
    expect(await rows()).toMatchObject([{ status: 'pending', parts_sent: 1, rate_limited: 1 }]);
    telegram.setRateLimits({ perChatPerSecond: null });
    clock.advance(5 * SECOND);
    await outbox([telegramSender()]).runOnce();
    expect(telegram.sent('77').map((r) => String(r.params.text).charAt(0))).toEqual(['a', 'b', 'c']);
  });

  it("keeps a claimed row ahead of the same customer's later rows, but not of other customers', until its claim is taken back", async () => {
    await enqueue('line', 'U6', ['first']);
    await enqueue('line', 'U6', ['second']);
    await enqueue('line', 'U7', ['other customer']);
    // The first instance claims U6's first row and dies before LINE sees it.
    const hanging: ChannelSender = { channel: 'line', maxMessagesPerDelivery: 5, send: () => new Promise<never>(() => undefined) };
    const first = outbox([hanging]);
    await first.recover();
    void first.runOnce();
    await expect.poll(async () => (await rows()).filter((r) => r.status === 'sending').length).toBe(2);
    const claimed = (await rows()).filter((r) => r.status === 'sending');
    expect(claimed.map((r) => r.external_id).sort()).toEqual(['U6', 'U7']);

    const second = outbox([lineSender()]);
    await second.runOnce();
    expect(line.accepted.all()).toEqual([]);
    await noticeDeath(second);
    await second.drain();
    expect(textsTo('U6')).toEqual(['first', 'second']);
    expect(textsTo('U7')).toEqual(['other customer']);
  });

  it("lets another customer's rows pass a customer whose row is held by a live claim", async () => {
    await enqueue('line', 'U8', ['held']);
    await enqueue('line', 'U8', ['after held']);
    await enqueue('line', 'U9', ['free']);
    const held = (await rows())[0]!;
    await store.db.updateTable('outbox').set({ status: 'sending', claimed_by: 'another-instance', lease_until: new Date(clock.now().getTime() + 60 * SECOND).toISOString() }).where('id', '=', held.id).execute();
    const s = outbox([lineSender()]);
    await s.runOnce();
    await s.runOnce();
    expect(textsTo('U9')).toEqual(['free']);
    expect(textsTo('U8')).toEqual([]);
  });

  it('never sends a row twice with two instances sending the same outbox at once, and keeps each customer in order', async () => {
    const customers = Array.from({ length: 20 }, (_, i) => `U-${i}`);
    for (let round = 0; round < 5; round++) for (const c of customers) await enqueue('line', c, [`${c} #${round}`]);
    const a = outbox([lineSender()]);
    const b = outbox([lineSender()]);
    await Promise.all([a.recover(), b.recover()]);
    for (let pass = 0; pass < 20; pass++) {
      await Promise.all([a.runOnce(), b.runOnce(), a.runOnce(), b.runOnce()]);
      if ((await rows()).every((r) => r.status === 'sent')) break;
      // Each instance keeps LINE's rate limit by a clock that only this test moves.
      clock.advance(SECOND);
    }
    expect((await rows()).every((r) => r.status === 'sent')).toBe(true);
    const pushRequests = line.requests.filter((r) => r.kind === 'push');
    expect(pushRequests).toHaveLength(100);
    expect(new Set(pushRequests.map((r) => r.headers['x-line-retry-key'])).size).toBe(100);
    for (const c of customers) expect(textsTo(c)).toEqual([0, 1, 2, 3, 4].map((round) => `${c} #${round}`));
    const byInstance = new Set((await store.db.selectFrom('outbox').select('claimed_by').execute()).map((r) => r.claimed_by));
    expect(byInstance).toEqual(new Set([a.instanceId, b.instanceId]));
  });
});
