import type { OpenInterval, OpeningHours } from './booking-rules';
import { addDays, minutesOfDay, weekdayOf, type Weekday } from './local-time';

/*
 * Opening hours as a customer asks about them: "are you open now?", "when do you open?", "what are your
 * hours?". Pure rules over a branch's weekly hours and holidays, in its local dates and wall times.
 */

/** The week from Monday, as customers read a timetable. */
export const WEEK_FROM_MONDAY: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** Days in a row with the same hours: "Mon–Sat 09:00–18:00", "Sun closed". */
export interface DayRun {
  from: Weekday;
  to: Weekday;
  intervals: OpenInterval[];
}

const same = (a: OpenInterval[], b: OpenInterval[]) => a.length === b.length && a.every((x, i) => x[0] === b[i]![0] && x[1] === b[i]![1]);

/** The week as runs of days with the same hours, Monday first. */
export function weekRuns(hours: OpeningHours): DayRun[] {
  const runs: DayRun[] = [];
  for (const day of WEEK_FROM_MONDAY) {
    const last = runs.at(-1);
    if (last && same(last.intervals, hours[day])) last.to = day;
    else runs.push({ from: day, to: day, intervals: hours[day] });
  }
  return runs;
}

/** The hours of one local date: none on a holiday. */
export function hoursOn(hours: OpeningHours, holidays: readonly string[], date: string): { intervals: OpenInterval[]; holiday: boolean } {
  if (holidays.includes(date)) return { intervals: [], holiday: true };
  return { intervals: hours[weekdayOf(date)], holiday: false };
}

export type OpenNow =
  | { state: 'open'; until: string }
  /** Opens again later today (before opening, or between two intervals). */
  | { state: 'later_today'; opensAt: string }
  /** Closed for the rest of the day, or all day. */
  | { state: 'closed_today'; holiday: boolean; next: { date: string; opensAt: string } | null };

/** Whether the branch is open at local `date` `time`, and when it next opens when it is not. */
export function openNow(hours: OpeningHours, holidays: readonly string[], date: string, time: string, lookAheadDays = 14): OpenNow {
  const now = minutesOfDay(time) ?? 0;
  const today = hoursOn(hours, holidays, date);
  for (const [from, to] of today.intervals) {
    if (now >= minutesOfDay(from)! && now < minutesOfDay(to)!) return { state: 'open', until: to };
    if (now < minutesOfDay(from)!) return { state: 'later_today', opensAt: from };
  }
  let next: { date: string; opensAt: string } | null = null;
  for (let d = 1; d <= lookAheadDays && !next; d++) {
    const day = addDays(date, d);
    const first = hoursOn(hours, holidays, day).intervals[0];
    if (first) next = { date: day, opensAt: first[0] };
  }
  return { state: 'closed_today', holiday: today.holiday, next };
}

/** Holidays from `date` (inclusive) for `days` days, in order. */
export function holidaysAhead(holidays: readonly string[], date: string, days: number): string[] {
  const last = addDays(date, days - 1);
  return [...holidays].filter((h) => h >= date && h <= last).sort();
}
