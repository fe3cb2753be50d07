import { readModelYear } from '../../domain/model-year';
import { availabilityForDate, availabilitySummary, bookAppointment, rescheduleAppointment, type BookRefusal } from '../../booking/booking';
import { branchNameIn, branchProfile } from '../../booking/branch-profile';
import { cachedBranchCapacity, cachedBranchProfiles } from '../../booking/cached-reads';
import { findAppointment, type Appointment } from '../../booking/appointments';
import type { BranchCapacity } from '../../booking/capacity';
import type { Choice, Input, Reply, TextRef } from '../../channels/types';
import type { Slot } from '../../domain/availability';
import { parseWhen, type WhenAsked } from '../../domain/free-text-date';
import { addDays } from '../../domain/local-time';
import { isPlateOf, mobileExample, plateExample, readMobileNumber } from '../../domain/countries';
import { readQuantity } from '../../domain/numbers';
import { reminderDueTimes } from '../../domain/reminder-times';
import { normalizePlate } from '../../domain/vehicle-identifiers';
import { foldText } from '../../domain/segment';
import { updateCustomer } from '../../store/customers';
import { continueChoices } from '../channel-link';
import { isPlainRequest } from '../understanding';
import { formatDayLong, formatDayShort, formatMonth, weekdayInitials } from '../../i18n/format';
import type { Locale } from '../../i18n/locales';
import { addVehicle, vehicleOf, vehiclesOf } from '../../store/vehicles';
import { bookingButtons as buttons, intentButtons } from '../button-ids';
import { withinChangeCutoff } from '../../domain/booking-rules';
import type { FlowClock, FlowContext } from '../flow';
import { defineFlow, endings, freeText, isConfirm, isSkip, optionChoices, pickOne, skipChoice, stepKit, typedText, yesNo, yesNoChoices, type Handover, type Option, type Outcome } from '../kit';
import { bookingCard, serviceName, vehicleLabel } from './booking-view';

/*
 * Booking a service visit: branch (when there is more than one), service type, car, day, a free time that
 * day, an optional note, a loaner car when one is free, the customer's name and mobile number when we do
 * not have them yet, then a confirmation card. Every step takes a button or typed words; the day can be
 * typed freely ("下週二 3點", "next Tuesday 3pm") and is read in the branch's time zone, a plate and a mobile
 * number in the dealership's country formats (DEALER_COUNTRY), a mileage as people say it (「三萬公里」).
 * The same flow moves an existing booking (reschedule), starting at the day.
 */

/** LINE shows at most 13 quick replies: times per page leave room for "later times" and "another day". */
const TIMES_PER_PAGE = 11;
const QUICK_DAYS = 10;

type PartOfDay = WhenAsked['partOfDay'];
interface Reschedule {
  appointmentId: string;
  version: number;
  reference: string;
  /** When it is now, to say it still stands if the customer stops midway. */
  from?: { date: string; time: string };
}
interface NewVehicle {
  plate: string;
  make: string | null;
  model: string | null;
  year: number | null;
}

// Each step's state holds what the customer has chosen so far, and nothing it has not.
interface AtBranch {
  branchId: string;
}
interface ForService extends AtBranch {
  serviceTypeCode: string;
}
interface NewCar extends ForService {
  newVehicle: NewVehicle;
}
interface ForCar extends ForService {
  vehicleId: string | null;
  /** Moving an existing booking, which keeps its note and loaner car. */
  reschedule?: Reschedule & { note: string | null; loaner: boolean };
}
interface DayAsked extends ForCar {
  calendarMonth?: string;
}
interface TimeAsked extends ForCar {
  date: string;
  /** Narrows the times offered ("上午", "afternoon") or puts the nearest first ("3pm"). */
  partOfDay: PartOfDay;
  preferTime: string | null;
  page: number;
}
interface TimeChosen extends ForCar {
  date: string;
  startsAt: string;
  localTime: string;
}
interface NoteGiven extends TimeChosen {
  note: string | null;
}
interface ReadyToConfirm extends NoteGiven {
  loaner: boolean;
  /** The name and mobile number given in this conversation (the customer's record has them from the next message). */
  name?: string;
  phone?: string;
}

type Steps = {
  branch: Record<string, never>;
  service: AtBranch;
  vehicle: ForService;
  plate: ForService;
  makeModel: NewCar;
  year: NewCar;
  mileage: NewCar;
  date: DayAsked;
  time: TimeAsked;
  note: TimeChosen;
  loaner: NoteGiven;
  name: ReadyToConfirm;
  phone: ReadyToConfirm;
  confirm: ReadyToConfirm;
};
type Result = Outcome<Steps>;
const { ask, reask, done, handTo } = stepKit<Steps>();

/** The steps in the order they are asked: a step's state has everything the steps before it chose. */
const ORDER: (keyof Steps)[] = ['branch', 'service', 'vehicle', 'plate', 'makeModel', 'year', 'mileage', 'date', 'time', 'note', 'loaner', 'name', 'phone', 'confirm'];
const isPast = (step: keyof Steps, than: keyof Steps) => ORDER.indexOf(step) > ORDER.indexOf(than);

const text = (key: string, params?: Record<string, string | number>): TextRef => ({ key: `booking:${key}`, params });
const say = (key: string, params?: Record<string, string | number>, choices?: Choice[]): Reply => ({ type: 'text', text: text(key, params), ...(choices ? { choices } : {}) });
const skip = () => skipChoice(buttons);

/** What the customer is shown of the branch: kept for a moment (see src/booking/cached-reads.ts). */
async function capacityOf(ctx: FlowContext, branchId: string): Promise<BranchCapacity | null> {
  return cachedBranchCapacity(ctx.tx, branchId);
}

/** The clock in the branch's zone: its days, and the "tomorrow" the customer types, are read there. */
const branchClock = (ctx: FlowContext, capacity: BranchCapacity): FlowClock => ctx.clock.at(capacity.rules.timeZone);

// ——— branch and service ———

async function branchOptions(ctx: FlowContext): Promise<Option<string>[]> {
  return (await cachedBranchProfiles(ctx.tx)).map((b) => ({ id: buttons.id('branch', b.id), label: { raw: branchNameIn(b, ctx.locale) }, names: [b.name, ...Object.values(b.names)], value: b.id }));
}

async function askBranch(ctx: FlowContext): Promise<Result> {
  const options = await branchOptions(ctx);
  if (options.length === 1) return askService(ctx, { branchId: options[0]!.value });
  if (options.length === 0) return endings.notAvailable(ctx);
  return ask('branch', {}, say('chooseBranch', undefined, optionChoices(options)));
}

async function answerBranch(ctx: FlowContext, state: Steps['branch'], input: Input): Promise<Result> {
  const options = await branchOptions(ctx);
  const branchId = pickOne(input, options);
  if (!branchId) return reask('branch', state, say('chooseBranch', undefined, optionChoices(options)));
  return askService(ctx, { branchId });
}

function serviceOptions(ctx: FlowContext, capacity: BranchCapacity | null): Option<string>[] {
  return (capacity?.serviceTypes.filter((t) => t.active) ?? []).map((t) => ({
    id: buttons.id('service', t.code),
    label: { raw: serviceName(t.names, ctx.locale, t.code) },
    names: Object.values(t.names),
    value: t.code,
  }));
}

async function askService(ctx: FlowContext, state: AtBranch, again = false): Promise<Result> {
  const options = serviceOptions(ctx, await capacityOf(ctx, state.branchId));
  if (options.length === 0) return endings.notAvailable(ctx);
  return (again ? reask : ask)('service', state, say('chooseService', undefined, optionChoices(options)));
}

async function answerService(ctx: FlowContext, state: AtBranch, input: Input): Promise<Result> {
  const code = pickOne(input, serviceOptions(ctx, await capacityOf(ctx, state.branchId)));
  if (!code) return askService(ctx, state, true);
  return askVehicle(ctx, { branchId: state.branchId, serviceTypeCode: code });
}

// ——— the car ———

const askPlate = (ctx: FlowContext, state: ForService, again = false): Result => {
  const example = { example: plateExample(ctx.dealer.countries) };
  return again ? reask('plate', state, say('plateInvalid', example)) : ask('plate', state, say('askPlate', example));
};
const askMakeModel = (state: NewCar, again = false): Result => (again ? reask : ask)('makeModel', state, say('askMakeModel', undefined, [skip()]));

async function askVehicle(ctx: FlowContext, state: ForService, again = false): Promise<Result> {
  const vehicles = await vehiclesOf(ctx.tx, ctx.customer.id);
  if (vehicles.length === 0) return askPlate(ctx, state);
  const choices: Choice[] = [
    ...vehicles.slice(0, 12).map((v): Choice => ({ kind: 'postback', id: buttons.id('vehicle', v.id), label: { raw: vehicleLabel(v) } })),
    { kind: 'postback', id: buttons.id('newVehicle'), label: text('otherVehicle') },
  ];
  return (again ? reask : ask)('vehicle', state, say('chooseVehicle', undefined, choices));
}

/** The plate as the customer wrote it, tidied for display: "abc 1234" → "ABC 1234". */
function displayPlate(typed: string): string {
  return typed.normalize('NFKC').trim().replace(/\s+/g, ' ').toUpperCase();
}

/** A plate in one of the dealership's countries' formats ("hello" is not one, and is asked about again). */
const readPlate = (ctx: FlowContext, input: Input): string | null => freeText(input, (typed) => (isPlateOf(ctx.dealer.countries, typed) ? displayPlate(typed) : null), 30);

const withNewCar = (state: ForService, plate: string): NewCar => ({ branchId: state.branchId, serviceTypeCode: state.serviceTypeCode, newVehicle: { plate, make: null, model: null, year: null } });

async function answerVehicle(ctx: FlowContext, state: ForService, input: Input): Promise<Result> {
  if (input.type === 'choice' && buttons.is(input.id, 'newVehicle')) return askPlate(ctx, state);
  const vehicles = await vehiclesOf(ctx.tx, ctx.customer.id);
  const chosen = input.type === 'choice' ? buttons.argsOf(input.id, 'vehicle')?.vehicleId : null;
  const typedPlate = input.type === 'text' ? normalizePlate(input.text) : null;
  const known = vehicles.find((v) => v.id === chosen || v.plate_normalized === typedPlate);
  if (known) return askDate(ctx, { ...state, vehicleId: known.id });
  // A plate they have not registered yet: take it as the new car's plate.
  const plate = readPlate(ctx, input);
  if (plate) return askMakeModel(withNewCar(state, plate));
  return askVehicle(ctx, state, true);
}

function answerPlate(ctx: FlowContext, state: ForService, input: Input): Result {
  const plate = readPlate(ctx, input);
  if (!plate) return askPlate(ctx, state, true);
  return askMakeModel(withNewCar(state, plate));
}

function answerMakeModel(ctx: FlowContext, state: NewCar, input: Input): Result {
  const next = (s: NewCar) => ask('year', s, say('askYear', undefined, [skip()]));
  if (isSkip(ctx.words, input, buttons)) return next(state);
  const typed = freeText(input, (t) => t.slice(0, 80), 200);
  if (!typed) return askMakeModel(state, true);
  const [make, ...model] = typed.split(/\s+/);
  return next({ ...state, newVehicle: { ...state.newVehicle, make: make ?? null, model: model.join(' ') || null } });
}

function answerYear(ctx: FlowContext, state: NewCar, input: Input): Result {
  const next = (s: NewCar) => ask('mileage', s, say('askMileage', undefined, [skip()]));
  if (isSkip(ctx.words, input, buttons)) return next(state);
  const max = Number(ctx.clock.today().slice(0, 4)) + 1;
  const year = freeText(input, (t) => readModelYear(t, max));
  if (year === null) return reask('year', state, say('yearInvalid', { max }, [skip()]));
  return next({ ...state, newVehicle: { ...state.newVehicle, year } });
}

/** The most kilometres a car on the road is taken to have done; more is a typing slip. */
const MAX_MILEAGE_KM = 2_000_000;

/**
 * Kilometres as people say them: "45,000", "45000 km", "45k", 「三萬公里」, 「3萬」, 「約3万キロ」, "4 หมื่น กม.".
 * Besides the number only a unit and words like "about" may be there.
 */
function readMileage(ctx: FlowContext, input: Input): number | null {
  const allowed = [...ctx.words.all('booking.mileageUnits'), ...ctx.words.all('booking.approximately')].map((w) => w.replace(/\s/g, '')).sort((a, b) => b.length - a.length);
  return freeText(input, (typed) => {
    const quantity = readQuantity(typed);
    if (!quantity || quantity.value > MAX_MILEAGE_KM) return null;
    let rest = foldText(quantity.rest).replace(/[\s\p{P}]/gu, '');
    for (let changed = true; changed && rest; ) {
      changed = false;
      for (const word of allowed) {
        if (word && rest.startsWith(word)) {
          rest = rest.slice(word.length);
          changed = true;
          break;
        }
      }
    }
    return rest === '' ? quantity.value : null;
  });
}

async function answerMileage(ctx: FlowContext, state: NewCar, input: Input): Promise<Result> {
  let mileage: number | null = null;
  if (!isSkip(ctx.words, input, buttons)) {
    mileage = readMileage(ctx, input);
    if (mileage === null) return reask('mileage', state, say('mileageInvalid', undefined, [skip()]));
  }
  const nv = state.newVehicle;
  const vehicle = await addVehicle(
    ctx.tx,
    ctx.customer.id,
    { plate: nv.plate, plateNormalized: normalizePlate(nv.plate), make: nv.make, model: nv.model, year: nv.year, mileageKm: mileage },
    ctx.clock.now.toISOString(),
  );
  return askDate(ctx, { branchId: state.branchId, serviceTypeCode: state.serviceTypeCode, vehicleId: vehicle.id });
}

// ——— the day ———

/** Day choices: quick buttons and a date picker (LINE, web), or an inline month calendar (Telegram). */
async function dateChoices(ctx: FlowContext, state: DayAsked, capacity: BranchCapacity): Promise<{ choices: Choice[]; columns?: number; any: boolean; heading?: string }> {
  const clock = branchClock(ctx, capacity);
  const today = clock.today();
  const summary = await availabilitySummary(ctx.tx, capacity, { serviceTypeCode: state.serviceTypeCode, loaner: false }, clock.now);
  const open = summary.ok ? summary.days.filter((d) => d.freeSlots > 0).map((d) => d.date) : [];
  const last = clock.inDays(capacity.rules.settings.horizonDays);
  if (ctx.channel === 'telegram') {
    const month = state.calendarMonth ?? (open[0] ?? today).slice(0, 7);
    return { choices: calendar(ctx.locale, month, new Set(open), today.slice(0, 7), last.slice(0, 7)), columns: 7, any: open.length > 0, heading: formatMonth(ctx.locale, month) };
  }
  const quick = open.slice(0, QUICK_DAYS).map((date): Choice => ({ kind: 'postback', id: buttons.id('day', date), label: { raw: formatDayShort(ctx.locale, date) } }));
  const picker: Choice = { kind: 'datetime', id: buttons.id('pickDay'), label: text('pickDate'), mode: 'date', initial: open[0] ?? today, min: today, max: last };
  return { choices: [...quick, picker], any: open.length > 0 };
}

/** Telegram refuses a button without text; a Braille blank shows as an empty cell. */
const BLANK = '\u2800';

/** A month as 7-column rows: weekday initials, the days (free ones pressable), then ‹ › to move. */
function calendar(locale: Locale, month: string, open: Set<string>, firstMonth: string, lastMonth: string): Choice[] {
  const noop = (label: string): Choice => ({ kind: 'postback', id: buttons.id('noop'), label: { raw: label } });
  const cells: Choice[] = weekdayInitials(locale).map(noop);
  const first = `${month}-01`;
  const lead = (new Date(`${first}T12:00:00Z`).getUTCDay() + 6) % 7;
  for (let i = 0; i < lead; i++) cells.push(noop(BLANK));
  for (let date = first; date.startsWith(month); date = addDays(date, 1)) {
    const day = String(Number(date.slice(8)));
    cells.push(open.has(date) ? { kind: 'postback', id: buttons.id('day', date), label: { raw: day } } : noop('·'));
  }
  while (cells.length % 7 !== 0) cells.push(noop(BLANK));
  const prev = addDays(first, -1).slice(0, 7);
  const next = addDays(`${month}-28`, 7).slice(0, 7);
  cells.push(month > firstMonth ? { kind: 'postback', id: buttons.id('month', prev), label: { raw: `‹ ${formatMonth(locale, prev)}` } } : noop(BLANK));
  cells.push(...Array.from({ length: 5 }, () => noop(BLANK)));
  cells.push(month < lastMonth ? { kind: 'postback', id: buttons.id('month', next), label: { raw: `${formatMonth(locale, next)} ›` } } : noop(BLANK));
  return cells;
}

/** What is kept when the customer goes back to choosing a day. */
const forCar = (s: ForCar): ForCar => ({ branchId: s.branchId, serviceTypeCode: s.serviceTypeCode, vehicleId: s.vehicleId, ...(s.reschedule ? { reschedule: s.reschedule } : {}) });

async function askDate(ctx: FlowContext, state: DayAsked, lead: TextRef | null = null, again = false): Promise<Result> {
  const capacity = await capacityOf(ctx, state.branchId);
  if (!capacity) return endings.notAvailable(ctx);
  const { choices, columns, any, heading } = await dateChoices(ctx, state, capacity);
  if (!any) return done(say('noDates', undefined, ctx.menuChoices()));
  const prompt = text(ctx.channel === 'telegram' ? 'askDateCalendar' : 'askDate');
  const parts: TextRef[] = [...(lead ? [lead] : []), prompt, ...(heading ? [{ raw: heading }] : [])];
  const reply: Reply = { type: 'text', text: parts.length === 1 ? parts[0]! : parts, choices, ...(columns ? { columns } : {}) };
  return (again ? reask : ask)('date', state, reply);
}

async function answerDate(ctx: FlowContext, state: DayAsked, input: Input): Promise<Result> {
  if (input.type === 'choice' && buttons.is(input.id, 'noop')) return ask('date', state);
  const month = input.type === 'choice' ? buttons.argsOf(input.id, 'month')?.month : undefined;
  if (month) return askDate(ctx, { ...state, calendarMonth: month });
  const capacity = await capacityOf(ctx, state.branchId);
  if (!capacity) return endings.notAvailable(ctx);
  let chosen: string | undefined;
  let when: WhenAsked | null = null;
  if (input.type === 'choice') chosen = buttons.argsOf(input.id, 'day')?.date ?? (buttons.is(input.id, 'pickDay') ? (input.params?.date ?? input.params?.datetime?.slice(0, 10)) : undefined);
  // "What time do you close today?" names a day, but asks a question: the engine answers it on the side.
  if (input.type === 'text' && !isPlainRequest(input.text)) {
    const clock = branchClock(ctx, capacity);
    when = parseWhen(input.text, ctx.locale, clock.now, clock.timeZone);
    chosen = when?.date;
  }
  if (!chosen || !/^\d{4}-\d{2}-\d{2}$/.test(chosen)) return askDate(ctx, forCar(state), text('dateNotUnderstood'), true);
  const next: TimeAsked = { ...forCar(state), date: chosen, page: 0, partOfDay: when?.partOfDay ?? null, preferTime: when?.time ?? null };
  if (when?.time) {
    // "next Tuesday 3pm": when 15:00 is free, take it straight to the next question.
    const exact = (await timesFor(ctx, next, capacity)).all.find((s) => s.localTime === when.time);
    if (exact) return afterTime(ctx, { ...forCar(state), date: chosen, startsAt: exact.startsAt, localTime: exact.localTime });
  }
  return askTime(ctx, next);
}

// ——— the time ———

/** The free starts on `state.date`, shaped by what the customer asked for (a part of day, a time). */
async function timesFor(ctx: FlowContext, state: TimeAsked, capacity: BranchCapacity) {
  const result = await availabilityForDate(ctx.tx, capacity, { serviceTypeCode: state.serviceTypeCode, loaner: false, date: state.date }, ctx.clock.now);
  if (!result.ok) return { closed: null, slots: [] as Slot[], all: [] as Slot[] };
  const all = result.day.slots;
  let slots = all;
  if (state.partOfDay) {
    slots = all.filter((s) => (state.partOfDay === 'morning' ? s.localTime < '12:00' : state.partOfDay === 'afternoon' ? s.localTime >= '12:00' && s.localTime < '18:00' : s.localTime >= '17:00'));
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

const timeButton = (s: Slot, label: string): Choice => ({ kind: 'postback', id: buttons.id('time', s.localDate, s.localTime.replace(':', '')), label: { raw: label } });
const otherDayButton = (): Choice => ({ kind: 'postback', id: buttons.id('otherDay'), label: text('otherDay') });

function timeChoices(slots: Slot[], page: number): Choice[] {
  const shown = slots.slice(page * TIMES_PER_PAGE, (page + 1) * TIMES_PER_PAGE);
  return [
    ...shown.map((s) => timeButton(s, s.localTime)),
    ...(slots.length > (page + 1) * TIMES_PER_PAGE ? [{ kind: 'postback' as const, id: buttons.id('laterTimes'), label: text('laterTimes') }] : []),
    otherDayButton(),
  ];
}

/** Offers the free times of the chosen day, or says why there are none and asks for another day. */
async function askTime(ctx: FlowContext, state: TimeAsked): Promise<Result> {
  const capacity = await capacityOf(ctx, state.branchId);
  if (!capacity) return endings.notAvailable(ctx);
  const clock = branchClock(ctx, capacity);
  const date = state.date;
  const day = formatDayLong(ctx.locale, date);
  // The customer was understood; the day just does not work. Not a re-ask: they are not stuck.
  const backToDays = (lead: TextRef) => askDate(ctx, forCar(state), lead);
  if (date < clock.today()) return backToDays(text('datePast'));
  if (date > clock.inDays(capacity.rules.settings.horizonDays)) return backToDays(text('dateBeyond', { days: capacity.rules.settings.horizonDays }));
  const { closed, slots, all } = await timesFor(ctx, state, capacity);
  if (closed === 'holiday' || closed === 'closed') return backToDays(text('dateClosed', { date: day }));
  if (all.length === 0) return backToDays(text('dateFull', { date: day }));
  let shown = slots;
  let intro: TextRef = text('chooseTime', { date: day });
  if (slots.length === 0 && state.partOfDay) {
    shown = all;
    intro = text('noTimesInPart', { part: ctx.t(`booking:part${state.partOfDay[0]!.toUpperCase()}${state.partOfDay.slice(1)}`) });
  }
  if (state.preferTime && shown[0] && shown[0].localTime !== state.preferTime) intro = text('timeNotFree', { time: state.preferTime });
  return ask('time', state, { type: 'text', text: intro, choices: timeChoices(shown, state.page) });
}

/** A time typed as "10:30", "10點", "10時" or "10.30". */
function readTime(typed: string): string | null {
  const clock = /^(\d{1,2})[:：.時点點](\d{2})?/.exec(typed.normalize('NFKC').trim());
  return clock ? `${clock[1]!.padStart(2, '0')}:${clock[2] ?? '00'}` : null;
}

async function answerTime(ctx: FlowContext, state: TimeAsked, input: Input): Promise<Result> {
  if (input.type === 'choice' && buttons.is(input.id, 'laterTimes')) return askTime(ctx, { ...state, page: state.page + 1 });
  if (input.type === 'choice' && buttons.is(input.id, 'otherDay')) return askDate(ctx, forCar(state));
  const capacity = await capacityOf(ctx, state.branchId);
  if (!capacity) return endings.notAvailable(ctx);
  let date = state.date;
  let time: string | null = null;
  const pressed = input.type === 'choice' ? buttons.argsOf(input.id, 'time') : null;
  if (pressed) {
    date = pressed.date;
    time = /^\d{4}$/.test(pressed.hhmm) ? `${pressed.hhmm.slice(0, 2)}:${pressed.hhmm.slice(2)}` : null;
  }
  if (input.type === 'text' && !isPlainRequest(input.text)) {
    time = readTime(input.text);
    // A new day instead of a time ("actually, Friday").
    const clock = branchClock(ctx, capacity);
    if (!time && parseWhen(input.text, ctx.locale, clock.now, clock.timeZone)) return answerDate(ctx, forCar(state), input);
  }
  if (!time) return reask('time', state, { type: 'text', text: text('timeNotUnderstood'), choices: timeChoices((await timesFor(ctx, state, capacity)).slots, state.page) });
  const slot = (await timesFor(ctx, { ...state, date }, capacity)).all.find((s) => s.localTime === time);
  if (!slot) return askTime(ctx, { ...state, date, preferTime: time, page: 0, partOfDay: null });
  return afterTime(ctx, { ...forCar(state), date, startsAt: slot.startsAt, localTime: slot.localTime });
}

// ——— note, loaner car, confirmation ———

/** After a time: a reschedule goes straight to the confirmation; a new booking asks for a note first. */
async function afterTime(ctx: FlowContext, state: TimeChosen): Promise<Result> {
  if (state.reschedule) return askConfirm(ctx, { ...state, note: state.reschedule.note, loaner: state.reschedule.loaner });
  return ask('note', state, say('askNote', undefined, [skip()]));
}

const loanerChoices = () => yesNoChoices(buttons, { yes: text('loanerYes'), no: text('loanerNo') });

async function answerNote(ctx: FlowContext, state: TimeChosen, input: Input): Promise<Result> {
  let note: string | null = null;
  if (!isSkip(ctx.words, input, buttons)) {
    // A note takes anything: "a noise when I cancel cruise control" is a note, not a request.
    note = freeText(input, (t) => t, 500, { requests: 'accept' });
    if (note === null) return reask('note', state, say('askNote', undefined, [skip()]));
  }
  const next: NoteGiven = { ...state, note };
  const capacity = await capacityOf(ctx, state.branchId);
  if (!capacity) return endings.notAvailable(ctx);
  const day = await availabilityForDate(ctx.tx, capacity, { serviceTypeCode: state.serviceTypeCode, loaner: true, date: state.date }, ctx.clock.now);
  const type = capacity.serviceTypes.find((t) => t.code === state.serviceTypeCode);
  // The question names what the car comes in for: a loaner during a recall check is not "during maintenance".
  const service = serviceName(type?.names ?? {}, ctx.locale, state.serviceTypeCode);
  if (day.ok && day.day.slots.some((s) => s.startsAt === state.startsAt)) return ask('loaner', next, say('askLoaner', { service }, loanerChoices()));
  return beforeConfirm(ctx, { ...next, loaner: false });
}

function answerLoaner(ctx: FlowContext, state: NoteGiven, input: Input): Promise<Result> | Result {
  const answer = yesNo(ctx.words, input, buttons, { yes: 'booking.loanerYes', no: 'booking.loanerNo' });
  if (answer === null) return reask('loaner', state, say('yesNoReask', undefined, loanerChoices()));
  return beforeConfirm(ctx, { ...state, loaner: answer });
}

// ——— who is coming ———

/**
 * The workshop needs a name and a mobile number for every booking: asked once when the customer's record
 * has none (a web chat visitor; LINE and Telegram give a name with the profile), and kept on the record.
 */
function beforeConfirm(ctx: FlowContext, state: ReadyToConfirm): Promise<Result> | Result {
  if (state.reschedule) return askConfirm(ctx, state);
  if (!ctx.customer.display_name && !state.name) return askName(state);
  if (!ctx.customer.phone && !state.phone) return askPhone(ctx, state);
  return askConfirm(ctx, state);
}

const askName = (state: ReadyToConfirm, again = false): Result => (again ? reask : ask)('name', state, say(again ? 'nameInvalid' : 'askName'));

function askPhone(ctx: FlowContext, state: ReadyToConfirm, again = false): Result {
  const question: Reply = {
    type: 'text',
    text: text(again ? 'phoneInvalid' : ctx.channel === 'telegram' ? 'askPhoneShare' : 'askPhone', { example: mobileExample(ctx.dealer.countries) }),
    // Telegram shares the customer's own number with one tap, checked by Telegram.
    ...(ctx.channel === 'telegram' ? { requestContact: text('sharePhone') } : {}),
  };
  return (again ? reask : ask)('phone', state, question);
}

async function answerName(ctx: FlowContext, state: ReadyToConfirm, input: Input): Promise<Result> {
  const name = freeText(
    input,
    (typed) => {
      const tidy = typed.replace(/\s+/g, ' ').trim();
      // A name has letters, is not a number, and is not an answer word ("skip", 「不用」).
      if (!/\p{L}/u.test(tidy) || /\d{4,}/.test(tidy) || ctx.words.is('skip', tidy) || ctx.words.is('no', tidy) || ctx.words.is('yes', tidy)) return null;
      return tidy;
    },
    60,
  );
  if (!name) return askName(state, true);
  await updateCustomer(ctx.tx, ctx.customer.id, { display_name: name }, ctx.clock.now.toISOString());
  return beforeConfirm(ctx, { ...state, name });
}

async function answerPhone(ctx: FlowContext, state: ReadyToConfirm, input: Input): Promise<Result> {
  let phone: string | null = null;
  if (input.type === 'contact') {
    // Telegram's own check of the number is enough; it may come without the '+'.
    const shared = input.phone.trim();
    phone = readMobileNumber(ctx.dealer.countries, shared.startsWith('+') ? shared : `+${shared}`) ?? (shared.startsWith('+') ? shared : `+${shared.replace(/\D/g, '')}`);
  } else {
    phone = freeText(input, (typed) => readMobileNumber(ctx.dealer.countries, typed), 40);
  }
  if (!phone) return askPhone(ctx, state, true);
  await updateCustomer(ctx.tx, ctx.customer.id, { phone }, ctx.clock.now.toISOString());
  return askConfirm(ctx, { ...state, phone });
}

const confirmChoices = (): Choice[] => [
  { kind: 'postback', id: buttons.id('confirm'), label: text('confirm') },
  { kind: 'postback', id: buttons.id('otherDay'), label: text('changeTime') },
];

async function askConfirm(ctx: FlowContext, state: ReadyToConfirm): Promise<Result> {
  const capacity = await capacityOf(ctx, state.branchId);
  if (!capacity) return endings.notAvailable(ctx);
  const type = capacity.serviceTypes.find((t) => t.code === state.serviceTypeCode);
  const vehicle = state.vehicleId ? await vehicleOf(ctx.tx, ctx.customer.id, state.vehicleId) : null;
  const branch = await branchProfile(ctx.tx, state.branchId);
  const card = bookingCard(ctx.locale, {
    title: text('confirmTitle'),
    branchName: branch ? branchNameIn(branch, ctx.locale) : capacity.branchName,
    customer: state.reschedule ? null : { name: state.name ?? ctx.customer.display_name, phone: state.phone ?? ctx.customer.phone },
    service: serviceName(type?.names ?? {}, ctx.locale, state.serviceTypeCode),
    vehicle: vehicle ? vehicleLabel(vehicle) : null,
    date: state.date,
    time: state.localTime,
    loaner: state.loaner,
    note: state.note,
    reference: state.reschedule?.reference ?? null,
    footer: null,
    choices: [...confirmChoices(), { kind: 'postback', id: intentButtons.id('cancel'), label: state.reschedule ? text('keepAsIs') : { key: 'labels.cancel' } }],
  });
  return ask('confirm', state, card);
}

async function answerConfirm(ctx: FlowContext, state: ReadyToConfirm, input: Input): Promise<Result> {
  if (input.type === 'choice' && buttons.is(input.id, 'otherDay')) return askDate(ctx, forCar(state));
  if (!isConfirm(ctx.words, input, buttons)) return reask('confirm', state, say('confirmReask', undefined, confirmChoices()));

  const actor = { type: 'customer' as const, customerId: ctx.customer.id };
  const now = ctx.clock.now;
  const result = state.reschedule
    ? await rescheduleAppointment(ctx.tx, { appointmentId: state.reschedule.appointmentId, expectedVersion: state.reschedule.version, actor, channel: ctx.channel, startsAt: state.startsAt }, now)
    : await bookAppointment(
        ctx.tx,
        {
          branchId: state.branchId,
          customerId: ctx.customer.id,
          vehicleId: state.vehicleId,
          serviceTypeCode: state.serviceTypeCode,
          startsAt: state.startsAt,
          loaner: state.loaner,
          note: state.note,
          channel: ctx.channel,
          actor,
        },
        now,
      );
  if (result.ok) return booked(ctx, result.appointment, state.reschedule ? 'rescheduledTitle' : 'bookedTitle');
  if ('alternatives' in result) return offerAlternatives(ctx, state, result);
  if (result.reason === 'past_cutoff') {
    const capacity = await capacityOf(ctx, state.branchId);
    return done(say('pastCutoff', { hours: capacity?.rules.settings.changeCutoffHours ?? 0 }, ctx.menuChoices()));
  }
  return done(say('notFound', undefined, ctx.menuChoices()));
}

/** The time went to someone else (or no longer fits): the nearest free times, or another day. */
function offerAlternatives(ctx: FlowContext, state: ReadyToConfirm, refusal: Extract<BookRefusal, { alternatives: unknown }>): Promise<Result> | Result {
  if (refusal.alternatives.length === 0) return askDate(ctx, forCar(state), text('slotTakenNoAlternatives'));
  const choices: Choice[] = [
    ...refusal.alternatives.slice(0, TIMES_PER_PAGE).map((s) => timeButton(s, s.localDate === state.date ? s.localTime : `${formatDayShort(ctx.locale, s.localDate)} ${s.localTime}`)),
    otherDayButton(),
  ];
  return ask('time', { ...forCar(state), date: state.date, page: 0, partOfDay: null, preferTime: null }, say('slotTaken', undefined, choices));
}

/**
 * What the confirmation promises: a reminder only when one will really come (not "the day before" for a
 * visit later today), and changes in the chat only while the visit is outside the change cutoff.
 */
function bookedFooter(ctx: FlowContext, appointment: Appointment, capacity: BranchCapacity | null): TextRef {
  if (!capacity) return text('bookedFooterNoReminder');
  const settings = capacity.rules.settings;
  if (withinChangeCutoff(appointment.startsAt, settings.changeCutoffHours, ctx.clock.now)) return text('bookedFooterLocked', { hours: settings.changeCutoffHours });
  const due = reminderDueTimes({ startsAt: Date.parse(appointment.startsAt), localDate: appointment.localDate, createdAt: ctx.clock.now.getTime(), timeZone: capacity.rules.timeZone, settings });
  if (due.day_before !== null) return text('bookedFooter');
  if (due.hours_before !== null) return text('bookedFooterHours', { hours: settings.reminderHoursBefore ?? 0 });
  return text('bookedFooterNoReminder');
}

async function booked(ctx: FlowContext, appointment: Appointment, title: 'bookedTitle' | 'rescheduledTitle'): Promise<Result> {
  const calendarUrl = await ctx.calendarLink(appointment.reference);
  const capacity = await capacityOf(ctx, appointment.branchId);
  // A web chat customer is reached only while the tab is open: offer a channel that reaches them later.
  const elsewhere = await continueChoices(ctx.tx, { customerId: ctx.customer.id, channel: ctx.channel, continueOn: ctx.dealer.continueOn, now: ctx.clock.now, lineIntro: ctx.t('link.lineMessage') });
  return done(
    bookingCard(ctx.locale, {
      title: text(title),
      branchName: null,
      customer: null,
      service: serviceName(appointment.serviceTypeNames, ctx.locale, appointment.serviceTypeCode),
      vehicle: null,
      date: appointment.localDate,
      time: appointment.localStart,
      loaner: appointment.loanerRequested,
      note: null,
      reference: appointment.reference,
      footer: elsewhere.length > 0 ? [bookedFooter(ctx, appointment, capacity), { key: 'link.offer' }] : bookedFooter(ctx, appointment, capacity),
      choices: [
        ...(calendarUrl ? [{ kind: 'url' as const, url: calendarUrl, label: text('addToCalendar') }] : []),
        ...elsewhere,
        { kind: 'postback', id: intentButtons.id('myBookings'), label: { key: 'menu.myBookings' } },
        { kind: 'postback', id: intentButtons.id('menu'), label: { key: 'labels.menu' } },
      ],
    }),
  );
}

/** Starts moving an existing booking: the same day and time questions, then a confirmation. */
export async function startReschedule(ctx: FlowContext, appointmentId: string): Promise<Handover | null> {
  const appointment = await findAppointment(ctx.tx, appointmentId);
  if (!appointment || appointment.customerId !== ctx.customer.id || appointment.status !== 'booked') return null;
  const state: DayAsked = {
    branchId: appointment.branchId,
    serviceTypeCode: appointment.serviceTypeCode,
    vehicleId: appointment.vehicleId,
    reschedule: {
      appointmentId: appointment.id,
      version: appointment.version,
      reference: appointment.reference,
      from: { date: appointment.localDate, time: appointment.localStart },
      note: appointment.note,
      loaner: appointment.loanerRequested,
    },
  };
  const result = await askDate(ctx, state);
  if (!result.next) return { replies: result.replies, next: null };
  return handTo(NAME, result.next.step, result.next.state, ...result.replies);
}

const NAME = buttons.prefix;

/** "Book a service": see the file comment for the steps. */
export const bookingFlow = defineFlow<Steps>({
  name: NAME,
  stateVersion: 2,
  intent: 'book',
  menuOrder: 10,
  start(ctx, input) {
    if (input?.type === 'choice') {
      // A calendar's heading does nothing; any other button from an earlier booking conversation (a day, a
      // time) cannot be trusted to fit a new one.
      if (buttons.is(input.id, 'noop')) return done();
      return endings.staleButton(ctx);
    }
    return askBranch(ctx);
  },
  steps: {
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
    name: answerName,
    phone: answerPhone,
    confirm: answerConfirm,
  },
  // Stopping while moving a booking leaves the booking as it was: say so.
  stopped(ctx, _step, state) {
    const moving = (state as Partial<ForCar>).reschedule;
    if (!moving) return null;
    return moving.from
      ? text('rescheduleStopped', { reference: moving.reference, when: `${formatDayLong(ctx.locale, moving.from.date)} ${moving.from.time}` })
      : text('rescheduleStoppedNoTime', { reference: moving.reference });
  },
  // A button of an earlier question in this same conversation: go back to that question's answer. A step's
  // state holds everything chosen before it, so an earlier question's answer can be read from it.
  earlierButton(ctx, step, state, input) {
    const pressed = buttons.parse(input.id);
    if (!pressed) return null;
    if (pressed.name === 'service' && isPast(step, 'service')) return answerService(ctx, state as AtBranch, input);
    if (pressed.name === 'vehicle' && isPast(step, 'vehicle')) return answerVehicle(ctx, state as ForService, input);
    if ((pressed.name === 'day' || pressed.name === 'pickDay' || pressed.name === 'month') && isPast(step, 'date')) return answerDate(ctx, forCar(state as ForCar), input);
    if (pressed.name === 'time' && isPast(step, 'time')) {
      const s = state as TimeChosen;
      return answerTime(ctx, { ...forCar(s), date: s.date, page: 0, partOfDay: null, preferTime: null }, input);
    }
    return null;
  },
});
