import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cancelAppointment, isBookingConflict, type Actor, type BookRequest } from '../../src/booking/booking';
import { createBookingService, type BookingService } from '../../src/booking/service';
import { STANDARD_SERVICE_TYPES } from '../../src/booking/standard-service-types';
import { LINE_LIMITS } from '../../src/channels/limits';
import { claimsOf } from '../../src/domain/availability';
import { DEFAULT_BOOKING_SETTINGS } from '../../src/domain/booking-rules';
import { manualClock } from '../../src/ops/clock';
import { seedFreshDatabase } from '../../src/store/seed';
import type { Store } from '../../src/store/store';
import { testConfig } from '../helpers/config';
import { dialects, type TestStore } from '../helpers/stores';
import { createBranch, createCustomer, GENERAL_WORK, localIso } from './fixtures';

// Monday 2026-03-09, 08:00 in Taipei.
const START = '2026-03-09T00:00:00.000Z';
const TUE = '2026-03-10';

const SETTINGS = { slotIntervalMinutes: 30, minNoticeMinutes: 120, horizonDays: 30, bufferMinutes: 0, advisorsPerSlot: 2, dailyCap: 20, loanerCars: 1, changeCutoffHours: 24 };

describe.each(dialects)('booking on $name', (dialect) => {
  let db: TestStore;
  let store: Store;
  let booking: BookingService;
  let branchId: string;
  let bayIds: string[];
  let customer: { customerId: string; vehicleId: string };
  let me: Actor;
  const clock = manualClock(START);

  beforeEach(async () => {
    clock.set(START);
    db = await dialect.open();
    store = db.store;
    booking = createBookingService({ store, clock });
    ({ branchId, bayIds } = await createBranch(store, { settings: SETTINGS }, clock.now()));
    customer = await createCustomer(store, clock.now());
    me = { type: 'customer', customerId: customer.customerId };
  });
  afterEach(async () => {
    await db.drop();
  });

  const request = (over: Partial<BookRequest> = {}): BookRequest => ({
    branchId,
    customerId: customer.customerId,
    vehicleId: customer.vehicleId,
    serviceTypeCode: 'periodic_maintenance',
    startsAt: localIso(TUE, '10:00'),
    loaner: false,
    note: null,
    channel: 'line',
    actor: me,
    ...over,
  });

  async function freeTimes(date = TUE, code = 'periodic_maintenance', loaner = false): Promise<string[]> {
    const result = await booking.availability(branchId, { serviceTypeCode: code, date, loaner });
    if (!result.ok) throw new Error(result.reason);
    return result.day.slots.map((s) => s.localTime);
  }

  async function claimRows(appointmentId: string) {
    const rows = await store.db.selectFrom('capacity_claims').select(['resource', 'block_start']).where('appointment_id', '=', appointmentId).execute();
    return rows.map((r) => ({ resource: r.resource, blockStart: r.block_start })).sort((a, b) => (`${a.resource} ${a.blockStart}` < `${b.resource} ${b.blockStart}` ? -1 : 1));
  }

  async function expectClaimsMatchRow(appointmentId: string) {
    const row = await store.db.selectFrom('appointments').selectAll().where('id', '=', appointmentId).executeTakeFirstOrThrow();
    const expected =
      row.status === 'booked' || row.status === 'checked_in'
        ? claimsOf({ localDate: row.local_date, bayId: row.bay_id, startsAt: row.starts_at, busyUntil: row.busy_until, advisorUnit: row.advisor_unit, dayUnit: row.day_unit, loanerUnit: row.loaner_unit })
        : [];
    expect(await claimRows(appointmentId)).toEqual(expected);
  }

  it('seeds the demo branch with its capacity, once', async () => {
    const fresh = await dialect.open();
    try {
      expect(await seedFreshDatabase(fresh.store, testConfig(), clock.now())).toBe(true);
      expect(await seedFreshDatabase(fresh.store, testConfig(), clock.now())).toBe(false);
      const demo = await fresh.store.db.selectFrom('branches').select('id').where('is_demo', '=', 1).executeTakeFirstOrThrow();
      const demoBooking = createBookingService({ store: fresh.store, clock });
      const capacity = await demoBooking.capacity(demo.id);
      expect(capacity!.rules.settings).toEqual(DEFAULT_BOOKING_SETTINGS);
      expect(capacity!.serviceTypes.map((t) => t.code)).toEqual(STANDARD_SERVICE_TYPES.map((t) => t.code));
      expect(capacity!.serviceTypes[0]!.names).toMatchObject({ 'zh-TW': '定期保養', en: 'Scheduled service' });
      expect(capacity!.bays.map((b) => b.name)).toEqual(['Bay 1', 'Bay 2', 'Bay 3', 'Body shop']);
      const day = await demoBooking.availability(demo.id, { serviceTypeCode: 'bodywork_claim', date: TUE, loaner: false });
      expect(day.ok && day.day.slots[0]?.localTime).toBe('09:00');
    } finally {
      await fresh.drop();
    }
  });

  it('books a free start, takes it off the availability and records who booked it', async () => {
    expect(await freeTimes()).toContain('10:00');
    const result = await booking.book(request({ note: 'brakes squeak', loaner: true }));
    if (!result.ok) throw new Error(result.reason);
    const a = result.appointment;
    expect(a).toMatchObject({
      branchId,
      customerId: customer.customerId,
      vehicleId: customer.vehicleId,
      serviceTypeCode: 'periodic_maintenance',
      startsAt: '2026-03-10T02:00:00.000Z',
      endsAt: '2026-03-10T03:00:00.000Z',
      timeZone: 'Asia/Taipei',
      localDate: TUE,
      localStart: '10:00',
      localEnd: '11:00',
      bayId: bayIds[0],
      bayName: 'Bay 1',
      status: 'booked',
      note: 'brakes squeak',
      loanerRequested: true,
      channel: 'line',
      createdBy: 'customer',
      version: 1,
    });
    expect(a.reference).toMatch(/^BK-[2-9A-HJKMNP-TW-Z]{6}$/);
    // What was built without reading back is what a read returns.
    expect(await booking.find(a.id)).toEqual(a);
    expect(await booking.findByReference(a.reference)).toEqual(a);
    expect(await freeTimes()).not.toContain('10:00');
    expect(await freeTimes()).not.toContain('09:30'); // one bay: a 60-minute job at 09:30 would overlap
    expect(await freeTimes(TUE, 'periodic_maintenance', true)).toEqual([]); // the only loaner is taken
    await expectClaimsMatchRow(a.id);
    expect((await claimRows(a.id)).length).toBe(60 / 5 + 3);
    expect(await booking.history(a.id)).toEqual([expect.objectContaining({ version: 1, action: 'booked', actorType: 'customer', actorId: customer.customerId, channel: 'line' })]);
  });

  it('refuses with the reason and offers the nearest free starts', async () => {
    const tooSoon = await booking.book(request({ startsAt: localIso('2026-03-09', '09:30') }));
    expect(tooSoon).toMatchObject({ ok: false, reason: 'too_soon' });
    if (tooSoon.ok || !('alternatives' in tooSoon)) throw new Error('expected alternatives');
    expect(tooSoon.alternatives.map((s) => s.localTime).slice(0, 3)).toEqual(['10:00', '10:30', '11:00']);

    const sunday = await booking.book(request({ startsAt: localIso('2026-03-15', '10:00') }));
    expect(sunday).toMatchObject({ ok: false, reason: 'closed' });
    if (sunday.ok || !('alternatives' in sunday)) throw new Error('expected alternatives');
    expect(sunday.alternatives[0]).toMatchObject({ localDate: '2026-03-16', localTime: '09:00' });

    expect(await booking.book(request({ startsAt: localIso(TUE, '10:10') }))).toMatchObject({ ok: false, reason: 'outside_hours' });
    expect(await booking.book(request({ serviceTypeCode: 'teleportation' }))).toEqual({ ok: false, reason: 'unknown_service_type' });
    const other = await createCustomer(store, clock.now(), 'Other');
    expect(await booking.book(request({ vehicleId: other.vehicleId }))).toEqual({ ok: false, reason: 'not_found' });
    expect(await booking.book(request({ customerId: other.customerId, vehicleId: other.vehicleId }))).toEqual({ ok: false, reason: 'not_found' });
    expect(await booking.book(request({ branchId: 'no-such-branch' }))).toEqual({ ok: false, reason: 'not_found' });
    expect(await store.db.selectFrom('appointments').select('id').execute()).toEqual([]);
  });

  it('lets staff book a caller without the minimum notice, never in the past', async () => {
    clock.set(localIso('2026-03-09', '08:50'));
    expect(await booking.book(request({ startsAt: localIso('2026-03-09', '09:00') }))).toMatchObject({ ok: false, reason: 'too_soon' });
    const staff: Actor = { type: 'staff', staffId: 'staff-1' };
    const walkIn = await booking.book(request({ startsAt: localIso('2026-03-09', '09:00'), actor: staff, channel: 'phone', advisorId: 'staff-2' }));
    expect(walkIn).toMatchObject({ ok: true, appointment: { createdBy: 'staff', channel: 'phone', advisorId: 'staff-2' } });
    clock.set(localIso('2026-03-09', '10:05'));
    expect(await booking.book(request({ startsAt: localIso('2026-03-09', '10:00'), actor: staff }))).toMatchObject({ ok: false, reason: 'too_soon' });
  });

  it('cancels up to the cutoff, frees the place, and only for the customer who booked', async () => {
    const booked = await booking.book(request());
    if (!booked.ok) throw new Error(booked.reason);
    const id = booked.appointment.id;
    const stranger = await createCustomer(store, clock.now(), 'Stranger');
    expect(await booking.cancel({ appointmentId: id, actor: { type: 'customer', customerId: stranger.customerId }, channel: 'line' })).toEqual({ ok: false, reason: 'not_found' });

    clock.set(localIso('2026-03-09', '10:30')); // 23.5 hours before: past the 24-hour cutoff
    expect(await booking.cancel({ appointmentId: id, actor: me, channel: 'line' })).toEqual({ ok: false, reason: 'past_cutoff' });
    const cancelled = await booking.cancel({ appointmentId: id, actor: { type: 'staff', staffId: 'staff-1' }, channel: 'console', reason: 'customer phoned' });
    expect(cancelled).toMatchObject({ ok: true, appointment: { status: 'cancelled', version: 2, cancelledAt: clock.now().toISOString() } });
    expect(await booking.find(id)).toEqual(cancelled.ok && cancelled.appointment);
    expect(await claimRows(id)).toEqual([]);
    expect(await freeTimes()).toContain('10:00');
    expect(await booking.cancel({ appointmentId: id, actor: me, channel: 'line' })).toEqual({ ok: false, reason: 'not_changeable', status: 'cancelled' });
    expect((await booking.history(id)).map((h) => [h.version, h.action, h.actorType, h.details])).toEqual([
      [1, 'booked', 'customer', null],
      [2, 'cancelled', 'staff', { reason: 'customer phoned' }],
    ]);
    // The place is bookable again.
    expect(await booking.book(request())).toMatchObject({ ok: true });
  });

  it('reschedules atomically, keeping the reference, and may move onto its own time', async () => {
    const booked = await booking.book(request());
    if (!booked.ok) throw new Error(booked.reason);
    const a = booked.appointment;
    // One bay: 10:30–11:30 overlaps the booking's own 10:00–11:00, which must not count against it.
    const moved = await booking.reschedule({ appointmentId: a.id, actor: me, channel: 'line', startsAt: localIso(TUE, '10:30') });
    expect(moved).toMatchObject({
      ok: true,
      appointment: { id: a.id, reference: a.reference, localStart: '10:30', localEnd: '11:30', version: 2, status: 'booked' },
      previous: { startsAt: a.startsAt, localStart: '10:00', localDate: TUE },
    });
    expect(await booking.find(a.id)).toEqual(moved.ok && moved.appointment);
    await expectClaimsMatchRow(a.id);
    expect(await freeTimes()).toContain('09:00');
    expect(await freeTimes()).not.toContain('10:30');

    const blocker = await createCustomer(store, clock.now(), 'Blocker');
    expect(await booking.book(request({ customerId: blocker.customerId, vehicleId: blocker.vehicleId, actor: { type: 'customer', customerId: blocker.customerId }, startsAt: localIso('2026-03-11', '14:00') }))).toMatchObject({ ok: true });
    const refused = await booking.reschedule({ appointmentId: a.id, actor: me, channel: 'line', startsAt: localIso('2026-03-11', '14:00') });
    expect(refused).toMatchObject({ ok: false, reason: 'slot_taken' });
    if (refused.ok || !('alternatives' in refused)) throw new Error('expected alternatives');
    expect(refused.alternatives.map((s) => s.localTime).slice(0, 2)).toEqual(['13:00', '15:00']);
    expect(await booking.find(a.id)).toMatchObject({ localDate: TUE, localStart: '10:30', version: 2 });
    await expectClaimsMatchRow(a.id);

    const nextDay = await booking.reschedule({ appointmentId: a.id, actor: me, channel: 'line', startsAt: localIso('2026-03-11', '09:00'), loaner: true });
    expect(nextDay).toMatchObject({ ok: true, appointment: { localDate: '2026-03-11', localStart: '09:00', loanerRequested: true, version: 3 } });
    await expectClaimsMatchRow(a.id);
    expect(await freeTimes()).toContain('10:30');
    expect((await booking.history(a.id)).map((h) => h.action)).toEqual(['booked', 'rescheduled', 'rescheduled']);

    clock.set(localIso(TUE, '10:00')); // within 24 hours of the 11th, 09:00
    expect(await booking.reschedule({ appointmentId: a.id, actor: me, channel: 'line', startsAt: localIso('2026-03-12', '09:00') })).toEqual({ ok: false, reason: 'past_cutoff' });
  });

  it('checks in on the day and marks no-shows after the start; a no-show frees the place', async () => {
    const first = await booking.book(request());
    const second = await booking.book(request({ serviceTypeCode: 'bodywork_claim', startsAt: localIso(TUE, '14:00') }));
    if (!first.ok || !second.ok) throw new Error('booking failed');
    const staff: Actor = { type: 'staff', staffId: 'advisor-1' };
    expect(await booking.checkIn({ appointmentId: first.appointment.id, actor: staff, channel: 'console' })).toEqual({ ok: false, reason: 'too_early' });
    clock.set(localIso(TUE, '09:40'));
    const checkedIn = await booking.checkIn({ appointmentId: first.appointment.id, actor: staff, channel: 'console' });
    expect(checkedIn).toMatchObject({ ok: true, appointment: { status: 'checked_in', checkedInAt: clock.now().toISOString(), version: 2 } });
    await expectClaimsMatchRow(first.appointment.id);
    expect((await claimRows(first.appointment.id)).length).toBeGreaterThan(0);
    expect(await booking.cancel({ appointmentId: first.appointment.id, actor: staff, channel: 'console' })).toEqual({ ok: false, reason: 'not_changeable', status: 'checked_in' });

    expect(await booking.markNoShow({ appointmentId: second.appointment.id, actor: staff, channel: 'console' })).toEqual({ ok: false, reason: 'too_early' });
    clock.set(localIso(TUE, '14:20'));
    expect(await booking.markNoShow({ appointmentId: second.appointment.id, actor: staff, channel: 'console' })).toMatchObject({ ok: true, appointment: { status: 'no_show' } });
    expect(await claimRows(second.appointment.id)).toEqual([]);
    const walkIn = await booking.book(request({ serviceTypeCode: 'bodywork_claim', startsAt: localIso(TUE, '14:30'), actor: staff }));
    expect(walkIn).toMatchObject({ ok: true, appointment: { bayName: 'Body shop' } });
  });

  it('lists a customer’s upcoming bookings and a branch’s day and week', async () => {
    const staff: Actor = { type: 'staff', staffId: null };
    const a = await booking.book(request({ advisorId: 'advisor-1' }));
    const b = await booking.book(request({ startsAt: localIso('2026-03-12', '09:00'), advisorId: 'advisor-2' }));
    const c = await booking.book(request({ serviceTypeCode: 'bodywork_claim', startsAt: localIso(TUE, '09:00') }));
    if (!a.ok || !b.ok || !c.ok) throw new Error('booking failed');
    await booking.cancel({ appointmentId: c.appointment.id, actor: staff, channel: 'console' });

    expect((await booking.upcoming(customer.customerId)).map((x) => x.id)).toEqual([a.appointment.id, b.appointment.id]);
    const day = await booking.listForBranch(branchId, { from: TUE, to: TUE });
    expect(day.map((x) => [x.localStart, x.status])).toEqual([
      ['09:00', 'cancelled'],
      ['10:00', 'booked'],
    ]);
    expect((await booking.listForBranch(branchId, { from: TUE, to: TUE, statuses: ['booked'] })).map((x) => x.id)).toEqual([a.appointment.id]);
    const week = await booking.listForBranch(branchId, { from: '2026-03-09', to: '2026-03-15', statuses: ['booked', 'checked_in'] });
    expect(week.map((x) => x.id)).toEqual([a.appointment.id, b.appointment.id]);
    expect((await booking.listForBranch(branchId, { from: '2026-03-09', to: '2026-03-15', advisorId: 'advisor-2' })).map((x) => x.id)).toEqual([b.appointment.id]);

    clock.set(localIso(TUE, '11:00')); // a has ended
    expect((await booking.upcoming(customer.customerId)).map((x) => x.id)).toEqual([b.appointment.id]);
  });

  it('summarises free days for a date picker', async () => {
    const summary = await booking.summary(branchId, { serviceTypeCode: 'bodywork_claim', loaner: false, days: 7 });
    if (!summary.ok) throw new Error(summary.reason);
    expect(summary.days.map((d) => [d.date, d.closed, d.freeSlots])).toEqual([
      ['2026-03-09', null, 15], // from 10:00, two hours' notice
      ['2026-03-10', null, 17],
      ['2026-03-11', null, 17],
      ['2026-03-12', null, 17],
      ['2026-03-13', null, 17],
      ['2026-03-14', null, 17],
      ['2026-03-15', 'closed', 0],
    ]);
  });

  it('refuses a change made from a stale view, and a second change from the same read', async () => {
    const booked = await booking.book(request());
    if (!booked.ok) throw new Error(booked.reason);
    const id = booked.appointment.id;
    expect(await booking.cancel({ appointmentId: id, actor: me, channel: 'line', expectedVersion: 2 })).toEqual({ ok: false, reason: 'changed' });
    // Another writer committed version 2 between this change's read and its write: the history key refuses it.
    const err = await store
      .transaction(async (tx) => {
        await tx.insertInto('appointment_changes').values({ appointment_id: id, version: 2, action: 'rescheduled', actor_type: 'staff', actor_id: null, channel: null, details: null, created_at: clock.now().toISOString() }).execute();
        return cancelAppointment(tx, { appointmentId: id, actor: me, channel: 'line' }, clock.now());
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isBookingConflict(err)).toBe(true);
    expect(await booking.find(id)).toMatchObject({ status: 'booked', version: 1 });
    await expectClaimsMatchRow(id);
  });

  it('keeps claims and the appointment in step when changes of one appointment race', async () => {
    const bays = await createBranch(store, { settings: { ...SETTINGS, advisorsPerSlot: 5 }, bays: [1, 2, 3].map((n) => ({ name: `Bay ${n}`, serviceTypes: GENERAL_WORK })) }, clock.now());
    const booked = await booking.book(request({ branchId: bays.branchId }));
    if (!booked.ok) throw new Error(booked.reason);
    const id = booked.appointment.id;
    const staff: Actor = { type: 'staff', staffId: null };
    const targets = ['11:00', '11:30', '12:00', '13:00', '14:00', '15:00', '16:00', '09:00'].map((t) => localIso(TUE, t));
    const results = await Promise.all([
      ...targets.map((startsAt) => booking.reschedule({ appointmentId: id, actor: staff, channel: 'console', startsAt })),
      booking.cancel({ appointmentId: id, actor: staff, channel: 'console' }),
    ]);
    const final = await booking.find(id);
    const history = await booking.history(id);
    // Every success is one version, with no gaps: no change was applied on top of a stale read.
    expect(history.map((h) => h.version)).toEqual(Array.from({ length: history.length }, (_, i) => i + 1));
    expect(history.length).toBe(1 + results.filter((r) => r.ok).length);
    expect(final!.version).toBe(history.length);
    await expectClaimsMatchRow(id);
    const all = await store.db.selectFrom('capacity_claims').select('appointment_id').where('branch_id', '=', bays.branchId).execute();
    expect(new Set(all.map((r) => r.appointment_id))).toEqual(final!.status === 'booked' ? new Set([id]) : new Set());
  });
});

describe('standard service types', () => {
  it('have names that fit on a LINE button uncut in every locale', () => {
    for (const type of STANDARD_SERVICE_TYPES) {
      for (const [locale, name] of Object.entries(type.names)) {
        expect([...name].length, `${type.code} in ${locale}`).toBeLessThanOrEqual(LINE_LIMITS.actionLabelChars);
      }
    }
  });
});
