import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/staff/auth/api-tokens';
import { DEFAULT_PBKDF2_ITERATIONS } from '../../src/staff/auth/password';
import { createStaffUser } from '../../src/staff/staff-users/records';
import { createD1Store } from '../../src/store/d1-driver';
import type { Store } from '../../src/store/store';
import { startFakeLineApi, type FakeLineApi } from '../fakes/line-api';
import { startFakeTelegramApi, type FakeTelegramApi } from '../fakes/telegram-api';
import { TEST_LINE_SECRET, TEST_LINE_TOKEN, TEST_TELEGRAM_SECRET, TEST_TELEGRAM_TOKEN } from '../helpers/config';
import { acceptEvents } from '../../src/store/inbox';
import type { InboundEvent } from '../../src/channels/types';
import { startBundledWorker, type TestWorker } from '../helpers/d1';

/*
 * The customer scenarios against the Worker as Cloudflare runs it: bundled by wrangler, in workerd, on D1,
 * with each customer's events processed by their Durable Object. Two isolates of the Worker share the
 * database and the objects, as two machines of Cloudflare's edge would; LINE is the fake server, which
 * refuses what LINE refuses. The service runs on the real clock here, so answers are read from what LINE
 * received rather than from fixed dates.
 */

type Json = Record<string, any>;

let line: FakeLineApi;
let telegram: FakeTelegramApi;
let worker: TestWorker;
let store: Store;
let seq = 0;

beforeAll(async () => {
  line = await startFakeLineApi();
  telegram = await startFakeTelegramApi();
  worker = await startBundledWorker({
    isolates: 2,
    vars: {
      DEALER_NAME: 'Test Motors',
      DEFAULT_LOCALE: 'en',
      LOG_LEVEL: 'warn',
      LINE_CHANNEL_SECRET: TEST_LINE_SECRET,
      LINE_CHANNEL_ACCESS_TOKEN: TEST_LINE_TOKEN,
      LINE_API_BASE_URL: line.url,
      LINE_DATA_API_BASE_URL: line.url,
      TELEGRAM_BOT_TOKEN: TEST_TELEGRAM_TOKEN,
      TELEGRAM_WEBHOOK_SECRET: TEST_TELEGRAM_SECRET,
      TELEGRAM_API_BASE_URL: telegram.url,
      SURVEY_DELAY_MINUTES: '0',
    },
  });
  store = createD1Store(worker.database());
  // The first request migrates and seeds the fresh database.
  expect((await worker.fetch(0, '/healthz')).status).toBe(200);
  expect((await worker.fetch(1, '/healthz')).status).toBe(200);
  // The Worker runs on the real clock, at whatever hour the suite runs: the branch keeps no quiet hours, so a
  // repair notice goes out at once rather than the next morning.
  await store.db.updateTable('branch_settings').set({ quiet_hours_start: null, quiet_hours_end: null }).execute();
}, 120_000);

afterAll(async () => {
  await worker?.dispose();
  await line?.close();
  await telegram?.close();
});

/** Waits until `check` passes (the Worker answers first and works in waitUntil and on the objects). */
async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

interface LineInput {
  text?: string;
  postback?: string;
  params?: Record<string, string>;
  follow?: boolean;
}

/** A LINE webhook event from a user, with a reply token the fake LINE will accept once. */
function lineEvent(userId: string, what: LineInput): Json {
  seq += 1;
  const base = {
    mode: 'active',
    timestamp: Date.now(),
    source: { type: 'user', userId },
    webhookEventId: `01JW${String(seq).padStart(22, '0')}`,
    deliveryContext: { isRedelivery: false },
    replyToken: line.issueReplyToken({ userId }),
  };
  if (what.follow) return { ...base, type: 'follow', follow: { isUnblocked: false } };
  if (what.postback) return { ...base, type: 'postback', postback: { data: what.postback, ...(what.params ? { params: what.params } : {}) } };
  return { ...base, type: 'message', message: { id: String(seq), type: 'text', quoteToken: 'q', text: what.text } };
}

async function postLine(events: Json[], isolate = 0): Promise<void> {
  const body = JSON.stringify({ destination: 'Ubot', events });
  const res = await worker.fetch(isolate, '/webhooks/line', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-line-signature': createHmac('sha256', TEST_LINE_SECRET).update(body).digest('base64') },
    body,
  });
  expect(res.status).toBe(200);
}

/** Sends one event and returns what LINE delivered to the user because of it (waits for at least one message). */
async function says(userId: string, what: LineInput, isolate = 0): Promise<Json[]> {
  const before = line.accepted.messagesTo(userId).length;
  await postLine([lineEvent(userId, what)], isolate);
  return eventually(() => {
    const now = line.accepted.messagesTo(userId);
    expect(now.length).toBeGreaterThan(before);
    return now.slice(before) as Json[];
  });
}

const quickReplies = (message: Json | undefined): Json[] => (message?.quickReply?.items ?? []).map((i: Json) => i.action);
const texts = (messages: Json[]) => messages.map((m) => m.text ?? m.altText ?? '').join('\n');

/** Every button of a message: quick replies, and the footers of Flex bubbles and carousels. */
function actions(message: Json | undefined): Json[] {
  if (!message) return [];
  const bubbles: Json[] = message.contents?.type === 'carousel' ? message.contents.contents : message.contents ? [message.contents] : [];
  return [...quickReplies(message), ...bubbles.flatMap((b) => (b.footer?.contents ?? []).map((c: Json) => c.action).filter(Boolean))];
}

/** Books a visit the way a customer taps through it: a vehicle check, the first day and time offered, no loaner. */
async function book(u: string): Promise<{ summary: Json[]; asked: string[] }> {
  const asked: string[] = [];
  let last = await says(u, { postback: 'i:book' });
  for (let step = 0; step < 15; step++) {
    const data = last.flatMap(actions).map((a) => String(a.data ?? ''));
    asked.push(texts(last));
    const tap = (prefix: string) => data.find((d) => d.startsWith(prefix));
    let next: LineInput;
    if (tap('book:ok')) return { summary: await says(u, { postback: tap('book:ok')! }), asked };
    if (tap('book:st:inspection')) next = { postback: 'book:st:inspection' };
    else if (/licence plate/.test(texts(last))) next = { text: 'ABC-1234' };
    else if (tap('book:d:')) next = { postback: tap('book:d:')! };
    else if (tap('book:t:')) next = { postback: tap('book:t:')! };
    else if (tap('book:skip')) next = { postback: 'book:skip' };
    else if (tap('book:no')) next = { postback: 'book:no' };
    else if (/mobile number/.test(texts(last))) next = { text: '0912345678' };
    else throw new Error(`no answer for: ${texts(last)} [${data.join(' ')}]`);
    last = await says(u, next);
  }
  throw new Error(`the booking did not reach its summary:\n${asked.join('\n')}`);
}

/** The DMS as an integration calls the staff API, with a token of the demo branch; asked on the second isolate. */
async function dmsClient() {
  const branch = (await store.db.selectFrom('branches').select('id').executeTakeFirstOrThrow()).id;
  const { token } = await createApiToken(store.db, { name: 'DMS', role: 'manager', branchIds: [branch], createdBy: null, now: new Date() });
  return async (path: string, init: { method?: string; json?: unknown } = {}): Promise<Json> => {
    const res = await worker.fetch(1, path, {
      method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
    });
    const body = (await res.json()) as Json;
    expect(res.status, JSON.stringify(body)).toBeLessThan(300);
    return body;
  };
}

/** What the customer's transcript holds, oldest first: which event each customer message came from, and each answer. */
async function transcript(userId: string): Promise<{ direction: string; event_id: string | null; text: string | null }[]> {
  return store.db
    .selectFrom('messages')
    .innerJoin('channel_identities', 'channel_identities.customer_id', 'messages.customer_id')
    .select(['messages.direction', 'messages.event_id', 'messages.text'])
    .where('channel_identities.channel', '=', 'line')
    .where('channel_identities.external_id', '=', userId)
    .orderBy('messages.id')
    .execute();
}

describe('the scenario suite on the Worker (workerd, D1, a Durable Object per customer)', () => {
  it('follow → booking → progress notice → an added item approved → pickup time → survey → complaint, on LINE', async () => {
    const u = `U${'a'.repeat(32)}`;
    line.setProfile(u, { displayName: 'Mei Lin', language: 'en' });
    const greeting = await says(u, { follow: true });
    expect(texts(greeting)).toContain('Hello Mei Lin! Welcome to Test Motors.');

    const { summary, asked } = await book(u);
    expect(asked.join('\n')).toContain('Please check your booking\nName: Mei Lin\nMobile: +886912345678');
    expect(texts(summary)).toMatch(/^Your booking is confirmed\nReference: BK-/);
    const appointment = await store.db.selectFrom('appointments').select(['status', 'starts_at']).executeTakeFirstOrThrow();
    expect(Date.parse(appointment.starts_at)).toBeGreaterThan(Date.now());

    // The dealer's DMS checks the car in, finds an item, finishes the work: each notice is pushed right after its call.
    const dms = await dmsClient();
    const pushes = (n: number) =>
      eventually(() => {
        const sent = line.accepted.pushes().filter((p) => p.to === u);
        expect(sent).toHaveLength(n);
        return sent.at(-1)!.messages as Json[];
      });
    const order = await dms('/api/repair-orders/W-100', { method: 'PUT', json: { plate: 'ABC-1234', estimatedAmount: 3500 } });
    expect(texts(await pushes(1))).toBe("Your car (ABC-1234) is checked in, repair order W-100. We'll keep you posted here on how the work is going.");

    const items = await dms('/api/repair-orders/W-100/items', { json: { items: [{ description: 'Front brake pads', price: 2400, urgency: 'red' }] } });
    const request = await pushes(2);
    expect(texts(request)).toContain('We found 1 more item(s) for your car (ABC-1234).');
    expect(actions(request[0]).map((a) => a.data)).toContain(`prog:a:${items.itemIds[0]}`);
    const approved = await says(u, { postback: `prog:a:${items.itemIds[0]}` });
    expect(texts(approved)).toContain('✅ Approved: #1 Front brake pads (NT$2,400)');
    expect((await dms('/api/repair-orders/W-100')).items).toEqual([expect.objectContaining({ description: 'Front brake pads', decision: 'approved' })]);

    await dms('/api/repair-orders/W-100/status', { json: { status: 'ready' } });
    const card = await pushes(3);
    expect(texts(card)).toContain('Ready for pickup: ABC-1234');
    const picker = actions(card[0]).find((a) => a.type === 'datetimepicker')!;
    expect(picker.data).toBe(`prog:pt:${order.id}`);
    const chosen = await says(u, { postback: picker.data, params: { datetime: picker.min } });
    expect(texts(chosen)).toMatch(/^Thank you! We'll have your car ready for you at \d\d:\d\d on /);

    // Collected: the survey is written for the branch's next open hour; the cron sends it once that hour has come.
    await dms('/api/repair-orders/W-100/status', { json: { status: 'collected' } });
    await worker.scheduled(0);
    const survey = await eventually(() => store.db.selectFrom('surveys').select(['id', 'status']).executeTakeFirstOrThrow());
    expect(survey.status).toBe('scheduled');
    await store.db.updateTable('surveys').set({ due_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', survey.id).execute();
    await worker.scheduled(1);
    const question = await pushes(4);
    expect(texts(question)).toContain('Overall, how satisfied are you with this visit?');
    const verySatisfied = question.flatMap(actions).find((a) => a.label === 'Very satisfied')!;
    expect(texts(await says(u, { postback: verySatisfied.data }))).toMatch(/Noted, thank you\.\s+How likely are you to have your car serviced with us again/);
    expect(await store.db.selectFrom('surveys').select(['satisfaction']).executeTakeFirstOrThrow()).toEqual({ satisfaction: 5 });

    const complaint = await says(u, { text: 'complaint' });
    expect(texts(complaint)).toContain("I'm sorry something went wrong. We'd like to put it right. What is it about?");
    const visit = await says(u, { postback: 'cmp:c:service_quality' });
    expect(texts(visit)).toContain('Which visit is it about?');
    const repair = visit.flatMap(actions).find((a) => String(a.data).startsWith('cmp:v:ro:'))!;
    expect(texts(await says(u, { postback: repair.data }))).toContain('Please tell us what happened, in your own words.');
    expect(texts(await says(u, { text: 'The brakes still squeak after the new pads.' }))).toContain('Noted. Anything else?');
    // Then photos (skipped), how urgent, how to be reached: the first offer each time, until the ticket is filed.
    let last = await says(u, { postback: 'cmp:done' });
    const questions: string[] = [];
    for (let i = 0; i < 8 && !(await store.db.selectFrom('complaints').select('id').executeTakeFirst()); i++) {
      questions.push(texts(last));
      const offer = last.flatMap(actions).find((a) => a.data && a.data !== 'i:cancel');
      if (!offer) throw new Error(`no button to tap after: ${questions.join(' / ')}`);
      last = await says(u, { postback: offer.data });
    }
    expect(questions).toEqual(['Do you have photos of it? Send up to 5 here, or tap "Skip".', 'How urgent is it for you?', 'How would you like us to get back to you?']);
    const ticket = await store.db.selectFrom('complaints').select(['reference', 'category', 'description', 'channel', 'repair_order_id']).executeTakeFirstOrThrow();
    expect(texts(last)).toContain(`Your complaint is registered as ${ticket.reference}.`);
    expect(ticket).toMatchObject({ category: 'service_quality', description: 'The brakes still squeak after the new pads.', channel: 'line', repair_order_id: expect.any(String) });

    // Every event was processed once, on the customer's object, and every answer went out in order.
    const rows = await transcript(u);
    const events = rows.filter((r) => r.direction === 'in').map((r) => r.event_id);
    expect(new Set(events).size).toBe(events.length);
    expect(line.requests.filter((r) => r.status >= 400)).toEqual([]);
  }, 90_000);

  /** What LINE was asked to answer with the given reply tokens, in the order the calls reached it. */
  function repliesWith(tokens: string[]): { token: string; texts: string }[] {
    return line.requests
      .filter((r) => r.kind === 'reply' && r.status === 200 && tokens.includes(String((r.body as Json).replyToken)))
      .map((r) => ({ token: String((r.body as Json).replyToken), texts: texts((r.body as Json).messages as Json[]) }));
  }

  it("answers a customer's quick taps in the order they were written, though each webhook landed on another isolate", async () => {
    const u = `U${'b'.repeat(32)}`;
    line.setProfile(u, { displayName: 'Ken', language: 'en' });
    await says(u, { follow: true });
    // LINE delivers one user's events one webhook after another without waiting for our answers; each is
    // acknowledged before the next, while the processing runs on behind the answers.
    const inputs: LineInput[] = [{ postback: 'i:book' }, { postback: 'book:st:inspection' }, { text: 'XYZ-9876' }, { postback: 'book:skip' }, { postback: 'book:skip' }, { postback: 'book:skip' }];
    const events = inputs.map((input) => lineEvent(u, input));
    for (const [i, event] of events.entries()) await postLine([event], i % 2);
    const replies = await eventually(() => {
      const sent = repliesWith(events.map((e) => e.replyToken));
      expect(sent).toHaveLength(events.length);
      return sent;
    });
    expect(replies.map((r) => r.token)).toEqual(events.map((e) => e.replyToken));
    expect(replies.map((r) => r.texts.split('\n')[0])).toEqual([
      'What does your car need?',
      "What is the car's licence plate number? (for example ABC-1234)",
      'What make and model is it? (for example Toyota Corolla) You can skip this.',
      'Which year is the car from? You can skip this.',
      'About how many kilometres has it done? You can skip this.',
      expect.stringMatching(/^Which day suits you\?/),
    ]);
  }, 60_000);

  it('runs a burst of one customer’s webhooks arriving at the same moment on two isolates one at a time, in the order they were accepted', async () => {
    const u = `U${'c'.repeat(32)}`;
    line.setProfile(u, { displayName: 'Ann', language: 'en' });
    await says(u, { follow: true });
    const events = Array.from({ length: 8 }, (_, i) => lineEvent(u, { text: i % 2 === 0 ? 'menu' : 'branch info' }));
    // All at once, half on each isolate; one of them is also delivered twice (LINE redelivering it at the same moment).
    await Promise.all([...events.map((e, i) => postLine([e], i % 2)), postLine([{ ...events[3], deliveryContext: { isRedelivery: true } }], 0)]);
    const rows = await eventually(async () => {
      const all = await transcript(u);
      expect(all.filter((r) => r.direction === 'in')).toHaveLength(events.length + 1);
      expect(repliesWith(events.map((e) => e.replyToken))).toHaveLength(events.length);
      return all;
    });
    const accepted = await store.db.selectFrom('inbound_events').select('event_id').where('channel', '=', 'line').where('external_id', '=', u).orderBy('id').execute();
    expect(accepted).toHaveLength(events.length + 1);
    // Processed in the order accepted, each once, each answered before the next began.
    const processed = rows.filter((r) => r.direction === 'in').map((r) => r.event_id);
    expect(processed).toEqual(accepted.map((a) => a.event_id));
    // LINE received their answers in that same order (each answer went with its own event's reply token).
    const tokenOf = new Map(events.map((e) => [e.webhookEventId as string, e.replyToken as string]));
    const expected = processed.slice(1).map((id) => tokenOf.get(id!)!);
    expect(repliesWith(expected as string[]).map((r) => r.token)).toEqual(expected);
  }, 60_000);

  it('keeps the order of several events in one webhook', async () => {
    const u = `U${'d'.repeat(32)}`;
    line.setProfile(u, { displayName: 'Lee', language: 'en' });
    const events = [lineEvent(u, { follow: true }), lineEvent(u, { postback: 'i:book' }), lineEvent(u, { postback: 'book:st:inspection' }), lineEvent(u, { text: 'QQ-1234' })];
    await postLine(events, 1);
    const replies = await eventually(() => {
      const sent = repliesWith(events.map((e) => e.replyToken));
      expect(sent).toHaveLength(events.length);
      return sent;
    });
    expect(replies.map((r) => r.token)).toEqual(events.map((e) => e.replyToken));
    expect(replies.map((r) => r.texts.split('\n')[0])).toEqual([
      expect.stringContaining('Hello Lee!'),
      'What does your car need?',
      "What is the car's licence plate number? (for example ABC-1234)",
      'What make and model is it? (for example Toyota Corolla) You can skip this.',
    ]);
  }, 60_000);

  it('signs staff in with their 600,000-round password, derived on the password Durable Object', async () => {
    const branch = (await store.db.selectFrom('branches').select('id').executeTakeFirstOrThrow()).id;
    const password = 'correct horse battery staple';
    const staff = await createStaffUser(store.db, { email: 'advisor@dealer.example', name: 'Advisor', role: 'advisor', locale: 'en', password, branchIds: [branch] }, new Date());
    expect(staff.password_hash.split('$')[1]).toBe(String(DEFAULT_PBKDF2_ITERATIONS));
    const login = (isolate: number, pw: string) =>
      worker.fetch(isolate, '/console/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email: 'advisor@dealer.example', password: pw, next: '/console' }).toString(),
        redirect: 'manual',
      });
    const wrong = await login(0, 'not the password at all');
    expect(wrong.status).toBe(401);
    const right = await login(1, password);
    expect(right.status).toBe(303);
    const cookie = right.headers.get('set-cookie')!.split(';')[0]!;
    const page = await worker.fetch(0, '/console', { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Advisor');
  }, 60_000);

  it('on Telegram too: a customer’s quick messages and button presses, acknowledged on alternate isolates, are answered in order', async () => {
    const chatId = 7_000_001;
    const from = { id: chatId, is_bot: false, first_name: 'Mei', language_code: 'en' };
    const chat = { id: chatId, type: 'private', first_name: 'Mei' };
    const update = (what: { text?: string; press?: string }) => {
      seq += 1;
      return what.press
        ? { update_id: 900_000 + seq, callback_query: { id: `cb-${seq}`, from, chat_instance: '1', data: what.press, message: { message_id: seq, date: Math.floor(Date.now() / 1000), chat, text: '…' } } }
        : { update_id: 900_000 + seq, message: { message_id: seq, date: Math.floor(Date.now() / 1000), chat, from, text: what.text, ...(what.text!.startsWith('/') ? { entities: [{ type: 'bot_command', offset: 0, length: what.text!.length }] } : {}) } };
    };
    const updates = [update({ text: '/start' }), update({ text: '/book' }), update({ press: 'book:st:inspection' }), update({ text: 'TG-5555' }), update({ press: 'book:skip' })];
    for (const [i, u] of updates.entries()) {
      const res = await worker.fetch(i % 2, '/webhooks/telegram', { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TEST_TELEGRAM_SECRET }, body: JSON.stringify(u) });
      expect(res.status).toBe(200);
    }
    const sent = await eventually(() => {
      const all = telegram.sent(chatId).map((r) => String(r.params.text ?? ''));
      expect(all).toHaveLength(updates.length);
      return all;
    });
    expect(sent.map((t) => t.split('\n')[0])).toEqual([
      expect.stringContaining('Welcome to Test Motors'),
      'What does your car need?',
      "What is the car's licence plate number? (for example ABC-1234)",
      'What make and model is it? (for example Toyota Corolla) You can skip this.',
      'Which year is the car from? You can skip this.',
    ]);
  }, 60_000);

  it('has the cron hand a waiting queue to its customer’s object when no request did (a waitUntil cut short)', async () => {
    const u = `U${'e'.repeat(32)}`;
    line.setProfile(u, { displayName: 'Joe', language: 'en' });
    await says(u, { follow: true });
    // An event kept in D1 whose webhook never got to ask the object: only the cron's sweep will find it.
    const raw = lineEvent(u, { text: 'menu' });
    const event: InboundEvent = { channel: 'line', eventId: raw.webhookEventId, externalId: u, occurredAt: new Date().toISOString(), replyToken: raw.replyToken, profile: null, input: { type: 'text', text: 'menu' } };
    expect(await acceptEvents(store.db, [event], new Date().toISOString())).toEqual([true]);
    await new Promise((r) => setTimeout(r, 300));
    expect(repliesWith([raw.replyToken])).toEqual([]);
    await worker.scheduled(1);
    const [reply] = await eventually(() => {
      const sent = repliesWith([raw.replyToken]);
      expect(sent).toHaveLength(1);
      return sent;
    });
    expect(reply!.texts).toContain('What would you like to do?');
    expect(await store.db.selectFrom('inbound_events').select('status').where('event_id', '=', raw.webhookEventId).executeTakeFirstOrThrow()).toEqual({ status: 'done' });
  }, 60_000);
});
