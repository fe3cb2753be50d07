import type { OpeningHours } from '../domain/booking-rules';
import { addDays, localDateOf, minutesOfDay, weekdayOf, zonedInstant } from '../domain/local-time';

/*
 * Business time: the branch's opening hours, minus its holidays, in its own time zone. Complaint deadlines
 * (a first answer within 30 minutes, a resolution within two working days) count only this time, so a
 * complaint made on Saturday evening is due on Monday morning, not at midnight. Pure functions over
 * instants (epoch milliseconds); the calendar comes from the branch row.
 */

export interface BusinessCalendar {
  timeZone: string;
  openingHours: OpeningHours;
  /** Local dates the branch is closed. */
  holidays: readonly string[];
}

const MINUTE_MS = 60_000;
/** How far ahead to look for the next open hour; a branch closed for longer than this has no business time. */
const SEARCH_DAYS = 400;

interface Interval {
  start: number;
  end: number;
}

/** The day's open intervals as instants, in order; none on a holiday or a closed weekday. */
function openIntervals(calendar: BusinessCalendar, date: string): Interval[] {
  if (calendar.holidays.includes(date)) return [];
  return [...calendar.openingHours[weekdayOf(date)]]
    .map(([from, to]) => {
      const toMinutes = minutesOfDay(to)!;
      const end = toMinutes >= 1440 ? zonedInstant(addDays(date, 1), 0, calendar.timeZone) : zonedInstant(date, toMinutes, calendar.timeZone);
      return { start: zonedInstant(date, minutesOfDay(from)!, calendar.timeZone), end };
    })
    .sort((a, b) => a.start - b.start);
}

/** Open intervals that end after `from`, day by day, clipped to start no earlier than `from`. */
function* openFrom(calendar: BusinessCalendar, from: number): Generator<Interval> {
  // Start a day early: an interval of yesterday's date may still be open (it never is past midnight here, but a zone change can shift it).
  let date = addDays(localDateOf(from, calendar.timeZone), -1);
  for (let day = 0; day <= SEARCH_DAYS; day++, date = addDays(date, 1)) {
    for (const interval of openIntervals(calendar, date)) {
      if (interval.end <= from) continue;
      yield { start: Math.max(interval.start, from), end: interval.end };
    }
  }
}

/** True while the branch is open at `at`. */
export function isOpenAt(calendar: BusinessCalendar, at: number): boolean {
  const first = openFrom(calendar, at).next();
  return !first.done && first.value.start <= at;
}

/** `at` itself when the branch is open then, else the next moment it opens; null when it never opens again. */
export function nextOpenAt(calendar: BusinessCalendar, at: number): number | null {
  const first = openFrom(calendar, at).next();
  return first.done ? null : first.value.start;
}

/**
 * The instant `minutes` of business time after `from`: a deadline counted in opening hours only. With no
 * opening hours at all (a branch set up without any), plain time is counted instead, so a deadline is
 * never infinitely far away.
 */
export function addBusinessMinutes(calendar: BusinessCalendar, from: number, minutes: number): number {
  let left = minutes * MINUTE_MS;
  for (const interval of openFrom(calendar, from)) {
    const length = interval.end - interval.start;
    if (left <= length) return interval.start + left;
    left -= length;
  }
  return from + minutes * MINUTE_MS;
}

/** Business minutes between `from` and `to` (0 when `to` is not later), whole minutes rounded down. */
export function businessMinutesBetween(calendar: BusinessCalendar, from: number, to: number): number {
  if (to <= from) return 0;
  let total = 0;
  for (const interval of openFrom(calendar, from)) {
    if (interval.start >= to) break;
    total += Math.min(interval.end, to) - interval.start;
  }
  return Math.floor(total / MINUTE_MS);
}

/** Where a deadline stands: met (done in time), missed (done late or still open past it), at risk, or on track. */
export type SlaState = 'on_track' | 'at_risk' | 'breached' | 'met' | 'missed';

/**
 * The state of one deadline. A deadline is at risk when what is left of it, in business minutes, is a
 * quarter of the whole or less (at least 10 minutes), so staff see it coming before it is missed.
 */
export function slaState(calendar: BusinessCalendar, args: { now: number; dueAt: number; doneAt: number | null; totalMinutes: number }): SlaState {
  if (args.doneAt !== null) return args.doneAt <= args.dueAt ? 'met' : 'missed';
  if (args.now >= args.dueAt) return 'breached';
  const left = businessMinutesBetween(calendar, args.now, args.dueAt);
  return left <= Math.max(10, Math.floor(args.totalMinutes / 4)) ? 'at_risk' : 'on_track';
}
