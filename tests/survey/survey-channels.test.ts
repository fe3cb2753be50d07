import { beforeEach, describe, expect, it } from 'vitest';
import { staffFor } from '../complaints/helpers';
import type { TestService } from '../helpers/service';
import { apiToken } from '../helpers/staff';
import { dialects } from '../helpers/stores';
import { lineEvent, lineWebhook, telegramUpdate, telegramWebhook } from '../helpers/platform-events';
import type { FakeLineApi } from '../fakes/line-api';
import type { FakeTelegramApi } from '../fakes/telegram-api';
import { channelWorld } from '../helpers/channel-world';

/*
 * The survey on LINE and Telegram, through the real SDKs and fake platform servers that refuse what the
 * platforms refuse: the survey pushed two hours after collection with quick replies (LINE) or an inline
 * keyboard (Telegram), answered with postbacks and callbacks; "dissatisfied" opens a complaint at once; a
 * customer who opted out gets nothing; a tap on a button of an expired survey is told it closed.
 */

// Monday 2026-11-30, 10:00 in Taipei.
const START = '2026-11-30T02:00:00.000Z';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Json = Record<string, any>;

describe.each(dialects)('the satisfaction survey on LINE and Telegram on $name', (dialect) => {
  const world = channelWorld(dialect, { start: START, env: { TELEGRAM_PER_CHAT_PER_SECOND: '50', DEFAULT_LOCALE: 'en' } });
  const clock = world.clock;
  let line: FakeLineApi;
  let telegram: FakeTelegramApi;
  let svc: TestService;
  let dms: Awaited<ReturnType<typeof apiToken>>;
  let seq = 0;
  let orders = 0;

  beforeEach(async () => {
    ({ line, telegram, svc } = world);
    dms = await apiToken(svc, 'manager', [(await svc.db.store.db.selectFrom('branches').select('id').executeTakeFirstOrThrow()).id]);
  });

  async function runJobs() {
    for (const job of svc.scheduledJobs) await job.runOnce();
    await svc.flush();
  }

  async function lineSays(userId: string, what: { text?: string; postback?: string; follow?: boolean }) {
    seq += 1;
    const event = lineEvent(what, { userId, eventId: `01JSURV${String(seq).padStart(19, '0')}`, timestamp: clock.now().getTime(), replyToken: line.issueReplyToken({ userId }), messageId: String(seq) });
    expect((await svc.app.request('/webhooks/line', lineWebhook([event]))).status).toBe(200);
    await svc.flush();
    return line.accepted.messagesTo(userId) as Json[];
  }


  async function telegramSays(chatId: number, what: { text?: string; press?: string }) {
    seq += 1;
    const update = telegramUpdate(what, { chatId, updateId: 900_000 + seq, messageId: seq, date: Math.floor(Date.now() / 1000), firstName: 'Mei', languageCode: 'en' });
    expect((await svc.app.request('/webhooks/telegram', telegramWebhook(update))).status).toBe(200);
    await svc.flush();
    return telegram.sent(chatId).map((s) => s.params as Json);
  }


  /** Gives the customer behind a channel id a car and collects it through the DMS API. */
  async function collect(channel: 'line' | 'telegram', externalId: string, plate: string): Promise<string> {
    const db = svc.db.store.db;
    const { customer_id: customerId } = await db.selectFrom('channel_identities').select('customer_id').where('channel', '=', channel).where('external_id', '=', externalId).executeTakeFirstOrThrow();
    const now = clock.now().toISOString();
    await db.insertInto('vehicles').values({ id: crypto.randomUUID(), customer_id: customerId, plate, plate_normalized: plate.replace(/[^A-Z0-9]/gi, '').toUpperCase(), make: null, model: null, year: null, vin: null, mileage_km: null, created_at: now, updated_at: now }).execute();
    const number = `W-${++orders}`;
    expect((await dms.request(`/api/repair-orders/${number}`, { method: 'PUT', json: { plate } })).status).toBe(201);
    expect((await dms.request(`/api/repair-orders/${number}/status`, { json: { status: 'collected' } })).status).toBe(200);
    await runJobs();
    return customerId;
  }

  const survey = (customerId: string) => svc.db.store.db.selectFrom('surveys').selectAll().where('customer_id', '=', customerId).executeTakeFirstOrThrow();
  const quick = (m: Json | undefined) => ((m?.quickReply?.items ?? []) as Json[]).map((i) => i.action as Json);
  const lineButton = (m: Json | undefined, label: string) => quick(m).find((a) => a.label === label)!.data as string;
  const keys = (m: Json | undefined) => ((m?.reply_markup?.inline_keyboard ?? []) as Json[][]).flat();
  const tgButton = (m: Json | undefined, text: string) => keys(m).find((b) => b.text === text)!.callback_data as string;

  it('on LINE: pushed two hours after collection with quick replies, answered by postback to the end', async () => {
    const u = `U${'a'.repeat(32)}`;
    line.setProfile(u, { displayName: 'Mei Lin', language: 'en' });
    await lineSays(u, { follow: true });
    const customerId = await collect('line', u, 'LIN-0001');
    const before = line.accepted.messagesTo(u).length;
    clock.advance(2 * HOUR);
    await runJobs();
    const pushed = line.accepted.pushes().filter((p) => p.to === u).at(-1)!;
    const first = pushed.messages[0] as Json;
    expect(line.accepted.messagesTo(u).length).toBe(before + 1);
    expect(first.text).toContain('LIN-0001');
    expect(quick(first).map((a) => [a.type, a.label])).toEqual([
      ['postback', 'Very satisfied'],
      ['postback', 'Fairly satisfied'],
      ['postback', 'Satisfied'],
      ['postback', 'Dissatisfied'],
      ['postback', 'Very dissatisfied'],
    ]);
    const q2 = (await lineSays(u, { postback: lineButton(first, 'Very satisfied') })).at(-1);
    const q3 = (await lineSays(u, { postback: lineButton(q2, 'Above 70%') })).at(-1);
    const comment = (await lineSays(u, { postback: lineButton(q3, 'Very likely') })).at(-1);
    const thanks = (await lineSays(u, { text: 'Fast and friendly, thank you!' })).at(-1);
    expect(comment!.text).toContain('anything we should do better');
    expect(thanks!.text).toContain('Thank you for your answers');
    expect(await survey(customerId)).toMatchObject({ channel: 'line', satisfaction: 5, repurchase: 3, recommend: 3, comment: 'Fast and friendly, thank you!' });
    expect((await survey(customerId)).completed_at).not.toBeNull();
  });

  it('on LINE: "very dissatisfied" opens a high-priority complaint at once; an old button after expiry says the survey closed', async () => {
    await staffFor(svc, 'care', { onDuty: true, clock });
    const u = `U${'b'.repeat(32)}`;
    line.setProfile(u, { displayName: 'Ken', language: 'en' });
    await lineSays(u, { follow: true });
    const customerId = await collect('line', u, 'LIN-0002');
    clock.advance(2 * HOUR);
    await runJobs();
    const first = line.accepted.pushes().filter((p) => p.to === u).at(-1)!.messages[0] as Json;
    const replies = await lineSays(u, { postback: lineButton(first, 'Very dissatisfied') });
    const complaint = await svc.db.store.db.selectFrom('complaints').selectAll().where('customer_id', '=', customerId).executeTakeFirstOrThrow();
    expect(complaint).toMatchObject({ source: 'survey', priority: 'high', channel: 'line' });
    expect(replies.at(-2)!.text).toContain(complaint.reference);
    expect(replies.at(-2)!.text).toContain('A person from our team');
    clock.advance(8 * DAY);
    const closed = await lineSays(u, { postback: lineButton(replies.at(-1), 'Below 30%') });
    expect(closed.at(-1)!.text).toContain('this survey has closed');
    expect(await survey(customerId)).toMatchObject({ satisfaction: 1, repurchase: null });
  });

  it('on Telegram: an inline keyboard, answered by callbacks; half answered then expired keeps its answers', async () => {
    const chat = 515151;
    await telegramSays(chat, { text: '/start' });
    const customerId = await collect('telegram', String(chat), 'TEL-0001');
    clock.advance(2 * HOUR);
    await runJobs();
    const first = telegram.sent(chat).at(-1)!.params as Json;
    expect(first.text).toContain('Overall, how satisfied');
    expect(keys(first).every((b) => new TextEncoder().encode(b.callback_data).length <= 64)).toBe(true);
    const q2 = (await telegramSays(chat, { press: tgButton(first, 'Fairly satisfied') })).at(-1);
    const q3 = (await telegramSays(chat, { press: tgButton(q2, '30–70%') })).at(-1);
    expect(await survey(customerId)).toMatchObject({ channel: 'telegram', satisfaction: 4, repurchase: 2, recommend: null });
    clock.advance(7 * DAY + HOUR);
    const closed = (await telegramSays(chat, { press: tgButton(q3, 'Possibly') })).at(-1);
    expect(closed!.text).toContain('this survey has closed');
    expect(await survey(customerId)).toMatchObject({ satisfaction: 4, repurchase: 2, recommend: null, completed_at: null });
  });

  it('on Telegram: "dissatisfied" opens a complaint; a customer who opted out is never asked', async () => {
    await staffFor(svc, 'care', { onDuty: true, clock });
    const chat = 525252;
    await telegramSays(chat, { text: '/start' });
    const customerId = await collect('telegram', String(chat), 'TEL-0002');
    clock.advance(2 * HOUR);
    await runJobs();
    const first = telegram.sent(chat).at(-1)!.params as Json;
    const replies = await telegramSays(chat, { press: tgButton(first, 'Dissatisfied') });
    const complaint = await svc.db.store.db.selectFrom('complaints').selectAll().where('customer_id', '=', customerId).executeTakeFirstOrThrow();
    expect(complaint).toMatchObject({ source: 'survey', priority: 'normal', channel: 'telegram' });
    expect(replies.some((r) => String(r.text).includes(complaint.reference))).toBe(true);

    const other = 535353;
    await telegramSays(other, { text: '/start' });
    const { customer_id: otherId } = await svc.db.store.db.selectFrom('channel_identities').select('customer_id').where('external_id', '=', String(other)).executeTakeFirstOrThrow();
    await svc.db.store.db.updateTable('customers').set({ opted_out_at: clock.now().toISOString() }).where('id', '=', otherId).execute();
    await collect('telegram', String(other), 'TEL-0003');
    const sentBefore = telegram.sent(other).length;
    clock.advance(3 * HOUR);
    await runJobs();
    expect(telegram.sent(other).slice(sentBefore).map((s) => (s.params as Json).text)).not.toContainEqual(expect.stringContaining('satisfied'));
    expect(await survey(otherId)).toMatchObject({ status: 'skipped', skip_reason: 'opted_out' });
  });
});
