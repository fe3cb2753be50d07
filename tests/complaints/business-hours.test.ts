import { describe, expect, it } from 'vitest';
import { addBusinessMinutes, businessMinutesBetween, isOpenAt, nextOpenAt, slaState, type BusinessCalendar } from '../../src/complaints/business-hours';
import { DEMO_OPENING_HOURS } from '../../src/store/seed';

/* Complaint deadlines count the branch's opening hours only, in its own time zone. */

const taipei: BusinessCalendar = { timeZone: 'Asia/Taipei', openingHours: DEMO_OPENING_HOURS, holidays: ['2026-12-25'] };
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('business hours', () => {
  it('counts a deadline inside opening hours as plain minutes', () => {
    // Monday 2026-11-30 10:00 Taipei + 30 min.
    expect(iso(addBusinessMinutes(taipei, at('2026-11-30T02:00:00Z'), 30))).toBe('2026-11-30T02:30:00.000Z');
  });

  it('carries what is left at closing time to the next opening', () => {
    // Monday 17:50 + 30: ten minutes today, twenty on Tuesday from 09:00.
    expect(iso(addBusinessMinutes(taipei, at('2026-11-30T09:50:00Z'), 30))).toBe('2026-12-01T01:20:00.000Z');
    // Saturday 17:45 + 30: Sunday is closed, so Monday 09:15.
    expect(iso(addBusinessMinutes(taipei, at('2026-12-05T09:45:00Z'), 30))).toBe('2026-12-07T01:15:00.000Z');
    // Thursday 24 December 17:00 + 2 h: Christmas is a holiday, so Saturday 10:00.
    expect(iso(addBusinessMinutes(taipei, at('2026-12-24T09:00:00Z'), 120))).toBe('2026-12-26T02:00:00.000Z');
    // Sunday night: the whole deadline falls in Monday's hours.
    expect(iso(addBusinessMinutes(taipei, at('2026-12-06T14:00:00Z'), 90))).toBe('2026-12-07T02:30:00.000Z');
  });

  it('skips a lunch break and a change of the clocks', () => {
    const split: BusinessCalendar = { timeZone: 'Asia/Tokyo', openingHours: { ...DEMO_OPENING_HOURS, mon: [['09:00', '12:00'], ['13:00', '18:00']] }, holidays: [] };
    // Monday 2026-11-30 11:45 Tokyo + 30: 15 before lunch, 15 after.
    expect(iso(addBusinessMinutes(split, at('2026-11-30T02:45:00Z'), 30))).toBe('2026-11-30T04:15:00.000Z');
    // New York, the Saturday before clocks go back (2026-11-01): Saturday 17:30 EDT + 60 min is Monday 09:30 EST.
    const newYork: BusinessCalendar = { timeZone: 'America/New_York', openingHours: DEMO_OPENING_HOURS, holidays: [] };
    expect(iso(addBusinessMinutes(newYork, at('2026-10-31T21:30:00Z'), 60))).toBe('2026-11-02T14:30:00.000Z');
  });

  it('falls back to plain time for a branch without any opening hours', () => {
    const never: BusinessCalendar = { timeZone: 'Asia/Taipei', openingHours: { sun: [], mon: [], tue: [], wed: [], thu: [], fri: [], sat: [] }, holidays: [] };
    expect(iso(addBusinessMinutes(never, at('2026-11-30T02:00:00Z'), 30))).toBe('2026-11-30T02:30:00.000Z');
    expect(nextOpenAt(never, at('2026-11-30T02:00:00Z'))).toBeNull();
  });

  it('knows when the branch is open, and when it opens next', () => {
    expect(isOpenAt(taipei, at('2026-11-30T02:00:00Z'))).toBe(true);
    expect(isOpenAt(taipei, at('2026-11-30T10:00:00Z'))).toBe(false);
    expect(iso(nextOpenAt(taipei, at('2026-12-06T07:00:00Z'))!)).toBe('2026-12-07T01:00:00.000Z');
    expect(nextOpenAt(taipei, at('2026-11-30T02:00:00Z'))).toBe(at('2026-11-30T02:00:00Z'));
  });

  it('measures business minutes between two instants', () => {
    // Monday 17:00 to Tuesday 10:00: one hour on Monday, one on Tuesday.
    expect(businessMinutesBetween(taipei, at('2026-11-30T09:00:00Z'), at('2026-12-01T02:00:00Z'))).toBe(120);
    expect(businessMinutesBetween(taipei, at('2026-12-01T02:00:00Z'), at('2026-11-30T09:00:00Z'))).toBe(0);
  });

  it('tells where a deadline stands: on track, at risk in its last quarter, breached, met or missed', () => {
    const due = at('2026-11-30T02:30:00Z');
    const state = (now: string, doneAt: string | null = null) => slaState(taipei, { now: at(now), dueAt: due, doneAt: doneAt ? at(doneAt) : null, totalMinutes: 60 });
    expect(state('2026-11-30T02:00:00Z')).toBe('on_track');
    expect(state('2026-11-30T02:16:00Z')).toBe('at_risk');
    expect(state('2026-11-30T02:31:00Z')).toBe('breached');
    expect(state('2026-11-30T03:00:00Z', '2026-11-30T02:20:00Z')).toBe('met');
    expect(state('2026-11-30T03:00:00Z', '2026-11-30T02:40:00Z')).toBe('missed');
    // Evening: the deadline is tomorrow morning, but only 20 business minutes are left of it.
    expect(slaState(taipei, { now: at('2026-11-30T10:00:00Z'), dueAt: at('2026-12-01T01:20:00Z'), doneAt: null, totalMinutes: 30 })).toBe('on_track');
    expect(slaState(taipei, { now: at('2026-12-01T01:12:00Z'), dueAt: at('2026-12-01T01:20:00Z'), doneAt: null, totalMinutes: 30 })).toBe('at_risk');
  });
});
