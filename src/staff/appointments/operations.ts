import { noticeStaffChange } from '../../booking/notices';
import type { Kysely, Transaction } from 'kysely';
import { findAppointment, type Appointment } from '../../booking/appointments';
import {
  bookAppointment,
  cancelAppointment,
  isBookingConflict,
  markNoShow,
  nearestAvailable,
  rescheduleAppointment,
  type Actor,
  type BookRequest,
  type BookResult,
  type ChangeRefusal,
  type ChangeResult,
  type RescheduleResult,
} from '../../booking/booking';
import { loadBranchCapacity } from '../../booking/capacity';
import type { Slot } from '../../domain/availability';
import type { Clock } from '../../ops/clock';
import { checkInWithRepairOrder, type CheckInResult } from '../../repair-orders/check-in';
import { findRepairOrderForAppointment, isRepairOrderConflict, setRepairOrderAdvisor } from '../../repair-orders/repair-orders';
import type { AppointmentAction, AppointmentStatus, BookingChannel, Database } from '../../store/schema';
import type { Store } from '../../store/store';
import { recordAudit } from '../audit';
import type { Principal } from '../permissions';

/*
 * What staff do with appointments, shared by the console pages and the DMS API. Each operation is the
 * booking core's function plus its audit entry in one transaction, run again on fresh reads when it lost a
 * race — the same retries as createBookingService, which cannot take the audit entry into its own
 * transactions.
 */

/** Who acts, from where, and through what: the console ('console') or an integration ('dms'). */
export interface StaffRequest {
  actor: Principal;
  ip: string | null;
  channel: BookingChannel;
}

export interface StaffBookingDeps {
  store: Store;
  clock: Clock;
  /** Picks among free bays and units; injectable so tests can force collisions. */
  random?: () => number;
  maxAttempts?: number;
}

/** Staff and tokens book as staff: the minimum notice and the customers' change cutoff do not bind them. */
export function bookingActor(principal: Principal): Actor {
  return { type: 'staff', staffId: principal.kind === 'staff' ? principal.id : null };
}

/** What the audit log keeps of an appointment: enough to see what a change did, nothing personal. */
export function appointmentForAudit(a: Appointment) {
  return {
    reference: a.reference,
    status: a.status,
    startsAt: a.startsAt,
    localDate: a.localDate,
    localStart: a.localStart,
    serviceType: a.serviceTypeCode,
    bayId: a.bayId,
    advisorId: a.advisorId,
    loanerRequested: a.loanerRequested,
    version: a.version,
  };
}

export type AssignResult = { ok: true; appointment: Appointment } | ChangeRefusal | { ok: false; reason: 'unknown_advisor' };

/** Statuses in which the advisor who receives the customer may still change. */
const ASSIGNABLE: readonly AppointmentStatus[] = ['booked', 'checked_in'];

const ADVISOR_ASSIGNED: AppointmentAction = 'advisor_assigned';

/** The active service advisors of a branch, by name: who an appointment can be given to. */
export async function branchAdvisors(db: Kysely<Database>, branchId: string): Promise<{ id: string; name: string }[]> {
  return db
    .selectFrom('staff_users')
    .innerJoin('staff_branches', 'staff_branches.staff_id', 'staff_users.id')
    .select(['staff_users.id', 'staff_users.name'])
    .where('staff_branches.branch_id', '=', branchId)
    .where('staff_users.role', '=', 'advisor')
    .where('staff_users.active', '=', 1)
    .orderBy('staff_users.name')
    .orderBy('staff_users.id')
    .execute();
}

/** The staff side of booking; see the module comment. */
export function createStaffBooking(deps: StaffBookingDeps) {
  const { store, clock } = deps;
  const random = deps.random ?? Math.random;
  const maxAttempts = deps.maxAttempts ?? 8;

  async function withRetries<T>(op: (tx: Transaction<Database>, now: Date) => Promise<T>, giveUp: (now: Date) => Promise<T>): Promise<T> {
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const now = clock.now();
      try {
        return await store.transaction((tx) => op(tx, now));
      } catch (err) {
        if (!isBookingConflict(err) && !isRepairOrderConflict(err)) throw err;
      }
    }
    return giveUp(clock.now());
  }

  const changed = async () => ({ ok: false, reason: 'changed' }) as const;

  return {
    /**
     * Books for a customer who phoned, walked in or was booked by the DMS. Staff bookings skip the
     * minimum notice; a start lost to a concurrent booking comes back as 'slot_taken' with alternatives.
     */
    book(req: StaffRequest, request: Omit<BookRequest, 'actor' | 'channel'>): Promise<BookResult> {
      const actor = bookingActor(req.actor);
      return withRetries(
        async (tx, now) => {
          const result = await bookAppointment(tx, { ...request, actor, channel: req.channel }, now, random);
          if (result.ok) {
            const a = result.appointment;
            await recordAudit(tx, { actor: req.actor, action: 'appointment.create', entity: 'appointment', entityId: a.id, after: { ...appointmentForAudit(a), channel: a.channel, customerId: a.customerId }, ip: req.ip, now: now.toISOString() });
          }
          return result;
        },
        async (now) => {
          const capacity = await loadBranchCapacity(store.db, request.branchId);
          let alternatives: Slot[] = [];
          if (capacity) {
            const near = await nearestAvailable(store.db, capacity, { serviceTypeCode: request.serviceTypeCode, loaner: request.loaner, ignoreNotice: true, startsAt: request.startsAt }, now);
            if (near.ok) alternatives = near.slots;
          }
          return { ok: false, reason: 'slot_taken', alternatives };
        },
      );
    },

    /** Checks the customer in and opens the repair order, together. */
    checkIn(req: StaffRequest, args: { appointmentId: string; expectedVersion?: number; mileageIn: number | null }): Promise<CheckInResult> {
      return withRetries(async (tx, now) => {
        const result = await checkInWithRepairOrder(tx, { appointmentId: args.appointmentId, expectedVersion: args.expectedVersion, actor: bookingActor(req.actor), channel: req.channel, mileageIn: args.mileageIn }, now);
        if (result.ok) {
          const nowIso = now.toISOString();
          const ro = result.repairOrder;
          await recordAudit(tx, { actor: req.actor, action: 'appointment.check_in', entity: 'appointment', entityId: result.appointment.id, before: { status: 'booked' }, after: { status: 'checked_in', repairOrder: ro.number }, ip: req.ip, now: nowIso });
          await recordAudit(tx, { actor: req.actor, action: 'repair_order.open', entity: 'repair_order', entityId: ro.id, after: { number: ro.number, appointment: result.appointment.reference, status: ro.status, mileageIn: ro.mileageIn }, ip: req.ip, now: nowIso });
        }
        return result;
      }, changed);
    },

    /** Marks a no-show once the start has passed ('too_early' before), freeing the capacity. */
    noShow(req: StaffRequest, args: { appointmentId: string; expectedVersion?: number }): Promise<ChangeResult> {
      return withRetries(async (tx, now) => {
        const result = await markNoShow(tx, { ...args, actor: bookingActor(req.actor), channel: req.channel }, now);
        if (result.ok) await recordAudit(tx, { actor: req.actor, action: 'appointment.no_show', entity: 'appointment', entityId: result.appointment.id, before: { status: 'booked' }, after: { status: 'no_show' }, ip: req.ip, now: now.toISOString() });
        return result;
      }, changed);
    },

    /** Cancels a booking; staff may after the customers' cutoff. */
    cancel(req: StaffRequest, args: { appointmentId: string; expectedVersion?: number; reason: string | null }): Promise<ChangeResult> {
      return withRetries(async (tx, now) => {
        const result = await cancelAppointment(tx, { ...args, actor: bookingActor(req.actor), channel: req.channel }, now);
        if (result.ok) await recordAudit(tx, { actor: req.actor, action: 'appointment.cancel', entity: 'appointment', entityId: result.appointment.id, before: { status: 'booked' }, after: { status: 'cancelled', reason: args.reason }, ip: req.ip, now: now.toISOString() });
        return result;
      }, changed);
    },

    /** Moves a booking to another free start (minimum notice ignored), keeping its reference. */
    reschedule(req: StaffRequest, args: { appointmentId: string; expectedVersion?: number; startsAt: string; loaner?: boolean }): Promise<RescheduleResult> {
      return withRetries(async (tx, now) => {
        const result = await rescheduleAppointment(tx, { ...args, actor: bookingActor(req.actor), channel: req.channel }, now, random);
        if (result.ok) {
          await recordAudit(tx, { actor: req.actor, action: 'appointment.reschedule', entity: 'appointment', entityId: result.appointment.id, before: result.previous, after: appointmentForAudit(result.appointment), ip: req.ip, now: now.toISOString() });
        }
        return result;
      }, changed);
    },

    /**
     * Gives the appointment (and its repair order, once checked in) to an advisor of its branch, or to
     * nobody. Goes through the appointment's history like every change, so it is refused when made from a
     * stale view and cannot interleave with a reschedule or cancel.
     */
    assignAdvisor(req: StaffRequest, args: { appointmentId: string; expectedVersion?: number; advisorId: string | null }): Promise<AssignResult> {
      return withRetries(async (tx, now): Promise<AssignResult> => {
        const a = await findAppointment(tx, args.appointmentId);
        if (!a) return { ok: false, reason: 'not_found' };
        if (args.expectedVersion !== undefined && args.expectedVersion !== a.version) return { ok: false, reason: 'changed' };
        if (!ASSIGNABLE.includes(a.status)) return { ok: false, reason: 'not_changeable', status: a.status };
        if (args.advisorId !== null && !(await branchAdvisors(tx, a.branchId)).some((s) => s.id === args.advisorId)) return { ok: false, reason: 'unknown_advisor' };
        if (a.advisorId === args.advisorId) return { ok: true, appointment: a };
        const ro = a.status === 'checked_in' ? await findRepairOrderForAppointment(tx, a.id) : null;
        const nowIso = now.toISOString();
        // The history row first: its key (appointment, version) lets only one of two racing changes commit.
        await tx
          .insertInto('appointment_changes')
          .values({
            appointment_id: a.id,
            version: a.version + 1,
            action: ADVISOR_ASSIGNED,
            actor_type: 'staff',
            actor_id: req.actor.kind === 'staff' ? req.actor.id : null,
            channel: req.channel,
            details: JSON.stringify({ from: a.advisorId, to: args.advisorId }),
            created_at: nowIso,
          })
          .execute();
        await tx.updateTable('appointments').set({ advisor_id: args.advisorId, version: a.version + 1, updated_at: nowIso }).where('id', '=', a.id).execute();
        if (ro) await setRepairOrderAdvisor(tx, ro, args.advisorId, nowIso);
        await recordAudit(tx, { actor: req.actor, action: 'appointment.assign_advisor', entity: 'appointment', entityId: a.id, before: { advisorId: a.advisorId }, after: { advisorId: args.advisorId }, ip: req.ip, now: nowIso });
        const updated = { ...a, advisorId: args.advisorId, version: a.version + 1, updatedAt: nowIso };
        // The customer hears who will look after their car, in their chat, after quiet hours.
        await noticeStaffChange(tx, { kind: 'advisor_assigned', appointment: updated, advisorId: args.advisorId }, now);
        return { ok: true, appointment: updated };
      }, changed);
    },
  };
}

export type StaffBooking = ReturnType<typeof createStaffBooking>;

/** What a list row shows beyond the appointment itself: who, which car, who receives them, and the RO. */
export interface AppointmentExtras {
  customerName: string | null;
  customerErased: boolean;
  plate: string | null;
  advisorName: string | null;
  customerConfirmedAt: string | null;
  repairOrderId: string | null;
  repairOrderNumber: string | null;
}

/**
 * The extras of a branch's appointments on local dates `from`..`to`, in one joined read (no id lists,
 * which D1 caps at 100 parameters a statement).
 */
export async function appointmentExtras(db: Kysely<Database>, branchId: string, from: string, to: string): Promise<Map<string, AppointmentExtras>> {
  const rows = await extrasQuery(db).where('a.branch_id', '=', branchId).where('a.local_date', '>=', from).where('a.local_date', '<=', to).execute();
  return new Map(rows.map((r) => [r.id, extrasOf(r)]));
}

/** The extras of one appointment, or null when there is no such appointment. */
export async function appointmentExtrasOf(db: Kysely<Database>, appointmentId: string): Promise<AppointmentExtras | null> {
  const row = await extrasQuery(db).where('a.id', '=', appointmentId).executeTakeFirst();
  return row ? extrasOf(row) : null;
}

function extrasQuery(db: Kysely<Database>) {
  return db
    .selectFrom('appointments as a')
    .innerJoin('customers as c', 'c.id', 'a.customer_id')
    .leftJoin('vehicles as v', 'v.id', 'a.vehicle_id')
    .leftJoin('staff_users as s', 's.id', 'a.advisor_id')
    .leftJoin('repair_orders as ro', 'ro.appointment_id', 'a.id')
    .select(['a.id', 'c.display_name', 'c.erased_at', 'v.plate', 's.name as advisor_name', 'a.customer_confirmed_at', 'ro.id as ro_id', 'ro.number as ro_number']);
}

function extrasOf(r: {
  display_name: string | null;
  erased_at: string | null;
  plate: string | null;
  advisor_name: string | null;
  customer_confirmed_at: string | null;
  ro_id: string | null;
  ro_number: string | null;
}): AppointmentExtras {
  return {
    customerName: r.display_name,
    customerErased: r.erased_at !== null,
    plate: r.plate || null,
    advisorName: r.advisor_name,
    customerConfirmedAt: r.customer_confirmed_at,
    repairOrderId: r.ro_id,
    repairOrderNumber: r.ro_number,
  };
}
