import type { Kysely } from 'kysely';
import { localTimeOf } from '../domain/local-time';
import type { AppointmentAction, AppointmentStatus, BookingChannel, Database } from '../store/schema';

/*
 * Appointments as the flows, the console and the DMS API see them: UTC instants plus the branch's local
 * date and times, and the names staff and customers recognise. Reads only; changes go through booking.ts.
 */

export interface Appointment {
  id: string;
  reference: string;
  branchId: string;
  customerId: string;
  vehicleId: string | null;
  serviceTypeId: string;
  serviceTypeCode: string;
  /** The service type's name per locale. */
  serviceTypeNames: Record<string, string>;
  /** UTC ISO. */
  startsAt: string;
  endsAt: string;
  timeZone: string;
  /** Branch-local date and wall times of the start and end. */
  localDate: string;
  localStart: string;
  localEnd: string;
  bayId: string;
  bayName: string;
  advisorId: string | null;
  status: AppointmentStatus;
  note: string | null;
  loanerRequested: boolean;
  channel: BookingChannel;
  createdBy: 'customer' | 'staff';
  /** Pass back when changing it, so a change made from a stale view is refused rather than applied. */
  version: number;
  createdAt: string;
  updatedAt: string;
  cancelledAt: string | null;
  checkedInAt: string | null;
}

function baseQuery(db: Kysely<Database>) {
  return db
    .selectFrom('appointments as a')
    .innerJoin('branches as br', 'br.id', 'a.branch_id')
    .innerJoin('service_types as st', 'st.id', 'a.service_type_id')
    .innerJoin('bays as b', 'b.id', 'a.bay_id')
    .select([
      'a.id',
      'a.reference',
      'a.branch_id',
      'a.customer_id',
      'a.vehicle_id',
      'a.service_type_id',
      'st.code as service_type_code',
      'st.names as service_type_names',
      'a.starts_at',
      'a.ends_at',
      'br.time_zone',
      'a.local_date',
      'a.bay_id',
      'b.name as bay_name',
      'a.advisor_id',
      'a.status',
      'a.note',
      'a.loaner_requested',
      'a.channel',
      'a.created_by',
      'a.version',
      'a.created_at',
      'a.updated_at',
      'a.cancelled_at',
      'a.checked_in_at',
    ]);
}

type Row = Awaited<ReturnType<ReturnType<typeof baseQuery>['executeTakeFirstOrThrow']>>;

function toAppointment(r: Row): Appointment {
  return {
    id: r.id,
    reference: r.reference,
    branchId: r.branch_id,
    customerId: r.customer_id,
    vehicleId: r.vehicle_id,
    serviceTypeId: r.service_type_id,
    serviceTypeCode: r.service_type_code,
    serviceTypeNames: JSON.parse(r.service_type_names) as Record<string, string>,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    timeZone: r.time_zone,
    localDate: r.local_date,
    localStart: localTimeOf(Date.parse(r.starts_at), r.time_zone),
    localEnd: localTimeOf(Date.parse(r.ends_at), r.time_zone),
    bayId: r.bay_id,
    bayName: r.bay_name,
    advisorId: r.advisor_id,
    status: r.status,
    note: r.note,
    loanerRequested: r.loaner_requested === 1,
    channel: r.channel,
    createdBy: r.created_by,
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    cancelledAt: r.cancelled_at,
    checkedInAt: r.checked_in_at,
  };
}

/** The appointment with `id`, or null. */
export async function findAppointment(db: Kysely<Database>, id: string): Promise<Appointment | null> {
  const row = await baseQuery(db).where('a.id', '=', id).executeTakeFirst();
  return row ? toAppointment(row) : null;
}

/** The appointment a customer or staff member quotes, e.g. 'BK-7K3QXM' (see normalizeBookingReference). */
export async function findAppointmentByReference(db: Kysely<Database>, reference: string): Promise<Appointment | null> {
  const row = await baseQuery(db).where('a.reference', '=', reference).executeTakeFirst();
  return row ? toAppointment(row) : null;
}

/** A customer's bookings that have not ended yet and still stand, soonest first ("my bookings"). */
export async function listUpcomingAppointments(db: Kysely<Database>, customerId: string, now: Date): Promise<Appointment[]> {
  const rows = await baseQuery(db)
    .where('a.customer_id', '=', customerId)
    .where('a.status', 'in', ['booked', 'checked_in'])
    .where('a.ends_at', '>', now.toISOString())
    .orderBy('a.starts_at')
    .execute();
  return rows.map(toAppointment);
}

export interface BranchAppointmentsFilter {
  /** Local dates, inclusive: one day for the day view, seven for the week. */
  from: string;
  to: string;
  advisorId?: string | null;
  statuses?: readonly AppointmentStatus[];
}

/** A branch's appointments on local dates `from`..`to`, by start time then bay: the console's day and week. */
export async function listBranchAppointments(db: Kysely<Database>, branchId: string, filter: BranchAppointmentsFilter): Promise<Appointment[]> {
  let query = baseQuery(db).where('a.branch_id', '=', branchId).where('a.local_date', '>=', filter.from).where('a.local_date', '<=', filter.to);
  if (filter.advisorId) query = query.where('a.advisor_id', '=', filter.advisorId);
  if (filter.statuses && filter.statuses.length > 0) query = query.where('a.status', 'in', filter.statuses);
  const rows = await query.orderBy('a.starts_at').orderBy('b.sort_order').orderBy('a.reference').execute();
  return rows.map(toAppointment);
}

export interface AppointmentChange {
  version: number;
  action: AppointmentAction;
  actorType: 'customer' | 'staff' | 'system';
  actorId: string | null;
  channel: BookingChannel | null;
  details: unknown;
  at: string;
}

/** What happened to an appointment, oldest first: who booked, moved, cancelled or checked it in, and how. */
export async function appointmentHistory(db: Kysely<Database>, appointmentId: string): Promise<AppointmentChange[]> {
  const rows = await db.selectFrom('appointment_changes').selectAll().where('appointment_id', '=', appointmentId).orderBy('version').execute();
  return rows.map((r) => ({
    version: r.version,
    action: r.action,
    actorType: r.actor_type,
    actorId: r.actor_id,
    channel: r.channel,
    details: r.details === null ? null : (JSON.parse(r.details) as unknown),
    at: r.created_at,
  }));
}
