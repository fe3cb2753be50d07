import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { InboundEvent, Input, RenderedChoice, RenderedMessage } from '../../src/channels/types';
import { LINK_CODE_CHARS, readLinkCode, signLinkCode } from '../../src/conversation/channel-link';
import { manualClock } from '../../src/ops/clock';
import { startFakeLineApi, type FakeLineApi } from '../fakes/line-api';
import { startFakeTelegramApi, type FakeTelegramApi } from '../fakes/telegram-api';
import { TEST_LINE_SECRET, TEST_TELEGRAM_SECRET, testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { closeTestD1, flowDialects } from '../helpers/stores';

/*
 * A customer met in the web chat is reached only while the tab is open. After booking they are offered
 * to continue on LINE or Telegram; the link carries a signed one-time code, and the chat it opens joins
 * the same customer, so reminders and notices reach them there.
 */

// Monday 2026-11-30, 09:00 in Taipei.
const START = '2026-11-30T01:00:00.000Z';

afterAll(closeTestD1);

describe('link codes', () => {
  const customer = '0b6a3c0e-5d5e-4f3b-9b0a-2f4c8f1e7d21';
  const now = new Date(START);

  it('name the customer until they expire, and nobody once altered or signed with another secret', async () => {
    const code = (await signLinkCode('secret', customer, new Date(now.getTime() + 60_000)))!;
    expect(code).toMatch(new RegExp(`^[A-Za-z0-9_-]{${LINK_CODE_CHARS}}$`));
    expect(`link-${code}`.length).toBeLessThanOrEqual(64); // Telegram's /start payload
    expect(await readLinkCode('secret', code, now)).toMatchObject({ ok: true, customerId: customer });
    expect(await readLinkCode('secret', code, new Date(now.getTime() + 120_000))).toEqual({ ok: false, reason: 'expired' });
    expect(await readLinkCode('other', code, now)).toEqual({ ok: false, reason: 'invalid' });
    const altered = code.slice(0, 5) + (code[5] === 'A' ? 'B' : 'A') + code.slice(6);
    expect(await readLinkCode('secret', altered, now)).toEqual({ ok: false, reason: 'invalid' });
    expect(await signLinkCode('secret', 'not-a-uuid', now)).toBeNull();
    // Two codes for the same customer are different codes, each spent on its own.
    expect(await signLinkCode('secret', customer, now)).not.toBe(await signLinkCode('secret', customer, now));
  });
});

describe.each(flowDialects)('continuing a web chat on LINE or Telegram, on $name', (dialect) => {
  let line: FakeLineApi;
  let telegram: FakeTelegramApi;
  let svc: TestService;
  const clock = manualClock(START);
  let seq = 0;

  beforeAll(async () => {
    line = await startFakeLineApi();
    telegram = await startFakeTelegramApi();
  });
  afterAll(async () => {
    await line.close();
    await telegram.close();
  });
  beforeEach(async () => {
    clock.set(START);
    const config = testConfig({ TELEGRAM_PER_CHAT_PER_SECOND: '50', TELEGRAM_BOT_USERNAME: '@DemoMotorsBot', LINE_ACCOUNT_ID: '@demomotors' }, { line: line.url, telegram: telegram.url });
    svc = await startTestService(dialect, config, clock);
  });
  afterEach(async () => {
    await svc.close();
  });

  async function web(visitor: string, input: Input | string): Promise<RenderedMessage[]> {
    const before = await svc.db.store.db.selectFrom('messages').select(({ fn }) => fn.max('id').as('id')).executeTakeFirst();
    const event: InboundEvent = {
      channel: 'web',
      eventId: `cl-${++seq}`,
      externalId: visitor,
      occurredAt: clock.now().toISOString(),
      replyToken: null,
      profile: { displayName: null, languageHint: 'zh-TW' },
      input: typeof input === 'string' ? { type: 'text', text: input } : input,
    };
    await svc.engine.handle(event);
    await svc.flush();
    const rows = await svc.db.store.db.selectFrom('messages').select('payload').where('direction', '=', 'out').where('channel', '=', 'web').where('id', '>', Number(before?.id ?? 0)).orderBy('id').execute();
    return rows.map((r) => (JSON.parse(r.payload!) as { message: RenderedMessage }).message);
  }
  const tap = (id: string): Input => ({ type: 'choice', id, params: null });

  async function telegramStart(chatId: number, payload: string) {
    seq += 1;
    const from = { id: chatId, is_bot: false, first_name: 'Mei', language_code: 'en' };
    const text = `/start ${payload}`;
    const update = { update_id: 700_000 + seq, message: { message_id: seq, date: Math.floor(Date.now() / 1000), chat: { id: chatId, type: 'private', first_name: 'Mei' }, from, text, entities: [{ type: 'bot_command', offset: 0, length: 6 }] } };
    const res = await svc.app.request('/webhooks/telegram', { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TEST_TELEGRAM_SECRET }, body: JSON.stringify(update) });
    expect(res.status).toBe(200);
    await svc.flush();
    return telegram.sent(chatId).at(-1)!.params as Record<string, any>;
  }

  async function lineText(userId: string, text: string) {
    const body = JSON.stringify({
      destination: 'Ubot',
      events: [{ mode: 'active', timestamp: Date.now(), source: { type: 'user', userId }, webhookEventId: `01JLINK${String(++seq).padStart(19, '0')}`, deliveryContext: { isRedelivery: false }, replyToken: line.issueReplyToken({ userId }), type: 'message', message: { id: String(seq), type: 'text', quoteToken: 'q', text } }],
    });
    const res = await svc.app.request('/webhooks/line', { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': createHmac('sha256', TEST_LINE_SECRET).update(body).digest('base64') }, body });
    expect(res.status).toBe(200);
    await svc.flush();
    return line.accepted.messagesTo(userId).at(-1) as Record<string, any>;
  }

  /** Books Wednesday 14:00 in the web chat and returns the confirmation's links. */
  async function bookOnTheWeb(visitor: string): Promise<RenderedChoice[]> {
    await web(visitor, tap('i:book'));
    await web(visitor, tap('book:st:inspection'));
    await web(visitor, 'ABC-1234');
    for (let i = 0; i < 3; i++) await web(visitor, tap('book:skip'));
    await web(visitor, tap('book:d:2026-12-02'));
    await web(visitor, tap('book:t:2026-12-02:1400'));
    await web(visitor, tap('book:skip'));
    await web(visitor, tap('book:no'));
    await web(visitor, '陳美玲');
    await web(visitor, '0912345678');
    const booked = await web(visitor, tap('book:ok'));
    const card = booked.find((m) => m.type === 'card');
    expect(card && card.type === 'card' && card.footer).toContain('LINE 或 Telegram');
    return card && card.type === 'card' ? card.choices.filter((c) => c.kind === 'url') : [];
  }

  it('joins the Telegram chat opened from the link to the web customer, once, and sends reminders there', async () => {
    const links = await bookOnTheWeb('visitor-tg');
    const deepLink = links.find((c) => c.kind === 'url' && c.url.startsWith('https://t.me/DemoMotorsBot?start=link-'));
    expect(deepLink).toBeDefined();
    const payload = new URL(deepLink!.kind === 'url' ? deepLink!.url : '').searchParams.get('start')!;

    const joined = await telegramStart(5150, payload);
    // In the language the customer chose on the web, by the name they gave there.
    expect(joined.text).toContain('陳美玲，完成');
    const identities = await svc.db.store.db.selectFrom('channel_identities').innerJoin('customers', 'customers.id', 'channel_identities.customer_id').select(['channel', 'customers.display_name']).where('customers.merged_into_id', 'is', null).orderBy('channel').execute();
    expect(identities).toEqual([
      { channel: 'telegram', display_name: '陳美玲' },
      { channel: 'web', display_name: '陳美玲' },
    ]);
    // The same link again, from another Telegram account (someone else, in English): it was spent.
    expect((await telegramStart(6160, payload)).text).toContain('That link has already been used');

    // Tuesday 18:00: the reminder goes to Telegram, not to a web chat tab that may be closed.
    clock.set('2026-12-01T10:00:00.000Z');
    expect(await svc.reminders.runOnce()).toBe(1);
    await svc.flush();
    expect(telegram.sent(5150).at(-1)!.params.text).toContain('提醒您');
    expect(telegram.requests.filter((r) => r.status >= 400)).toEqual([]);
  });

  it('joins a LINE chat from the message the LINE link fills in, and refuses an expired or altered code', async () => {
    const links = await bookOnTheWeb('visitor-line');
    const lineLink = links.find((c) => c.kind === 'url' && c.url.startsWith('https://line.me/R/oaMessage/%40demomotors/?'));
    expect(lineLink).toBeDefined();
    const message = decodeURIComponent((lineLink!.kind === 'url' ? lineLink!.url : '').split('/?')[1]!);
    expect(message).toMatch(/^請連結我的聊天： LINK-[A-Za-z0-9_-]{48}$/);

    const altered = message.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    // A LINE user unknown until now is written to in the dealership's language.
    expect((await lineText(`U${'d'.repeat(32)}`, altered)).text).toContain('這個連結無法使用');
    expect((await lineText(`U${'e'.repeat(32)}`, message)).text).toContain('陳美玲，完成');
    const owners = await svc.db.store.db.selectFrom('channel_identities').select(['channel', 'customer_id']).where('channel', 'in', ['web', 'line']).execute();
    const web = owners.find((o) => o.channel === 'web')!;
    expect(owners.filter((o) => o.customer_id === web.customer_id).map((o) => o.channel).sort()).toEqual(['line', 'web']);

    // A week and a day later, a link from the same booking has expired.
    const telegramLink = links.find((c) => c.kind === 'url' && c.url.startsWith('https://t.me/'));
    clock.set('2026-12-08T02:00:00.000Z');
    const late = new URL(telegramLink!.kind === 'url' ? telegramLink!.url : '').searchParams.get('start')!;
    expect((await telegramStart(7170, late)).text).toContain('expired');
  });
});
