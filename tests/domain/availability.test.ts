import { describe, expect, it } from 'vitest';
import {
  claimsOf,
  daysWithFreeSlots,
  freeSlots,
  groupByDate,
  nearestFreeSlots,
  planBooking,
  type SlotRequest,
} from '../../src/domain/availability';
import {
  bookingSettingsSchema,
  DEFAULT_BOOKING_SETTINGS,
  parseOpeningHours,
  type BookingSettings,
  type BranchRules,
  type HeldCapacity,
  type OpeningHours,
} from '../../src/domain/booking-rules';
import { zonedInstant } from '../../src/domain/local-time';
import { MON_SAT } from '../booking/fixtures';

const TPE = 'Asia/Taipei';
const EVERY_DAY = (from: string, to: string): OpeningHours =>
  Object.fromEntries(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'].map((d) => [d, [[from, to]]])) as unknown as OpeningHours;

const GENERAL = ['periodic_maintenance', 'inspection', 'repair_diagnosis'];
const MAINTENANCE = { code: 'periodic_maintenance', durationMinutes: 60 };
const INSPECTION = { code: 'inspection', durationMinutes: 30 };
const BODYWORK = { code: 'bodywork_claim', durationMinutes: 60 };

/** Quiet settings: nothing limits but what a test turns on. */
const OPEN: BookingSettings = {
  ...DEFAULT_BOOKING_SETTINGS,
  slotIntervalMinutes: 30,
  minNoticeMinutes: 0,
  horizonDays: 60,
  bufferMinutes: 0,
  advisorsPerSlot: 10,
  dailyCap: 100,
  loanerCars: 2,
};

function rules(over: { timeZone?: string; hours?: OpeningHours; holidays?: string[]; settings?: Partial<BookingSettings>; bays?: BranchRules['bays'] } = {}): BranchRules {
  return {
    timeZone: over.timeZone ?? TPE,
    openingHours: over.hours ?? MON_SAT,
    holidays: over.holidays ?? [],
    settings: { ...OPEN, ...over.settings },
    bays: over.bays ?? [{ id: 'bay-1', serviceTypes: GENERAL, active: true }],
  };
}

// Monday 2026-03-09 08:00 in Taipei; the test day is Tuesday 2026-03-10.
const NOW = new Date('2026-03-09T00:00:00Z');
const DAY = '2026-03-10';
const at = (date: string, time: string, tz = TPE) => {
  const [h, m] = time.split(':').map(Number);
  return new Date(zonedInstant(date, h! * 60 + m!, tz)).toISOString();
};
const request = (over: Partial<SlotRequest> = {}): SlotRequest => ({ serviceType: MAINTENANCE, loaner: false, now: NOW, ...over });
const times = (r: BranchRules, req: SlotRequest, date = DAY, held: HeldCapacity[] = []) => freeSlots(r, req, date, held).slots.map((s) => s.localTime);

/** Books through the same planner the service uses, so held rows look exactly like real ones. */
function book(r: BranchRules, held: HeldCapacity[], startsAt: string, req: SlotRequest = request()): HeldCapacity {
  const result = planBooking(r, req, startsAt, held, () => 0);
  if (!result.ok) throw new Error(`could not book ${startsAt}: ${result.reason}`);
  held.push(result.plan);
  return result.plan;
}

const grid = (from: string, count: number, stepMinutes = 30) => {
  const [h, m] = from.split(':').map(Number);
  return Array.from({ length: count }, (_, i) => {
    const t = h! * 60 + m! + i * stepMinutes;
    return `${String(Math.floor(t / 60) % 24).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
  });
};

describe('free slots: opening hours', () => {
  it('offers every interval from opening to the last start that finishes by closing', () => {
    const day = freeSlots(rules(), request(), DAY, []);
    expect(day.closed).toBeNull();
    expect(day.slots.map((s) => s.localTime)).toEqual(grid('09:00', 17));
    expect(day.slots[0]).toEqual({ startsAt: '2026-03-10T01:00:00.000Z', endsAt: '2026-03-10T02:00:00.000Z', localDate: DAY, localTime: '09:00' });
    expect(times(rules(), request({ serviceType: { code: 'repair_diagnosis', durationMinutes: 90 } })).at(-1)).toBe('16:30');
    expect(times(rules(), request({ serviceType: INSPECTION })).at(-1)).toBe('17:30');
  });

  it('never runs a job over a lunch break', () => {
    const r = rules({ hours: { ...MON_SAT, tue: [['13:00', '18:00'], ['09:00', '12:00']] } });
    expect(times(r, request())).toEqual([...grid('09:00', 5), ...grid('13:00', 9)]);
  });

  it('starts the grid at each opening time', () => {
    const r = rules({ hours: { ...MON_SAT, tue: [['09:15', '11:00']] } });
    expect(times(r, request())).toEqual(['09:15', '09:45']);
  });

  it('is closed on days without hours, on holidays, in the past and beyond the horizon', () => {
    expect(freeSlots(rules(), request(), '2026-03-15', []).closed).toBe('closed'); // a Sunday
    expect(freeSlots(rules({ holidays: [DAY] }), request(), DAY, []).closed).toBe('holiday');
    expect(freeSlots(rules(), request(), '2026-03-07', []).closed).toBe('past');
    const r = rules({ settings: { horizonDays: 3 } });
    expect(freeSlots(r, request(), '2026-03-12', []).closed).toBeNull(); // today + 3
    expect(freeSlots(r, request(), '2026-03-13', [])).toMatchObject({ closed: 'beyond_horizon', slots: [] });
  });

  it('keeps the minimum notice, except for staff booking for a caller, and never offers the past', () => {
    const now = new Date(at('2026-03-09', '09:10'));
    const r = rules({ settings: { minNoticeMinutes: 120 } });
    expect(times(r, request({ now }), '2026-03-09')[0]).toBe('11:30');
    expect(times(r, request({ now, ignoreNotice: true }), '2026-03-09')[0]).toBe('09:30');
    expect(times(r, request({ now }), DAY)[0]).toBe('09:00');
  });
});

describe('free slots: capacity', () => {
  it('keeps the bay busy for the job and its buffer', () => {
    const r = rules({ settings: { bufferMinutes: 15 } });
    const held: HeldCapacity[] = [];
    const plan = book(r, held, at(DAY, '10:00'));
    expect(plan.busyUntil).toBe(new Date(Date.parse(at(DAY, '11:00')) + 15 * 60_000).toISOString());
    // 09:00 would run into the 10:00 job once its buffer is added; 11:00 starts inside the buffer.
    expect(times(r, request(), DAY, held)).toEqual(['11:30', '12:00', '12:30', '13:00', '13:30', '14:00', '14:30', '15:00', '15:30', '16:00', '16:30', '17:00']);
  });

  it('cuts the buffer at closing, so the last job of the day still fits', () => {
    const r = rules({ settings: { bufferMinutes: 30 } });
    const held: HeldCapacity[] = [];
    expect(book(r, held, at(DAY, '17:00')).busyUntil).toBe(at(DAY, '18:00'));
    expect(times(r, request(), DAY, held).at(-1)).toBe('15:30');
  });

  it('only uses active bays that take the service type', () => {
    const bays = [
      { id: 'general', serviceTypes: GENERAL, active: true },
      { id: 'body', serviceTypes: ['bodywork_claim'], active: true },
      { id: 'closed-body', serviceTypes: ['bodywork_claim'], active: false },
    ];
    const r = rules({ bays });
    const held: HeldCapacity[] = [];
    expect(book(r, held, at(DAY, '10:00'), request({ serviceType: BODYWORK })).bayId).toBe('body');
    expect(times(r, request({ serviceType: BODYWORK }), DAY, held)).not.toContain('10:00');
    expect(times(r, request(), DAY, held)).toContain('10:00');
    expect(times(rules({ bays: bays.slice(0, 1) }), request({ serviceType: BODYWORK }))).toEqual([]);
  });

  it('prefers the most specialised free bay, keeping versatile bays for other work', () => {
    const bays = [
      { id: 'any', serviceTypes: [...GENERAL, 'bodywork_claim', 'tyres_battery'], active: true },
      { id: 'quick', serviceTypes: ['inspection'], active: true },
    ];
    const result = planBooking(rules({ bays }), request({ serviceType: INSPECTION }), at(DAY, '10:00'), [], () => 0.99);
    expect(result.ok && result.plan.bayId).toBe('quick');
  });

  it('receives at most the advisors per slot at one start', () => {
    const r = rules({ settings: { advisorsPerSlot: 2 }, bays: ['a', 'b', 'c'].map((id) => ({ id, serviceTypes: GENERAL, active: true })) });
    const held: HeldCapacity[] = [];
    book(r, held, at(DAY, '10:00'));
    expect(times(r, request(), DAY, held)).toContain('10:00');
    book(r, held, at(DAY, '10:00'));
    expect(times(r, request(), DAY, held)).not.toContain('10:00');
    expect(times(r, request(), DAY, held)).toContain('10:30');
    expect(planBooking(r, request(), at(DAY, '10:00'), held)).toEqual({ ok: false, reason: 'slot_taken' });
  });

  it('stops at the daily cap', () => {
    const r = rules({ settings: { dailyCap: 2 }, bays: ['a', 'b'].map((id) => ({ id, serviceTypes: GENERAL, active: true })) });
    const held: HeldCapacity[] = [];
    book(r, held, at(DAY, '09:00'));
    expect(freeSlots(r, request(), DAY, held).placesLeft).toBe(1);
    book(r, held, at(DAY, '15:00'));
    expect(freeSlots(r, request(), DAY, held)).toMatchObject({ slots: [], placesLeft: 0 });
    expect(times(r, request(), '2026-03-11', held)).toHaveLength(17);
  });

  it('counts units taken under a higher cap after a manager lowers it', () => {
    const r = rules({ settings: { dailyCap: 3 }, bays: ['a', 'b', 'c'].map((id) => ({ id, serviceTypes: GENERAL, active: true })) });
    const held: HeldCapacity[] = [];
    book(r, held, at(DAY, '09:00'));
    book(r, held, at(DAY, '09:00'));
    book(r, held, at(DAY, '09:00'));
    const lowered = rules({ settings: { dailyCap: 2 }, bays: r.bays });
    expect(freeSlots(lowered, request(), DAY, held)).toMatchObject({ slots: [], placesLeft: 0 });
  });

  it('offers a day to a customer asking for a loaner only while a loaner car is left', () => {
    const r = rules({ settings: { loanerCars: 1 }, bays: ['a', 'b'].map((id) => ({ id, serviceTypes: GENERAL, active: true })) });
    const held: HeldCapacity[] = [];
    expect(freeSlots(r, request({ loaner: true }), DAY, held).loanersLeft).toBe(1);
    expect(book(r, held, at(DAY, '09:00'), request({ loaner: true })).loanerUnit).toBe(0);
    expect(freeSlots(r, request({ loaner: true }), DAY, held)).toMatchObject({ slots: [], loanersLeft: 0 });
    expect(times(r, request(), DAY, held)).toContain('09:00');
    expect(planBooking(r, request({ loaner: true }), at(DAY, '11:00'), held)).toEqual({ ok: false, reason: 'no_loaner' });
    expect(freeSlots(rules({ settings: { loanerCars: 0 } }), request({ loaner: true }), DAY, []).slots).toEqual([]);
  });
});

describe('free slots on days the clocks change', () => {
  // All four changes fall on a Sunday, so these branches open every day.
  it.each([
    ['Europe/Berlin', '2026-03-29', '07:00', 23],
    ['Europe/Berlin', '2026-10-25', '08:00', 25],
    ['America/New_York', '2026-03-08', '13:00', 23],
    ['America/New_York', '2026-11-01', '14:00', 25],
  ])('%s %s: a 09:00–18:00 day keeps its nine hours of slots', (tz, date, firstUtc, hours) => {
    const r = rules({ timeZone: tz, hours: EVERY_DAY('09:00', '18:00') });
    const req = request({ serviceType: INSPECTION, now: new Date(Date.parse(date) - 2 * 86_400_000) });
    const day = freeSlots(r, req, date, []);
    expect(day.slots.map((s) => s.localTime)).toEqual(grid('09:00', 18));
    expect(day.slots[0]!.startsAt).toBe(`${date}T${firstUtc}:00.000Z`);
    expect(day.slots.at(-1)!.endsAt).toBe(new Date(Date.parse(day.slots[0]!.startsAt) + 9 * 3_600_000).toISOString());
    // The whole day has 23 or 25 hours: a branch open round the clock has that many hours of slots.
    const allDay = freeSlots(rules({ timeZone: tz, hours: EVERY_DAY('00:00', '24:00') }), req, date, []);
    expect(allDay.slots).toHaveLength(hours * 2);
  });

  it('labels the repeated hour of a fall-back night twice and skips the missing hour of a spring-forward night', () => {
    const req = request({ serviceType: INSPECTION, now: new Date('2026-03-27T00:00:00Z') });
    const r = (tz: string) => rules({ timeZone: tz, hours: EVERY_DAY('00:00', '24:00'), settings: { horizonDays: 366 } });
    const fallBack = freeSlots(r('Europe/Berlin'), req, '2026-10-25', []);
    expect(fallBack.slots.map((s) => s.localTime).slice(3, 9)).toEqual(['01:30', '02:00', '02:30', '02:00', '02:30', '03:00']);
    const spring = freeSlots(r('Europe/Berlin'), req, '2026-03-29', []);
    expect(spring.slots.map((s) => s.localTime).slice(2, 6)).toEqual(['01:00', '01:30', '03:00', '03:30']);
  });

  it('books and blocks correctly across the change', () => {
    const r = rules({ timeZone: 'America/New_York', hours: EVERY_DAY('09:00', '18:00'), bays: [{ id: 'a', serviceTypes: GENERAL, active: true }] });
    const req = request({ now: new Date('2026-03-01T00:00:00Z') });
    const held: HeldCapacity[] = [];
    const plan = book(r, held, '2026-03-08T14:00:00.000Z', req);
    expect(plan).toMatchObject({ localDate: '2026-03-08', localTime: '10:00', endsAt: '2026-03-08T15:00:00.000Z' });
    expect(times(r, req, '2026-03-08', held)).not.toContain('10:00');
    expect(times(r, req, '2026-03-08', held)).toContain('11:00');
    // The same UTC time the day before is 09:00 local and unaffected.
    expect(times(r, req, '2026-03-07', held)).toContain('09:00');
  });
});

describe('planning a booking', () => {
  it('refuses starts the rules do not allow, naming the rule', () => {
    const r = rules({ settings: { minNoticeMinutes: 60 } });
    const now = new Date(at(DAY, '09:00'));
    expect(planBooking(r, request({ now }), at(DAY, '09:30'), [])).toEqual({ ok: false, reason: 'too_soon' });
    expect(planBooking(r, request({ now }), at(DAY, '10:10'), [])).toEqual({ ok: false, reason: 'outside_hours' });
    expect(planBooking(r, request({ now }), at(DAY, '17:30'), [])).toEqual({ ok: false, reason: 'outside_hours' });
    expect(planBooking(r, request({ now }), at(DAY, '08:30'), [])).toEqual({ ok: false, reason: 'outside_hours' });
    expect(planBooking(r, request({ now }), 'tomorrow', [])).toEqual({ ok: false, reason: 'outside_hours' });
    expect(planBooking(r, request({ now }), at('2026-03-15', '10:00'), [])).toEqual({ ok: false, reason: 'closed' });
    expect(planBooking(r, request({ now }), at('2026-03-09', '10:00'), [])).toEqual({ ok: false, reason: 'past' });
    expect(planBooking(r, request({ now }), at('2026-06-10', '10:00'), [])).toEqual({ ok: false, reason: 'beyond_horizon' });
    expect(planBooking(r, request({ now }), at(DAY, '10:00'), [])).toMatchObject({ ok: true });
  });

  it('picks among free units at random, so concurrent bookers rarely collide', () => {
    const r = rules({ settings: { advisorsPerSlot: 4, dailyCap: 4, loanerCars: 4 } });
    const low = planBooking(r, request({ loaner: true }), at(DAY, '10:00'), [], () => 0);
    const high = planBooking(r, request({ loaner: true }), at(DAY, '10:00'), [], () => 0.999);
    expect(low).toMatchObject({ ok: true, plan: { advisorUnit: 0, dayUnit: 0, loanerUnit: 0 } });
    expect(high).toMatchObject({ ok: true, plan: { advisorUnit: 3, dayUnit: 3, loanerUnit: 3 } });
  });

  it('claims every 5-minute block of the bay up to the buffer, one advisor, one day unit and a loaner, in key order', () => {
    const r = rules({ settings: { bufferMinutes: 15 } });
    const result = planBooking(r, request({ loaner: true }), at(DAY, '10:00'), [], () => 0);
    if (!result.ok) throw new Error(result.reason);
    const claims = claimsOf(result.plan);
    const bay = claims.filter((c) => c.resource === 'bay:bay-1');
    expect(bay).toHaveLength((60 + 15) / 5);
    expect(bay[0]!.blockStart).toBe('2026-03-10T02:00:00.000Z');
    expect(bay.at(-1)!.blockStart).toBe('2026-03-10T03:10:00.000Z');
    expect(claims.filter((c) => !c.resource.startsWith('bay:'))).toEqual([
      { resource: 'advisor:0', blockStart: '2026-03-10T02:00:00.000Z' },
      { resource: 'day:0', blockStart: DAY },
      { resource: 'loaner:0', blockStart: DAY },
    ]);
    const keys = claims.map((c) => `${c.resource} ${c.blockStart}`);
    expect(keys).toEqual([...keys].sort());
  });
});

describe('nearest free slots and the horizon summary', () => {
  const r = rules({ settings: { horizonDays: 5 } });
  const held: HeldCapacity[] = [];
  for (const t of grid('09:00', 17).filter((t) => t !== '09:00' && t !== '15:00' && t !== '17:00')) {
    // Every 30 minutes is booked except 09:00, 15:00 and 17:00; 60-minute jobs block their neighbours.
    if (['09:30', '14:30', '16:30'].includes(t)) continue;
    held.push({ localDate: DAY, bayId: 'bay-1', startsAt: at(DAY, t), busyUntil: new Date(Date.parse(at(DAY, t)) + 30 * 60_000).toISOString(), advisorUnit: 0, dayUnit: held.length, loanerUnit: null });
  }
  const insp = request({ serviceType: INSPECTION });

  it('offers the same day nearest first, then the following days from their opening', () => {
    expect(times(r, insp, DAY, held)).toEqual(['09:00', '09:30', '14:30', '15:00', '16:30', '17:00', '17:30']);
    const near = nearestFreeSlots(r, insp, at(DAY, '15:30'), groupByDate(held), { count: 5, days: 3 });
    expect(near.map((s) => `${s.localDate} ${s.localTime}`)).toEqual([
      `${DAY} 15:00`,
      `${DAY} 14:30`, // as near as 16:30: the earlier first
      `${DAY} 16:30`,
      `${DAY} 17:00`,
      `${DAY} 17:30`,
    ]);
    const later = nearestFreeSlots(r, insp, at(DAY, '15:30'), groupByDate(held), { count: 9, days: 3 });
    expect(later.slice(7).map((s) => `${s.localDate} ${s.localTime}`)).toEqual(['2026-03-11 09:00', '2026-03-11 09:30']);
  });

  it('does not look beyond the horizon', () => {
    const full = rules({ settings: { horizonDays: 1, dailyCap: 1 } });
    const taken: HeldCapacity[] = [
      { localDate: DAY, bayId: 'bay-1', startsAt: at(DAY, '09:00'), busyUntil: at(DAY, '10:00'), advisorUnit: 0, dayUnit: 0, loanerUnit: null },
    ];
    expect(nearestFreeSlots(full, request(), at(DAY, '10:00'), groupByDate(taken), { count: 3, days: 10 })).toEqual([]);
  });

  it('summarises which days have free starts', () => {
    const summary = daysWithFreeSlots(r, insp, '2026-03-09', 7, groupByDate(held));
    expect(summary.map((d) => [d.date, d.closed, d.freeSlots, d.firstFree?.localTime ?? null])).toEqual([
      ['2026-03-09', null, 18, '09:00'], // today: it is 08:00
      ['2026-03-10', null, 7, '09:00'],
      ['2026-03-11', null, 18, '09:00'],
      ['2026-03-12', null, 18, '09:00'],
      ['2026-03-13', null, 18, '09:00'],
      ['2026-03-14', null, 18, '09:00'],
      ['2026-03-15', 'beyond_horizon', 0, null], // today + 6
    ]);
    const longer = rules({ settings: { horizonDays: 30 }, holidays: ['2026-03-16'] });
    expect(daysWithFreeSlots(longer, insp, '2026-03-14', 3, new Map()).map((d) => d.closed)).toEqual([null, 'closed', 'holiday']);
  });
});

describe('booking rules validation', () => {
  it('accepts sensible settings and refuses ones that would make claims inexact', () => {
    expect(bookingSettingsSchema.safeParse(DEFAULT_BOOKING_SETTINGS).success).toBe(true);
    expect(bookingSettingsSchema.safeParse({ ...DEFAULT_BOOKING_SETTINGS, slotIntervalMinutes: 7 }).success).toBe(false);
    expect(bookingSettingsSchema.safeParse({ ...DEFAULT_BOOKING_SETTINGS, bufferMinutes: 12 }).success).toBe(false);
    expect(bookingSettingsSchema.safeParse({ ...DEFAULT_BOOKING_SETTINGS, advisorsPerSlot: 0 }).success).toBe(false);
    expect(bookingSettingsSchema.safeParse({ ...DEFAULT_BOOKING_SETTINGS, reminderDayBeforeAt: '25:00' }).success).toBe(false);
    expect(bookingSettingsSchema.safeParse({ ...DEFAULT_BOOKING_SETTINGS, quietHoursEnd: null }).success).toBe(false);
  });

  it('reads opening hours, sorted, and refuses overlapping, reversed or off-grid intervals', () => {
    expect(parseOpeningHours(JSON.stringify({ mon: [['13:00', '18:00'], ['09:00', '12:00']] })).mon).toEqual([
      ['09:00', '12:00'],
      ['13:00', '18:00'],
    ]);
    expect(parseOpeningHours(JSON.stringify({ mon: [['09:00', '18:00']] })).sun).toEqual([]);
    expect(() => parseOpeningHours(JSON.stringify({ mon: [['09:00', '13:00'], ['12:00', '18:00']] }))).toThrow(/overlap/);
    expect(() => parseOpeningHours(JSON.stringify({ mon: [['18:00', '09:00']] }))).toThrow(/end after/);
    expect(() => parseOpeningHours(JSON.stringify({ mon: [['09:07', '18:00']] }))).toThrow(/multiples/);
  });
});
