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

/**
 * "Tue 1 Dec" / "12/1（週二）" / "12/1(火)" / "อังคาร 1 ธ.ค.": short enough for a button. English and Thai name
 * the month, because "12/1" reads as 12 January to most English readers outside the US and Thai writes
 * day/month; Chinese and Japanese read month/day without doubt.
 */
export function formatDayShort(locale: Locale, date: string): string {
  const named = locale === 'en' || locale === 'th';
  return new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : locale, { timeZone: 'UTC', weekday: 'short', month: named ? 'short' : 'numeric', day: 'numeric' }).format(utcDate(date));
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
