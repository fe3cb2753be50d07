import { availabilityForDate, availabilitySummary, bookAppointment, rescheduleAppointment, type BookRefusal } from '../../booking/booking';
import { findAppointment, type Appointment } from '../../booking/appointments';
import { loadBranchCapacity, type BranchCapacity } from '../../booking/capacity';
import type { Choice, Input, Reply, TextRef } from '../../channels/types';
import type { Slot } from '../../domain/availability';
import { parseWhen, type WhenAsked } from '../../domain/free-text-date';
import { addDays, localDateOf } from '../../domain/local-time';
import { formatDayLong, formatDayShort, formatMonth, weekdayInitials } from '../../i18n/format';
import type { Locale } from '../../i18n/locales';
import { addVehicle, vehiclesOf } from '../../store/vehicles';
import { isValidPlate, normalizePlate } from '../../domain/vehicle-identifiers';
import { normalizeWords } from '../intents';
import { flowChoiceId, type Flow, type FlowContext, type StepResult } from '../flow';
import { bookingCard, serviceName, vehicleLabel } from './booking-view';

/*
 * Booking a service visit: branch (when there is more than one), service type, car, day, a free time that
 * day, an optional note, a loaner car when one is free, then a confirmation card. Every step takes a button
 * or typed words; the day can be typed freely ("下週二 3點", "next Tuesday 3pm"). The same flow moves an
 * existing booking (reschedule), starting at the day.
 */

const NAME = 'book';
const id = (...parts: (string | number)[]) => flowChoiceId({ name: NAME }, ...parts);

/** LINE shows at most 13 quick replies: times per page leave room for "later times" and "another day". */
const TIMES_PER_PAGE = 11;
const QUICK_DAYS = 10;
const MAX_REASKS = 3;

export interface BookingState {
  branchId?: string;
  serviceTypeCode?: string;
  vehicleId?: string | null;
  newVehicle?: { plate: string; make: string | null; model: string | null; year: number | null };
  date?: string;
  /** Narrows the times offered ("上午", "afternoon") or puts the nearest first ("3pm"). */
  partOfDay?: WhenAsked['partOfDay'];
  preferTime?: string | null;
  page?: number;
  /** Times offered in the last message, when they were alternatives rather than a day's list. */
  offered?: Slot[];
  startsAt?: string;
  localTime?: string;
  note?: string | null;
  loaner?: boolean;
  calendarMonth?: string;
  /** Moving an existing booking instead of making a new one. */
  reschedule?: { appointmentId: string; version: number; reference: string };
  reasks?: number;
}

type Step = 'branch' | 'service' | 'vehicle' | 'plate' | 'makeModel' | 'year' | 'mileage' | 'date' | 'time' | 'note' | 'loaner' | 'confirm';

const text = (key: string, params?: Record<string, string | number>): TextRef => ({ key: `booking:${key}`, params });
const skipChoice = (): Choice => ({ kind: 'postback', id: id('skip'), label: text('skip') });
const ask = (state: BookingState, step: Step, replies: Reply[]): StepResult => ({ replies, next: { step, state } });

function isSkip(input: Input): boolean {
  if (input.type === 'choice') return input.id === id('skip');
  return input.type === 'text' && ['skip', '跳過', '略過', '跳过', 'スキップ', 'ข้าม', '-', 'no', 'none', '無', '无', 'なし', 'ไม่มี'].includes(normalizeWords(input.text));
}

function yesNo(input: Input): boolean | null {
  if (input.type === 'choice') return input.id === id('yes') ? true : input.id === id('no') ? false : null;
  if (input.type !== 'text') return null;
  const words = normalizeWords(input.text);
  if (['yes', 'y', 'ok', '好', '是', '要', '需要', 'はい', '必要', 'ใช่', 'ต้องการ'].includes(words)) return true;
  if (['no', 'n', '不', '否', '不要', '不用', 'いいえ', '不要です', 'ไม่', 'ไม่ต้องการ'].includes(words)) return false;
  return null;
}

/** Counts polite re-asks; after a few the customer is offered the menu and a person instead of looping. */
function reask(ctx: FlowContext, state: BookingState, step: Step, replies: Reply[]): StepResult {
  const reasks = (state.reasks ?? 0) + 1;
  if (reasks > MAX_REASKS) {
    return { replies: [{ type: 'text', text: { key: 'unknown' }, choices: ctx.menuChoices() }], next: null };
  }
  return ask({ ...state, reasks }, step, replies);
}

const fresh = (state: BookingState): BookingState => ({ ...state, reasks: 0 });

async function capacityOf(ctx: FlowContext, state: BookingState): Promise<BranchCapacity | null> {
  return state.branchId ? loadBranchCapacity(ctx.tx, state.branchId) : null;
}

// ——— steps ———

async function askBranch(ctx: FlowContext, state: BookingState): Promise<StepResult> {
  const branches = await ctx.tx.selectFrom('branches').select(['id', 'name']).orderBy('name').execute();
  if (branches.length === 1) return askService(ctx, fresh({ ...state, branchId: branches[0]!.id }));
  if (branches.length === 0) return { replies: [{ type: 'text', text: { key: 'notAvailable' }, choices: ctx.menuChoices() }], next: null };
  return ask(state, 'branch', [
    { type: 'text', text: text('chooseBranch'), choices: branches.slice(0, 13).map((b) => ({ kind: 'postback', id: id('br', b.id), label: { raw: b.name } })) },
  ]);
}

async function answerBranch(ctx: FlowContext, state: BookingState, input: Input): Promise<StepResult> {
  const branches = await ctx.tx.selectFrom('branches').select(['id', 'name']).orderBy('name').execute();
  let chosen: string | undefined;
  if (input.type === 'choice' && input.id.startsWith(id('br', ''))) chosen = branches.find((b) => b.id === input.id.slice(id('br', '').length))?.id;
  if (input.type === 'text') {
    const words = normalizeWords(input.text);
    chosen = (branches[Number(words) - 1] ?? branches.find((b) => normalizeWords(b.name).includes(words) && words.length >= 2))?.id;
  }
  if (!chosen) return reask(ctx, state, 'branch', (await askBranch(ctx, state)).replies);
  return askService(ctx, fresh({ ...state, branchId: chosen }));
}

async function askService(ctx: FlowContext, state: BookingState, reasking = false): Promise<StepResult> {
  const capacity = await capacityOf(ctx, state);
  const types = capacity?.serviceTypes.filter((t) => t.active) ?? [];
  if (types.length === 0) return { replies: [{ type: 'text', text: { key: 'notAvailable' }, choices: ctx.menuChoices() }], next: null };
  const replies: Reply[] = [
    {
      type: 'text',
      text: text('chooseService'),
      choices: types.slice(0, 13).map((t) => ({ kind: 'postback', id: id('st', t.code), label: { raw: serviceName(t.names, ctx.locale, t.code) } })),
    },
  ];
  return reasking ? reask(ctx, state, 'service', replies) : ask(state, 'service', replies);
}

async function answerService(ctx: FlowContext, state: BookingState, input: Input): Promise<StepResult> {
  const capacity = await capacityOf(ctx, state);
  const types = capacity?.serviceTypes.filter((t) => t.active) ?? [];
  let code: string | undefined;
  if (input.type === 'choice' && input.id.startsWith(id('st', ''))) code = input.id.slice(id('st', '').length);
  if (input.type === 'text') {
    const words = normalizeWords(input.text);
    const byNumber = types[Number(words) - 1];
    const byName = types.find((t) => Object.values(t.names).some((n) => normalizeWords(n) === words || (words.length >= 2 && normalizeWords(n).includes(words))));
    code = (byNumber ?? byName)?.code;
  }
  if (!code || !types.some((t) => t.code === code)) return askService(ctx, state, true);
  return askVehicle(ctx, fresh({ ...state, serviceTypeCode: code }));
}

async function askVehicle(ctx: FlowContext, state: BookingState, reasking = false): Promise<StepResult> {
  const vehicles = await vehiclesOf(ctx.tx, ctx.customer.id);
  if (vehicles.length === 0) return ask(state, 'plate', [{ type: 'text', text: text('askPlate') }]);
  const replies: Reply[] = [
    {
      type: 'text',
      text: text('chooseVehicle'),
      choices: [
        ...vehicles.slice(0, 12).map((v): Choice => ({ kind: 'postback', id: id('veh', v.id), label: { raw: vehicleLabel(v) } })),
        { kind: 'postback', id: id('veh', 'new'), label: text('otherVehicle') },
      ],
    },
  ];
  return reasking ? reask(ctx, state, 'vehicle', replies) : ask(state, 'vehicle', replies);
}

async function answerVehicle(ctx: FlowContext, state: BookingState, input: Input): Promise<StepResult> {
  const vehicles = await vehiclesOf(ctx.tx, ctx.customer.id);
  if (input.type === 'choice' && input.id === id('veh', 'new')) return ask(fresh(state), 'plate', [{ type: 'text', text: text('askPlate') }]);
  if (input.type === 'choice' && input.id.startsWith(id('veh', ''))) {
    const vehicle = vehicles.find((v) => v.id === input.id.slice(id('veh', '').length));
    if (vehicle) return askDate(ctx, fresh({ ...state, vehicleId: vehicle.id }));
  }
  if (input.type === 'text') {
    const plate = normalizePlate(input.text);
    const known = vehicles.find((v) => v.plate_normalized === plate);
    if (known) return askDate(ctx, fresh({ ...state, vehicleId: known.id }));
    // A plate they have not registered yet: take it as the new car's plate.
    if (isValidPlate(plate)) return ask(fresh({ ...state, newVehicle: { plate: displayPlate(input.text), make: null, model: null, year: null } }), 'makeModel', [{ type: 'text', text: text('askMakeModel'), choices: [skipChoice()] }]);
  }
  return askVehicle(ctx, state, true);
}

/** The plate as the customer wrote it, tidied for display: "abc 1234" → "ABC 1234". */
function displayPlate(typed: string): string {
  return typed.normalize('NFKC').trim().replace(/\s+/g, ' ').toUpperCase();
}

function answerPlate(ctx: FlowContext, state: BookingState, input: Input): StepResult {
  const typed = input.type === 'text' ? input.text.trim() : '';
  if (!typed || typed.length > 20 || !isValidPlate(normalizePlate(typed))) return reask(ctx, state, 'plate', [{ type: 'text', text: text('plateInvalid') }]);
  return ask(fresh({ ...state, newVehicle: { plate: displayPlate(typed), make: null, model: null, year: null } }), 'makeModel', [{ type: 'text', text: text('askMakeModel'), choices: [skipChoice()] }]);
}

function answerMakeModel(ctx: FlowContext, state: BookingState, input: Input): StepResult {
  const nextAsk = (s: BookingState) => ask(fresh(s), 'year', [{ type: 'text', text: text('askYear'), choices: [skipChoice()] }]);
  if (isSkip(input)) return nextAsk(state);
  if (input.type !== 'text' || !input.text.trim()) return reask(ctx, state, 'makeModel', [{ type: 'text', text: text('askMakeModel'), choices: [skipChoice()] }]);
  const [make, ...model] = input.text.trim().slice(0, 80).split(/\s+/);
  return nextAsk({ ...state, newVehicle: { ...state.newVehicle!, make: make ?? null, model: model.join(' ') || null } });
}

function answerYear(ctx: FlowContext, state: BookingState, input: Input): StepResult {
  const nextAsk = (s: BookingState) => ask(fresh(s), 'mileage', [{ type: 'text', text: text('askMileage'), choices: [skipChoice()] }]);
  if (isSkip(input)) return nextAsk(state);
  const max = Number(localDateOf(ctx.now, ctx.config.dealer.timeZone).slice(0, 4)) + 1;
  const year = input.type === 'text' ? Number(input.text.normalize('NFKC').replace(/[^\d]/g, '')) : NaN;
  if (!Number.isInteger(year) || year < 1950 || year > max) return reask(ctx, state, 'year', [{ type: 'text', text: text('yearInvalid', { max }), choices: [skipChoice()] }]);
  return nextAsk({ ...state, newVehicle: { ...state.newVehicle!, year } });
}

async function answerMileage(ctx: FlowContext, state: BookingState, input: Input): Promise<StepResult> {
  let mileage: number | null = null;
  if (!isSkip(input)) {
    const digits = input.type === 'text' ? input.text.normalize('NFKC').replace(/[,\s]|km|公里|キロ|กม\.?/gi, '') : '';
    mileage = /^\d{1,7}$/.test(digits) ? Number(digits) : NaN;
    if (Number.isNaN(mileage)) return reask(ctx, state, 'mileage', [{ type: 'text', text: text('mileageInvalid'), choices: [skipChoice()] }]);
  }
  const nv = state.newVehicle!;
  const vehicle = await addVehicle(
    ctx.tx,
    ctx.customer.id,
    { plate: nv.plate, plateNormalized: normalizePlate(nv.plate), make: nv.make, model: nv.model, year: nv.year, mileageKm: mileage },
    ctx.now.toISOString(),
  );
  return askDate(ctx, fresh({ ...state, vehicleId: vehicle.id, newVehicle: undefined }));
}

/** Day choices: quick buttons and a date picker (LINE, web), or an inline month calendar (Telegram). */
async function dateChoices(ctx: FlowContext, state: BookingState, capacity: BranchCapacity): Promise<{ choices: Choice[]; columns?: number; any: boolean; heading?: string }> {
  const today = localDateOf(ctx.now, capacity.rules.timeZone);
  const summary = await availabilitySummary(ctx.tx, capacity, { serviceTypeCode: state.serviceTypeCode!, loaner: false }, ctx.now);
  const open = summary.ok ? summary.days.filter((d) => d.freeSlots > 0).map((d) => d.date) : [];
  const last = addDays(today, capacity.rules.settings.horizonDays);
  if (ctx.channel === 'telegram') {
    const month = state.calendarMonth ?? (open[0] ?? today).slice(0, 7);
    return { choices: calendar(ctx.locale, month, new Set(open), today.slice(0, 7), last.slice(0, 7)), columns: 7, any: open.length > 0, heading: formatMonth(ctx.locale, month) };
  }
  const quick = open.slice(0, QUICK_DAYS).map((date): Choice => ({ kind: 'postback', id: id('d', date), label: { raw: formatDayShort(ctx.locale, date) } }));
  const picker: Choice = { kind: 'datetime', id: id('pick'), label: text('pickDate'), mode: 'date', initial: open[0] ?? today, min: today, max: last };
  return { choices: [...quick, picker], any: open.length > 0 };
}

/** Telegram refuses a button without text; a Braille blank shows as an empty cell. */
const BLANK = '\u2800';

/** A month as 7-column rows: weekday initials, the days (free ones pressable), then ‹ › to move. */
function calendar(locale: Locale, month: string, open: Set<string>, firstMonth: string, lastMonth: string): Choice[] {
  const noop = (label: string): Choice => ({ kind: 'postback', id: id('noop'), label: { raw: label } });
  const cells: Choice[] = weekdayInitials(locale).map(noop);
  const first = `${month}-01`;
  const lead = (new Date(`${first}T12:00:00Z`).getUTCDay() + 6) % 7;
  for (let i = 0; i < lead; i++) cells.push(noop(BLANK));
  for (let date = first; date.startsWith(month); date = addDays(date, 1)) {
    const day = String(Number(date.slice(8)));
    cells.push(open.has(date) ? { kind: 'postback', id: id('d', date), label: { raw: day } } : noop('·'));
  }
  while (cells.length % 7 !== 0) cells.push(noop(BLANK));
  const prev = addDays(first, -1).slice(0, 7);
  const next = addDays(`${month}-28`, 7).slice(0, 7);
  cells.push(month > firstMonth ? { kind: 'postback', id: id('cal', prev), label: { raw: `‹ ${formatMonth(locale, prev)}` } } : noop(BLANK));
  cells.push(...Array.from({ length: 5 }, () => noop(BLANK)));
  cells.push(month < lastMonth ? { kind: 'postback', id: id('cal', next), label: { raw: `${formatMonth(locale, next)} ›` } } : noop(BLANK));
  return cells;
}

async function askDate(ctx: FlowContext, state: BookingState, lead: TextRef | null = null, reasking = false): Promise<StepResult> {
  const capacity = await capacityOf(ctx, state);
  if (!capacity) return { replies: [{ type: 'text', text: { key: 'notAvailable' }, choices: ctx.menuChoices() }], next: null };
  const { choices, columns, any, heading } = await dateChoices(ctx, state, capacity);
  if (!any) return { replies: [{ type: 'text', text: text('noDates'), choices: ctx.menuChoices() }], next: null };
  const prompt = text(ctx.channel === 'telegram' ? 'askDateCalendar' : 'askDate');
  const parts: TextRef[] = [...(lead ? [lead] : []), prompt, ...(heading ? [{ raw: heading }] : [])];
  const replies: Reply[] = [{ type: 'text', text: parts.length === 1 ? parts[0]! : parts, choices, ...(columns ? { columns } : {}) }];
  return reasking ? reask(ctx, state, 'date', replies) : ask(state, 'date', replies);
}

/** The free starts on `state.date`, shaped by what the customer asked for (a part of day, a time). */
async function timesFor(ctx: FlowContext, state: BookingState, capacity: BranchCapacity) {
  const result = await availabilityForDate(ctx.tx, capacity, { serviceTypeCode: state.serviceTypeCode!, loaner: false, date: state.date! }, ctx.now);
  if (!result.ok) return { closed: null, slots: [] as Slot[], all: [] as Slot[] };
  const all = result.day.slots;
  let slots = all;
  if (state.partOfDay) {
    const inPart = all.filter((s) => (state.partOfDay === 'morning' ? s.localTime < '12:00' : state.partOfDay === 'afternoon' ? s.localTime >= '12:00' && s.localTime < '18:00' : s.localTime >= '17:00'));
    slots = inPart;
  }
  if (state.preferTime) {
    const target = toMinutes(state.preferTime);
    slots = [...slots].sort((a, b) => Math.abs(toMinutes(a.localTime) - target) - Math.abs(toMinutes(b.localTime) - target));
  }
  return { closed: result.day.closed, slots, all };
}

function toMinutes(time: string): number {
  const [h, m] = time.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

function timeChoices(slots: Slot[], page: number, more: boolean): Choice[] {
  const shown = slots.slice(page * TIMES_PER_PAGE, (page + 1) * TIMES_PER_PAGE);
  return [
    ...shown.map((s): Choice => ({ kind: 'postback', id: id('t', s.localDate, s.localTime.replace(':', '')), label: { raw: s.localTime } })),
    ...(more && slots.length > (page + 1) * TIMES_PER_PAGE ? [{ kind: 'postback' as const, id: id('more'), label: text('laterTimes') }] : []),
    { kind: 'postback', id: id('otherday'), label: text('otherDay') },
  ];
}

/** Offers the free times of the chosen day, or says why there are none and asks for another day. */
async function askTime(ctx: FlowContext, state: BookingState, lead: TextRef | null = null): Promise<StepResult> {
  const capacity = (await capacityOf(ctx, state))!;
  const today = localDateOf(ctx.now, capacity.rules.timeZone);
  const date = state.date!;
  const day = formatDayLong(ctx.locale, date);
  if (date < today) return askDate(ctx, { ...state, date: undefined }, text('datePast'), true);
  if (date > addDays(today, capacity.rules.settings.horizonDays)) return askDate(ctx, { ...state, date: undefined }, text('dateBeyond', { days: capacity.rules.settings.horizonDays }), true);
  const { closed, slots, all } = await timesFor(ctx, state, capacity);
  if (closed === 'holiday' || closed === 'closed') return askDate(ctx, { ...state, date: undefined }, text('dateClosed', { date: day }), true);
  if (all.length === 0) return askDate(ctx, { ...state, date: undefined }, text('dateFull', { date: day }), true);
  let shown = slots;
  let intro: TextRef = text('chooseTime', { date: day });
  if (slots.length === 0 && state.partOfDay) {
    shown = all;
    intro = text('noTimesInPart', { part: partName(ctx, state.partOfDay) });
  }
  if (state.preferTime && shown[0] && shown[0].localTime !== state.preferTime) intro = text('timeNotFree', { time: state.preferTime });
  const page = state.page ?? 0;
  return ask({ ...state, offered: undefined }, 'time', [{ type: 'text', text: lead ? [lead, intro] : intro, choices: timeChoices(shown, page, true) }]);
}

function partName(ctx: FlowContext, part: NonNullable<WhenAsked['partOfDay']>): string {
  return ctx.translator.t(ctx.locale, `booking:part${part[0]!.toUpperCase()}${part.slice(1)}`);
}

async function answerDate(ctx: FlowContext, state: BookingState, input: Input): Promise<StepResult> {
  if (input.type === 'choice' && input.id === id('noop')) return { replies: [], next: { step: 'date', state } };
  if (input.type === 'choice' && input.id.startsWith(id('cal', ''))) return askDate(ctx, { ...state, calendarMonth: input.id.slice(id('cal', '').length) });
  let chosen: string | undefined;
  let when: WhenAsked | null = null;
  if (input.type === 'choice' && input.id.startsWith(id('d', ''))) chosen = input.id.slice(id('d', '').length);
  if (input.type === 'choice' && input.id === id('pick')) chosen = input.params?.date ?? input.params?.datetime?.slice(0, 10);
  if (input.type === 'text') {
    when = parseWhen(input.text, ctx.locale, ctx.now, ctx.config.dealer.timeZone);
    chosen = when?.date;
  }
  if (!chosen || !/^\d{4}-\d{2}-\d{2}$/.test(chosen)) return askDate(ctx, state, text('dateNotUnderstood'), true);
  const next = fresh({ ...state, date: chosen, page: 0, partOfDay: when?.partOfDay ?? null, preferTime: when?.time ?? null });
  if (when?.time) {
    // "next Tuesday 3pm": when 15:00 is free, take it straight to the next question.
    const capacity = (await capacityOf(ctx, state))!;
    const { all } = await timesFor(ctx, next, capacity);
    const exact = all.find((s) => s.localTime === when.time);
    if (exact) return afterTime(ctx, { ...next, startsAt: exact.startsAt, localTime: exact.localTime });
  }
  return askTime(ctx, next);
}

async function answerTime(ctx: FlowContext, state: BookingState, input: Input): Promise<StepResult> {
  if (input.type === 'choice' && input.id === id('more')) return askTime(ctx, { ...state, page: (state.page ?? 0) + 1 });
  if (input.type === 'choice' && input.id === id('otherday')) return askDate(ctx, fresh({ ...state, date: undefined, calendarMonth: undefined }));
  const capacity = (await capacityOf(ctx, state))!;
  let date = state.date!;
  let time: string | null = null;
  if (input.type === 'choice' && input.id.startsWith(id('t', ''))) {
    const [d, hhmm] = input.id.slice(id('t', '').length).split(':');
    date = d ?? date;
    time = hhmm && /^\d{4}$/.test(hhmm) ? `${hhmm.slice(0, 2)}:${hhmm.slice(2)}` : null;
  }
  if (input.type === 'text') {
    const typed = input.text.normalize('NFKC').trim();
    const clock = /^(\d{1,2})[:：.時点點](\d{2})?/.exec(typed);
    if (clock) time = `${clock[1]!.padStart(2, '0')}:${clock[2] ?? '00'}`;
    else {
      // A new day instead of a time ("actually, Friday").
      const when = parseWhen(typed, ctx.locale, ctx.now, ctx.config.dealer.timeZone);
      if (when) return answerDate(ctx, { ...state }, input);
    }
  }
  if (!time) return reask(ctx, state, 'time', [{ type: 'text', text: text('timeNotUnderstood'), choices: timeChoices((await timesFor(ctx, state, capacity)).slots, state.page ?? 0, true) }]);
  const { all } = await timesFor(ctx, { ...state, date }, capacity);
  const slot = all.find((s) => s.localTime === time);
  if (!slot) return askTime(ctx, fresh({ ...state, date, preferTime: time, page: 0, partOfDay: null }));
  return afterTime(ctx, fresh({ ...state, date, startsAt: slot.startsAt, localTime: slot.localTime }));
}

/** After a time: a reschedule goes straight to the confirmation; a new booking asks for a note first. */
async function afterTime(ctx: FlowContext, state: BookingState): Promise<StepResult> {
  if (state.reschedule) return askConfirm(ctx, state);
  return ask(fresh(state), 'note', [{ type: 'text', text: text('askNote'), choices: [skipChoice()] }]);
}

async function answerNote(ctx: FlowContext, state: BookingState, input: Input): Promise<StepResult> {
  let note: string | null = null;
  if (!isSkip(input)) {
    if (input.type !== 'text' || !input.text.trim()) return reask(ctx, state, 'note', [{ type: 'text', text: text('askNote'), choices: [skipChoice()] }]);
    note = input.text.trim().slice(0, 500);
  }
  const next = fresh({ ...state, note });
  const capacity = (await capacityOf(ctx, state))!;
  const day = await availabilityForDate(ctx.tx, capacity, { serviceTypeCode: state.serviceTypeCode!, loaner: true, date: state.date! }, ctx.now);
  if (day.ok && day.day.slots.some((s) => s.startsAt === state.startsAt)) {
    return ask(next, 'loaner', [
      { type: 'text', text: text('askLoaner'), choices: [{ kind: 'postback', id: id('yes'), label: text('yes') }, { kind: 'postback', id: id('no'), label: text('no') }] },
    ]);
  }
  return askConfirm(ctx, { ...next, loaner: false });
}

function answerLoaner(ctx: FlowContext, state: BookingState, input: Input): Promise<StepResult> | StepResult {
  const answer = yesNo(input);
  if (answer === null) {
    return reask(ctx, state, 'loaner', [
      { type: 'text', text: text('yesNoReask'), choices: [{ kind: 'postback', id: id('yes'), label: text('yes') }, { kind: 'postback', id: id('no'), label: text('no') }] },
    ]);
  }
  return askConfirm(ctx, fresh({ ...state, loaner: answer }));
}

async function askConfirm(ctx: FlowContext, state: BookingState): Promise<StepResult> {
  const capacity = (await capacityOf(ctx, state))!;
  const type = capacity.serviceTypes.find((t) => t.code === state.serviceTypeCode);
  const vehicle = state.vehicleId ? await ctx.tx.selectFrom('vehicles').selectAll().where('id', '=', state.vehicleId).executeTakeFirst() : undefined;
  const card = bookingCard(ctx.locale, {
    title: text('confirmTitle'),
    branchName: capacity.branchName,
    service: serviceName(type?.names ?? {}, ctx.locale, state.serviceTypeCode ?? ''),
    vehicle: vehicle ? vehicleLabel(vehicle) : null,
    date: state.date!,
    time: state.localTime!,
    loaner: state.loaner ?? false,
    note: state.note ?? null,
    reference: state.reschedule?.reference ?? null,
    footer: null,
    choices: [
      { kind: 'postback', id: id('ok'), label: text('confirm') },
      { kind: 'postback', id: id('otherday'), label: text('changeTime') },
      { kind: 'postback', id: 'i:cancel', label: { key: 'labels.cancel' } },
    ],
  });
  return ask(fresh(state), 'confirm', [card]);
}

async function answerConfirm(ctx: FlowContext, state: BookingState, input: Input): Promise<StepResult> {
  if (input.type === 'choice' && input.id === id('otherday')) return askDate(ctx, fresh({ ...state, date: undefined, startsAt: undefined }));
  const yes = (input.type === 'choice' && input.id === id('ok')) || yesNo(input) === true || (input.type === 'text' && ['confirm', '確認', '确认', '確定', 'ยืนยัน'].includes(normalizeWords(input.text)));
  if (!yes) return reask(ctx, state, 'confirm', [{ type: 'text', text: text('confirmReask'), choices: [{ kind: 'postback', id: id('ok'), label: text('confirm') }, { kind: 'postback', id: id('otherday'), label: text('changeTime') }] }]);

  const channel = ctx.channel;
  const result = state.reschedule
    ? await rescheduleAppointment(ctx.tx, { appointmentId: state.reschedule.appointmentId, expectedVersion: state.reschedule.version, actor: { type: 'customer', customerId: ctx.customer.id }, channel, startsAt: state.startsAt! }, ctx.now)
    : await bookAppointment(
        ctx.tx,
        {
          branchId: state.branchId!,
          customerId: ctx.customer.id,
          vehicleId: state.vehicleId ?? null,
          serviceTypeCode: state.serviceTypeCode!,
          startsAt: state.startsAt!,
          loaner: state.loaner ?? false,
          note: state.note ?? null,
          channel,
          actor: { type: 'customer', customerId: ctx.customer.id },
        },
        ctx.now,
      );
  if (result.ok) return booked(ctx, result.appointment, state.reschedule ? 'rescheduledTitle' : 'bookedTitle', await ctx.calendarLink(result.appointment.reference));
  if ('alternatives' in result) return offerAlternatives(ctx, state, result);
  if (result.reason === 'past_cutoff') {
    const capacity = (await capacityOf(ctx, state))!;
    return { replies: [{ type: 'text', text: text('pastCutoff', { hours: capacity.rules.settings.changeCutoffHours }), choices: ctx.menuChoices() }], next: null };
  }
  return { replies: [{ type: 'text', text: text('notFound'), choices: ctx.menuChoices() }], next: null };
}

/** The time went to someone else (or no longer fits): the nearest free times, or another day. */
function offerAlternatives(ctx: FlowContext, state: BookingState, refusal: Extract<BookRefusal, { alternatives: unknown }>): Promise<StepResult> | StepResult {
  if (refusal.alternatives.length === 0) return askDate(ctx, fresh({ ...state, date: undefined, startsAt: undefined }), text('slotTakenNoAlternatives'));
  const choices: Choice[] = [
    ...refusal.alternatives.slice(0, TIMES_PER_PAGE).map((s): Choice => ({
      kind: 'postback',
      id: id('t', s.localDate, s.localTime.replace(':', '')),
      label: { raw: s.localDate === state.date ? s.localTime : `${formatDayShort(ctx.locale, s.localDate)} ${s.localTime}` },
    })),
    { kind: 'postback', id: id('otherday'), label: text('otherDay') },
  ];
  return ask(fresh({ ...state, startsAt: undefined, offered: refusal.alternatives }), 'time', [{ type: 'text', text: text('slotTaken'), choices }]);
}

function booked(ctx: FlowContext, appointment: Appointment, title: 'bookedTitle' | 'rescheduledTitle', calendar: string | null): StepResult {
  const card = bookingCard(ctx.locale, {
    title: text(title),
    branchName: null,
    service: serviceName(appointment.serviceTypeNames, ctx.locale, appointment.serviceTypeCode),
    vehicle: null,
    date: appointment.localDate,
    time: appointment.localStart,
    loaner: appointment.loanerRequested,
    note: null,
    reference: appointment.reference,
    footer: text('bookedFooter'),
    choices: [
      ...(calendar ? [{ kind: 'url' as const, url: calendar, label: text('addToCalendar') }] : []),
      { kind: 'postback', id: 'i:myBookings', label: { key: 'menu.myBookings' } },
      { kind: 'postback', id: 'i:menu', label: { key: 'labels.menu' } },
    ],
  });
  return { replies: [card], next: null };
}

const STEPS: Record<Step, (ctx: FlowContext, state: BookingState, input: Input) => Promise<StepResult> | StepResult> = {
  branch: answerBranch,
  service: answerService,
  vehicle: answerVehicle,
  plate: answerPlate,
  makeModel: answerMakeModel,
  year: answerYear,
  mileage: answerMileage,
  date: answerDate,
  time: answerTime,
  note: answerNote,
  loaner: answerLoaner,
  confirm: answerConfirm,
};

/** Starts moving an existing booking: the same day and time questions, then a confirmation. */
export async function startReschedule(ctx: FlowContext, appointmentId: string): Promise<StepResult | null> {
  const appointment = await findAppointment(ctx.tx, appointmentId);
  if (!appointment || appointment.customerId !== ctx.customer.id || appointment.status !== 'booked') return null;
  const state: BookingState = {
    branchId: appointment.branchId,
    serviceTypeCode: appointment.serviceTypeCode,
    vehicleId: appointment.vehicleId,
    loaner: appointment.loanerRequested,
    note: appointment.note,
    reschedule: { appointmentId: appointment.id, version: appointment.version, reference: appointment.reference },
  };
  const result = await askDate(ctx, state);
  return { ...result, next: result.next ? { ...result.next, flow: NAME } : null };
}

/** "Book a service": see the file comment for the steps. */
export const bookingFlow: Flow = {
  name: NAME,
  stateVersion: 1,
  intent: 'book',
  menuOrder: 10,
  async start(ctx, input) {
    // A button from an earlier booking conversation (a day, a time) cannot be trusted to fit a new one.
    if (input && input.type === 'choice' && input.id !== id('noop')) {
      return { replies: [{ type: 'text', text: { key: 'staleButton' }, choices: ctx.menuChoices() }], next: null };
    }
    if (input && input.type === 'choice') return { replies: [], next: null };
    return askBranch(ctx, {});
  },
  async step(ctx, step, raw, input) {
    const state = raw as BookingState;
    // A button of an earlier question in this same conversation: go back to that question's answer.
    if (input.type === 'choice') {
      if (input.id.startsWith(id('st', ''))) return answerService(ctx, state, input);
      if (input.id.startsWith(id('veh', ''))) return answerVehicle(ctx, state, input);
      if (input.id.startsWith(id('d', '')) || input.id === id('pick') || input.id.startsWith(id('cal', ''))) return answerDate(ctx, state, input);
      if (input.id.startsWith(id('t', '')) && step !== 'time') return answerTime(ctx, { ...state, startsAt: undefined }, input);
    }
    const handler = STEPS[step as Step];
    if (!handler) return askBranch(ctx, {});
    return handler(ctx, state, input);
  },
};

