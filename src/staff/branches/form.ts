import { BLOCK_MINUTES, holidaysSchema, openingHoursSchema, timeZoneSchema, type OpeningHours, type OpenInterval } from '../../domain/booking-rules';
import type { Weekday } from '../../domain/local-time';
import type { Branch } from '../../store/schema';
import type { FieldError } from '../result';

/*
 * The branch form as staff type it, to and from the values stored on `branches`. Whether hours, holidays
 * and the time zone are valid is decided by the booking rules' own schemas (src/domain/booking-rules.ts),
 * so staff can never save what availability would later refuse to read; this file only turns text
 * into those values and says, field by field, what was wrong.
 */

/** Monday first, as staff read a week (the stored JSON has no order). */
export const WEEK_FROM_MONDAY: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export interface BranchFormInput {
  name: string;
  address: string;
  phone: string;
  mapUrl: string;
  timeZone: string;
  /** One line per weekday: "09:00-12:00, 13:00-18:00"; empty when closed. */
  hours: Record<Weekday, string>;
  /** Dates YYYY-MM-DD, one a line. */
  holidays: string;
}

export interface BranchValues {
  name: string;
  address: string | null;
  phone: string | null;
  mapUrl: string | null;
  timeZone: string;
  openingHours: OpeningHours;
  holidays: string[];
}

/** What is wrong with one field: a code under `branches.errors.` of the console-admin texts, and its parameters. */
export type BranchProblem = FieldError;

export type BranchFormResult = { ok: true; value: BranchValues } | { ok: false; problems: BranchProblem[] };

const MAX_HOLIDAYS = 500;

/** Full-width digits and colons (typed with a CJK input method) read as their ASCII forms. */
function normalizeTyped(text: string): string {
  return text.normalize('NFKC');
}

function parseDay(day: Weekday, text: string, problems: BranchProblem[]): OpenInterval[] {
  const typed = normalizeTyped(text).replace(/\s*[-–—~〜]\s*/g, '-').trim();
  if (!typed) return [];
  const intervals: OpenInterval[] = [];
  for (const token of typed.split(/[\s,;、]+/).filter(Boolean)) {
    const m = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/.exec(token);
    if (!m) {
      problems.push({ field: `hours_${day}`, code: 'hoursFormat', params: { day, value: token } });
      continue;
    }
    intervals.push([`${m[1]!.padStart(2, '0')}:${m[2]}`, `${m[3]!.padStart(2, '0')}:${m[4]}`]);
  }
  return intervals;
}

/** "2026/1/1" and "2026-01-01" are the same day to the person typing it. */
function normalizeDate(token: string): string {
  const m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(token);
  return m ? `${m[1]}-${m[2]!.padStart(2, '0')}-${m[3]!.padStart(2, '0')}` : token;
}

/** The zone as Intl spells it ("asia/taipei" → "Asia/Taipei"), so stored zones compare equal. */
function canonicalZone(zone: string): string {
  return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
}

/** Reads the branch form; every problem is reported at once, so staff fix them in one go. */
export function parseBranchForm(input: BranchFormInput): BranchFormResult {
  const problems: BranchProblem[] = [];

  const name = input.name.trim();
  if (!name) problems.push({ field: 'name', code: 'nameRequired' });
  else if ([...name].length > 100) problems.push({ field: 'name', code: 'tooLong', params: { max: 100 } });

  const address = input.address.trim();
  if ([...address].length > 300) problems.push({ field: 'address', code: 'tooLong', params: { max: 300 } });

  const phone = normalizeTyped(input.phone).trim();
  if (phone && (!/\d/.test(phone) || phone.length > 40)) problems.push({ field: 'phone', code: 'phone' });

  const mapUrl = input.mapUrl.trim();
  if (mapUrl) {
    let url: URL | null = null;
    try {
      url = new URL(mapUrl);
    } catch {
      url = null;
    }
    if (!url || url.protocol !== 'https:' || !url.hostname || mapUrl.length > 1000) problems.push({ field: 'mapUrl', code: 'mapUrl' });
  }

  let timeZone = input.timeZone.trim();
  if (!timeZone) problems.push({ field: 'timeZone', code: 'timeZoneRequired' });
  else if (!timeZoneSchema.safeParse(timeZone).success) problems.push({ field: 'timeZone', code: 'timeZone', params: { value: timeZone } });
  else timeZone = canonicalZone(timeZone);

  const typedHours = Object.fromEntries(WEEK_FROM_MONDAY.map((d) => [d, parseDay(d, input.hours[d] ?? '', problems)])) as Record<Weekday, OpenInterval[]>;
  let openingHours: OpeningHours | null = null;
  if (!problems.some((p) => p.field.startsWith('hours_'))) {
    const checked = openingHoursSchema.safeParse(typedHours);
    if (checked.success) openingHours = checked.data;
    else {
      for (const issue of checked.error.issues) {
        const day = issue.path[0] as Weekday;
        const index = issue.path[1];
        if (typeof index === 'number') {
          const [from, to] = typedHours[day][index] ?? ['', ''];
          problems.push({ field: `hours_${day}`, code: 'hoursInterval', params: { day, value: `${from}–${to}`, block: BLOCK_MINUTES } });
        } else {
          problems.push({ field: `hours_${day}`, code: 'hoursOverlap', params: { day } });
        }
      }
    }
  }

  const typedDates = normalizeTyped(input.holidays)
    .split(/[\s,;、]+/)
    .filter(Boolean)
    .map(normalizeDate);
  let holidays: string[] = [];
  if (typedDates.length > MAX_HOLIDAYS) problems.push({ field: 'holidays', code: 'tooManyHolidays', params: { max: MAX_HOLIDAYS } });
  else {
    const checked = holidaysSchema.safeParse(typedDates);
    if (checked.success) holidays = [...new Set(checked.data)].sort();
    else {
      for (const issue of checked.error.issues) {
        const index = issue.path[0];
        problems.push({ field: 'holidays', code: 'holiday', params: { value: typeof index === 'number' ? typedDates[index]! : '' } });
      }
    }
  }

  if (problems.length > 0 || !openingHours) return { ok: false, problems };
  return { ok: true, value: { name, address: address || null, phone: phone || null, mapUrl: mapUrl || null, timeZone, openingHours, holidays } };
}

/** One weekday's intervals as staff type them back: "09:00–12:00, 13:00–18:00". */
export function formatDayHours(intervals: readonly OpenInterval[]): string {
  return intervals.map(([from, to]) => `${from}–${to}`).join(', ');
}

/** The stored JSON as form text; an unreadable row shows empty days rather than breaking the page. */
export function hoursFormText(openingHoursJson: string): Record<Weekday, string> {
  const hours = readOpeningHours(openingHoursJson);
  return Object.fromEntries(WEEK_FROM_MONDAY.map((d) => [d, hours ? formatDayHours(hours[d]) : ''])) as Record<Weekday, string>;
}

/** The stored hours, or null when the row holds something the rules cannot read. */
export function readOpeningHours(json: string): OpeningHours | null {
  try {
    const parsed = openingHoursSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function readHolidays(json: string): string[] {
  try {
    const parsed = holidaysSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

/** Zones offered in the picker; any other IANA zone can still be typed. */
export const COMMON_TIME_ZONES = [
  'Asia/Taipei',
  'Asia/Shanghai',
  'Asia/Hong_Kong',
  'Asia/Macau',
  'Asia/Tokyo',
  'Asia/Seoul',
  'Asia/Bangkok',
  'Asia/Ho_Chi_Minh',
  'Asia/Singapore',
  'Asia/Kuala_Lumpur',
  'Asia/Jakarta',
  'Asia/Manila',
  'Australia/Sydney',
  'Europe/London',
  'Europe/Berlin',
  'America/New_York',
  'America/Los_Angeles',
  'UTC',
] as const;

/** The form as it reads for a stored branch, or for a new one (weekdays 09:00–18:00, the given zone). */
export function branchFormOf(branch: Branch | null, newTimeZone = ''): BranchFormInput {
  return {
    name: branch?.name ?? '',
    address: branch?.address ?? '',
    phone: branch?.phone ?? '',
    mapUrl: branch?.map_url ?? '',
    timeZone: branch?.time_zone ?? newTimeZone,
    hours: branch ? hoursFormText(branch.opening_hours) : { mon: '09:00–18:00', tue: '09:00–18:00', wed: '09:00–18:00', thu: '09:00–18:00', fri: '09:00–18:00', sat: '', sun: '' },
    holidays: branch ? readHolidays(branch.holidays).join('\n') : '',
  };
}
