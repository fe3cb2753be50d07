import { beforeEach, describe, expect, it } from 'vitest';
import { sendStaffMessage } from '../../src/staff/customers/conversation';
import type { ActionContext } from '../../src/staff/customers/result';
import type { TestService } from '../helpers/service';
import { dialects } from '../helpers/stores';
import type { FakeLineApi } from '../fakes/line-api';
import type { FakeTelegramApi } from '../fakes/telegram-api';
import { channelWorld } from '../helpers/channel-world';
import { lineEvent, lineWebhook, telegramUpdate, telegramWebhook } from '../helpers/platform-events';

/*
 * What the platforms do when things go wrong, through the real SDKs and the fake LINE and Telegram servers:
 * storms of 429 with Retry-After, 500s, dropped connections, answers slower than the service waits, and a
 * platform that takes a message and then answers 500. Every message must arrive, in the order it was
 * written, and twice only where the platform gives no way to tell (Telegram has no idempotency key:
 * those repeats are counted here, and docs/scaling.md names them). LINE replies are retried with the same
 * token and pushes with the same X-Line-Retry-Key, so LINE never shows a customer anything twice.
 */

const START = '2026-11-30T02:00:00.000Z';
const CUSTOMERS = 5;
const UPDATES = 3;

describe.each(dialects)('platform faults on $name', (dialect) => {
  // Calls that take over a second are given up on (and retried); the fakes below answer later than that.
  // The outbound rate limits are lifted so each pass sends to every customer and the faults land where aimed.
  const world = channelWorld(dialect, { start: START, env: { TELEGRAM_PER_CHAT_PER_SECOND: '50', TELEGRAM_RATE_LIMIT_PER_SECOND: '1000', DEFAULT_LOCALE: 'en', PLATFORM_TIMEOUT_SECONDS: '1' } });
  const clock = world.clock;
  let line: FakeLineApi;
  let telegram: FakeTelegramApi;
  let svc: TestService;
  let seq = 0;

  beforeEach(async () => {
    ({ line, telegram, svc } = world);
  });

  const staff: ActionContext = {
    actor: { kind: 'staff', id: crypto.randomUUID(), email: 'advisor@dealer.example', name: 'Advisor', role: 'manager', locale: 'en', branchIds: 'all', sessionId: crypto.randomUUID() },
    ip: '10.0.0.9',
    now: new Date(START),
  };

  async function lineFollows(userId: string): Promise<void> {
    seq += 1;
    const event = lineEvent({ follow: true }, { userId, eventId: `01JFLT${String(seq).padStart(20, '0')}`, timestamp: clock.now().getTime(), replyToken: line.issueReplyToken({ userId }) });
    expect((await svc.app.request('/webhooks/line', lineWebhook([event]))).status).toBe(200);
  }

  async function telegramStarts(chatId: number): Promise<void> {
    seq += 1;
    const update = telegramUpdate({ text: '/start' }, { chatId, updateId: 700_000 + seq, messageId: seq, date: Math.floor(clock.now().getTime() / 1000), firstName: 'Ken' });
    expect((await svc.app.request('/webhooks/telegram', telegramWebhook(update))).status).toBe(200);
  }

  async function customerOf(channel: 'line' | 'telegram', externalId: string): Promise<string> {
    const row = await svc.db.store.db.selectFrom('channel_identities').select('customer_id').where('channel', '=', channel).where('external_id', '=', externalId).executeTakeFirstOrThrow();
    return row.customer_id;
  }

  async function waiting(): Promise<number> {
    const rows = await svc.db.store.db.selectFrom('outbox').select('id').where('status', 'in', ['pending', 'sending']).execute();
    return rows.length;
  }

  /**
   * Runs the outbox as its background loop would, a business second per pass so backoffs and Retry-After
   * come due, until nothing waits. `between` injects faults before a given pass.
   */
  async function deliverAll(between: Record<number, () => void> = {}): Promise<void> {
    for (let pass = 0; pass < 300; pass++) {
      between[pass]?.();
      await svc.engine.drain();
      const r = await svc.outbox.runOnce();
      if ((await waiting()) === 0) return;
      clock.advance(1000);
      if (r.deferred > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`messages still waiting after 300 passes: ${await waiting()}`);
  }

  const lineUser = (i: number) => `U${String(i).padStart(2, '0')}${'f'.repeat(30)}`;
  const chatOf = (i: number) => 5_500_000 + i;

  /**
   * What each LINE user and Telegram chat was shown, in order: the last paragraph of each message (a
   * person's first message starts with who is answering).
   */
  const lastParagraph = (text: unknown) => String(text ?? '').split('\n\n').at(-1)!;
  const lineTexts = (userId: string) => line.accepted.messagesTo(userId).map((m) => lastParagraph(m.text ?? m.altText));
  const telegramTexts = (chatId: number) => telegram.sent(chatId).map((r) => lastParagraph(r.params.text ?? r.params.caption));

  it('delivers every message once and in order through 429 storms with Retry-After, 500s and dropped connections', async () => {
    for (let i = 0; i < CUSTOMERS; i++) {
      line.setProfile(lineUser(i), { displayName: `Line ${i}`, language: 'en' });
      await lineFollows(lineUser(i));
      await telegramStarts(chatOf(i));
    }
    await deliverAll();
    for (let i = 0; i < CUSTOMERS; i++) {
      for (let n = 1; n <= UPDATES; n++) {
        for (const [channel, id] of [['line', lineUser(i)], ['telegram', String(chatOf(i))]] as const) {
          const queued = await sendStaffMessage(svc.db.store, staff, await customerOf(channel, id), { text: `Update ${n} of ${UPDATES} for ${id}` });
          expect(queued.ok).toBe(true);
        }
      }
    }
    await deliverAll({
      0: () => {
        line.failNext('push', { status: 429, headers: { 'retry-after': '3' }, body: { message: 'The API rate limit has been exceeded. Try again later.' }, times: 4 });
        telegram.failNext('sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 3', retryAfter: 3, times: 4 });
      },
      // Retry-After was 3 seconds: the refused rows go again on the fourth pass, into 5xx answers.
      3: () => {
        line.failNext('push', { status: 500, times: 3 });
        telegram.failNext('sendMessage', { errorCode: 502, description: 'Bad Gateway', times: 3 });
      },
      6: () => {
        line.dropNext('push', 2);
        telegram.dropNext('sendMessage', 2);
      },
    });

    // The storm really happened: 429s, 5xx and dropped connections were all met.
    expect(line.requests.filter((r) => r.kind === 'push' && r.status === 429).length).toBe(4);
    expect(line.requests.filter((r) => r.kind === 'push' && r.status === 500).length).toBe(3);
    expect(telegram.requests.filter((r) => r.method === 'sendMessage' && r.status === 429).length).toBe(4);
    for (let i = 0; i < CUSTOMERS; i++) {
      const expected = Array.from({ length: UPDATES }, (_, k) => `Update ${k + 1} of ${UPDATES} for `);
      expect(lineTexts(lineUser(i)).filter((t) => t.startsWith('Update ')).map((t) => t.replace(/U\d\df+$/, ''))).toEqual(expected);
      expect(telegramTexts(chatOf(i)).filter((t) => t.startsWith('Update ')).map((t) => t.replace(/\d+$/, ''))).toEqual(expected);
    }
    // Nothing was given up on: a 429 is the platform's pacing, and the others came right.
    const dead = await svc.db.store.db.selectFrom('outbox').select(['id', 'last_error']).where('status', '=', 'dead').execute();
    expect(dead).toEqual([]);
  });

  it('honours Retry-After: a row refused with 429 waits as long as the platform asked', async () => {
    await telegramStarts(chatOf(40));
    await deliverAll();
    const customer = await customerOf('telegram', String(chatOf(40)));
    telegram.failNext('sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 7', retryAfter: 7 });
    await sendStaffMessage(svc.db.store, staff, customer, { text: 'Your car is ready.' });
    await svc.outbox.runOnce();
    const row = await svc.db.store.db.selectFrom('outbox').selectAll().where('customer_id', '=', customer).where('status', '=', 'pending').executeTakeFirstOrThrow();
    expect(Date.parse(row.next_attempt_at) - clock.now().getTime()).toBeGreaterThanOrEqual(7000);
    clock.advance(6000);
    await svc.outbox.runOnce();
    expect(telegramTexts(chatOf(40))).not.toContain('Your car is ready.');
    clock.advance(1500);
    await svc.outbox.runOnce();
    expect(telegramTexts(chatOf(40)).filter((t) => t === 'Your car is ready.')).toHaveLength(1);
  });

  it('never shows a LINE customer anything twice when LINE took the message but answered 500 or too late', async () => {
    // A reply LINE delivered although it answered 500: retried with the same token, which LINE now calls
    // invalid. The token cannot have expired yet, so the reply was delivered: it is not pushed again.
    const replied = lineUser(60);
    line.setProfile(replied, { displayName: 'Reply', language: 'en' });
    line.failNext('reply', { status: 500, afterAccepting: true });
    await lineFollows(replied);
    await deliverAll();
    expect(line.accepted.all().filter((s) => s.to === replied)).toHaveLength(1);

    // Pushes LINE took but answered 500 or after the service stopped waiting: the retry carries the same
    // X-Line-Retry-Key, LINE answers 409 "already accepted", and that counts as sent.
    const pushed = lineUser(61);
    line.setProfile(pushed, { displayName: 'Push', language: 'en' });
    await lineFollows(pushed);
    await deliverAll();
    const customer = await customerOf('line', pushed);
    await sendStaffMessage(svc.db.store, staff, customer, { text: 'First: we found a worn belt.' });
    line.failNext('push', { status: 500, afterAccepting: true });
    await deliverAll();
    await sendStaffMessage(svc.db.store, staff, customer, { text: 'Second: it is replaced.' });
    line.slowNext('push', 1_500);
    await deliverAll();
    expect(lineTexts(pushed).filter((t) => /^(First|Second):/.test(t))).toEqual(['First: we found a worn belt.', 'Second: it is replaced.']);
    expect(line.requests.filter((r) => r.kind === 'push' && r.status === 409).length).toBeGreaterThanOrEqual(1);
    const rows = await svc.db.store.db.selectFrom('outbox').select(['status']).where('customer_id', '=', customer).where('source', '=', 'staff').execute();
    expect(rows.map((r) => r.status)).toEqual(['sent', 'sent']);
  });

  it('counts the repeats Telegram cannot avoid: a message it took but answered 500 or too late is sent again, once', async () => {
    const chat = chatOf(70);
    await telegramStarts(chat);
    await deliverAll();
    const customer = await customerOf('telegram', String(chat));
    // One message at a time, so each fault meets the message it is meant for.
    await sendStaffMessage(svc.db.store, staff, customer, { text: 'First: we found a worn belt.' });
    telegram.failNext('sendMessage', { errorCode: 500, description: 'Internal Server Error', afterAccepting: true });
    await deliverAll();
    await sendStaffMessage(svc.db.store, staff, customer, { text: 'Second: it is replaced.' });
    telegram.slowNext('sendMessage', 1_500);
    await deliverAll();
    await sendStaffMessage(svc.db.store, staff, customer, { text: 'Third: ready at 5 pm.' });
    await deliverAll();
    const shown = telegramTexts(chat).filter((t) => /^(First|Second|Third):/.test(t));
    // Every message arrived, in order; the two Telegram took without saying so came twice, and no more.
    expect([...new Set(shown)]).toEqual(['First: we found a worn belt.', 'Second: it is replaced.', 'Third: ready at 5 pm.']);
    expect(shown).toEqual(['First: we found a worn belt.', 'First: we found a worn belt.', 'Second: it is replaced.', 'Second: it is replaced.', 'Third: ready at 5 pm.']);
  });
});
