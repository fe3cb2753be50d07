/*
 * Local dates and wall-clock times in a branch's time zone, converted with Intl alone (it runs the same on
 * Node and Workers and knows every zone's rules). Local dates are 'YYYY-MM-DD' strings and wall times
 * 'HH:mm'; instants are epoch milliseconds or UTC ISO strings. Calendar arithmetic on local dates is done
 * on their UTC midnights, which have no DST.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Building a DateTimeFormat is costly (tens of microseconds); one per zone is kept. */
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock at `instant` in `timeZone`, as epoch ms of the same fields read as UTC. */
function wallMs(instant: number, timeZone: string): number {
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of formatterFor(timeZone).formatToParts(instant)) {
    switch (part.type) {
      case 'year':
        year = Number(part.value);
        break;
      case 'month':
        month = Number(part.value);
        break;
      case 'day':
        day = Number(part.value);
        break;
      case 'hour':
        hour = Number(part.value) % 24;
        break;
      case 'minute':
        minute = Number(part.value);
        break;
      case 'second':
        second = Number(part.value);
        break;
    }
  }
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

function exactOffset(instant: number, timeZone: string): number {
  const whole = Math.floor(instant / 1000) * 1000;
  return Math.round((wallMs(whole, timeZone) - whole) / MINUTE_MS);
}

const HOUR_MS = 3_600_000;
/** Offsets per zone and UTC hour; null marks an hour in which the offset changes. */
const offsetCache = new Map<string, Map<number, number | null>>();

/**
 * Minutes the zone is ahead of UTC at `instant` (Asia/Taipei: 480; New York in summer: -240). Asking Intl
 * costs microseconds and availability asks hundreds of times a day, so the answer is kept per UTC hour —
 * an offset changes at most once in an hour, so an hour that starts and ends on the same offset has it
 * throughout; the hour of a change is always asked exactly.
 */
export function utcOffsetMinutes(instant: number, timeZone: string): number {
  let zone = offsetCache.get(timeZone);
  if (!zone) {
    zone = new Map();
    offsetCache.set(timeZone, zone);
  }
  const hour = Math.floor(instant / HOUR_MS);
  let offset = zone.get(hour);
  if (offset === undefined) {
    const first = exactOffset(hour * HOUR_MS, timeZone);
    offset = first === exactOffset((hour + 1) * HOUR_MS - 1000, timeZone) ? first : null;
    if (zone.size > 100_000) zone.clear();
    zone.set(hour, offset);
  }
  return offset ?? exactOffset(instant, timeZone);
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** 'YYYY-MM-DD' of a UTC-midnight epoch value. */
function dateOfUtcMidnight(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^([01]\d|2[0-4]):([0-5]\d)$/;

/** UTC midnight of a local date, for calendar arithmetic; throws on anything but a real 'YYYY-MM-DD'. */
function utcMidnight(date: string): number {
  const m = DATE_RE.exec(date);
  if (!m) throw new RangeError(`not a date: ${date}`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (dateOfUtcMidnight(ms) !== date) throw new RangeError(`not a date: ${date}`);
  return ms;
}

/** True for a real calendar date written 'YYYY-MM-DD'. */
export function isLocalDate(value: string): boolean {
  try {
    utcMidnight(value);
    return true;
  } catch {
    return false;
  }
}

/** Minutes after midnight of 'HH:mm' ('24:00' is 1440, the end of a day); null when malformed. */
export function minutesOfDay(time: string): number | null {
  const m = TIME_RE.exec(time);
  if (!m) return null;
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  return minutes <= 1440 ? minutes : null;
}

/** 'HH:mm' of minutes after midnight. */
export function clockTime(minutes: number): string {
  return `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/** The local date `days` after `date` (negative goes back). */
export function addDays(date: string, days: number): string {
  return dateOfUtcMidnight(utcMidnight(date) + days * DAY_MS);
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round((utcMidnight(to) - utcMidnight(from)) / DAY_MS);
}

export type Weekday = 'sun' | 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat';
export const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** The weekday of a local date; a calendar fact, the same in every zone. */
export function weekdayOf(date: string): Weekday {
  return WEEKDAYS[new Date(utcMidnight(date)).getUTCDay()]!;
}

/** The wall clock at `instant`, as epoch ms of the same fields read as UTC (whole minutes). */
function localWall(instant: Date | number, timeZone: string): number {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  return ms + utcOffsetMinutes(ms, timeZone) * MINUTE_MS;
}

/** The local date at `instant` in `timeZone`. */
export function localDateOf(instant: Date | number, timeZone: string): string {
  return dateOfUtcMidnight(Math.floor(localWall(instant, timeZone) / DAY_MS) * DAY_MS);
}

/** The local wall time 'HH:mm' at `instant` in `timeZone`. */
export function localTimeOf(instant: Date | number, timeZone: string): string {
  const wall = localWall(instant, timeZone);
  return clockTime(Math.floor((((wall % DAY_MS) + DAY_MS) % DAY_MS) / MINUTE_MS));
}

/**
 * Every instant whose wall clock in `timeZone` reads `date` at `minutes` after midnight: usually one,
 * none inside a spring-forward gap, two inside a fall-back overlap (earlier first). Zones change their
 * offset at most once within a day either side, so the offsets a day before and after are the candidates.
 */
export function instantsAt(date: string, minutes: number, timeZone: string): number[] {
  const wall = utcMidnight(date) + minutes * MINUTE_MS;
  const offsets = new Set([utcOffsetMinutes(wall - DAY_MS, timeZone), utcOffsetMinutes(wall + DAY_MS, timeZone)]);
  const found: number[] = [];
  for (const offset of offsets) {
    const candidate = wall - offset * MINUTE_MS;
    if (candidate + utcOffsetMinutes(candidate, timeZone) * MINUTE_MS === wall) found.push(candidate);
  }
  return found.sort((a, b) => a - b);
}

/**
 * The instant the wall clock in `timeZone` reaches `date` at `minutes` after midnight, resolved the way
 * Temporal's 'compatible' option does: in a fall-back overlap the first occurrence, in a spring-forward gap
 * the wall time read with the offset from before the jump (02:30 on that night becomes 03:30).
 */
export function zonedInstant(date: string, minutes: number, timeZone: string): number {
  const found = instantsAt(date, minutes, timeZone);
  if (found[0] !== undefined) return found[0];
  const wall = utcMidnight(date) + minutes * MINUTE_MS;
  return wall - utcOffsetMinutes(wall - DAY_MS, timeZone) * MINUTE_MS;
}
