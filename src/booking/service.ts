import type { DayAvailability, DaySummary, Slot } from '../domain/availability';
import type { Clock } from '../ops/clock';
import type { Store } from '../store/store';
import {
  appointmentHistory,
  findAppointment,
  findAppointmentByReference,
  listBranchAppointments,
  listUpcomingAppointments,
  type Appointment,
  type AppointmentChange,
  type BranchAppointmentsFilter,
} from './appointments';
import {
  availabilityForDate,
  availabilitySummary,
  bookAppointment,
  cancelAppointment,
  checkInAppointment,
  isBookingConflict,
  markNoShow,
  nearestAvailable,
  rescheduleAppointment,
  type AvailabilityQuery,
  type BookRequest,
  type BookResult,
  type ChangeRequest,
  type ChangeResult,
  type RescheduleResult,
  type UnknownServiceType,
} from './booking';
import { loadBranchCapacity, type BranchCapacity } from './capacity';

type NotFound = { ok: false; reason: 'not_found' };

/** Booking for callers without a transaction of their own; see createBookingService. */
export interface BookingService {
  /** The branch's settings, service types and bays, or null for an unknown branch. */
  capacity(branchId: string): Promise<BranchCapacity | null>;
  /** Free starts on one local date for a service type. */
  availability(branchId: string, query: AvailabilityQuery & { date: string }): Promise<{ ok: true; day: DayAvailability } | UnknownServiceType | NotFound>;
  /** Which days from `from` (default today) have free starts, for a date picker or calendar. */
  summary(branchId: string, query: AvailabilityQuery & { from?: string; days?: number }): Promise<{ ok: true; days: DaySummary[] } | UnknownServiceType | NotFound>;
  /** Free starts nearest to `startsAt`, that day first, then the following days. */
  nearest(branchId: string, query: AvailabilityQuery & { startsAt: string; count?: number; days?: number }): Promise<{ ok: true; slots: Slot[] } | UnknownServiceType | NotFound>;
  /** Books a start, choosing other bays and units when a race is lost; then offers alternatives. */
  book(request: BookRequest): Promise<BookResult>;
  reschedule(request: ChangeRequest & { startsAt: string; loaner?: boolean }): Promise<RescheduleResult>;
  cancel(request: ChangeRequest & { reason?: string | null }): Promise<ChangeResult>;
  checkIn(request: ChangeRequest): Promise<ChangeResult>;
  markNoShow(request: ChangeRequest): Promise<ChangeResult>;
  find(id: string): Promise<Appointment | null>;
  findByReference(reference: string): Promise<Appointment | null>;
  /** A customer's bookings that still stand and have not ended, soonest first. */
  upcoming(customerId: string): Promise<Appointment[]>;
  /** A branch's day or week, optionally for one advisor or some statuses. */
  listForBranch(branchId: string, filter: BranchAppointmentsFilter): Promise<Appointment[]>;
  history(appointmentId: string): Promise<AppointmentChange[]>;
}

export interface BookingServiceDeps {
  store: Store;
  clock: Clock;
  /** Picks among free bays and units; injectable so tests can force collisions. */
  random?: () => number;
  /**
   * Attempts before a booking that keeps losing races gives up with 'slot_taken'. Each lost attempt is a
   * place someone else got, so this bounds how many places can go between one read and the next write.
   */
  maxAttempts?: number;
}

/**
 * The booking operations for callers that have no transaction of their own (the staff console and DMS
 * API, scripts, benchmarks): each runs in its own transaction, run again on fresh reads when it lost a race
 * (see isBookingConflict). Chat flows call the functions in booking.ts inside the engine's transaction
 * instead, and the engine runs the step again on the same error.
 */
export function createBookingService(deps: BookingServiceDeps): BookingService {
  const { store, clock } = deps;
  const random = deps.random ?? Math.random;
  const maxAttempts = deps.maxAttempts ?? 8;

  async function withRetries<T>(op: (now: Date) => Promise<T>, giveUp: (now: Date) => Promise<T>): Promise<T> {
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        return await op(clock.now());
      } catch (err) {
        if (!isBookingConflict(err)) throw err;
      }
    }
    return giveUp(clock.now());
  }

  async function capacityOf(branchId: string) {
    return loadBranchCapacity(store.db, branchId);
  }

  return {
    capacity: capacityOf,

    async availability(branchId: string, query: AvailabilityQuery & { date: string }) {
      const capacity = await capacityOf(branchId);
      if (!capacity) return { ok: false, reason: 'not_found' };
      return availabilityForDate(store.db, capacity, query, clock.now());
    },

    async summary(branchId: string, query: AvailabilityQuery & { from?: string; days?: number }) {
      const capacity = await capacityOf(branchId);
      if (!capacity) return { ok: false, reason: 'not_found' };
      return availabilitySummary(store.db, capacity, query, clock.now());
    },

    async nearest(branchId: string, query: AvailabilityQuery & { startsAt: string; count?: number; days?: number }) {
      const capacity = await capacityOf(branchId);
      if (!capacity) return { ok: false, reason: 'not_found' };
      return nearestAvailable(store.db, capacity, query, clock.now());
    },

    book(request: BookRequest): Promise<BookResult> {
      return withRetries(
        (now) => store.transaction((tx) => bookAppointment(tx, request, now, random)),
        async (now) => {
          const capacity = await capacityOf(request.branchId);
          let alternatives: Slot[] = [];
          if (capacity) {
            const near = await nearestAvailable(store.db, capacity, { serviceTypeCode: request.serviceTypeCode, loaner: request.loaner, ignoreNotice: request.actor.type !== 'customer', startsAt: request.startsAt }, now);
            if (near.ok) alternatives = near.slots;
          }
          return { ok: false, reason: 'slot_taken', alternatives };
        },
      );
    },

    reschedule(request: ChangeRequest & { startsAt: string; loaner?: boolean }): Promise<RescheduleResult> {
      return withRetries(
        (now) => store.transaction((tx) => rescheduleAppointment(tx, request, now, random)),
        async () => ({ ok: false, reason: 'changed' }),
      );
    },

    cancel(request: ChangeRequest & { reason?: string | null }): Promise<ChangeResult> {
      return withRetries((now) => store.transaction((tx) => cancelAppointment(tx, request, now)), async () => ({ ok: false, reason: 'changed' }));
    },

    checkIn(request: ChangeRequest): Promise<ChangeResult> {
      return withRetries((now) => store.transaction((tx) => checkInAppointment(tx, request, now)), async () => ({ ok: false, reason: 'changed' }));
    },

    markNoShow(request: ChangeRequest): Promise<ChangeResult> {
      return withRetries((now) => store.transaction((tx) => markNoShow(tx, request, now)), async () => ({ ok: false, reason: 'changed' }));
    },

    find: (id: string) => findAppointment(store.db, id),
    findByReference: (reference: string) => findAppointmentByReference(store.db, reference),
    upcoming: (customerId: string) => listUpcomingAppointments(store.db, customerId, clock.now()),
    listForBranch: (branchId: string, filter: BranchAppointmentsFilter) => listBranchAppointments(store.db, branchId, filter),
    history: (appointmentId: string) => appointmentHistory(store.db, appointmentId),
  };
}
