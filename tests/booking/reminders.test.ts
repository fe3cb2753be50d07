import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { InboundEvent, Input, RenderedMessage } from '../../src/channels/types';
import { afterQuietHours, inQuietHours, reminderDueTimes } from '../../src/domain/reminder-times';
import { manualClock } from '../../src/ops/clock';
import { TEST_LINE_SECRET, testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { dialects } from '../helpers/stores';
import { lineMessageProblems, startFakeLineApi, type FakeLineApi } from '../fakes/line-api';
import { toLineMessages } from '../../src/channels/line/render';
import { renderReplies } from '../../src/channels/render';
import { SUPPORTED_LOCALES } from '../../src/i18n/locales';
import type { Reply } from '../../src/channels/types';
import { createBookingService } from '../../src/booking/service';

const settings = { reminderDayBeforeAt: '18:00', reminderHoursBefore: 3, quietHoursStart: '21:00', quietHoursEnd: '09:00' };
const TPE = 'Asia/Taipei';

describe('when reminders are due', () => {
  it('sends the day before at the branch’s time and a few hours before', () => {
    const due = reminderDueTimes({ startsAt: Date.parse('2026-12-02T06:00:00Z'), localDate: '2026-12-02', createdAt: Date.parse('2026-11-25T00:00:00Z'), timeZone: TPE, settings });
    expect(new Date(due.day_before!).toISOString()).toBe('2026-12-01T10:00:00.000Z'); // 18:00 in Taipei
    expect(new Date(due.hours_before!).toISOString()).toBe('2026-12-02T03:00:00.000Z'); // 11:00, three hours before 14:00
  });

  it('moves a reminder out of quiet hours, and drops it when that is too late', () => {
    // A 10:00 visit: three hours before is 07:00, inside 21:00–09:00, so it goes at 09:00.
    const morning = reminderDueTimes({ startsAt: Date.parse('2026-12-02T02:00:00Z'), localDate: '2026-12-02', createdAt: Date.parse('2026-11-25T00:00:00Z'), timeZone: TPE, settings });
    expect(new Date(morning.hours_before!).toISOString()).toBe('2026-12-02T01:00:00.000Z');
    // A 09:00 visit: quiet hours end when it starts, so no same-day reminder.
    const early = reminderDueTimes({ startsAt: Date.parse('2026-12-02T01:00:00Z'), localDate: '2026-12-02', createdAt: Date.parse('2026-11-25T00:00:00Z'), timeZone: TPE, settings });
    expect(early.hours_before).toBeNull();
    expect(inQuietHours(Date.parse('2026-12-01T14:00:00Z'), TPE, '21:00', '09:00')).toBe(true); // 22:00
    expect(inQuietHours(Date.parse('2026-12-01T05:00:00Z'), TPE, '21:00', '09:00')).toBe(false); // 13:00
  });

  it('sends nothing that would only repeat a confirmation just read', () => {
    // Booked at 17:30 the day before for 10:00: the day-before reminder at 18:00 is within the hour.
    const fresh = reminderDueTimes({ startsAt: Date.parse('2026-12-02T02:00:00Z'), localDate: '2026-12-02', createdAt: Date.parse('2026-12-01T09:30:00Z'), timeZone: TPE, settings });
    expect(fresh.day_before).toBeNull();
    // Booked two hours ahead: no "in three hours" reminder.
    const soon = reminderDueTimes({ startsAt: Date.parse('2026-12-02T06:00:00Z'), localDate: '2026-12-02', createdAt: Date.parse('2026-12-02T04:00:00Z'), timeZone: TPE, settings });
    expect(soon.hours_before).toBeNull();
  });

  it('keeps local times through a DST change', () => {
    // New York falls back on Sunday 2026-11-01; the day-before reminder for Monday is 18:00 EST.
    const due = reminderDueTimes({ startsAt: Date.parse('2026-11-02T15:00:00Z'), localDate: '2026-11-02', createdAt: Date.parse('2026-10-20T00:00:00Z'), timeZone: 'America/New_York', settings });
    expect(new Date(due.day_before!).toISOString()).toBe('2026-11-01T23:00:00.000Z');
    // Quiet hours that end at 09:00 on the morning the clocks went back.
    expect(new Date(afterQuietHours(Date.parse('2026-11-01T10:00:00Z'), 'America/New_York', '21:00', '09:00')).toISOString()).toBe('2026-11-01T14:00:00.000Z');
  });
});

// Monday 2026-11-30, 09:00 in Taipei.
const START = '2026-11-30T01:00:00.000Z';

describe.each(dialects)('booking reminders on $name', (dialect) => {
  let line: FakeLineApi;
  let svc: TestService;
  const clock = manualClock(START);
  let seq = 0;

  beforeAll(async () => {
    line = await startFakeLineApi();
  });
  afterAll(async () => {
    await line.close();
  });
  beforeEach(async () => {
    clock.set(START);
    svc = await startTestService(dialect, testConfig({}, { line: line.url }), clock);
  });
  afterEach(async () => {
    await svc.close();
  });

  async function web(visitor: string, input: Input | string) {
    const event: InboundEvent = {
      channel: 'web',
      eventId: `rm-${++seq}`,
      externalId: visitor,
      occurredAt: clock.now().toISOString(),
      replyToken: null,
      profile: { displayName: null, languageHint: 'en' },
      input: typeof input === 'string' ? { type: 'text', text: input } : input,
    };
    await svc.engine.handle(event);
    await svc.flush();
  }
  const tap = (id: string): Input => ({ type: 'choice', id, params: null });

  /** Books a visit (Wednesday 2026-12-02 at 14:00 unless told) through the web chat. */
  async function book(visitor: string, date = '2026-12-02', time = '1400') {
    await web(visitor, tap('i:book'));
    await web(visitor, tap('book:st:inspection'));
    await web(visitor, `RMD-${1000 + seq}`);
    for (let i = 0; i < 3; i++) await web(visitor, tap('book:skip'));
    await web(visitor, tap(`book:d:${date}`));
    await web(visitor, tap(`book:t:${date}:${time}`));
    await web(visitor, tap('book:skip'));
    await web(visitor, tap('book:no'));
    await web(visitor, `Visitor ${visitor}`);
    await web(visitor, '0912345678');
    await web(visitor, tap('book:ok'));
    const rows = await svc.db.store.db.selectFrom('appointments').select(['id', 'customer_id']).orderBy('created_at', 'desc').execute();
    return rows[0]!;
  }

  /** Reminders only (a notice of a change staff made is a system message too). */
  async function reminderMessages(customerId: string) {
    const rows = await svc.db.store.db.selectFrom('messages').select('payload').where('customer_id', '=', customerId).where('sender', '=', 'system').orderBy('id').execute();
    return rows.map((r) => (JSON.parse(r.payload!) as { message: RenderedMessage }).message).filter((m) => m.type === 'text' && m.text.startsWith('A reminder'));
  }

  it('reminds once the day before, with buttons, and never twice — even with two runners at once', async () => {
    const { id, customer_id } = await book('visitor-a');
    expect(await svc.reminders.runOnce()).toBe(0);
    clock.set('2026-12-01T10:00:00.000Z'); // Tuesday 18:00 in Taipei
    const [a, b] = await Promise.all([svc.reminders.runOnce(), svc.reminders.runOnce()]);
    expect(a + b).toBe(1);
    expect(await svc.reminders.runOnce()).toBe(0);
    await svc.flush();
    const [reminder] = await reminderMessages(customer_id);
    expect(reminder!.type).toBe('text');
    expect(reminder!.type === 'text' && reminder!.text).toContain('is tomorrow, Wednesday, December 2, 2026 14:00');
    // Tuesday 18:00 for Wednesday 14:00 is inside the 24-hour change cutoff: the branch's phone and a person
    // instead of reschedule and cancel buttons that would only refuse.
    expect(reminder!.type === 'text' && reminder!.text).toContain('can no longer be changed or cancelled in the chat');
    expect(reminder!.type === 'text' && reminder!.choices.map((c) => ('id' in c ? c.id : c.url))).toEqual([`mybk:ok:${id}`, 'tel:+886223456789', 'i:human']);
    // The same-day reminder at 11:00.
    clock.set('2026-12-02T03:00:00.000Z');
    expect(await svc.reminders.runOnce()).toBe(1);
    clock.set('2026-12-02T05:00:00.000Z');
    expect(await svc.reminders.runOnce()).toBe(0);

    // "I'll be there" from the reminder.
    await web('visitor-a', tap(`mybk:ok:${id}`));
    const appointment = await svc.db.store.db.selectFrom('appointments').select('customer_confirmed_at').where('id', '=', id).executeTakeFirstOrThrow();
    expect(appointment.customer_confirmed_at).not.toBeNull();
  });

  it('sends no reminder for a booking cancelled before it was due', async () => {
    const { id, customer_id } = await book('visitor-b');
    await web('visitor-b', tap(`mybk:c:${id}`));
    await web('visitor-b', tap(`mybk:cy:${id}`));
    clock.set('2026-12-01T10:00:00.000Z');
    expect(await svc.reminders.runOnce()).toBe(0);
    clock.set('2026-12-02T03:00:00.000Z');
    expect(await svc.reminders.runOnce()).toBe(0);
    expect(await reminderMessages(customer_id)).toEqual([]);
  });

  it('reminds again for the new time after staff moved the booking', async () => {
    const { id, customer_id } = await book('visitor-c', '2026-12-04');
    clock.set('2026-12-03T10:00:00.000Z'); // Thursday 18:00: the day before Friday's visit
    expect(await svc.reminders.runOnce()).toBe(1);
    // Too close for the customer to move it in the chat, so they phone; staff move it to Saturday 11:00.
    const booking = createBookingService({ store: svc.db.store, clock });
    const moved = await booking.reschedule({ appointmentId: id, actor: { type: 'staff', staffId: null }, channel: 'phone', startsAt: '2026-12-05T03:00:00.000Z' });
    expect(moved.ok).toBe(true);
    expect(await svc.reminders.runOnce()).toBe(0);
    clock.set('2026-12-04T10:00:00.000Z'); // Friday 18:00
    expect(await svc.reminders.runOnce()).toBe(1);
    await svc.flush();
    const texts = (await reminderMessages(customer_id)).map((m) => (m.type === 'text' ? m.text : ''));
    expect(texts).toHaveLength(2);
    expect(texts.at(-1)).toContain('Saturday, December 5, 2026 11:00');
  });

  it('reaches a LINE customer by push, within LINE’s limits in every language', async () => {
    const userId = `U${'c'.repeat(32)}`;
    const say = async (ev: Record<string, unknown>) => {
      const body = JSON.stringify({ destination: 'Ubot', events: [{ mode: 'active', timestamp: Date.now(), source: { type: 'user', userId }, webhookEventId: `01JREM${String(++seq).padStart(20, '0')}`, deliveryContext: { isRedelivery: false }, ...ev }] });
      await svc.app.request('/webhooks/line', { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': createHmac('sha256', TEST_LINE_SECRET).update(body).digest('base64') }, body });
      await svc.flush();
    };
    const postback = (data: string) => say({ type: 'postback', postback: { data } });
    await say({ type: 'message', message: { id: '1', type: 'text', quoteToken: 'q', text: 'book' } });
    await postback('book:st:inspection');
    await say({ type: 'message', message: { id: '2', type: 'text', quoteToken: 'q', text: 'LN-2024' } });
    for (let i = 0; i < 3; i++) await postback('book:skip');
    await postback('book:d:2026-12-02');
    await postback('book:t:2026-12-02:1400');
    await postback('book:skip');
    await postback('book:no');
    await say({ type: 'message', message: { id: '3', type: 'text', quoteToken: 'q', text: 'Lin Mei' } });
    await say({ type: 'message', message: { id: '4', type: 'text', quoteToken: 'q', text: '0912345678' } });
    await postback('book:ok');
    const pushesBefore = line.accepted.pushes().filter((p) => p.to === userId).length;
    clock.set('2026-12-01T10:00:00.000Z');
    expect(await svc.reminders.runOnce()).toBe(1);
    await svc.flush();
    const pushes = line.accepted.pushes().filter((p) => p.to === userId);
    expect(pushes).toHaveLength(pushesBefore + 1);
    expect(JSON.stringify(pushes.at(-1)!.messages)).toContain('mybk:ok:');

    const [row] = await svc.db.store.db.selectFrom('outbox').select('payload').where('source', '=', 'system').execute();
    const replies = JSON.parse(row!.payload) as Reply[];
    for (const locale of SUPPORTED_LOCALES) expect(lineMessageProblems(toLineMessages(renderReplies(svc.translator, locale, replies))), locale).toEqual([]);
  });
});
