import * as chrono from 'chrono-node';
import type { Locale } from '../i18n/locales';

/** What a customer meant by "明天上午", "next Tuesday 3pm" or "来週の月曜 10時", in the dealership's local time. */
export interface WhenAsked {
  /** Local date, YYYY-MM-DD. */
  date: string;
  /** Local time HH:mm when the customer named one. */
  time: string | null;
  /** A part of the day when they named that instead ("上午", "afternoon", "午後"). */
  partOfDay: 'morning' | 'afternoon' | 'evening' | null;
}

type Parser = { parse: (text: string, ref: { instant: Date; timezone: number }, option: { forwardDate: boolean }) => chrono.ParsedResult[] };

/** chrono has Chinese, Japanese and English; the customer's own language is tried first. */
const PARSERS: Record<Locale, Parser[]> = {
  'zh-TW': [chrono.zh.hant, chrono.zh.hans, chrono.en, chrono.ja],
  'zh-CN': [chrono.zh.hans, chrono.zh.hant, chrono.en, chrono.ja],
  en: [chrono.en, chrono.zh.hant, chrono.zh.hans, chrono.ja],
  ja: [chrono.ja, chrono.zh.hant, chrono.en],
  // chrono has no Thai: the Thai words below cover the common phrases, then the others catch numbers and English.
  th: [chrono.en, chrono.zh.hant],
};

const PART_OF_DAY: [RegExp, WhenAsked['partOfDay']][] = [
  [/上午|早上|早晨|午前|朝|morning|เช้า/i, 'morning'],
  [/下午|午後|afternoon|บ่าย/i, 'afternoon'],
  [/晚上|傍晚|夜|evening|tonight|เย็น|ค่ำ/i, 'evening'],
];

const THAI_WEEKDAYS: [RegExp, number][] = [
  [/อาทิตย์/, 0],
  [/จันทร์/, 1],
  [/อังคาร/, 2],
  [/พุธ/, 3],
  [/พฤหัส/, 4],
  [/ศุกร์/, 5],
  [/เสาร์/, 6],
];

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** The dealership's wall clock at `instant`, as a Date whose UTC fields hold the local values. */
function wallClock(instant: Date, timeZone: string): Date {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(instant);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return new Date(Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24, get('minute')));
}

function isoDate(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** Thai relative days and weekdays, which chrono does not read. */
function thaiDate(text: string, today: Date): Date | null {
  const day = (offset: number) => new Date(today.getTime() + offset * 86_400_000);
  if (/มะรืน/.test(text)) return day(2);
  if (/พรุ่งนี้/.test(text)) return day(1);
  if (/วันนี้/.test(text)) return day(0);
  for (const [pattern, weekday] of THAI_WEEKDAYS) {
    if (!pattern.test(text)) continue;
    // "วันอังคาร" and "วันอังคารหน้า" both mean the coming Tuesday; today's weekday means a week from today.
    const offset = (weekday - today.getUTCDay() + 7) % 7;
    return day(offset === 0 ? 7 : offset);
  }
  return null;
}

/**
 * Reads a date, and a time or part of day if given, from what a customer typed, relative to now in the
 * dealership's time zone. An hour given without am/pm that falls before 8 is read as afternoon ("3點"
 * means 15:00 at a workshop). Returns null when the text names no date.
 */
export function parseWhen(text: string, locale: Locale, now: Date, timeZone: string): WhenAsked | null {
  const input = text.normalize('NFKC').trim();
  if (!input) return null;
  const today = wallClock(now, timeZone);
  const ref = { instant: today, timezone: 0 };
  const partOfDay = PART_OF_DAY.find(([pattern]) => pattern.test(input))?.[1] ?? null;

  for (const parser of PARSERS[locale]) {
    const [result] = parser.parse(input, ref, { forwardDate: true });
    if (!result) continue;
    const start = result.start;
    const hasDate = start.isCertain('day') || start.isCertain('weekday');
    const hasTime = start.isCertain('hour');
    if (!hasDate && !hasTime) continue;
    const date = `${start.get('year')}-${pad(start.get('month') ?? 1)}-${pad(start.get('day') ?? 1)}`;
    let time: string | null = null;
    if (hasTime) {
      let hour = start.get('hour') ?? 0;
      if (!start.isCertain('meridiem') && hour >= 1 && hour < 8 && partOfDay !== 'morning') hour += 12;
      time = `${pad(hour)}:${pad(start.get('minute') ?? 0)}`;
    }
    // A time alone ("3pm") means today, or tomorrow once that time has passed.
    if (!hasDate && time) {
      const todayIso = isoDate(today);
      const passed = time <= `${pad(today.getUTCHours())}:${pad(today.getUTCMinutes())}`;
      return { date: passed ? isoDate(new Date(today.getTime() + 86_400_000)) : todayIso, time, partOfDay: time ? null : partOfDay };
    }
    return { date, time, partOfDay: time ? null : partOfDay };
  }

  const thai = thaiDate(input, today);
  if (thai) {
    const hour = /(\d{1,2})\s*(โมง|นาฬิกา|:)/.exec(input);
    let time: string | null = null;
    if (hour) {
      let h = Number(hour[1]);
      if (h >= 1 && h < 8 && (partOfDay === 'afternoon' || partOfDay === null)) h += 12;
      if (h < 24) time = `${pad(h)}:00`;
    }
    return { date: isoDate(thai), time, partOfDay: time ? null : partOfDay };
  }
  return null;
}
