import { beforeEach, describe, expect, it } from 'vitest';
import type { TestService } from '../helpers/service';
import { apiToken } from '../helpers/staff';
import { dialects } from '../helpers/stores';
import { lineEvent, lineWebhook, telegramUpdate, telegramWebhook, type LineAction } from '../helpers/platform-events';
import type { FakeLineApi } from '../fakes/line-api';
import type { FakeTelegramApi } from '../fakes/telegram-api';
import { channelWorld } from '../helpers/channel-world';

/*
 * Repair progress on LINE and Telegram, through the real SDKs and fake platform servers that refuse what
 * the platforms refuse: the added items as one Flex carousel (LINE) or one message with a keyboard row per
 * item (Telegram), answers by postback and callback, the pickup card with LINE's date/time picker or
 * Telegram's list of times, a platform failing with 429 and 500 and then recovering (each notice arrives
 * exactly once), and a customer who blocked the bot (staff are told to phone).
 */

// Monday 2026-11-30, 10:00 in Taipei. The fakes check reply tokens against real time; the service's clock is fixed.
const START = '2026-11-30T02:00:00.000Z';
const MON = '2026-11-30';

type Json = Record<string, any>;

describe.each(dialects)('repair progress on LINE and Telegram on $name', (dialect) => {
  const world = channelWorld(dialect, { start: START, env: { TELEGRAM_PER_CHAT_PER_SECOND: '50', DEFAULT_LOCALE: 'en' } });
  const clock = world.clock;
  let line: FakeLineApi;
  let telegram: FakeTelegramApi;
  let svc: TestService;
  let dms: Awaited<ReturnType<typeof apiToken>>;
  let seq = 0;

  beforeEach(async () => {
    ({ line, telegram, svc } = world);
    // A branch-scoped manager token, as a DMS of one branch holds: orders it creates go to that branch.
    dms = await apiToken(svc, 'manager', [(await svc.db.store.db.selectFrom('branches').select('id').executeTakeFirstOrThrow()).id]);
  });

  async function json(res: Response, status: number): Promise<Json> {
    const body = (await res.json()) as Json;
    expect(res.status, JSON.stringify(body)).toBe(status);
    return body;
  }

  async function lineSays(userId: string, what: LineAction) {
    seq += 1;
    const event = lineEvent(what, { userId, eventId: `01JPROG${String(seq).padStart(19, '0')}`, timestamp: Date.now(), replyToken: line.issueReplyToken({ userId }), messageId: String(seq) });
    expect((await svc.app.request('/webhooks/line', lineWebhook([event]))).status).toBe(200);
    await svc.flush();
    return line.accepted.messagesTo(userId).at(-1) as Json;
  }


  async function telegramSays(chatId: number, what: { text?: string; press?: string }) {
    seq += 1;
    const update = telegramUpdate(what, { chatId, updateId: 800_000 + seq, messageId: seq, date: Math.floor(Date.now() / 1000), firstName: 'Mei', languageCode: 'zh-hant' });
    expect((await svc.app.request('/webhooks/telegram', telegramWebhook(update))).status).toBe(200);
    await svc.flush();
    return telegram.sent(chatId).at(-1)!.params as Json;
  }


  /** The customer behind a channel id, given a car. */
  async function withCar(channel: 'line' | 'telegram', externalId: string, plate: string): Promise<string> {
    const db = svc.db.store.db;
    const { customer_id: customerId } = await db.selectFrom('channel_identities').select('customer_id').where('channel', '=', channel).where('external_id', '=', externalId).executeTakeFirstOrThrow();
    const now = clock.now().toISOString();
    await db.insertInto('vehicles').values({ id: crypto.randomUUID(), customer_id: customerId, plate, plate_normalized: plate.replace(/[^A-Z0-9]/gi, '').toUpperCase(), make: null, model: null, year: null, vin: null, mileage_km: null, created_at: now, updated_at: now }).execute();
    return customerId;
  }

  /** Lets the outbox retry what is due after `ms` (its backoff and Retry-After run on the service's clock). */
  async function later(ms: number) {
    clock.advance(ms);
    await svc.flush();
  }

  const pushesTo = (userId: string) => line.accepted.pushes().filter((p) => p.to === userId);
  const quickReplies = (message: Json) => (message.quickReply?.items ?? []).map((i: Json) => i.action) as Json[];
  const footerActions = (bubble: Json) => (bubble.footer?.contents ?? []).map((b: Json) => b.action) as Json[];

  it('on LINE: a Flex carousel of the added items, answers by postback (twice is harmless), the pickup card with the date/time picker', async () => {
    const u = `U${'c'.repeat(32)}`;
    line.setProfile(u, { displayName: 'Mei Lin', language: 'en' });
    await lineSays(u, { follow: true });
    await withCar('line', u, 'ABC-1234');
    const order = await json(await dms.request('/api/repair-orders/W-100', { method: 'PUT', json: { plate: 'ABC-1234', estimatedAmount: 3500 } }), 201);
    await svc.flush();
    expect(pushesTo(u).map((p) => p.messages[0]!.text)).toEqual([expect.stringContaining('Your car (ABC-1234) is checked in, repair order W-100.')]);

    const sent = await json(
      await dms.request('/api/repair-orders/W-100/items', {
        json: { items: [{ description: 'Front brake pads', price: 2400, urgency: 'red', photoUrl: 'https://photos.dealer.example/w100/pads.jpg' }, { description: 'Wiper blades', price: 600, urgency: 'green' }] },
      }),
      201,
    );
    await svc.flush();
    const [pads, wipers] = sent.itemIds as [string, string];
    const request = pushesTo(u).at(-1)!;
    expect(request.messages).toHaveLength(1);
    const flex = request.messages[0] as Json;
    expect(flex).toMatchObject({ type: 'flex', altText: 'We found 2 more item(s) for your car (ABC-1234). Total if approved: NT$6,500. Please answer in the chat.', contents: { type: 'carousel' } });
    const bubbles = flex.contents.contents as Json[];
    expect(bubbles).toHaveLength(3);
    expect(footerActions(bubbles[0]!).map((a) => [a.label, a.data])).toEqual([
      ['Approve all', `prog:aa:${sent.requestId}`],
      ['Call me', `prog:call:${order.id}`],
    ]);
    expect(bubbles[1]!.hero).toMatchObject({ type: 'image', url: 'https://photos.dealer.example/w100/pads.jpg' });
    expect(JSON.stringify(bubbles[1]!.body)).toContain('#1 Front brake pads');
    expect(JSON.stringify(bubbles[1]!.body)).toContain('NT$2,400');
    expect(footerActions(bubbles[1]!).map((a) => a.data)).toEqual([`prog:a:${pads}`, `prog:d:${pads}`]);
    expect(bubbles[2]!.hero).toBeUndefined();
    expect(footerActions(bubbles[2]!).map((a) => a.data)).toEqual([`prog:a:${wipers}`, `prog:d:${wipers}`]);

    // The answers come back as replies to the customer's own taps.
    const first = await lineSays(u, { postback: `prog:a:${pads}` });
    expect(first.text).toBe('✅ Approved: #1 Front brake pads (NT$2,400)\n\n1 item is still waiting for your answer.');
    expect(quickReplies(first).map((a) => a.data)).toEqual([`prog:a:${wipers}`, `prog:d:${wipers}`, `prog:call:${order.id}`]);
    expect((await lineSays(u, { postback: `prog:d:${wipers}` })).text).toContain('Thank you, every item is answered. Total now: NT$5,900.');
    expect((await lineSays(u, { postback: `prog:d:${pads}` })).text).toMatch(/^You already approved #1 Front brake pads/);
    expect(line.accepted.replies().filter((r) => r.to === u)).toHaveLength(4);

    await json(await dms.request('/api/repair-orders/W-100/status', { json: { status: 'ready' } }), 200);
    await svc.flush();
    const card = pushesTo(u).at(-1)!.messages[0] as Json;
    expect(card).toMatchObject({ type: 'flex', contents: { type: 'bubble' } });
    expect(card.altText).toContain('Ready for pickup: ABC-1234\nRepair order: W-100');
    expect(card.altText).toContain('Amount due: NT$5,900');
    const picker = footerActions(card.contents)[0]!;
    expect(picker).toMatchObject({ type: 'datetimepicker', data: `prog:pt:${order.id}`, mode: 'datetime', min: `${MON}T10:30`, max: `${MON}T17:30` });
    const chosen = await lineSays(u, { postback: `prog:pt:${order.id}`, params: { datetime: `${MON}T17:00` } });
    expect(chosen.text).toBe(`Thank you! We'll have your car ready for you at 17:00 on Mon 30 Nov at Test Motors (demo branch).

Address: No. 100, Ruiguang Rd., Neihu Dist., Taipei City`);
    expect(line.requests.filter((r) => r.status >= 400)).toEqual([]);
  });

  it('on LINE: a push refused with 429 twice, then a 500 after LINE took it, still reaches the customer exactly once each', async () => {
    const u = `U${'d'.repeat(32)}`;
    line.setProfile(u, { displayName: 'Ken', language: 'en' });
    await lineSays(u, { follow: true });
    await withCar('line', u, 'XYZ-0001');
    line.failNext('push', { status: 429, headers: { 'retry-after': '1' }, times: 2 });
    await json(await dms.request('/api/repair-orders/W-200', { method: 'PUT', json: { plate: 'XYZ-0001' } }), 201);
    await svc.flush();
    expect(pushesTo(u)).toHaveLength(0);
    await later(1500);
    await later(1500);
    expect(pushesTo(u)).toHaveLength(1);

    line.failNext('push', { status: 500, afterAccepting: true });
    await json(await dms.request('/api/repair-orders/W-200/status', { json: { status: 'ready' } }), 200);
    await svc.flush();
    await later(5000);
    await later(60_000);
    expect(pushesTo(u).map((p) => (p.messages[0] as Json).type)).toEqual(['text', 'flex']);
    // The retry carried the same retry key, and LINE said it had it already.
    expect(line.requests.filter((r) => r.kind === 'push' && (r.body as Json | null)?.to === u).map((r) => r.status)).toEqual([429, 429, 200, 500, 409]);
    for (const job of svc.scheduledJobs) await job.runOnce();
    const read = await json(await dms.request('/api/repair-orders/W-200'), 200);
    expect(read.notices.map((n: Json) => [n.kind, n.state, n.delivery.state])).toEqual([
      ['pickup', 'sent', 'sent'],
      ['status', 'sent', 'sent'],
    ]);
  });

  it('on LINE: a customer who blocked the account is not written to; the advisor is told to phone', async () => {
    const u = `U${'e'.repeat(32)}`;
    line.setProfile(u, { displayName: 'Ann', language: 'en' });
    await lineSays(u, { follow: true });
    const customerId = await withCar('line', u, 'BLK-0002');
    await svc.db.store.db.updateTable('customers').set({ phone: '+886900000002' }).where('id', '=', customerId).execute();
    await lineSays(u, { unfollow: true });
    await json(await dms.request('/api/repair-orders/W-300', { method: 'PUT', json: { plate: 'BLK-0002' } }), 201);
    await svc.flush();
    expect(pushesTo(u)).toEqual([]);
    const read = await json(await dms.request('/api/repair-orders/W-300'), 200);
    expect(read.notices.map((n: Json) => [n.kind, n.state])).toEqual([['status', 'unreachable']]);
    expect(read.alerts.map((a: Json) => a.kind)).toEqual(['unreachable']);
  });

  it('on Telegram: one message with a keyboard row per item, answers by callback, the pickup time from a list; 429 and 500 recovered once each', async () => {
    const chat = 515151;
    await telegramSays(chat, { text: '/start' });
    await withCar('telegram', String(chat), 'TPE-8888');
    const order = await json(await dms.request('/api/repair-orders/W-400', { method: 'PUT', json: { plate: 'TPE-8888', estimatedAmount: 1200 } }), 201);
    await svc.flush();
    expect(telegram.sent(chat).at(-1)!.params.text).toBe('您的愛車（TPE-8888）已完成接車，工單編號 W-400。維修進度會在這裡通知您。');

    telegram.failNext('sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 2', retryAfter: 2 });
    const sent = await json(await dms.request('/api/repair-orders/W-400/items', { json: { items: [{ description: '前煞車來令片', price: 2400, urgency: 'red', photoUrl: 'https://photos.dealer.example/w400/pads.jpg' }, { description: '雨刷', price: 600, urgency: 'green' }] } }), 201);
    const before = telegram.sent(chat).length;
    await svc.flush();
    expect(telegram.sent(chat)).toHaveLength(before);
    await later(2500);
    expect(telegram.sent(chat)).toHaveLength(before + 1);
    const [pads, wipers] = sent.itemIds as [string, string];
    const message = telegram.sent(chat).at(-1)!.params as Json;
    expect(message.parse_mode).toBe('HTML');
    expect(message.text).toContain('<b>追加維修項目：TPE-8888</b>');
    expect(message.text).toContain('<b>#1 前煞車來令片</b>\n金額: $2,400\n急迫性: 🔴 建議立即處理\n<a href="https://photos.dealer.example/w400/pads.jpg">📷</a>');
    expect((message.reply_markup.inline_keyboard as Json[][]).map((row) => row.map((b) => [b.text, b.callback_data]))).toEqual([
      [
        ['全部同意', `prog:aa:${sent.requestId}`],
        ['請打電話給我', `prog:call:${order.id}`],
      ],
      [
        ['同意 #1', `prog:a:${pads}`],
        ['不同意 #1', `prog:d:${pads}`],
      ],
      [
        ['同意 #2', `prog:a:${wipers}`],
        ['不同意 #2', `prog:d:${wipers}`],
      ],
    ]);
    const all = await telegramSays(chat, { press: `prog:aa:${sent.requestId}` });
    expect(all.text).toBe('✅ 已同意：#1 前煞車來令片（$2,400）\n\n✅ 已同意：#2 雨刷（$600）\n\n謝謝，所有項目都已回覆。目前金額：$4,200。服務顧問會繼續進行維修。');

    telegram.failNext('sendMessage', { errorCode: 500, description: 'Internal Server Error' });
    await json(await dms.request('/api/repair-orders/W-400/status', { json: { status: 'ready' } }), 200);
    await svc.flush();
    await later(3000);
    const cards = telegram.sent(chat).filter((r) => String(r.params.text).includes('可以取車了'));
    expect(cards).toHaveLength(1);
    const keyboard = (cards[0]!.params.reply_markup as Json).inline_keyboard.flat() as Json[];
    expect(keyboard.map((b) => b.callback_data ?? b.url)).toEqual([`prog:pt:${order.id}`, `prog:mt:${order.id}`, `prog:call:${order.id}`, `https://www.google.com/maps/search/?api=1&query=${encodeURIComponent('No. 100, Ruiguang Rd., Neihu Dist., Taipei City')}`]);
    const times = await telegramSays(chat, { press: `prog:pt:${order.id}` });
    expect(times.text).toBe('您 11/30（週一） 幾點來取車？營業時間 09:00–18:00。');
    const buttons = (times.reply_markup.inline_keyboard as Json[][]).flat();
    expect(buttons[0]).toEqual({ text: '10:30', callback_data: `prog:ptt:${order.id}:20261130:1030` });
    expect(buttons.every((row) => row.callback_data.length <= 64)).toBe(true);
    // A typed time works as well as a button.
    expect((await telegramSays(chat, { text: '下午4點半' })).text).toBe('謝謝！我們會在 11/30（週一） 16:30 於Test Motors（示範據點）為您準備好車輛。\n\n地址：台北市內湖區瑞光路 100 號');
    expect(telegram.requests.filter((r) => r.status >= 400).map((r) => r.status)).toEqual([429, 500]);
  });

  it('on Telegram: a customer who blocked the bot stops getting notices; the advisor is told to phone', async () => {
    const chat = 626262;
    await telegramSays(chat, { text: '/start' });
    await withCar('telegram', String(chat), 'KAO-1234');
    await json(await dms.request('/api/repair-orders/W-500', { method: 'PUT', json: { plate: 'KAO-1234' } }), 201);
    await svc.flush();
    telegram.block(chat);
    await json(await dms.request('/api/repair-orders/W-500/status', { json: { status: 'ready' } }), 200);
    await svc.flush();
    for (const job of svc.scheduledJobs) await job.runOnce();
    const read = await json(await dms.request('/api/repair-orders/W-500'), 200);
    expect(read.notices.map((n: Json) => [n.kind, n.state])).toEqual([
      ['pickup', 'failed'],
      ['status', 'sent'],
    ]);
    expect(read.alerts.map((a: Json) => a.kind)).toEqual(['unreachable']);
    // Nothing more is tried: the next notice finds nobody to write to.
    await json(await dms.request('/api/repair-orders/W-500/status', { json: { status: 'collected' } }), 200);
    await svc.flush();
    const identity = await svc.db.store.db.selectFrom('channel_identities').select('reachable').where('external_id', '=', String(chat)).executeTakeFirstOrThrow();
    expect(identity.reachable).toBe(0);
  });
});
