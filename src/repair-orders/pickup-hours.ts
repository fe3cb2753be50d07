import type { OpeningHours, OpenInterval } from '../domain/booking-rules';
import { addDays, clockTime, localDateOf, minutesOfDay, weekdayOf, zonedInstant } from '../domain/local-time';

/*
 * When a customer can collect their car, as pure rules over the branch's opening hours, holidays and time
 * zone: the first day (today, if the branch is still open long enough) with opening hours, the times in it
 * they may choose, and when "not collected by closing time" has happened.
 */

/** A customer arriving in the last minutes before closing would find nobody to hand the keys over. */
const LAST_CALL_MINUTES = 15;
const MINUTE_MS = 60_000;
/** Looking further than this for an open day means the hours are empty: nothing to offer. */
const SEARCH_DAYS = 21;

export interface PickupWindow {
  /** The branch's local date. */
  date: string;
  intervals: OpenInterval[];
  /** True when `date` is today at the branch. */
  today: boolean;
  /** Instants (epoch ms) of the first opening and the last closing that day. */
  opensAt: number;
  closesAt: number;
}

export interface BranchHours {
  timeZone: string;
  openingHours: OpeningHours;
  holidays: readonly string[];
}

function intervalsOn(hours: BranchHours, date: string): OpenInterval[] {
  if (hours.holidays.includes(date)) return [];
  return hours.openingHours[weekdayOf(date)] ?? [];
}

function windowOn(hours: BranchHours, date: string, today: string): PickupWindow | null {
  const intervals = intervalsOn(hours, date);
  if (intervals.length === 0) return null;
  const opensAt = zonedInstant(date, minutesOfDay(intervals[0]![0])!, hours.timeZone);
  const closesAt = zonedInstant(date, minutesOfDay(intervals[intervals.length - 1]![1])!, hours.timeZone);
  return { date, intervals, today: date === today, opensAt, closesAt };
}

/** The first open day at or after `from` (epoch ms) that is still open for a pickup then; null when none within three weeks. */
export function pickupWindow(hours: BranchHours, from: number): PickupWindow | null {
  const today = localDateOf(from, hours.timeZone);
  for (let i = 0; i < SEARCH_DAYS; i++) {
    const w = windowOn(hours, addDays(today, i), today);
    if (w && w.closesAt - LAST_CALL_MINUTES * MINUTE_MS > from) return w;
  }
  return null;
}

/** The window of one local date, or null when the branch is closed that day. */
export function windowOf(hours: BranchHours, date: string, now: number): PickupWindow | null {
  return windowOn(hours, date, localDateOf(now, hours.timeZone));
}

/** "09:00–12:00, 13:00–18:00". */
export function hoursText(intervals: readonly OpenInterval[]): string {
  return intervals.map(([a, b]) => `${a}–${b}`).join(', ');
}

/**
 * Times a customer may choose on the window's day, every `step` minutes from the next whole step after
 * `now` (or opening) up to the last call before each closing, as 'HH:mm'.
 */
export function pickupTimes(hours: BranchHours, w: PickupWindow, now: number, step = 30): string[] {
  const out: string[] = [];
  for (const [from, to] of w.intervals) {
    const a = minutesOfDay(from)!;
    const b = minutesOfDay(to)! - LAST_CALL_MINUTES;
    for (let m = Math.ceil(a / step) * step; m <= b; m += step) {
      if (zonedInstant(w.date, m, hours.timeZone) > now) out.push(clockTime(m));
    }
  }
  return out;
}

/** The instant (epoch ms) a chosen 'HH:mm' on the window's day stands for, or null when it is outside the hours or past. */
export function acceptPickupTime(hours: BranchHours, w: PickupWindow, time: string, now: number): number | null {
  const m = minutesOfDay(time);
  if (m === null) return null;
  const inside = w.intervals.some(([from, to]) => m >= minutesOfDay(from)! && m <= minutesOfDay(to)! - LAST_CALL_MINUTES);
  if (!inside) return null;
  const at = zonedInstant(w.date, m, hours.timeZone);
  return at > now - 5 * MINUTE_MS ? at : null;
}

/**
 * When a car ready at `readyAt` counts as not collected: closing time of the first day it could be
 * collected, or of the day the customer said they would come if that is later. Null when the branch has
 * no opening hours to go by.
 */
export function collectDeadline(hours: BranchHours, readyAt: number, plannedAt: number | null): number | null {
  const first = pickupWindow(hours, readyAt);
  if (!first) return null;
  if (plannedAt === null || plannedAt <= first.closesAt) return first.closesAt;
  return pickupWindow(hours, plannedAt)?.closesAt ?? first.closesAt;
}

/** The first opening after `instant`: when the next morning's reminder goes out. */
export function nextOpening(hours: BranchHours, instant: number): number | null {
  const today = localDateOf(instant, hours.timeZone);
  for (let i = 0; i < SEARCH_DAYS; i++) {
    const date = addDays(today, i);
    for (const [from] of intervalsOn(hours, date)) {
      const at = zonedInstant(date, minutesOfDay(from)!, hours.timeZone);
      if (at > instant) return at;
    }
  }
  return null;
}
