import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { saveComplaintSettings } from '../../src/complaints/branch';
import type { TestService } from '../helpers/service';
import { apiToken, staffMember } from '../helpers/staff';
import { dialects } from '../helpers/stores';
import { lineEvent, lineWebhook, telegramUpdate, telegramWebhook } from '../helpers/platform-events';
import { lineMessageProblems, type FakeLineApi } from '../fakes/line-api';
import type { FakeTelegramApi } from '../fakes/telegram-api';
import { channelWorld } from '../helpers/channel-world';
import { JPEG, PNG, runJob, staffFor, staffServicesOf } from '../complaints/helpers';

/*
 * Complaints on LINE and Telegram, end to end through the real SDKs and the fake platform servers (which
 * refuse what the platforms refuse): a photo is fetched the way each platform serves it (LINE's content
 * endpoint, Telegram's getFile and file download), care staff are alerted in the console and in the staff
 * group chats (without the customer's phone), and a person answers in the customer's own app with text
 * and a photo, resolves the complaint, and the customer confirms and rates it.
 */

// Monday 2026-11-30, 10:00 in Taipei.
const MONDAY_10 = '2026-11-30T02:00:00.000Z';
const TELEGRAM_GROUP = '-1001234567890';
const LINE_GROUP = `C${'a'.repeat(32)}`;

describe.each(dialects)('complaints on LINE and Telegram on $name', (dialect) => {
  const world = channelWorld(dialect, { start: MONDAY_10, env: { TELEGRAM_PER_CHAT_PER_SECOND: '50', PUBLIC_BASE_URL: 'https://chat.dealer.example', DEFAULT_LOCALE: 'en' } });
  const clock = world.clock;
  let line: FakeLineApi;
  let telegram: FakeTelegramApi;
  let svc: TestService;
  let seq = 0;
  let presses = 0;

  beforeEach(async () => {
    ({ line, telegram, svc } = world);
    presses = 0;
    const [branch] = await svc.db.store.db.selectFrom('branches').select('id').execute();
    await saveComplaintSettings(svc.db.store.db, branch!.id, { firstResponseMinutes: 30, resolutionMinutes: 1080, telegramChatId: TELEGRAM_GROUP, lineGroupId: LINE_GROUP }, clock.now().toISOString());
  });

  const db = () => svc.db.store.db;

  async function lineSays(userId: string, what: { text?: string; postback?: string; image?: string; follow?: boolean }) {
    seq += 1;
    const event = lineEvent(what, { userId, eventId: `01JCOMPL${String(seq).padStart(18, '0')}`, timestamp: Date.now(), replyToken: line.issueReplyToken({ userId }), messageId: `9${seq}` });
    expect((await svc.app.request('/webhooks/line', lineWebhook([event]))).status).toBe(200);
    await svc.flush();
    return line.accepted.messagesTo(userId).at(-1) as Record<string, any>;
  }


  async function telegramSays(chatId: number, what: { text?: string; press?: string; photo?: string; contact?: string }) {
    seq += 1;
    if (what.press) presses += 1;
    const update = telegramUpdate(what.photo ? { ...what, photo: { fileId: what.photo, bytes: JPEG.length } } : { ...what, photo: undefined }, { chatId, updateId: 700_000 + seq, messageId: seq, date: Math.floor(Date.now() / 1000), firstName: 'Ken', languageCode: 'en' });
    expect((await svc.app.request('/webhooks/telegram', telegramWebhook(update))).status).toBe(200);
    await svc.flush();
    return telegram.sent(chatId).at(-1)!.params as Record<string, any>;
  }


  const quickReplies = (message: Record<string, any>) => (message.quickReply?.items ?? []).map((i: any) => i.action.data as string);
  const buttons = (params: Record<string, any>) => (params.reply_markup?.inline_keyboard ?? []).flat().map((b: any) => b.callback_data as string);

  it('takes a complaint with a photo on LINE, alerts the staff group, and a person answers in LINE with text and a photo', async () => {
    const care = await staffFor(svc, 'care', { name: 'Mei Lin', onDuty: true, clock });
    const userId = `U${'c'.repeat(32)}`;
    line.setProfile(userId, { displayName: 'Chen Ya-Ting', language: 'en' });
    await lineSays(userId, { follow: true });
    expect(quickReplies(await lineSays(userId, { postback: 'i:complaint' }))).toContain('cmp:c:vehicle_quality');
    await lineSays(userId, { postback: 'cmp:c:vehicle_quality' });
    await lineSays(userId, { text: 'The air conditioning blows warm air again.' });
    line.setContent('58000001', JPEG, 'image/jpeg');
    expect((await lineSays(userId, { image: '58000001' })).text).toContain('Photo 1 of 5 received');
    // A photo LINE no longer keeps is asked for again rather than lost silently.
    expect((await lineSays(userId, { image: '58000002' })).text).toContain('did not reach us');
    await lineSays(userId, { text: 'It was repaired two weeks ago.' });
    await lineSays(userId, { postback: 'cmp:done' });
    await lineSays(userId, { postback: 'cmp:skip' });
    await lineSays(userId, { postback: 'cmp:u:normal' });
    const done = await lineSays(userId, { postback: 'cmp:ct:chat' });
    const [complaint] = await db().selectFrom('complaints').selectAll().execute();
    expect(done.text).toContain(`registered as ${complaint!.reference}`);
    expect(done.text).toContain('within 30 minutes');
    expect(complaint).toMatchObject({ channel: 'line', category: 'vehicle_quality', assignee_id: care.id, description: 'The air conditioning blows warm air again.\n\nIt was repaired two weeks ago.' });
    // The photo was fetched from LINE's data API with the channel token, and kept.
    expect(line.requests.filter((r) => r.kind === 'content').map((r) => [r.path, r.status])).toEqual([
      ['/v2/bot/message/58000001/content', 200],
      ['/v2/bot/message/58000002/content', 404],
    ]);
    const photo = await db().selectFrom('complaint_events').selectAll().where('complaint_id', '=', complaint!.id).where('kind', '=', 'customer_photo').executeTakeFirstOrThrow();
    expect(existsSync(join(svc.blobDir, photo.blob_key!))).toBe(true);

    // The staff groups hear of it: the summary and a link, never the customer's phone.
    await db().updateTable('customers').set({ phone: '+886912000111' }).where('id', '=', complaint!.customer_id).execute();
    // The alert job sends them (it may already have started, woken by the intake's commit); each goes once.
    await runJob(svc, 'complaint-alerts');
    await vi.waitFor(async () => expect((await db().selectFrom('complaint_alerts').select('status').execute()).map((a) => a.status)).toEqual(['sent', 'sent']));
    expect(line.accepted.pushes().filter((p) => p.to === LINE_GROUP)).toHaveLength(1);
    const groupPush = line.accepted.pushes().find((p) => p.to === LINE_GROUP)!;
    const groupText = String(groupPush.messages[0]!.text);
    expect(groupText).toContain(complaint!.reference);
    expect(groupText).toContain('Vehicle quality or defect');
    expect(groupText).toContain('Assigned to: Mei Lin');
    expect(groupText).toContain(`https://chat.dealer.example/console/complaints/${complaint!.id}`);
    expect(groupText).not.toContain('912000111');
    const telegramGroup = telegram.sent(TELEGRAM_GROUP).map((r) => String(r.params.text));
    expect(telegramGroup).toHaveLength(1);
    expect(telegramGroup[0]).toContain(complaint!.reference);
    expect(telegramGroup[0]).not.toContain('912000111');
    expect(await runJob(svc, 'complaint-alerts')).toBe(0);
    expect(line.accepted.pushes().filter((p) => p.to === LINE_GROUP)).toHaveLength(1);

    // A person answers in LINE: who they are, their words, then a photo LINE fetches over https.
    const { complaints } = await staffServicesOf(svc, clock);
    expect((await complaints.reply(care.ctx(clock), complaint!.id, 'I am sorry. Can you bring the car in tomorrow?')).ok).toBe(true);
    expect(await complaints.replyPhoto(care.ctx(clock), complaint!.id, new Blob([PNG]).stream())).toMatchObject({ ok: true, value: { channel: 'line' } });
    await svc.flush();
    const pushes = line.accepted.pushes().filter((p) => p.to === userId);
    const [text, image] = pushes.slice(-2).map((p) => p.messages[0]!);
    expect(text).toEqual({ type: 'text', text: 'Mei Lin from our customer care team is answering you now.\n\nI am sorry. Can you bring the car in tomorrow?' });
    expect(image).toMatchObject({ type: 'image', originalContentUrl: expect.stringMatching(/^https:\/\/chat\.dealer\.example\/media\/photos\/staff\//) });
    expect(lineMessageProblems([image])).toEqual([]);
    const served = await svc.app.request(String(image!.originalContentUrl).replace('https://chat.dealer.example', ''));
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(PNG);
    // A link with a forged signature opens nothing.
    expect((await svc.app.request(String(image!.originalContentUrl).replace(/s=[^&]+/, 's=forged').replace('https://chat.dealer.example', ''))).status).toBe(404);
    // The customer's answer reaches the ticket, and the bot says nothing over the person.
    const before = line.accepted.messagesTo(userId).length;
    await lineSays(userId, { text: 'Tomorrow at 10 is fine.' });
    expect(line.accepted.messagesTo(userId)).toHaveLength(before);
    const timeline = await db().selectFrom('complaint_events').select(['kind', 'text']).where('complaint_id', '=', complaint!.id).orderBy('id').execute();
    expect(timeline.map((e) => e.kind)).toEqual(expect.arrayContaining(['staff_message', 'staff_photo', 'customer_message']));
    expect(timeline.at(-1)).toEqual({ kind: 'customer_message', text: 'Tomorrow at 10 is fine.' });
    expect(line.requests.filter((r) => r.status >= 400 && r.kind !== 'content')).toEqual([]);
  });

  it('takes a complaint with a photo and a shared contact on Telegram, and the customer confirms and rates the resolution', async () => {
    await staffFor(svc, 'care', { name: 'Ken Wu', onDuty: true, clock });
    const chat = 515151;
    await telegramSays(chat, { text: '/start' });
    expect(buttons(await telegramSays(chat, { text: '/complaint' }))).toContain('cmp:c:price_invoice');
    await telegramSays(chat, { press: 'cmp:c:price_invoice' });
    await telegramSays(chat, { text: 'I was charged twice for the oil change.' });
    telegram.addFile('AgACAgQ-large', JPEG);
    expect((await telegramSays(chat, { photo: 'AgACAgQ-large' })).text).toContain('Photo 1 of 5 received');
    // A file Telegram will not hand a bot (over 20 MB) is asked for again.
    telegram.addFile('AgACAgQ-huge', JPEG, { fileSize: 25 * 1024 * 1024 });
    expect((await telegramSays(chat, { photo: 'AgACAgQ-huge' })).text).toContain('did not reach us');
    await telegramSays(chat, { press: 'cmp:done' });
    await telegramSays(chat, { press: 'cmp:done' });
    await telegramSays(chat, { press: 'cmp:u:low' });
    expect((await telegramSays(chat, { press: 'cmp:ct:phone' })).text).toContain('share your contact');
    // The customer shares their own contact card instead of typing the number.
    const done = await telegramSays(chat, { contact: '+886987654321' });
    const [complaint] = await db().selectFrom('complaints').selectAll().execute();
    expect(done.text).toContain(complaint!.reference);
    expect(done.text).toContain('We will call you on +886987654321');
    expect(complaint).toMatchObject({ channel: 'telegram', category: 'price_invoice', priority: 'low', contact_method: 'phone' });
    expect((await db().selectFrom('customers').select('phone').where('id', '=', complaint!.customer_id).executeTakeFirstOrThrow()).phone).toBe('+886987654321');
    expect(telegram.requests.filter((r) => r.method.toLowerCase() === 'getfile').map((r) => [r.params.file_id, r.status])).toEqual([
      ['AgACAgQ-large', 200],
      ['AgACAgQ-huge', 400],
    ]);
    expect(telegram.requests.filter((r) => r.method === 'file').map((r) => r.status)).toEqual([200]);

    // A care token (a CRM) answers and resolves through the API; the customer answers in Telegram.
    const token = await apiToken(svc, 'care');
    expect((await token.request(`/api/complaints/${complaint!.id}/replies`, { json: { text: 'We have refunded the second charge.' } })).status).toBe(202);
    await svc.flush();
    expect(telegram.sent(chat).at(-1)!.params.text).toBe('A member of our customer care team is answering you now.\n\nWe have refunded the second charge.');
    expect((await token.request(`/api/complaints/${complaint!.id}/resolution`, { json: { resolution: 'Second charge refunded to the card.' } })).status).toBe(200);
    await svc.flush();
    const asked = telegram.sent(chat).at(-1)!.params;
    expect(asked.text).toContain('Second charge refunded to the card.');
    expect(buttons(asked)).toEqual([`cmp:ry:${complaint!.id}`, `cmp:rn:${complaint!.id}`]);
    const rate = await telegramSays(chat, { press: `cmp:ry:${complaint!.id}` });
    expect(buttons(rate)).toHaveLength(5);
    expect((await telegramSays(chat, { press: `cmp:rt:${complaint!.id}:5` })).text).toContain('is now closed');
    expect((await db().selectFrom('complaints').selectAll().executeTakeFirstOrThrow())).toMatchObject({ status: 'closed', rating: 5, customer_confirmed: 'yes' });
    // Every button press was answered, and every call the service made was accepted but the refused file.
    expect(telegram.answeredCallbacks()).toHaveLength(presses);
    expect(telegram.requests.filter((r) => r.status >= 400 && r.method.toLowerCase() !== 'getfile')).toEqual([]);
  });

  it('shows staff the ticket in the console with its photo, and a console reply reaches the customer on LINE', async () => {
    const care = await staffMember(svc, 'care');
    const userId = `U${'d'.repeat(32)}`;
    line.setProfile(userId, { displayName: 'Lin', language: 'en' });
    await lineSays(userId, { text: 'human' });
    line.setContent('58000009', JPEG);
    await lineSays(userId, { image: '58000009' });
    const [complaint] = await db().selectFrom('complaints').selectAll().execute();
    const page = await (await care.request(`/console/complaints/${complaint!.id}`)).text();
    expect(page).toContain(complaint!.reference);
    const photoLink = /<img[^>]+src="([^"]+)"/.exec(page)?.[1]?.replace(/&amp;/g, '&');
    expect(photoLink).toMatch(/^\/media\/photos\/line\/58000009\?s=/);
    const photo = await svc.app.request(photoLink!);
    expect(photo.status).toBe(200);
    expect(new Uint8Array(await photo.arrayBuffer())).toEqual(JPEG);
    const sent = await care.request(`/console/complaints/${complaint!.id}/reply`, { form: { text: 'Thanks for the photo, we will check it.' } });
    expect(sent.status).toBe(303);
    await svc.flush();
    expect(line.accepted.pushes().filter((p) => p.to === userId).at(-1)!.messages[0]!.text).toBe('care user from our customer care team is answering you now.\n\nThanks for the photo, we will check it.');
  });

  it.each(['line', 'telegram'] as const)('hands a %s customer to a person and back: both ways with photos, a second "human" opens nothing, silence returns to the bot', async (channel) => {
    const care = await staffFor(svc, 'care', { name: 'Mei Lin', onDuty: true, clock });
    const { complaints } = await staffServicesOf(svc, clock);
    const userId = `U${'f'.repeat(32)}`;
    const chatId = 626262;
    line.setProfile(userId, { displayName: 'Lin', language: 'en' });
    const say = (what: { text?: string; photo?: string }) =>
      channel === 'line' ? lineSays(userId, what.photo ? { image: what.photo } : { text: what.text! }) : telegramSays(chatId, what.photo ? { photo: what.photo } : { text: what.text! });
    const heard = () => (channel === 'line' ? line.accepted.messagesTo(userId) : telegram.sent(chatId).map((r) => ({ text: r.params.text, photo: r.params.photo })));
    const lastText = () => String((heard().at(-1) as Record<string, unknown>).text);

    await say({ text: 'human' });
    expect(lastText()).toContain('within 30 minutes');
    await say({ text: 'The paint on the door is bubbling.' });
    if (channel === 'line') line.setContent('77000001', JPEG);
    else telegram.addFile('AgACAgQ-door', JPEG);
    await say({ photo: channel === 'line' ? '77000001' : 'AgACAgQ-door' });
    const before = heard().length;
    await say({ text: 'talk to a person' });
    expect(lastText()).toContain('already with our team');
    const tickets = await db().selectFrom('complaints').selectAll().execute();
    expect(tickets).toHaveLength(1);
    const [ticket] = tickets;
    const timeline = async () => (await db().selectFrom('complaint_events').selectAll().where('complaint_id', '=', ticket!.id).orderBy('id').execute()).map((e) => e.kind);
    expect(await timeline()).toEqual(['opened', 'assigned', 'customer_message', 'customer_photo']);
    expect(heard()).toHaveLength(before + 1);

    expect((await complaints.reply(care.ctx(clock), ticket!.id, 'Please send one more photo from further away.')).ok).toBe(true);
    expect((await complaints.replyPhoto(care.ctx(clock), ticket!.id, new Blob([PNG]).stream())).ok).toBe(true);
    await svc.flush();
    const sent = heard().slice(-2) as Record<string, unknown>[];
    expect(String(sent[0]!.text)).toBe('Mei Lin from our customer care team is answering you now.\n\nPlease send one more photo from further away.');
    const photoUrl = channel === 'line' ? String(sent[1]!.originalContentUrl) : String(sent[1]!.photo);
    expect(photoUrl).toMatch(/^https:\/\/chat\.dealer\.example\/media\/photos\/staff\//);
    const afterStaff = heard().length;
    if (channel === 'line') line.setContent('77000002', JPEG);
    else telegram.addFile('AgACAgQ-door-2', JPEG);
    await say({ photo: channel === 'line' ? '77000002' : 'AgACAgQ-door-2' });
    await say({ text: 'Here it is.' });
    // The bot says nothing while a person answers.
    expect(heard()).toHaveLength(afterStaff);
    expect((await timeline()).slice(-4)).toEqual(['staff_message', 'staff_photo', 'customer_photo', 'customer_message']);

    // Nobody writes for more than HANDOFF_IDLE_MINUTES: the bot takes the chat back and says so, with the menu.
    clock.advance(31 * 60_000);
    expect(await runJob(svc, 'handoff-return')).toBe(1);
    expect(lastText()).toContain(`Your request ${ticket!.reference} stays open`);
    expect(lastText()).not.toContain('undefined');
    expect((await db().selectFrom('conversations').select('flow').where('customer_id', '=', ticket!.customer_id).executeTakeFirstOrThrow()).flow).toBeNull();
    expect((await timeline()).at(-1)).toBe('handoff_ended');
  });
});
