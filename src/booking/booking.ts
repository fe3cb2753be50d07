import type { Kysely } from 'kysely';
import {
  claimsOf,
  daysWithFreeSlots,
  freeSlots,
  groupByDate,
  nearestFreeSlots,
  planBooking,
  type BookingPlan,
  type DayAvailability,
  type DaySummary,
  type Slot,
  type SlotRefusal,
  type SlotRequest,
} from '../domain/availability';
import { newBookingReference } from '../domain/booking-reference';
import { withinChangeCutoff, type HeldCapacity } from '../domain/booking-rules';
import { addDays, localDateOf, localTimeOf } from '../domain/local-time';
import { newId } from '../ids';
import { isUniqueViolation } from '../store/errors';
import type { AppointmentAction, AppointmentStatus, BookingChannel, Database } from '../store/schema';
import { findAppointment, type Appointment } from './appointments';
import { noticeStaffChange } from './notices';
import { activeServiceType, loadBranchCapacity, loadHeldCapacity, type BranchCapacity, type ServiceType } from './capacity';

/*
 * The booking operations, each over a transaction the caller owns, so a chat flow books inside the
 * engine's transaction (the appointment, the conversation state and the confirmation commit together) and
 * the staff API inside its own (see service.ts, which adds the retries).
 *
 * Each operation reads first and writes after, and never reads back what it wrote: on D1 a transaction's
 * reads do not see its own writes and affected-row counts are unknown. What it cannot check by reading —
 * that nobody took the same capacity, or changed the same appointment, since the read — the database
 * refuses with a unique violation on `capacity_claims` or `appointment_changes`, which fails the whole
 * transaction. Those errors are thrown, not returned: the transaction is spoilt (Postgres) or not yet
 * sent (D1), so only the caller can run the operation again, and `isBookingConflict` tells it when to.
 */

/**
 * Who asks. Customers are bound by the minimum notice and the change cutoff, and may only touch their own
 * appointments; staff and the system (scheduled jobs) are not, and what they book counts as made by staff.
 * When staff move, cancel or check in a booking, the customer is told in their chat (see notices.ts).
 */
export type Actor = { type: 'customer'; customerId: string } | { type: 'staff'; staffId: string | null } | { type: 'system' };

/** How many alternatives a refused booking offers, and how many days ahead they are looked for. */
export const ALTERNATIVES = { count: 6, days: 14 } as const;

/** D1 binds at most 100 parameters a statement; a claim row has four. */
const CLAIMS_PER_INSERT = 24;

/**
 * True when `err` means another transaction took the same capacity or changed the same appointment first
 * (or, once in hundreds of millions, drew the same reference): run the operation again on fresh reads.
 */
export function isBookingConflict(err: unknown): boolean {
  if (isUniqueViolation(err, 'capacity_claims') || isUniqueViolation(err, 'appointment_changes') || isUniqueViolation(err, 'appointments')) return true;
  // Postgres deadlock or serialisation failure; claims are inserted in one global order, so this is a safety net.
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === '40P01' || code === '40001') return true;
  }
  return false;
}

export interface AvailabilityQuery {
  serviceTypeCode: string;
  /** Only count days with a loaner car left. */
  loaner: boolean;
  /** Staff booking for someone on the phone or at the counter: the minimum notice does not apply. */
  ignoreNotice?: boolean;
}

export type UnknownServiceType = { ok: false; reason: 'unknown_service_type' };

function slotRequest(type: ServiceType, query: AvailabilityQuery, now: Date): SlotRequest {
  return { serviceType: type, loaner: query.loaner, now, ignoreNotice: query.ignoreNotice ?? false };
}

/** Free starts on one local date: one indexed read of that day's live appointments, then the pure rules. */
export async function availabilityForDate(
  db: Kysely<Database>,
  capacity: BranchCapacity,
  query: AvailabilityQuery & { date: string },
  now: Date,
): Promise<{ ok: true; day: DayAvailability } | UnknownServiceType> {
  const type = activeServiceType(capacity, query.serviceTypeCode);
  if (!type) return { ok: false, reason: 'unknown_service_type' };
  const held = await loadHeldCapacity(db, capacity.branchId, query.date, query.date);
  return { ok: true, day: freeSlots(capacity.rules, slotRequest(type, query, now), query.date, held) };
}

/**
 * Which of `days` local dates from `from` (default: today at the branch, capped at the horizon) have free
 * starts: the date picker's and calendar's view, from one range read.
 */
export async function availabilitySummary(
  db: Kysely<Database>,
  capacity: BranchCapacity,
  query: AvailabilityQuery & { from?: string; days?: number },
  now: Date,
): Promise<{ ok: true; days: DaySummary[] } | UnknownServiceType> {
  const type = activeServiceType(capacity, query.serviceTypeCode);
  if (!type) return { ok: false, reason: 'unknown_service_type' };
  const from = query.from ?? localDateOf(now, capacity.rules.timeZone);
  const days = query.days ?? capacity.rules.settings.horizonDays + 1;
  const held = await loadHeldCapacity(db, capacity.branchId, from, addDays(from, days - 1));
  return { ok: true, days: daysWithFreeSlots(capacity.rules, slotRequest(type, query, now), from, days, groupByDate(held)) };
}

/** Free starts nearest to `startsAt` on its day, then the earliest of the following days. */
export async function nearestAvailable(
  db: Kysely<Database>,
  capacity: BranchCapacity,
  query: AvailabilityQuery & { startsAt: string; count?: number; days?: number },
  now: Date,
): Promise<{ ok: true; slots: Slot[] } | UnknownServiceType> {
  const type = activeServiceType(capacity, query.serviceTypeCode);
  if (!type) return { ok: false, reason: 'unknown_service_type' };
  return { ok: true, slots: await alternativesFor(db, capacity, slotRequest(type, query, now), query.startsAt, query.count, query.days) };
}

async function alternativesFor(
  db: Kysely<Database>,
  capacity: BranchCapacity,
  request: SlotRequest,
  startsAt: string,
  count: number = ALTERNATIVES.count,
  days: number = ALTERNATIVES.days,
  excludeAppointmentId: string | null = null,
): Promise<Slot[]> {
  const at = Date.parse(startsAt);
  // A start that is not a time at all, or already past, gets alternatives from now instead.
  const from = Number.isNaN(at) || at < request.now.getTime() ? request.now.toISOString() : startsAt;
  const date = localDateOf(Date.parse(from), capacity.rules.timeZone);
  const held = await loadHeldCapacity(db, capacity.branchId, date, addDays(date, days), excludeAppointmentId);
  return nearestFreeSlots(capacity.rules, request, from, groupByDate(held), { count, days });
}

export interface BookRequest {
  branchId: string;
  customerId: string;
  vehicleId: string | null;
  serviceTypeCode: string;
  /** UTC ISO: a start that availability offered. */
  startsAt: string;
  loaner: boolean;
  note: string | null;
  channel: BookingChannel;
  actor: Actor;
  advisorId?: string | null;
}

/** Why a booking or a move was refused; the slot reasons come with the nearest free alternatives. */
export type BookRefusal =
  | { ok: false; reason: 'not_found' | 'unknown_service_type' }
  | { ok: false; reason: SlotRefusal; alternatives: Slot[] };

export type BookResult = { ok: true; appointment: Appointment } | BookRefusal;

async function insertClaims(db: Kysely<Database>, branchId: string, appointmentId: string, held: HeldCapacity): Promise<void> {
  const rows = claimsOf(held).map((c) => ({ branch_id: branchId, resource: c.resource, block_start: c.blockStart, appointment_id: appointmentId }));
  for (let i = 0; i < rows.length; i += CLAIMS_PER_INSERT) {
    await db.insertInto('capacity_claims').values(rows.slice(i, i + CLAIMS_PER_INSERT)).execute();
  }
}

/** The appointment columns a plan decides: when, which bay, and the capacity units it holds. */
function planColumns(plan: BookingPlan) {
  return {
    starts_at: plan.startsAt,
    ends_at: plan.endsAt,
    busy_until: plan.busyUntil,
    local_date: plan.localDate,
    bay_id: plan.bayId,
    advisor_unit: plan.advisorUnit,
    day_unit: plan.dayUnit,
    loaner_unit: plan.loanerUnit,
  };
}

function viewOf(capacity: BranchCapacity, type: ServiceType, plan: BookingPlan): Pick<Appointment, 'serviceTypeId' | 'serviceTypeCode' | 'serviceTypeNames' | 'startsAt' | 'endsAt' | 'timeZone' | 'localDate' | 'localStart' | 'localEnd' | 'bayId' | 'bayName'> {
  const tz = capacity.rules.timeZone;
  return {
    serviceTypeId: type.id,
    serviceTypeCode: type.code,
    serviceTypeNames: type.names,
    startsAt: plan.startsAt,
    endsAt: plan.endsAt,
    timeZone: tz,
    localDate: plan.localDate,
    localStart: plan.localTime,
    localEnd: localTimeOf(Date.parse(plan.endsAt), tz),
    bayId: plan.bayId,
    bayName: capacity.bays.find((b) => b.id === plan.bayId)?.name ?? '',
  };
}

/**
 * Books `request.startsAt` if it is still free: writes the appointment, its first history row and its
 * capacity claims. A refusal found by reading comes back as a result with alternatives; a claim lost to a
 * concurrent booking throws (see isBookingConflict) and the caller runs this again.
 */
export async function bookAppointment(db: Kysely<Database>, request: BookRequest, now: Date, random: () => number = Math.random): Promise<BookResult> {
  const capacity = await loadBranchCapacity(db, request.branchId);
  if (!capacity) return { ok: false, reason: 'not_found' };
  const type = activeServiceType(capacity, request.serviceTypeCode);
  if (!type) return { ok: false, reason: 'unknown_service_type' };
  if (request.actor.type === 'customer' && request.actor.customerId !== request.customerId) return { ok: false, reason: 'not_found' };
  if (request.vehicleId) {
    const vehicle = await db.selectFrom('vehicles').select('id').where('id', '=', request.vehicleId).where('customer_id', '=', request.customerId).executeTakeFirst();
    if (!vehicle) return { ok: false, reason: 'not_found' };
  }
  const slot = slotRequest(type, { serviceTypeCode: type.code, loaner: request.loaner, ignoreNotice: request.actor.type !== 'customer' }, now);
  const at = Date.parse(request.startsAt);
  const held = Number.isNaN(at) ? [] : await loadHeldCapacity(db, capacity.branchId, localDateOf(at, capacity.rules.timeZone), localDateOf(at, capacity.rules.timeZone));
  const planned = planBooking(capacity.rules, slot, request.startsAt, held, random);
  if (!planned.ok) return { ok: false, reason: planned.reason, alternatives: await alternativesFor(db, capacity, slot, request.startsAt) };

  const plan = planned.plan;
  const nowIso = now.toISOString();
  const id = newId();
  const createdBy = request.actor.type === 'customer' ? 'customer' : 'staff';
  const staffId = request.actor.type === 'staff' ? request.actor.staffId : null;
  const appointment: Appointment = {
    id,
    reference: newBookingReference(),
    branchId: capacity.branchId,
    customerId: request.customerId,
    vehicleId: request.vehicleId,
    ...viewOf(capacity, type, plan),
    advisorId: request.advisorId ?? null,
    status: 'booked',
    note: request.note,
    loanerRequested: request.loaner,
    channel: request.channel,
    createdBy,
    version: 1,
    createdAt: nowIso,
    updatedAt: nowIso,
    cancelledAt: null,
    checkedInAt: null,
  };
  await db
    .insertInto('appointments')
    .values({
      id,
      reference: appointment.reference,
      branch_id: capacity.branchId,
      customer_id: request.customerId,
      vehicle_id: request.vehicleId,
      service_type_id: type.id,
      ...planColumns(plan),
      advisor_id: appointment.advisorId,
      status: 'booked',
      note: request.note,
      loaner_requested: request.loaner ? 1 : 0,
      channel: request.channel,
      created_by: createdBy,
      created_by_staff_id: staffId,
      version: 1,
      created_at: nowIso,
      updated_at: nowIso,
      cancelled_at: null,
      checked_in_at: null,
    })
    .execute();
  await db
    .insertInto('appointment_changes')
    .values({ appointment_id: id, version: 1, action: 'booked', ...actorColumns(request.actor), channel: request.channel, details: null, created_at: nowIso })
    .execute();
  await insertClaims(db, capacity.branchId, id, plan);
  return { ok: true, appointment };
}

function actorColumns(actor: Actor): { actor_type: 'customer' | 'staff' | 'system'; actor_id: string | null } {
  switch (actor.type) {
    case 'customer':
      return { actor_type: 'customer', actor_id: actor.customerId };
    case 'staff':
      return { actor_type: 'staff', actor_id: actor.staffId };
    case 'system':
      return { actor_type: 'system', actor_id: null };
  }
}

export interface ChangeRequest {
  appointmentId: string;
  actor: Actor;
  /** Where the change was asked for (the chat channel, or 'console'/'phone'/'dms' for staff). */
  channel: BookingChannel | null;
  /** The version the person was looking at; a different current version refuses the change as 'changed'. */
  expectedVersion?: number;
}

/** Refusals every change of an existing appointment can meet. */
export type ChangeRefusal = { ok: false; reason: 'not_found' | 'changed' | 'past_cutoff' | 'too_early' } | { ok: false; reason: 'not_changeable'; status: AppointmentStatus };

export type ChangeResult = { ok: true; appointment: Appointment } | ChangeRefusal;

interface Loaded {
  appointment: Appointment;
  capacity: BranchCapacity;
}

/** Reads the appointment and its branch for a change, and applies the checks every change shares. */
async function loadForChange(db: Kysely<Database>, request: ChangeRequest, allowed: readonly AppointmentStatus[]): Promise<Loaded | ChangeRefusal> {
  const appointment = await findAppointment(db, request.appointmentId);
  // Another customer's appointment is "not found" to a customer: its existence is not theirs to learn.
  if (!appointment || (request.actor.type === 'customer' && appointment.customerId !== request.actor.customerId)) return { ok: false, reason: 'not_found' };
  if (request.expectedVersion !== undefined && request.expectedVersion !== appointment.version) return { ok: false, reason: 'changed' };
  if (!allowed.includes(appointment.status)) return { ok: false, reason: 'not_changeable', status: appointment.status };
  const capacity = await loadBranchCapacity(db, appointment.branchId);
  if (!capacity) return { ok: false, reason: 'not_found' };
  return { appointment, capacity };
}

function pastCutoff(loaded: Loaded, actor: Actor, now: Date): boolean {
  return actor.type === 'customer' && withinChangeCutoff(loaded.appointment.startsAt, loaded.capacity.rules.settings.changeCutoffHours, now);
}

/**
 * Writes the next history row first: its key (appointment, version) is the guard that lets only one of two
 * changes made from the same read commit, and taking it first makes a racing second change wait there.
 */
async function recordChange(db: Kysely<Database>, a: Appointment, action: AppointmentAction, request: ChangeRequest, details: unknown, nowIso: string): Promise<void> {
  await db
    .insertInto('appointment_changes')
    .values({
      appointment_id: a.id,
      version: a.version + 1,
      action,
      ...actorColumns(request.actor),
      channel: request.channel,
      details: details === null ? null : JSON.stringify(details),
      created_at: nowIso,
    })
    .execute();
}

async function changeStatus(
  db: Kysely<Database>,
  loaded: Loaded,
  request: ChangeRequest,
  change: { action: AppointmentAction; status: AppointmentStatus; releases: boolean; details: unknown },
  now: Date,
): Promise<ChangeResult> {
  const a = loaded.appointment;
  const nowIso = now.toISOString();
  await recordChange(db, a, change.action, request, change.details, nowIso);
  const stamps = {
    cancelled_at: change.status === 'cancelled' ? nowIso : a.cancelledAt,
    checked_in_at: change.status === 'checked_in' ? nowIso : a.checkedInAt,
  };
  await db
    .updateTable('appointments')
    .set({ status: change.status, version: a.version + 1, updated_at: nowIso, ...stamps })
    .where('id', '=', a.id)
    .execute();
  if (change.releases) await db.deleteFrom('capacity_claims').where('appointment_id', '=', a.id).execute();
  return {
    ok: true,
    appointment: { ...a, status: change.status, version: a.version + 1, updatedAt: nowIso, cancelledAt: stamps.cancelled_at, checkedInAt: stamps.checked_in_at },
  };
}

/** Cancels a booked appointment and frees its capacity. Customers may until the branch's cutoff; staff any time. */
export async function cancelAppointment(db: Kysely<Database>, request: ChangeRequest & { reason?: string | null }, now: Date): Promise<ChangeResult> {
  const loaded = await loadForChange(db, request, ['booked']);
  if (!('appointment' in loaded)) return loaded;
  if (pastCutoff(loaded, request.actor, now)) return { ok: false, reason: 'past_cutoff' };
  const result = await changeStatus(db, loaded, request, { action: 'cancelled', status: 'cancelled', releases: true, details: request.reason ? { reason: request.reason } : null }, now);
  if (result.ok && request.actor.type === 'staff') await noticeStaffChange(db, { kind: 'cancelled', appointment: result.appointment }, now);
  return result;
}

/**
 * Marks the customer as arrived (staff). Allowed from the start of the appointment's local day; the bay
 * stays held. The repair order that follows belongs to the progress flow, and when one is opened with the
 * check-in (`checkInWithRepairOrder`) its own "checked in" notice tells the customer, by the branch's notice
 * settings: `tellCustomer: false` then keeps the customer from being told twice.
 */
export async function checkInAppointment(db: Kysely<Database>, request: ChangeRequest, now: Date, options: { tellCustomer?: boolean } = {}): Promise<ChangeResult> {
  const loaded = await loadForChange(db, request, ['booked']);
  if (!('appointment' in loaded)) return loaded;
  if (localDateOf(now, loaded.capacity.rules.timeZone) < loaded.appointment.localDate) return { ok: false, reason: 'too_early' };
  const result = await changeStatus(db, loaded, request, { action: 'checked_in', status: 'checked_in', releases: false, details: null }, now);
  if (result.ok && request.actor.type === 'staff' && options.tellCustomer !== false) await noticeStaffChange(db, { kind: 'checked_in', appointment: result.appointment }, now);
  return result;
}

/** Marks a booked appointment whose start has passed as a no-show (staff), freeing its capacity for walk-ins. */
export async function markNoShow(db: Kysely<Database>, request: ChangeRequest, now: Date): Promise<ChangeResult> {
  const loaded = await loadForChange(db, request, ['booked']);
  if (!('appointment' in loaded)) return loaded;
  if (now.getTime() < Date.parse(loaded.appointment.startsAt)) return { ok: false, reason: 'too_early' };
  return changeStatus(db, loaded, request, { action: 'no_show', status: 'no_show', releases: true, details: null }, now);
}

export type RescheduleResult = { ok: true; appointment: Appointment; previous: Pick<Appointment, 'startsAt' | 'endsAt' | 'localDate' | 'localStart'> } | ChangeRefusal | BookRefusal;

/**
 * Moves a booked appointment to `startsAt`, keeping its id and reference: the new capacity is claimed and
 * the old released in one transaction, so the customer never holds both or neither. The appointment's own
 * current capacity counts as free, so moving it by one slot on the same bay works. `loaner` changes the
 * loaner request (default: as booked).
 */
export async function rescheduleAppointment(
  db: Kysely<Database>,
  request: ChangeRequest & { startsAt: string; loaner?: boolean },
  now: Date,
  random: () => number = Math.random,
): Promise<RescheduleResult> {
  const loaded = await loadForChange(db, request, ['booked']);
  if (!('appointment' in loaded)) return loaded;
  if (pastCutoff(loaded, request.actor, now)) return { ok: false, reason: 'past_cutoff' };
  const { appointment: a, capacity } = loaded;
  // The type as booked, even if since switched off for new bookings; its current duration applies.
  const type = capacity.serviceTypes.find((t) => t.id === a.serviceTypeId);
  if (!type) return { ok: false, reason: 'unknown_service_type' };
  const loaner = request.loaner ?? a.loanerRequested;
  const slot = slotRequest(type, { serviceTypeCode: type.code, loaner, ignoreNotice: request.actor.type !== 'customer' }, now);
  const at = Date.parse(request.startsAt);
  const date = Number.isNaN(at) ? null : localDateOf(at, capacity.rules.timeZone);
  const held = date ? await loadHeldCapacity(db, capacity.branchId, date, date, a.id) : [];
  const planned = planBooking(capacity.rules, slot, request.startsAt, held, random);
  if (!planned.ok) return { ok: false, reason: planned.reason, alternatives: await alternativesFor(db, capacity, slot, request.startsAt, undefined, undefined, a.id) };

  const plan = planned.plan;
  const nowIso = now.toISOString();
  const previous = { startsAt: a.startsAt, endsAt: a.endsAt, localDate: a.localDate, localStart: a.localStart };
  await recordChange(db, a, 'rescheduled', request, { from: previous.startsAt, to: plan.startsAt }, nowIso);
  await db
    .updateTable('appointments')
    .set({
      ...planColumns(plan),
      loaner_requested: loaner ? 1 : 0,
      version: a.version + 1,
      updated_at: nowIso,
    })
    .where('id', '=', a.id)
    .execute();
  // Old claims go before the new ones are written: a move by one slot reuses some of the same keys.
  await db.deleteFrom('capacity_claims').where('appointment_id', '=', a.id).execute();
  await insertClaims(db, capacity.branchId, a.id, plan);
  const appointment: Appointment = { ...a, ...viewOf(capacity, type, plan), loanerRequested: loaner, version: a.version + 1, updatedAt: nowIso };
  // Moved by staff (the customer phoned, the workshop is short of a bay): the customer is told where it went.
  if (request.actor.type === 'staff') await noticeStaffChange(db, { kind: 'rescheduled', appointment, previous }, now);
  return { ok: true, appointment, previous };
}

/** The customer said they will come ("I'll be there" on a reminder); advisors see it on the day's list. */
export async function markAttending(db: Kysely<Database>, appointmentId: string, now: Date): Promise<void> {
  await db.updateTable('appointments').set({ customer_confirmed_at: now.toISOString() }).where('id', '=', appointmentId).execute();
}

/** The branches a customer can book at, by name (as staff entered it). */
export async function bookableBranches(db: Kysely<Database>): Promise<{ id: string; name: string }[]> {
  return db.selectFrom('branches').select(['id', 'name']).orderBy('name').execute();
}
