import type { Locale } from './locales';

/*
 * Dates shown to customers, formatted with Intl in their language. Flows work with the dealership's local
 * calendar dates (YYYY-MM-DD) and wall times (HH:mm), so formatting happens in UTC on purpose: the date is
 * already local and must not move again.
 */

function utcDate(date: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d, 12));
}

/** "Tue, Dec 1" / "12月1日 週二" / "12月1日(火)": short enough for a button. */
export function formatDayShort(locale: Locale, date: string): string {
  return new Intl.DateTimeFormat(locale, { timeZone: 'UTC', weekday: 'short', month: 'numeric', day: 'numeric' }).format(utcDate(date));
}

/** "Tuesday, December 1, 2026" in the customer's language, for cards and sentences. */
export function formatDayLong(locale: Locale, date: string): string {
  return new Intl.DateTimeFormat(locale, { timeZone: 'UTC', weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' }).format(utcDate(date));
}

/** "December 2026", for the head of a calendar. */
export function formatMonth(locale: Locale, month: string): string {
  return new Intl.DateTimeFormat(locale, { timeZone: 'UTC', year: 'numeric', month: 'long' }).format(utcDate(`${month}-01`));
}

/** Narrow weekday names starting Monday ("M T W …", "一 二 三 …"), for a calendar's header row. */
export function weekdayInitials(locale: Locale): string[] {
  const format = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', weekday: 'narrow' });
  // 2026-11-30 is a Monday.
  return Array.from({ length: 7 }, (_, i) => format.format(new Date(Date.UTC(2026, 10, 30 + i, 12))));
}
