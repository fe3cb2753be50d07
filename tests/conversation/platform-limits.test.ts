import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toLineMessages } from '../../src/channels/line/render';
import { renderReplies } from '../../src/channels/render';
import { toTelegramRequests } from '../../src/channels/telegram/render';
import type { ChannelName, InboundEvent, Input, Reply } from '../../src/channels/types';
import { TELEGRAM_LIMITS, utf8Length } from '../../src/channels/limits';
import { SUPPORTED_LOCALES, type Locale } from '../../src/i18n/locales';
import { manualClock } from '../../src/ops/clock';
import { lineMessageProblems } from '../fakes/line-api';
import { parseTelegramHtml } from '../fakes/telegram-api';
import { openComplaintFromSurvey } from '../../src/complaints/open';
import { enqueueReplies } from '../../src/outbox/outbox';
import { JPEG, runJob, staffFor, staffServicesOf } from '../complaints/helpers';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { dialects } from '../helpers/stores';
import { createRepairOrderService, MAX_ITEMS_PER_REQUEST } from '../../src/staff/repair-orders';
import { surveyButtons } from '../../src/conversation/button-ids';
import { silentLogger } from '../../src/ops/logger';
import { sendDueSurveys } from '../../src/survey/jobs';
import { levelsOf, questionsOf, surveyState } from '../../src/survey/questions';
import { scheduleSurvey } from '../../src/survey/schedule';
import { DEFAULT_SURVEY_SETTINGS, saveSurveySettings } from '../../src/survey/settings';

/*
 * Every message the flows send, rendered in every language for every platform, must be one the platform
 * accepts. Conversations below walk every flow (the menu, help, language, a person, booking with every
 * detour, my bookings, cancelling, rescheduling, a lost race, a repair order's notices and answers); each reply
 * they queued is then rendered in
 * all five locales and checked against the rules the fake LINE and Telegram servers enforce.
 */

const START = '2026-11-30T01:00:00.000Z';

describe('every message in every locale fits LINE and Telegram', () => {
  let svc: TestService;
  const clock = manualClock(START);
  let seq = 0;
  const collected: Record<'line' | 'telegram', Reply[]> = { line: [], telegram: [] };

  beforeAll(async () => {
    svc = await startTestService(dialects[0]!, testConfig({ PUBLIC_BASE_URL: 'https://chat.dealer.example' }), clock);
    for (const channel of ['line', 'telegram'] as const) {
      for (const locale of SUPPORTED_LOCALES) await walkEveryFlow(channel, locale);
      for (const locale of SUPPORTED_LOCALES) await walkRepairProgress(channel, locale);
      for (const locale of SUPPORTED_LOCALES) await walkSurvey(channel, locale);
    }
    const rows = await svc.db.store.db.selectFrom('outbox').select(['channel', 'payload']).execute();
    for (const row of rows) collected[row.channel as 'line' | 'telegram'].push(...(JSON.parse(row.payload) as Reply[]));
  }, 120_000);
  afterAll(async () => {
    await svc.close();
  });

  async function say(channel: ChannelName, who: string, locale: Locale, input: Input | string) {
    const event: InboundEvent = {
      channel,
      eventId: `pl-${++seq}`,
      externalId: who,
      occurredAt: clock.now().toISOString(),
      replyToken: null,
      profile: { displayName: 'Wang Xiao-Ming', languageHint: locale },
      input: typeof input === 'string' ? { type: 'text', text: input } : input,
    };
    await svc.engine.handle(event);
  }

  async function walkEveryFlow(channel: ChannelName, locale: Locale) {
    const who = `${channel}-${locale}`;
    const tap = (id: string, params: { date?: string } | null = null): Input => ({ type: 'choice', id, params });
    const s = (input: Input | string) => say(channel, who, locale, input);
    await s({ type: 'start', payload: null });
    for (const word of ['menu', 'help', 'nonsense words', '/unknowncommand']) await s(word);
    await s(tap('i:language'));
    await s('banana');
    await s(tap(`lang:${locale}`));
    await s({ type: 'sticker' });
    await s({ type: 'image', mediaId: 'm1' });
    await s({ type: 'location', latitude: 25.03, longitude: 121.56, title: null, address: null });
    await s(tap('i:human'));
    await s('hello?');
    await s(tap('i:human'));
    await s('menu');
    // Booking with every detour: bad plate, bad year and mileage, an unreadable day, closed and past days.
    await s(tap('i:book'));
    await s('???');
    await s(tap('book:st:periodic_maintenance'));
    await s('!');
    await s('ABC-1234');
    await s('Toyota Corolla Altis Hybrid');
    await s('1800');
    await s('2019');
    await s('lots');
    await s('88000');
    await s('not a day at all');
    await s(tap('book:pick', { date: '2026-12-06' }));
    await s(tap('book:pick', { date: '2026-11-02' }));
    await s(tap('book:pick', { date: '2027-06-01' }));
    await s(tap('book:cal:2026-12'));
    await s(tap('book:d:2026-12-02'));
    await s(tap('book:more'));
    await s('banana');
    await s(tap('book:t:2026-12-02:1000'));
    await s('My car makes a loud noise when braking and the engine light is on since yesterday.');
    await s('maybe');
    await s(tap('book:yes'));
    await s('hmm');
    await s('0912-345-678');
    await s(tap('book:ok'));
    // My bookings, cancel asked and kept, reschedule, then cancel.
    await s(tap('i:myBookings'));
    const [appointment] = await svc.db.store.db
      .selectFrom('appointments')
      .innerJoin('channel_identities', 'channel_identities.customer_id', 'appointments.customer_id')
      .select(['appointments.id'])
      .where('channel_identities.external_id', '=', who)
      .execute();
    await s(tap(`mybk:c:${appointment!.id}`));
    await s(tap('mybk:k'));
    await s(tap(`mybk:r:${appointment!.id}`));
    await s(tap('book:d:2026-12-03'));
    await s(tap('book:t:2026-12-03:1400'));
    await s(tap('book:ok'));
    await s(tap(`mybk:ok:${appointment!.id}`));
    await s(tap(`mybk:c:${appointment!.id}`));
    await s(tap(`mybk:cy:${appointment!.id}`));
    await s(tap('i:myBookings'));
    // Questions about the branch, typed as sentences and from the menu; a booking looked up by reference.
    for (const question of ['when are you open?', 'where are you located?', 'what is your phone number', 'what services do you offer', 'hours and phone', 'thanks']) await s(question);
    await s(tap('i:info'));
    await s(tap('info:t:address'));
    await s('BK-7K3QXM');
    await walkComplaints(channel, who, s, tap);
    // A button from an old conversation, and a conversation left idle.
    await s(tap('book:t:2026-12-02:1000'));
    await s(tap('i:book'));
    clock.advance(31 * 60_000);
    await s('hello again');
    clock.set(START);
  }

  /**
   * A repair order told at every status, with the most added items one request takes (each with the
   * longest description and a photo), reminders, a delay, the pickup card and every answer a customer can give.
   */
  async function walkRepairProgress(channel: ChannelName, locale: Locale) {
    const who = `${channel}-${locale}-ro`;
    const s = (input: Input | string) => say(channel, who, locale, input);
    const tap = (id: string, params: Extract<Input, { type: 'choice' }>['params'] = null): Input => ({ type: 'choice', id, params });
    await s({ type: 'start', payload: null });
    await s('status');
    const db = svc.db.store.db;
    const { customer_id: customerId } = await db.selectFrom('channel_identities').select('customer_id').where('external_id', '=', who).executeTakeFirstOrThrow();
    const branch = await db.selectFrom('branches').select('id').executeTakeFirstOrThrow();
    await db.updateTable('customers').set({ phone: '+886912345678' }).where('id', '=', customerId).execute();
    const orders = createRepairOrderService({ store: svc.db.store, clock, defaultLocale: 'en' });
    const action = { actor: { kind: 'staff' as const, id: crypto.randomUUID(), email: 'a@dealer.example', name: 'Advisor', role: 'manager' as const, locale: 'en', branchIds: 'all' as const, sessionId: 's' }, ip: null, now: clock.now() };
    await orders.saveSettings(action, branch.id, { notifyStatuses: ['checked_in', 'diagnosing', 'awaiting_approval', 'in_progress', 'quality_check', 'ready', 'collected', 'cancelled'], notifyDelay: true, currency: 'TWD', consentReminderMinutes: 5, consentFlagMinutes: 5 });
    const longWords = { 'zh-TW': '前輪煞車來令片磨損嚴重需要更換', 'zh-CN': '前轮刹车片磨损严重需要更换', en: 'Front brake pads worn below limit ', ja: 'フロントブレーキパッド摩耗のため交換', th: 'ผ้าเบรกหน้าสึกหรอต้องเปลี่ยนใหม่ ' }[locale];
    const description = longWords.repeat(20).slice(0, 200);
    const opened = await orders.openWalkIn(action, { branchId: branch.id, customerId, vehicleId: null, dmsNumber: `DMS-${who}`, advisorId: null, promisedAt: '2026-11-30T08:00:00.000Z', estimatedAmount: 123_456_789 });
    if (!opened.ok) throw new Error('walk-in not opened');
    const id = opened.value.id;
    await orders.setStatus(action, id, { status: 'diagnosing' });
    await orders.updateDetails(action, id, { promisedAt: '2026-11-30T09:30:00.000Z' });
    const added = await orders.addItems(action, id, {
      items: Array.from({ length: MAX_ITEMS_PER_REQUEST }, (_, i) => ({ description, price: 99_999_999 + i, urgency: (['red', 'yellow', 'green'] as const)[i % 3]!, photoUrl: `https://photos.dealer.example/${'p'.repeat(200)}/${i}.jpg` })),
    });
    if (!added.ok) throw new Error('items not added');
    const [first, second] = added.value.itemIds as [string, string];
    clock.advance(6 * 60_000);
    for (const job of svc.scheduledJobs) await job.runOnce();
    await s(tap(`prog:a:${first}`));
    await s(tap(`prog:d:${second}`));
    await s(tap(`prog:a:${first}`));
    await s(tap(`prog:ans:${added.value.requestId}`));
    await s(tap(`prog:aa:${added.value.requestId}`));
    await s(tap(`prog:call:${id}`));
    await s('status');
    for (const status of ['in_progress', 'quality_check', 'ready'] as const) await orders.setStatus(action, id, { status });
    await s(tap(`prog:pt:${id}`));
    await s('banana');
    await s(tap(`prog:pt:${id}`, { datetime: '2026-11-30T23:30' }));
    await s(tap(`prog:ptt:${id}:20261130:1700`));
    await s(tap(`prog:mt:${id}`));
    clock.advance(10 * 3600_000);
    for (const job of svc.scheduledJobs) await job.runOnce();
    clock.advance(13 * 3600_000);
    for (const job of svc.scheduledJobs) await job.runOnce();
    await s(tap(`prog:o:${id}`));
    await orders.setStatus(action, id, { status: 'collected', force: true });
    await s(tap(`prog:a:${first}`));
    const other = await orders.openWalkIn(action, { branchId: branch.id, customerId, vehicleId: null, dmsNumber: null, advisorId: null });
    if (other.ok) await orders.setStatus(action, other.value.id, { status: 'cancelled', force: true });
    clock.set(START);
  }
  /**
   * A complaint with every detour (wrong answers, a photo lost on the way, a bad phone number), a person
   * answering and resolving, the customer saying "not yet" and then confirming and rating, a handoff that
   * falls silent, "human" outside opening hours, and a low survey score.
   */
  async function walkComplaints(channel: ChannelName, who: string, s: (input: Input | string) => Promise<void>, tap: (id: string) => Input) {
    const db = svc.db.store.db;
    const care = await staffFor(svc, 'care', { name: 'Wang Mei-Ling Customer Care Lead', onDuty: true, clock });
    const { complaints } = await staffServicesOf(svc, clock);
    // A visit the complaint can be about: a repair order opened last week.
    const customerId = (await db.selectFrom('channel_identities').select('customer_id').where('external_id', '=', who).executeTakeFirstOrThrow()).customer_id;
    const branch = await db.selectFrom('branches').select('id').executeTakeFirstOrThrow();
    const seq = 100_000 + (await db.selectFrom('repair_orders').select('id').execute()).length;
    const weekAgo = new Date(clock.now().getTime() - 7 * 86_400_000).toISOString();
    await db.insertInto('repair_orders').values({ id: crypto.randomUUID(), seq, number: `RO-${seq}`, appointment_id: null, branch_id: branch.id, customer_id: customerId, vehicle_id: null, advisor_id: null, status: 'collected', mileage_in: null, version: 1, created_at: weekAgo, updated_at: weekAgo }).execute();
    await s(tap('i:complaint'));
    await s('???');
    await s(tap('cmp:c:staff_attitude'));
    await s(tap('cmp:v:ro:nope'));
    await s(tap('cmp:nv'));
    await s(tap('cmp:done'));
    await s('The advisor was rude to me when I asked about the bill, and nobody explained the extra charges.');
    await s({ type: 'image', mediaId: 'm-lost' });
    await s({ type: 'image', mediaId: `blob:photos/${channel}/m-kept` });
    await s(tap('cmp:done'));
    await s({ type: 'image', mediaId: `blob:photos/${channel}/m-kept-2` });
    await s('One more thing: the car was not washed.');
    await s({ type: 'sticker' });
    await s(tap('cmp:done'));
    await s('whenever');
    await s(tap('cmp:u:high'));
    await s('maybe');
    await s(tap('cmp:ct:phone'));
    await s('call me');
    await s('0912 345 678');
    const [ticket] = await db.selectFrom('complaints').selectAll().where('customer_id', '=', customerId).orderBy('created_at', 'desc').execute();
    await complaints.reply(care.ctx(clock), ticket!.id, 'I am sorry about this. I will call you in ten minutes.');
    await complaints.replyPhoto(care.ctx(clock), ticket!.id, new Blob([JPEG]).stream());
    await complaints.resolve(care.ctx(clock), ticket!.id, 'We apologised by phone and refunded the extra charge of NT$1,200.');
    await s('hmm');
    await s('no');
    await complaints.resolve(care.ctx(clock), ticket!.id, 'The refund is now on your card statement.');
    await s(tap(`cmp:ry:${ticket!.id}`));
    await s('great');
    await s(tap(`cmp:rt:${ticket!.id}:5`));
    await s(tap(`cmp:rt:${ticket!.id}:5`));
    await s(tap('i:complaint'));
    await s('cancel');
    // Asked for a person, then nobody writes until the bot takes the conversation back.
    await s(tap('i:human'));
    clock.advance(31 * 60_000);
    await runJob(svc, 'handoff-return');
    await complaints.returnToBot(care.ctx(clock), ticket!.id);
    // Sunday: closed all day.
    clock.set('2026-12-06T07:00:00.000Z');
    const other = await db.selectFrom('complaints').select('id').where('customer_id', '=', customerId).where('status', '<>', 'closed').execute();
    for (const o of other) await complaints.setStatus(care.ctx(clock), o.id, 'closed');
    await s('human');
    await s(tap('i:human'));
    clock.set(START);
    // A very dissatisfied survey answer opens a complaint; its replies are what the survey sends.
    const surveyed = await svc.db.store.transaction((tx) => openComplaintFromSurvey(tx, { customerId, score: 1, comment: 'Terrible.', channel, locale: 'en' }, clock.now()));
    const identity = await db.selectFrom('channel_identities').selectAll().where('external_id', '=', who).executeTakeFirstOrThrow();
    await svc.db.store.transaction((tx) => enqueueReplies(tx, { customerId, channel, externalId: identity.external_id, replies: surveyed!.replies, source: 'bot', now: clock.now().toISOString() }));
  }

  /**
   * The satisfaction survey with every aspect asked and the review invitation on: answered to the end by a
   * delighted customer (a wrong answer and a sticker on the way), by an unhappy one (a complaint opens),
   * an old button after the end, one after expiry, and "rate" with nothing to rate.
   */
  async function walkSurvey(channel: ChannelName, locale: Locale) {
    const who = `${channel}-${locale}-svy`;
    const s = (input: Input | string) => say(channel, who, locale, input);
    const tap = (id: string): Input => ({ type: 'choice', id, params: null });
    const db = svc.db.store.db;
    await saveSurveySettings(db, { ...DEFAULT_SURVEY_SETTINGS, aspects: ['advisor', 'work', 'waiting', 'price', 'cleanliness'], reviewInvite: true, reviewUrl: 'https://g.page/r/dealer-review-link' }, clock.now().toISOString());
    await s({ type: 'start', payload: null });
    const { customer_id: customerId } = await db.selectFrom('channel_identities').select('customer_id').where('external_id', '=', who).executeTakeFirstOrThrow();
    const branch = await db.selectFrom('branches').select('id').executeTakeFirstOrThrow();
    const vehicleId = crypto.randomUUID();
    const now = clock.now().toISOString();
    await db.insertInto('vehicles').values({ id: vehicleId, customer_id: customerId, plate: 'ABCD-12345', plate_normalized: 'ABCD12345', make: null, model: null, year: null, vin: null, mileage_km: null, created_at: now, updated_at: now }).execute();
    const visit = async () => {
      const id = crypto.randomUUID();
      const seq = Math.floor(Math.random() * 1e9);
      await db.insertInto('repair_orders').values({ id, seq, number: `RO-${seq}`, appointment_id: null, branch_id: branch.id, customer_id: customerId, vehicle_id: vehicleId, advisor_id: null, status: 'collected', mileage_in: null, version: 1, created_at: now, updated_at: now, collected_at: clock.now().toISOString() }).execute();
      await svc.db.store.transaction((tx) => scheduleSurvey(tx, id, 0, clock.now().toISOString()));
      await sendDueSurveys({ store: svc.db.store, clock, logger: silentLogger });
      return db.selectFrom('surveys').selectAll().where('repair_order_id', '=', id).executeTakeFirstOrThrow();
    };
    const answerAll = async (row: Awaited<ReturnType<typeof visit>>, level: (levels: readonly number[]) => number) => {
      for (const q of questionsOf(surveyState(row))) {
        if (q === 'comment') continue;
        await s(tap(surveyButtons.id('answer', row.id, q, level(levelsOf(q)))));
      }
    };
    const happy = await visit();
    await s('banana');
    await answerAll(happy, (levels) => levels[0]!);
    await s({ type: 'sticker' });
    await s('Excellent service. '.repeat(50).trim());
    await s(tap(surveyButtons.id('answer', happy.id, 'sat', 5)));
    const unhappy = await visit();
    await answerAll(unhappy, (levels) => levels.at(-1)!);
    await s(tap(surveyButtons.id('skipComment', unhappy.id)));
    const late = await visit();
    await s(tap(surveyButtons.id('answer', late.id, 'sat', 4)));
    clock.advance(8 * 24 * 3_600_000);
    await s(tap(surveyButtons.id('answer', late.id, 'rep', 2)));
    await s('rate');
    clock.set(START);
  }

  it('walked every flow and collected its replies', () => {
    const all = [...collected.line, ...collected.telegram];
    const keys = new Set(all.flatMap((r) => (r.type === 'text' ? (Array.isArray(r.text) ? r.text : [r.text]) : r.type === 'card' ? [r.title] : r.type === 'carousel' ? [r.altText] : [])).map((t) => ('key' in t ? t.key : 'raw')));
    for (const key of ['progress:status.checked_in', 'progress:status.diagnosing', 'progress:delay', 'progress:consent.altText', 'progress:decision.alreadyApproved', 'progress:pickup.chooseTime', 'progress:pickup.confirmed', 'progress:pickup.moreTime', 'progress:callMe.thanksPhone', 'progress:status.collected', 'progress:status.cancelled', 'progress:intro']) {
      expect(keys, key).toContain(key);
    }
    for (const key of ['greeting.welcomeNamed', 'help', 'unknown', 'language.reask', 'booking:plateInvalid', 'booking:dateClosed', 'booking:datePast', 'booking:dateBeyond', 'booking:askPhone', 'booking:phoneInvalid', 'booking:bookedTitle', 'booking:confirmCancel', 'booking:kept', 'booking:rescheduledTitle', 'booking:cancelledTitle', 'booking:none', 'booking:referenceNotFound', 'info.addressText', 'info.phoneText', 'info.prompt', 'didYouMean', 'smallTalk.thanks', 'expired', 'staleButton', 'complaint:handoff.requested', 'complaint:handoff.already', 'complaint:handoff.closedNow', 'complaint:handoff.idle', 'complaint:intake.categoryAgain', 'complaint:intake.visitAgain', 'complaint:intake.photoLost', 'complaint:intake.photoReceived', 'complaint:intake.photosNoted', 'complaint:opened', 'complaint:expect.within', 'complaint:expect.by', 'complaint:joined.care', 'complaint:resolve.ask', 'complaint:resolve.askAgain', 'complaint:resolve.reopened', 'complaint:resolve.rate', 'complaint:resolve.rateAgain', 'complaint:resolve.thanks', 'complaint:resolve.notWaiting', 'complaint:survey.opened', 'survey:intro', 'survey:question.satisfaction', 'survey:question.repurchase', 'survey:question.recommend', 'survey:question.aspect.advisor', 'survey:question.aspect.cleanliness', 'survey:question.comment', 'survey:pickOne', 'survey:commentAgain', 'survey:review', 'survey:thanksFollowUp', 'survey:alreadyDone', 'survey:closed', 'survey:none']) {
      expect(keys, key).toContain(key);
    }
    // Telegram got a month calendar of seven buttons a row.
    expect(collected.telegram.some((r) => r.type === 'text' && r.columns === 7)).toBe(true);
  });

  for (const locale of SUPPORTED_LOCALES) {
    it(`renders every reply in ${locale} within LINE's limits`, () => {
      for (const reply of collected.line) {
        const messages = toLineMessages(renderReplies(svc.translator, locale, [reply]));
        expect(messages.length).toBeGreaterThan(0);
        expect(lineMessageProblems(messages), JSON.stringify(reply).slice(0, 300)).toEqual([]);
      }
    });

    it(`renders every reply in ${locale} within Telegram's limits`, () => {
      for (const reply of collected.telegram) {
        for (const request of toTelegramRequests(renderReplies(svc.translator, locale, [reply]), '42')) {
          if (request.method !== 'sendMessage') continue;
          const params = request.params as { text: string; parse_mode?: string; reply_markup?: { inline_keyboard?: { text: string; callback_data?: string }[][] } };
          const visible = params.parse_mode === 'HTML' ? parseTelegramHtml(params.text) : params.text;
          expect(visible.length).toBeGreaterThan(0);
          expect(visible.length).toBeLessThanOrEqual(TELEGRAM_LIMITS.textChars);
          const buttons = params.reply_markup?.inline_keyboard?.flat() ?? [];
          expect(buttons.length).toBeLessThanOrEqual(TELEGRAM_LIMITS.inlineButtons);
          for (const b of buttons) {
            expect(b.text.trim().length, JSON.stringify(b)).toBeGreaterThan(0);
            if (b.callback_data !== undefined) expect(utf8Length(b.callback_data)).toBeLessThanOrEqual(TELEGRAM_LIMITS.callbackDataBytes);
          }
        }
      }
    });
  }
});
