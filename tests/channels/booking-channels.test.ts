import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/ops/clock';
import { TEST_LINE_SECRET, TEST_TELEGRAM_SECRET, testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { dialects } from '../helpers/stores';
import { startFakeLineApi, type FakeLineApi } from '../fakes/line-api';
import { startFakeTelegramApi, type FakeTelegramApi } from '../fakes/telegram-api';

/*
 * Booking end to end on LINE (quick replies, the native date picker, Flex cards) and Telegram (inline
 * keyboards, the month calendar, HTML cards), through the real SDKs and fake platform servers that refuse
 * what the platforms refuse. Every request the service made must have been accepted.
 */

// Monday 2026-11-30, 09:00 in Taipei. The fakes check reply-token expiry against real time, so event
// timestamps are real; only the service's own clock (availability, notice) is fixed.
const START = '2026-11-30T01:00:00.000Z';

describe.each(dialects)('booking on LINE and Telegram on $name', (dialect) => {
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
    // Each step answers with one message; Telegram's one-a-second pacing is tested with the outbox, not here.
    svc = await startTestService(dialect, testConfig({ TELEGRAM_PER_CHAT_PER_SECOND: '50' }, { line: line.url, telegram: telegram.url }), clock);
  });
  afterEach(async () => {
    await svc.close();
  });

  async function lineSays(userId: string, what: { text?: string; postback?: string; params?: Record<string, string>; follow?: boolean }) {
    seq += 1;
    const base = { mode: 'active', timestamp: Date.now(), source: { type: 'user', userId }, webhookEventId: `01JBOOK${String(seq).padStart(19, '0')}`, deliveryContext: { isRedelivery: false }, replyToken: line.issueReplyToken({ userId }) };
    const ev = what.follow
      ? { ...base, type: 'follow', follow: { isUnblocked: false } }
      : what.postback
        ? { ...base, type: 'postback', postback: { data: what.postback, ...(what.params ? { params: what.params } : {}) } }
        : { ...base, type: 'message', message: { id: String(seq), type: 'text', quoteToken: 'q', text: what.text } };
    const body = JSON.stringify({ destination: 'Ubot', events: [ev] });
    const res = await svc.app.request('/webhooks/line', { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': createHmac('sha256', TEST_LINE_SECRET).update(body).digest('base64') }, body });
    expect(res.status).toBe(200);
    await svc.flush();
    return line.accepted.messagesTo(userId).at(-1) as Record<string, any>;
  }

  async function telegramSays(chatId: number, what: { text?: string; press?: string }) {
    seq += 1;
    const from = { id: chatId, is_bot: false, first_name: 'Mei', language_code: 'zh-hant' };
    const chat = { id: chatId, type: 'private', first_name: 'Mei' };
    const update = what.press
      ? { update_id: 900_000 + seq, callback_query: { id: `cb-${seq}`, from, chat_instance: '1', data: what.press, message: { message_id: seq, date: Math.floor(Date.now() / 1000), chat, text: '…' } } }
      : { update_id: 900_000 + seq, message: { message_id: seq, date: Math.floor(Date.now() / 1000), chat, from, text: what.text, ...(what.text!.startsWith('/') ? { entities: [{ type: 'bot_command', offset: 0, length: what.text!.split(' ')[0]!.length }] } : {}) } };
    const res = await svc.app.request('/webhooks/telegram', { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TEST_TELEGRAM_SECRET }, body: JSON.stringify(update) });
    expect(res.status).toBe(200);
    await svc.flush();
    return telegram.sent(chatId).at(-1)!.params as Record<string, any>;
  }

  const quickReplies = (message: Record<string, any>) => (message.quickReply?.items ?? []).map((i: any) => i.action) as { type: string; data?: string; label: string; mode?: string }[];

  it('books on LINE with quick replies and the native date picker, and confirms with a Flex card', async () => {
    const u = `U${'b'.repeat(32)}`;
    line.setProfile(u, { displayName: '陳小姐', language: 'zh-TW' });
    await lineSays(u, { follow: true });
    const services = await lineSays(u, { postback: 'i:book' });
    expect(quickReplies(services).map((a) => a.data)).toContain('book:st:periodic_maintenance');
    await lineSays(u, { postback: 'book:st:periodic_maintenance' });
    await lineSays(u, { text: 'ABC-1234' });
    await lineSays(u, { postback: 'book:skip' });
    await lineSays(u, { postback: 'book:skip' });
    const days = await lineSays(u, { postback: 'book:skip' });
    const picker = quickReplies(days).find((a) => a.type === 'datetimepicker');
    expect(picker).toMatchObject({ data: 'book:pick', mode: 'date' });
    // The customer uses LINE's own date picker: the postback carries params.date.
    const times = await lineSays(u, { postback: 'book:pick', params: { date: '2026-12-01' } });
    expect(times.text).toContain('2026年12月1日');
    const slot = quickReplies(times).find((a) => a.data === 'book:t:2026-12-01:1030');
    expect(slot).toBeDefined();
    await lineSays(u, { postback: slot!.data! });
    await lineSays(u, { postback: 'book:skip' });
    // The profile gave the name; the workshop still needs a number to call.
    const phone = await lineSays(u, { postback: 'book:no' });
    expect(phone.text).toContain('手機號碼');
    const confirm = await lineSays(u, { text: '0912-345-678' });
    expect(confirm.type).toBe('flex');
    const booked = await lineSays(u, { postback: 'book:ok' });
    expect(booked.type).toBe('flex');
    expect(booked.altText).toContain('預約成功');
    const [appointment] = await svc.db.store.db.selectFrom('appointments').selectAll().execute();
    expect(appointment).toMatchObject({ local_date: '2026-12-01', channel: 'line', status: 'booked' });
    expect(booked.altText).toContain(appointment!.reference);
    expect(line.requests.filter((r) => r.status >= 400)).toEqual([]);
  });

  it('books on Telegram with the month calendar and HTML cards', async () => {
    const chat = 424242;
    await telegramSays(chat, { text: '/start' });
    const services = await telegramSays(chat, { text: '/book' });
    const serviceButtons = (services.reply_markup.inline_keyboard as { text: string; callback_data: string }[][]).flat();
    expect(serviceButtons.map((b) => b.text)).toContain('定期保養');
    await telegramSays(chat, { press: 'book:st:inspection' });
    await telegramSays(chat, { text: 'XYZ 987' });
    await telegramSays(chat, { press: 'book:skip' });
    await telegramSays(chat, { press: 'book:skip' });
    const calendar = await telegramSays(chat, { press: 'book:skip' });
    const rows = calendar.reply_markup.inline_keyboard as { text: string; callback_data: string }[][];
    expect(rows.every((r) => r.length === 7)).toBe(true);
    // Today (Monday the 30th) still has free times this afternoon, so the calendar opens on November.
    expect(calendar.text).toContain('2026年11月');
    expect(rows.flat().filter((b) => b.callback_data.startsWith('book:d:')).map((b) => b.callback_data)).toEqual(['book:d:2026-11-30']);
    // Pressing an empty cell does nothing, but the button is still answered.
    const before = telegram.sent(chat).length;
    await telegramSays(chat, { press: 'book:noop' });
    expect(telegram.sent(chat)).toHaveLength(before);
    const december = await telegramSays(chat, { press: rows.flat().find((b) => b.callback_data === 'book:cal:2026-12')!.callback_data });
    expect(december.text).toContain('2026年12月');
    const days = (december.reply_markup.inline_keyboard as { callback_data: string }[][]).flat().filter((b) => b.callback_data.startsWith('book:d:'));
    expect(days.map((b) => b.callback_data)).toContain('book:d:2026-12-02');
    // Sundays are closed.
    expect(days.map((b) => b.callback_data)).not.toContain('book:d:2026-12-06');
    const times = await telegramSays(chat, { press: 'book:d:2026-12-02' });
    const time = (times.reply_markup.inline_keyboard as { callback_data: string }[][]).flat().find((b) => b.callback_data === 'book:t:2026-12-02:1100');
    expect(time).toBeDefined();
    await telegramSays(chat, { press: time!.callback_data });
    await telegramSays(chat, { press: 'book:skip' });
    // Telegram's own button shares the customer's number.
    const phone = await telegramSays(chat, { press: 'book:no' });
    expect(phone.reply_markup.keyboard[0][0]).toMatchObject({ text: '分享我的號碼', request_contact: true });
    const confirm = await telegramSays(chat, { text: '0912345678' });
    expect(confirm.parse_mode).toBe('HTML');
    expect(confirm.text).toContain('<b>請確認預約內容</b>');
    const booked = await telegramSays(chat, { press: 'book:ok' });
    expect(booked.text).toContain('預約成功');
    const [appointment] = await svc.db.store.db.selectFrom('appointments').selectAll().execute();
    expect(appointment).toMatchObject({ local_date: '2026-12-02', channel: 'telegram', status: 'booked' });
    expect(telegram.requests.filter((r) => r.status >= 400)).toEqual([]);
    expect(telegram.answeredCallbacks().length).toBeGreaterThanOrEqual(9);
  });
});
