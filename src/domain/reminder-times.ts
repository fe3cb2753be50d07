import type { BookingSettings } from './booking-rules';
import { addDays, localDateOf, localTimeOf, minutesOfDay, zonedInstant } from './local-time';

/*
 * When a booking's reminders are due, as pure rules over the branch's settings and time zone:
 *
 * - day before: at the branch's reminder time (e.g. 18:00) on the local day before the visit;
 * - hours before: that many hours before the start, on the day itself;
 * - nothing in quiet hours (e.g. 21:00–09:00, which may wrap midnight): a reminder due then waits for quiet
 *   hours to end, and is dropped if that is not before the visit;
 * - nothing the customer does not need: no reminder due within an hour of booking (they have just seen the
 *   confirmation), no hours-before reminder for a visit booked fewer hours ahead than that, and no
 *   hours-before reminder at or before the time of the day-before one.
 *
 * All instants are epoch milliseconds; local dates and times follow the branch's zone through DST changes.
 */

export type ReminderKind = 'day_before' | 'hours_before';

export interface ReminderInput {
  startsAt: number;
  /** The visit's local date at the branch. */
  localDate: string;
  createdAt: number;
  timeZone: string;
  settings: Pick<BookingSettings, 'reminderDayBeforeAt' | 'reminderHoursBefore' | 'quietHoursStart' | 'quietHoursEnd'>;
}

const HOUR_MS = 3600_000;
/** A reminder due this soon after booking would only repeat the confirmation the customer just read. */
const FRESH_BOOKING_MS = HOUR_MS;

/** True when the local wall time of `instant` falls in quiet hours [start, end), which may wrap midnight. */
export function inQuietHours(instant: number, timeZone: string, start: string | null, end: string | null): boolean {
  if (!start || !end) return false;
  const s = minutesOfDay(start);
  const e = minutesOfDay(end);
  const t = minutesOfDay(localTimeOf(instant, timeZone));
  if (s === null || e === null || t === null || s === e) return false;
  return s < e ? t >= s && t < e : t >= s || t < e;
}

/** The first instant at or after `instant` outside quiet hours. */
export function afterQuietHours(instant: number, timeZone: string, start: string | null, end: string | null): number {
  if (!inQuietHours(instant, timeZone, start, end)) return instant;
  const endMinutes = minutesOfDay(end!)!;
  const today = localDateOf(instant, timeZone);
  const sameDay = zonedInstant(today, endMinutes, timeZone);
  return sameDay > instant ? sameDay : zonedInstant(addDays(today, 1), endMinutes, timeZone);
}

/** When each reminder of a booking is due, or null when it is not sent at all. */
export function reminderDueTimes(input: ReminderInput): Record<ReminderKind, number | null> {
  const { settings, timeZone } = input;
  const settle = (due: number | null): number | null => {
    if (due === null) return null;
    const moved = afterQuietHours(due, timeZone, settings.quietHoursStart, settings.quietHoursEnd);
    if (moved >= input.startsAt) return null;
    if (moved < input.createdAt + FRESH_BOOKING_MS) return null;
    return moved;
  };

  const dayBeforeMinutes = settings.reminderDayBeforeAt ? minutesOfDay(settings.reminderDayBeforeAt) : null;
  const dayBefore = settle(dayBeforeMinutes === null ? null : zonedInstant(addDays(input.localDate, -1), dayBeforeMinutes, timeZone));

  let hoursBefore: number | null = null;
  if (settings.reminderHoursBefore && input.startsAt - input.createdAt >= settings.reminderHoursBefore * HOUR_MS) {
    hoursBefore = settle(input.startsAt - settings.reminderHoursBefore * HOUR_MS);
    if (hoursBefore !== null && dayBefore !== null && hoursBefore <= dayBefore) hoursBefore = null;
  }
  return { day_before: dayBefore, hours_before: hoursBefore };
}
