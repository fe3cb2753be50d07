import { beforeEach, describe, expect, it } from 'vitest';
import type { TestService } from '../helpers/service';
import { dialects } from '../helpers/stores';
import { lineEvent, lineWebhook, telegramUpdate, telegramWebhook } from '../helpers/platform-events';
import type { FakeLineApi } from '../fakes/line-api';
import type { FakeTelegramApi } from '../fakes/telegram-api';
import { channelWorld } from '../helpers/channel-world';

/*
 * Booking end to end on LINE (quick replies, the native date picker, Flex cards) and Telegram (inline
 * keyboards, the month calendar, HTML cards), through the real SDKs and fake platform servers that refuse
 * what the platforms refuse. Every request the service made must have been accepted.
 */

// Monday 2026-11-30, 09:00 in Taipei. The fakes check reply-token expiry against real time, so event
// timestamps are real; only the service's own clock (availability, notice) is fixed.
const START = '2026-11-30T01:00:00.000Z';

describe.each(dialects)('booking on LINE and Telegram on $name', (dialect) => {
  // Each step answers with one message; Telegram's one-a-second pacing is tested with the outbox, not here.
  const world = channelWorld(dialect, { start: START, env: { TELEGRAM_PER_CHAT_PER_SECOND: '50' } });
  const clock = world.clock;
  let line: FakeLineApi;
  let telegram: FakeTelegramApi;
  let svc: TestService;
  let seq = 0;

  beforeEach(async () => {
    ({ line, telegram, svc } = world);
  });

  async function lineSays(userId: string, what: { text?: string; postback?: string; params?: Record<string, string>; follow?: boolean }) {
    seq += 1;
    const event = lineEvent(what, { userId, eventId: `01JBOOK${String(seq).padStart(19, '0')}`, timestamp: Date.now(), replyToken: line.issueReplyToken({ userId }), messageId: String(seq) });
    expect((await svc.app.request('/webhooks/line', lineWebhook([event]))).status).toBe(200);
    await svc.flush();
    return line.accepted.messagesTo(userId).at(-1) as Record<string, any>;
  }


  const pressed: string[] = [];

  async function telegramSays(chatId: number, what: { text?: string; press?: string }) {
    seq += 1;
    if (what.press) pressed.push(`cb-${seq}`);
    const update = telegramUpdate(what, { chatId, updateId: 900_000 + seq, messageId: seq, date: Math.floor(Date.now() / 1000), firstName: 'Mei', languageCode: 'zh-hant' });
    expect((await svc.app.request('/webhooks/telegram', telegramWebhook(update))).status).toBe(200);
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
    // The button the customer sees: the time as its label, and the time shown as their answer when tapped.
    expect(slot).toEqual({ type: 'postback', label: '10:30', data: 'book:t:2026-12-01:1030', displayText: '10:30' });
    expect(quickReplies(times).map((a) => a.label)).toEqual(['09:00', '09:30', '10:00', '10:30', '11:00', '11:30', '12:00', '12:30', '13:00', '13:30', '14:00', '更晚的時段', '換一天']);
    const note = await lineSays(u, { postback: slot!.data! });
    expect(note.text).toBe('有什麼需要告訴服務顧問的嗎？例如異音或故障燈。也可以略過。');
    await lineSays(u, { postback: 'book:skip' });
    // The profile gave the name; the workshop still needs a number to call.
    const phone = await lineSays(u, { postback: 'book:no' });
    expect(phone.text).toContain('手機號碼');
    const confirm = await lineSays(u, { text: '0912-345-678' });
    expect(confirm.type).toBe('flex');
    expect(confirm.altText).toBe('請確認預約內容\n姓名: 陳小姐\n手機: +886912345678\n據點: Test Motors（示範據點）\n服務項目: 定期保養\n車輛: ABC-1234\n時間: 2026年12月1日星期二 10:30');
    expect(quickReplies(confirm).map((a) => [a.label, a.data])).toEqual([
      ['確認預約', 'book:ok'],
      ['更改時間', 'book:otherday'],
      ['取消', 'i:cancel'],
    ]);
    const booked = await lineSays(u, { postback: 'book:ok' });
    expect(booked.type).toBe('flex');
    const [appointment] = await svc.db.store.db.selectFrom('appointments').selectAll().execute();
    expect(appointment).toMatchObject({ local_date: '2026-12-01', channel: 'line', status: 'booked' });
    expect(booked.altText).toBe(`預約成功\n預約編號: ${appointment!.reference}\n服務項目: 定期保養\n時間: 2026年12月1日星期二 10:30\n我們會在前一天提醒您。如需更改或取消，請至「我的預約」。`);
    // The card itself, not only its notification text, shows the reference and the time.
    expect(JSON.stringify(booked.contents)).toContain(appointment!.reference);
    expect(JSON.stringify(booked.contents)).toContain('2026年12月1日星期二 10:30');
    // Every step was answered with exactly one message, as a reply to the customer's own event, never a push.
    const sends = line.accepted.all().filter((x) => x.to === u);
    expect(sends.map((x) => [x.kind, x.messages.length])).toEqual(Array.from({ length: 13 }, () => ['reply', 1]));
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
    expect(times.text).toBe('2026年12月2日星期三 可預約的時段：');
    const time = (times.reply_markup.inline_keyboard as { text: string; callback_data: string }[][]).flat().find((b) => b.callback_data === 'book:t:2026-12-02:1100');
    expect(time).toEqual({ text: '11:00', callback_data: 'book:t:2026-12-02:1100' });
    const note = await telegramSays(chat, { press: time!.callback_data });
    expect(note.text).toBe('有什麼需要告訴服務顧問的嗎？例如異音或故障燈。也可以略過。');
    await telegramSays(chat, { press: 'book:skip' });
    // Telegram's own button shares the customer's number.
    const phone = await telegramSays(chat, { press: 'book:no' });
    expect(phone.reply_markup.keyboard[0][0]).toMatchObject({ text: '分享我的號碼', request_contact: true });
    const confirm = await telegramSays(chat, { text: '0912345678' });
    expect(confirm.parse_mode).toBe('HTML');
    expect(confirm.text).toBe('<b>請確認預約內容</b>\n姓名: Mei\n手機: +886912345678\n據點: Test Motors（示範據點）\n服務項目: 車輛檢查\n車輛: XYZ 987\n時間: 2026年12月2日星期三 11:00');
    const booked = await telegramSays(chat, { press: 'book:ok' });
    const [appointment] = await svc.db.store.db.selectFrom('appointments').selectAll().execute();
    expect(appointment).toMatchObject({ local_date: '2026-12-02', channel: 'telegram', status: 'booked' });
    expect(booked.text).toBe(`<b>預約成功</b>\n預約編號: ${appointment!.reference}\n服務項目: 車輛檢查\n時間: 2026年12月2日星期三 11:00\n\n我們會在前一天提醒您。如需更改或取消，請至「我的預約」。`);
    // One message for each step but the empty calendar cell: 15 things said or pressed, 14 messages.
    expect(telegram.sent(chat).map((r) => r.method)).toEqual(Array.from({ length: 14 }, () => 'sendMessage'));
    expect(telegram.requests.filter((r) => r.status >= 400)).toEqual([]);
    // Every button press was answered, once.
    expect(telegram.answeredCallbacks().map((r) => r.params.callback_query_id)).toEqual(pressed);
    expect(pressed).toHaveLength(11);
  });
});
