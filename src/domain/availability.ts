import { BLOCK_MINUTES, type BranchRules, type HeldCapacity, type ServiceTypeRule } from './booking-rules';
import { addDays, daysBetween, localDateOf, localTimeOf, minutesOfDay, weekdayOf, zonedInstant } from './local-time';

/*
 * Availability is computed from the branch's rules and what is already held, never stored as ready-made
 * slots, so a change of hours or settings applies at once. All arithmetic is on UTC instants: a slot is the
 * opening instant plus whole intervals of real time, so a 09:00–18:00 day gives the same nine hours of slots
 * on the days the clocks change as on any other day.
 *
 * The rules, in the order they are checked:
 * - a date before today or beyond today + horizon is not bookable; nor is a holiday or a day without hours;
 * - slots start at each opening time and every slot interval after it; the job (not its buffer) must end by
 *   the close of the interval it starts in — it never runs over a lunch break or past closing;
 * - a slot must start at least the minimum notice after now (staff booking for a caller may skip this);
 * - the day must have a place left under its daily cap, and a loaner car left when one is asked for;
 * - the slot start must have an advisor unit left (advisors per slot);
 * - some active bay that takes the service type must be free from the start until the job ends plus the
 *   buffer, the buffer cut short at the interval's close (the closed time already separates the jobs).
 */

const MINUTE_MS = 60_000;
const BLOCK_MS = BLOCK_MINUTES * MINUTE_MS;

/** What is being booked and when the question is asked. */
export interface SlotRequest {
  serviceType: ServiceTypeRule;
  /** The customer wants a loaner car; only days with one left have slots. */
  loaner: boolean;
  now: Date;
  /** Staff booking for someone on the phone or at the counter: the minimum notice does not apply. */
  ignoreNotice?: boolean;
}

/** A bookable start, in UTC and in the branch's local time. */
export interface Slot {
  startsAt: string;
  endsAt: string;
  localDate: string;
  localTime: string;
}

export type ClosedReason = 'past' | 'beyond_horizon' | 'holiday' | 'closed';

/** One local date's answer: why it is closed, or its free slots for the request. */
export interface DayAvailability {
  date: string;
  closed: ClosedReason | null;
  slots: Slot[];
  /** Places left under the daily cap (0 when closed). */
  placesLeft: number;
  /** Loaner cars left that day (0 when closed): the chat offers a loaner only when this is above 0. */
  loanersLeft: number;
}

/** Why a chosen start cannot be booked. */
export type SlotRefusal = ClosedReason | 'outside_hours' | 'too_soon' | 'slot_taken' | 'no_loaner';

/** The capacity a new booking takes: written on the appointment and claimed in `capacity_claims`. */
export interface BookingPlan extends HeldCapacity {
  endsAt: string;
  localTime: string;
}

export type PlanResult = { ok: true; plan: BookingPlan } | { ok: false; reason: SlotRefusal };

/** One row of `capacity_claims`: the unique key (per branch) that makes a double booking a database error. */
export interface Claim {
  resource: string;
  blockStart: string;
}

interface Interval {
  start: number;
  end: number;
}

/** When a bay is busy: disjoint spans in time order, as parallel arrays so a lookup is a binary search. */
interface BusyTimes {
  starts: number[];
  ends: number[];
}

/** The day's held capacity indexed for the checks below, which run for every start and bay. */
interface DayState {
  date: string;
  open: Interval[];
  busy: Map<string, BusyTimes>;
  advisorUnits: Map<number, Set<number>>;
  dayUnits: Set<number>;
  loanerUnits: Set<number>;
}

/** Units below `cap` nobody holds; none when the holders already reach the cap (it may have been lowered). */
function freeUnits(held: ReadonlySet<number> | undefined, cap: number): number[] {
  if ((held?.size ?? 0) >= cap) return [];
  const free: number[] = [];
  for (let n = 0; n < cap; n++) if (!held?.has(n)) free.push(n);
  return free;
}

function closedReason(rules: BranchRules, date: string, now: Date): ClosedReason | null {
  const today = localDateOf(now, rules.timeZone);
  const ahead = daysBetween(today, date);
  if (ahead < 0) return 'past';
  if (ahead > rules.settings.horizonDays) return 'beyond_horizon';
  if (rules.holidays.includes(date)) return 'holiday';
  if (rules.openingHours[weekdayOf(date)].length === 0) return 'closed';
  return null;
}

/** The day's open intervals as UTC instants; a close of '24:00' is the next local midnight. */
function openIntervals(rules: BranchRules, date: string): Interval[] {
  const intervals = [...rules.openingHours[weekdayOf(date)]].sort((a, b) => minutesOfDay(a[0])! - minutesOfDay(b[0])!);
  return intervals.map(([from, to]) => {
    const start = zonedInstant(date, minutesOfDay(from)!, rules.timeZone);
    const toMinutes = minutesOfDay(to)!;
    const end = toMinutes >= 1440 ? zonedInstant(addDays(date, 1), 0, rules.timeZone) : zonedInstant(date, toMinutes, rules.timeZone);
    // Zone offsets are whole quarter hours, so these are already on the block grid; rounding inward keeps
    // claims exact should a zone ever say otherwise.
    return { start: Math.ceil(start / BLOCK_MS) * BLOCK_MS, end: Math.floor(end / BLOCK_MS) * BLOCK_MS };
  });
}

function dayState(rules: BranchRules, date: string, held: readonly HeldCapacity[]): DayState {
  const state: DayState = { date, open: openIntervals(rules, date), busy: new Map(), advisorUnits: new Map(), dayUnits: new Set(), loanerUnits: new Set() };
  const spans = new Map<string, Interval[]>();
  // Many bookings share a start or an end (one per bay), and parsing a date costs more than a lookup.
  const parsed = new Map<string, number>();
  const instant = (iso: string): number => {
    let ms = parsed.get(iso);
    if (ms === undefined) {
      ms = Date.parse(iso);
      parsed.set(iso, ms);
    }
    return ms;
  };
  for (const h of held) {
    // A job and its buffer end by the close of their opening interval, so never past their own local date.
    if (h.localDate !== date) continue;
    const span = { start: instant(h.startsAt), end: instant(h.busyUntil) };
    const list = spans.get(h.bayId);
    if (list) list.push(span);
    else spans.set(h.bayId, [span]);
    const units = state.advisorUnits.get(span.start);
    if (units) units.add(h.advisorUnit);
    else state.advisorUnits.set(span.start, new Set([h.advisorUnit]));
    state.dayUnits.add(h.dayUnit);
    if (h.loanerUnit !== null) state.loanerUnits.add(h.loanerUnit);
  }
  for (const [bayId, list] of spans) {
    // Live bookings never overlap on a bay, but merging makes that an input this does not rely on.
    list.sort((a, b) => a.start - b.start);
    const times: BusyTimes = { starts: [], ends: [] };
    for (const span of list) {
      const last = times.ends.length - 1;
      if (last >= 0 && span.start <= times.ends[last]!) times.ends[last] = Math.max(times.ends[last]!, span.end);
      else {
        times.starts.push(span.start);
        times.ends.push(span.end);
      }
    }
    state.busy.set(bayId, times);
  }
  return state;
}

/** Bays that take the service type, most specialised first, so versatile bays stay free for other work. */
function baysFor(rules: BranchRules, code: string): string[] {
  return rules.bays
    .filter((b) => b.active && b.serviceTypes.includes(code))
    .sort((a, b) => a.serviceTypes.length - b.serviceTypes.length)
    .map((b) => b.id);
}

function bayIsFree(state: DayState, bayId: string, start: number, end: number): boolean {
  const busy = state.busy.get(bayId);
  if (!busy) return true;
  // The first busy span ending after `start` is the only one that can overlap [start, end).
  let lo = 0;
  let hi = busy.ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (busy.ends[mid]! > start) hi = mid;
    else lo = mid + 1;
  }
  return lo === busy.ends.length || busy.starts[lo]! >= end;
}

const iso = (ms: number) => new Date(ms).toISOString();

interface Candidate {
  start: number;
  end: number;
  busyUntil: number;
  freeBays: string[];
  advisorUnits: number[];
}

/** Checks one start inside `interval`; the refusal names the first rule it breaks. */
function candidate(rules: BranchRules, request: SlotRequest, state: DayState, interval: Interval, start: number, bays: readonly string[]): Candidate | SlotRefusal {
  const end = start + request.serviceType.durationMinutes * MINUTE_MS;
  if (end > interval.end) return 'outside_hours';
  const notice = request.ignoreNotice ? 0 : rules.settings.minNoticeMinutes * MINUTE_MS;
  if (start < request.now.getTime() + notice) return 'too_soon';
  const advisorUnits = freeUnits(state.advisorUnits.get(start), rules.settings.advisorsPerSlot);
  if (advisorUnits.length === 0) return 'slot_taken';
  const busyUntil = Math.min(end + rules.settings.bufferMinutes * MINUTE_MS, interval.end);
  const freeBays = bays.filter((id) => bayIsFree(state, id, start, busyUntil));
  if (freeBays.length === 0) return 'slot_taken';
  return { start, end, busyUntil, freeBays, advisorUnits };
}

function slotOf(rules: BranchRules, date: string, c: Candidate): Slot {
  return { startsAt: iso(c.start), endsAt: iso(c.end), localDate: date, localTime: localTimeOf(c.start, rules.timeZone) };
}

/** Day-level refusals: closed, or no place under the daily cap, or no loaner car when one is asked for. */
function dayRefusal(rules: BranchRules, request: SlotRequest, state: DayState): { dayUnits: number[]; loanerUnits: number[]; refusal: SlotRefusal | null } {
  const dayUnits = freeUnits(state.dayUnits, rules.settings.dailyCap);
  const loanerUnits = freeUnits(state.loanerUnits, rules.settings.loanerCars);
  const refusal = dayUnits.length === 0 ? 'slot_taken' : request.loaner && loanerUnits.length === 0 ? 'no_loaner' : null;
  return { dayUnits, loanerUnits, refusal };
}

/**
 * The starts on local `date` that can really be booked for the request, given the capacity `held` that
 * day (live appointments of the branch on that date). Pure; the booking service supplies the rows.
 */
export function freeSlots(rules: BranchRules, request: SlotRequest, date: string, held: readonly HeldCapacity[]): DayAvailability {
  const closed = closedReason(rules, date, request.now);
  if (closed) return { date, closed, slots: [], placesLeft: 0, loanersLeft: 0 };
  const state = dayState(rules, date, held);
  const day = dayRefusal(rules, request, state);
  const result: DayAvailability = { date, closed: null, slots: [], placesLeft: day.dayUnits.length, loanersLeft: day.loanerUnits.length };
  if (day.refusal) return result;
  const bays = baysFor(rules, request.serviceType.code);
  if (bays.length === 0) return result;
  const step = rules.settings.slotIntervalMinutes * MINUTE_MS;
  for (const interval of state.open) {
    for (let start = interval.start; start < interval.end; start += step) {
      const c = candidate(rules, request, state, interval, start, bays);
      if (typeof c !== 'string') result.slots.push(slotOf(rules, date, c));
    }
  }
  return result;
}

/**
 * Plans a booking at `startsAt` (UTC ISO, a start `freeSlots` offered): picks a bay and the units to claim,
 * at random among the free ones so that concurrent bookers of one slot mostly claim different units and
 * all but the truly last place succeed on the first try. `random` is injectable for tests.
 */
export function planBooking(
  rules: BranchRules,
  request: SlotRequest,
  startsAt: string,
  held: readonly HeldCapacity[],
  random: () => number = Math.random,
): PlanResult {
  const start = Date.parse(startsAt);
  if (Number.isNaN(start)) return { ok: false, reason: 'outside_hours' };
  const date = localDateOf(start, rules.timeZone);
  const closed = closedReason(rules, date, request.now);
  if (closed) return { ok: false, reason: closed };
  const state = dayState(rules, date, held);
  const step = rules.settings.slotIntervalMinutes * MINUTE_MS;
  const interval = state.open.find((i) => start >= i.start && start < i.end && (start - i.start) % step === 0);
  if (!interval) return { ok: false, reason: 'outside_hours' };
  const c = candidate(rules, request, state, interval, start, baysFor(rules, request.serviceType.code));
  if (typeof c === 'string') return { ok: false, reason: c };
  const day = dayRefusal(rules, request, state);
  if (day.refusal) return { ok: false, reason: day.refusal };
  const pick = <T>(items: readonly T[]): T => items[Math.min(items.length - 1, Math.floor(random() * items.length))]!;
  // Most specialised bays first (see baysFor): choose at random only among the equally specialised.
  const specialisation = (id: string) => rules.bays.find((b) => b.id === id)!.serviceTypes.length;
  const best = specialisation(c.freeBays[0]!);
  return {
    ok: true,
    plan: {
      localDate: date,
      localTime: localTimeOf(start, rules.timeZone),
      startsAt: iso(c.start),
      endsAt: iso(c.end),
      busyUntil: iso(c.busyUntil),
      bayId: pick(c.freeBays.filter((id) => specialisation(id) === best)),
      advisorUnit: pick(c.advisorUnits),
      dayUnit: pick(day.dayUnits),
      loanerUnit: request.loaner ? pick(day.loanerUnits) : null,
    },
  };
}

/**
 * The claim rows of a booking's capacity, in one global order (resource, then block) so that concurrent
 * inserts on Postgres take their row locks in the same order and wait for each other instead of deadlocking.
 * Bay claims cover every block from the start to `busyUntil`; the advisor claim is the slot start; day and
 * loaner claims are the local date.
 */
export function claimsOf(held: HeldCapacity): Claim[] {
  const claims: Claim[] = [];
  for (let t = Date.parse(held.startsAt); t < Date.parse(held.busyUntil); t += BLOCK_MS) {
    claims.push({ resource: `bay:${held.bayId}`, blockStart: iso(t) });
  }
  claims.push({ resource: `advisor:${held.advisorUnit}`, blockStart: held.startsAt });
  claims.push({ resource: `day:${held.dayUnit}`, blockStart: held.localDate });
  if (held.loanerUnit !== null) claims.push({ resource: `loaner:${held.loanerUnit}`, blockStart: held.localDate });
  return claims.sort((a, b) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : a.blockStart < b.blockStart ? -1 : a.blockStart > b.blockStart ? 1 : 0));
}

/** Held capacity for a range of dates, looked up per local date. */
export type HeldByDate = ReadonlyMap<string, readonly HeldCapacity[]>;

/** Groups held rows by their local date, for the functions that look at several days. */
export function groupByDate(held: readonly HeldCapacity[]): Map<string, HeldCapacity[]> {
  const byDate = new Map<string, HeldCapacity[]>();
  for (const h of held) {
    const list = byDate.get(h.localDate);
    if (list) list.push(h);
    else byDate.set(h.localDate, [h]);
  }
  return byDate;
}

/**
 * What to offer someone whose slot was just taken: the free starts nearest to `wanted` on its own day
 * (earlier or later, the closer first), then the earliest starts of the following days, up to `count`
 * slots and `days` days ahead (never beyond the horizon). `heldByDate` must cover those days.
 */
export function nearestFreeSlots(
  rules: BranchRules,
  request: SlotRequest,
  wanted: string,
  heldByDate: HeldByDate,
  options: { count: number; days: number },
): Slot[] {
  const at = Date.parse(wanted);
  const date = localDateOf(at, rules.timeZone);
  const sameDay = freeSlots(rules, request, date, heldByDate.get(date) ?? []).slots;
  const found = sameDay
    .map((s) => ({ s, distance: Math.abs(Date.parse(s.startsAt) - at) }))
    .sort((a, b) => a.distance - b.distance || Date.parse(a.s.startsAt) - Date.parse(b.s.startsAt))
    .slice(0, options.count)
    .map((x) => x.s);
  for (let d = 1; d <= options.days && found.length < options.count; d++) {
    const day = freeSlots(rules, request, addDays(date, d), heldByDate.get(addDays(date, d)) ?? []);
    if (day.closed === 'beyond_horizon') break;
    found.push(...day.slots.slice(0, options.count - found.length));
  }
  return found;
}

/** One day of a date picker: closed, or how many starts are free and the first of them. */
export interface DaySummary {
  date: string;
  closed: ClosedReason | null;
  freeSlots: number;
  firstFree: Slot | null;
  loanersLeft: number;
}

/**
 * A date picker's or calendar's view of `days` local dates from `from`: which days have a free start for
 * the request. `heldByDate` must cover those days.
 */
export function daysWithFreeSlots(rules: BranchRules, request: SlotRequest, from: string, days: number, heldByDate: HeldByDate): DaySummary[] {
  const summary: DaySummary[] = [];
  for (let d = 0; d < days; d++) {
    const date = addDays(from, d);
    const day = freeSlots(rules, request, date, heldByDate.get(date) ?? []);
    summary.push({ date, closed: day.closed, freeSlots: day.slots.length, firstFree: day.slots[0] ?? null, loanersLeft: day.loanersLeft });
  }
  return summary;
}
