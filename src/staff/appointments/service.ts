import type { Appointment, AppointmentChange } from '../../booking/appointments';
import type { BookRefusal, UnknownServiceType } from '../../booking/booking';
import type { BranchCapacity } from '../../booking/capacity';
import { createBookingService } from '../../booking/service';
import type { DayAvailability } from '../../domain/availability';
import { addDays, daysBetween, isLocalDate, localDateOf, weekdayOf, WEEKDAYS } from '../../domain/local-time';
import type { AppointmentStatus } from '../../store/schema';
import { addVehicle } from '../customers/update';
import { liveCustomer, type CustomerFailure } from '../customers/result';
import { canSeeBranch, type Principal } from '../permissions';
import { invalid, notFound, ok, type Invalid, type NotFound, type Result } from '../result';
import { appointmentExtras, appointmentExtrasOf, branchAdvisors, createStaffBooking, type AppointmentExtras, type StaffBookingDeps, type StaffRequest } from './operations';

/*
 * Appointments as staff work with them, for the console and the DMS API alike: a branch's day or week,
 * one appointment with its history, free times, booking for a customer who phoned, walked in or was
 * booked by the DMS, and the workshop's changes (see operations.ts). Staff see the appointments of their
 * branches only; anything else is not found, as if it did not exist.
 */

export const APPOINTMENT_STATUSES: readonly AppointmentStatus[] = ['booked', 'checked_in', 'completed', 'no_show', 'cancelled'];
/** The longest range one list covers: a month is what a DMS syncs at a time. */
export const MAX_LIST_DAYS = 31;

/** An appointment with what a list row shows beside it. */
export interface AppointmentView {
  appointment: Appointment;
  extras: AppointmentExtras | null;
}

export interface VisibleBranch {
  id: string;
  name: string;
  time_zone: string;
}

/** The Monday of the week `date` falls in: a week runs Monday to Sunday. */
function mondayOf(date: string): string {
  const index = WEEKDAYS.indexOf(weekdayOf(date));
  return addDays(date, -((index + 6) % 7));
}

export interface WorkshopQuery {
  /** A branch of the staff member's (else their first), a local date (else today there), day or week. */
  branchId?: string;
  date?: string;
  view?: string;
  advisorId?: string;
  status?: string;
}

export interface Workshop {
  branches: VisibleBranch[];
  branch: VisibleBranch;
  /** Today at the branch. */
  today: string;
  date: string;
  view: 'day' | 'week';
  advisorId: string;
  status: AppointmentStatus | '';
  from: string;
  to: string;
  items: AppointmentView[];
  /** The branch's active service advisors: whom an appointment can be given to. */
  advisors: { id: string; name: string }[];
}

export interface AppointmentDetail extends AppointmentView {
  history: (AppointmentChange & { actorName: string | null })[];
  advisors: { id: string; name: string }[];
  branch: { name: string; time_zone: string } | null;
}

/** What booking for a customer asks for; a new plate adds the car to the customer first. */
export interface StaffBookingInput {
  branchId: string;
  customerId: string;
  vehicle: { id: string } | { newPlate: string } | null;
  serviceTypeCode: string;
  startsAt: string;
  loaner: boolean;
  note: string | null;
  advisorId: string | null;
}

export type StaffBookingResult =
  | { ok: true; appointment: Appointment; vehicleId: string | null }
  | { ok: false; reason: 'no_branch' | 'bad_start' | 'unknown_advisor' }
  /** The customer cannot be booked for (gone, merged, erased). */
  | { ok: false; reason: 'customer'; failure: CustomerFailure }
  /** The new car could not be added (its plate, or the customer meanwhile gone). */
  | { ok: false; reason: 'vehicle'; failure: CustomerFailure }
  /** Not booked; a new car was added all the same (`vehicleId`), so trying again does not add it twice. */
  | (BookRefusal & { vehicleId: string | null });

export function createAppointmentService(deps: StaffBookingDeps) {
  const { store, clock } = deps;
  const db = store.db;
  const booking = createBookingService({ store, clock });
  const operations = createStaffBooking(deps);

  async function branches(principal: Principal): Promise<VisibleBranch[]> {
    const rows = await db.selectFrom('branches').select(['id', 'name', 'time_zone']).orderBy('name').orderBy('id').execute();
    return rows.filter((b) => canSeeBranch(principal, b.id));
  }

  async function visibleBranch(principal: Principal, id: string): Promise<VisibleBranch | null> {
    const branch = await db.selectFrom('branches').select(['id', 'name', 'time_zone']).where('id', '=', id).executeTakeFirst();
    return branch && canSeeBranch(principal, branch.id) ? branch : null;
  }

  async function find(principal: Principal, id: string): Promise<Appointment | null> {
    const a = await booking.find(id);
    return a && canSeeBranch(principal, a.branchId) ? a : null;
  }

  async function viewsOf(branchId: string, from: string, to: string, filter: { advisorId?: string | null; statuses?: readonly AppointmentStatus[] }): Promise<AppointmentView[]> {
    const [items, extras] = await Promise.all([booking.listForBranch(branchId, { from, to, advisorId: filter.advisorId ?? null, statuses: filter.statuses }), appointmentExtras(db, branchId, from, to)]);
    return items.map((appointment) => ({ appointment, extras: extras.get(appointment.id) ?? null }));
  }

  return {
    ...operations,

    /** The branches the staff member may see, by name: the choices of every branch selector. */
    branches,
    visibleBranch,
    find,

    async view(principal: Principal, id: string): Promise<AppointmentView | null> {
      const appointment = await find(principal, id);
      return appointment ? { appointment, extras: await appointmentExtrasOf(db, appointment.id) } : null;
    },

    /** The extras of an appointment just changed, for answering with it. */
    withExtras: async (appointment: Appointment): Promise<AppointmentView> => ({ appointment, extras: await appointmentExtrasOf(db, appointment.id) }),

    /** One appointment with its extras, its history (with the names of staff who acted) and its branch's advisors. */
    async detail(principal: Principal, id: string): Promise<AppointmentDetail | null> {
      const appointment = await find(principal, id);
      if (!appointment) return null;
      const [extras, history, advisors, branch] = await Promise.all([
        appointmentExtrasOf(db, appointment.id),
        booking.history(appointment.id),
        branchAdvisors(db, appointment.branchId),
        db.selectFrom('branches').select(['name', 'time_zone']).where('id', '=', appointment.branchId).executeTakeFirst(),
      ]);
      const staffIds = [...new Set(history.filter((h) => h.actorType === 'staff' && h.actorId).map((h) => h.actorId!))];
      // D1 caps a statement at 100 parameters; a history with more staff than that is not a real one.
      const staff = staffIds.length > 0 ? await db.selectFrom('staff_users').select(['id', 'name']).where('id', 'in', staffIds.slice(0, 90)).execute() : [];
      const names = new Map(staff.map((s) => [s.id, s.name]));
      return { appointment, extras, advisors, branch: branch ?? null, history: history.map((h) => ({ ...h, actorName: h.actorId ? (names.get(h.actorId) ?? null) : null })) };
    },

    /** The workshop's day or week at one branch; null when the staff member has no branch at all. */
    async workshop(principal: Principal, query: WorkshopQuery): Promise<Workshop | null> {
      const visible = await branches(principal);
      const branch = visible.find((b) => b.id === query.branchId) ?? visible[0];
      if (!branch) return null;
      const today = localDateOf(clock.now(), branch.time_zone);
      const date = query.date && isLocalDate(query.date) ? query.date : today;
      const view = query.view === 'week' ? 'week' : 'day';
      const status = (APPOINTMENT_STATUSES as readonly string[]).includes(query.status ?? '') ? (query.status as AppointmentStatus) : '';
      const advisorId = query.advisorId ?? '';
      const from = view === 'week' ? mondayOf(date) : date;
      const to = view === 'week' ? addDays(from, 6) : date;
      const [items, advisors] = await Promise.all([viewsOf(branch.id, from, to, { advisorId: advisorId || null, statuses: status ? [status] : undefined }), branchAdvisors(db, branch.id)]);
      return { branches: visible, branch, today, date, view, advisorId, status, from, to, items, advisors };
    },

    /**
     * A branch's appointments over local dates `from`..`to` (default: today there), at most
     * MAX_LIST_DAYS apart ('range' on `to` otherwise).
     */
    async listForBranch(principal: Principal, branchId: string, filter: { from?: string; to?: string; advisorId?: string | null; statuses?: readonly AppointmentStatus[] }): Promise<Result<AppointmentView[], NotFound | Invalid>> {
      const branch = await visibleBranch(principal, branchId);
      if (!branch) return notFound();
      const from = filter.from ?? localDateOf(clock.now(), branch.time_zone);
      const to = filter.to ?? from;
      const span = daysBetween(from, to);
      if (span < 0 || span >= MAX_LIST_DAYS) return invalid([{ field: 'to', code: 'range', params: { days: MAX_LIST_DAYS - 1, latest: addDays(from, MAX_LIST_DAYS - 1) } }]);
      return ok(await viewsOf(branch.id, from, to, filter));
    },

    /** Free starts on one local date, as staff see them: the customers' minimum notice does not bind staff. */
    async availability(principal: Principal, branchId: string, query: { serviceTypeCode: string; date: string; loaner: boolean }): Promise<{ ok: true; day: DayAvailability } | UnknownServiceType | NotFound> {
      if (!canSeeBranch(principal, branchId)) return notFound();
      return booking.availability(branchId, { ...query, ignoreNotice: true });
    },

    /** The branch's settings, service types and bays, or null for an unknown branch. */
    capacity: (branchId: string): Promise<BranchCapacity | null> => booking.capacity(branchId),

    /**
     * Books for a customer: on the phone or at the counter from the console, or for the DMS. A new plate
     * is added to the customer first, in its own audited step: the car is real whether or not the time is
     * still free. The branch must be one of the staff member's and the advisor one of the branch's.
     */
    async bookFor(req: StaffRequest, input: StaffBookingInput): Promise<StaffBookingResult> {
      if (!(await visibleBranch(req.actor, input.branchId))) return { ok: false, reason: 'no_branch' };
      const customer = await liveCustomer(db, input.customerId);
      if (!customer.ok) return { ok: false, reason: 'customer', failure: customer };
      if (Number.isNaN(Date.parse(input.startsAt))) return { ok: false, reason: 'bad_start' };
      if (input.advisorId && !(await branchAdvisors(db, input.branchId)).some((s) => s.id === input.advisorId)) return { ok: false, reason: 'unknown_advisor' };
      let vehicleId: string | null = null;
      if (input.vehicle && 'newPlate' in input.vehicle) {
        const added = await addVehicle(store, { actor: req.actor, ip: req.ip, now: clock.now() }, customer.value.id, { plate: input.vehicle.newPlate });
        if (!added.ok) return { ok: false, reason: 'vehicle', failure: added };
        vehicleId = added.value.id;
      } else if (input.vehicle) {
        vehicleId = input.vehicle.id;
      }
      const result = await operations.book(req, {
        branchId: input.branchId,
        customerId: customer.value.id,
        vehicleId,
        serviceTypeCode: input.serviceTypeCode,
        startsAt: new Date(input.startsAt).toISOString(),
        loaner: input.loaner,
        note: input.note,
        advisorId: input.advisorId,
      });
      return result.ok ? { ok: true, appointment: result.appointment, vehicleId } : { ...result, vehicleId };
    },
  };
}

export type AppointmentService = ReturnType<typeof createAppointmentService>;
export type { AppointmentExtras, StaffRequest } from './operations';
