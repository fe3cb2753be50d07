import { sql, type Kysely } from 'kysely';
import { newId } from '../ids';
import { isUniqueViolation } from '../store/errors';
import type { Database, RepairOrderRow, RepairOrderStatus } from '../store/schema';

/*
 * Repair orders: the workshop's job for one visit. Opened at check-in (see check-in.ts); the progress flow
 * moves them on through the workshop's statuses. Everything here runs on a Kysely instance or a
 * transaction the caller owns, reading before writing and never reading back what it wrote (D1).
 */

/** A repair order as the console, the API and the flows see it. */
export interface RepairOrder {
  id: string;
  /** What staff and customers quote, e.g. 'RO-000123'. */
  number: string;
  appointmentId: string | null;
  branchId: string;
  customerId: string;
  vehicleId: string | null;
  advisorId: string | null;
  status: RepairOrderStatus;
  mileageIn: number | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** Digits of the number; more appear once a dealership passes a million orders, and it still sorts by seq. */
const NUMBER_DIGITS = 6;

/** 'RO-000123' for sequence 123. */
export function repairOrderNumber(seq: number): string {
  return `RO-${String(seq).padStart(NUMBER_DIGITS, '0')}`;
}

function toRepairOrder(r: RepairOrderRow): RepairOrder {
  return {
    id: r.id,
    number: r.number,
    appointmentId: r.appointment_id,
    branchId: r.branch_id,
    customerId: r.customer_id,
    vehicleId: r.vehicle_id,
    advisorId: r.advisor_id,
    status: r.status,
    mileageIn: r.mileage_in,
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/**
 * True when another transaction took the same repair order number (or opened an order for the same
 * appointment) first: the whole operation runs again on fresh reads, like a lost booking race.
 */
export function isRepairOrderConflict(err: unknown): boolean {
  return isUniqueViolation(err, 'repair_orders');
}

export interface OpenRepairOrder {
  appointmentId: string | null;
  branchId: string;
  customerId: string;
  vehicleId: string | null;
  advisorId: string | null;
  mileageIn: number | null;
}

/**
 * Opens a repair order with the next number. The number is the highest so far plus one; a concurrent
 * opening that took it first makes this insert a unique violation (see isRepairOrderConflict), which the
 * caller answers by running the whole transaction again.
 */
export async function openRepairOrder(db: Kysely<Database>, input: OpenRepairOrder, now: string): Promise<RepairOrder> {
  const last = await db.selectFrom('repair_orders').select(sql<number | string | null>`max(seq)`.as('seq')).executeTakeFirst();
  const seq = Number(last?.seq ?? 0) + 1;
  const row: RepairOrderRow = {
    id: newId(),
    seq,
    number: repairOrderNumber(seq),
    appointment_id: input.appointmentId,
    branch_id: input.branchId,
    customer_id: input.customerId,
    vehicle_id: input.vehicleId,
    advisor_id: input.advisorId,
    status: 'checked_in',
    mileage_in: input.mileageIn,
    version: 1,
    created_at: now,
    updated_at: now,
  };
  await db.insertInto('repair_orders').values(row).execute();
  return toRepairOrder(row);
}

export async function findRepairOrder(db: Kysely<Database>, id: string): Promise<RepairOrder | null> {
  const row = await db.selectFrom('repair_orders').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toRepairOrder(row) : null;
}

/** The repair order opened when `appointmentId` was checked in, or null. */
export async function findRepairOrderForAppointment(db: Kysely<Database>, appointmentId: string): Promise<RepairOrder | null> {
  const row = await db.selectFrom('repair_orders').selectAll().where('appointment_id', '=', appointmentId).executeTakeFirst();
  return row ? toRepairOrder(row) : null;
}

/**
 * Gives the repair order to another advisor (or to nobody), moving its version on. Only when it is still
 * at the version read, so a change made meanwhile is not overwritten.
 */
export async function setRepairOrderAdvisor(db: Kysely<Database>, order: Pick<RepairOrder, 'id' | 'version'>, advisorId: string | null, now: string): Promise<void> {
  await db.updateTable('repair_orders').set({ advisor_id: advisorId, version: order.version + 1, updated_at: now }).where('id', '=', order.id).where('version', '=', order.version).execute();
}

/** A branch's repair orders, newest first, optionally in some statuses only: the workshop's board. */
export async function listBranchRepairOrders(db: Kysely<Database>, branchId: string, filter: { statuses?: readonly RepairOrderStatus[]; limit?: number } = {}): Promise<RepairOrder[]> {
  let query = db.selectFrom('repair_orders').selectAll().where('branch_id', '=', branchId);
  if (filter.statuses && filter.statuses.length > 0) query = query.where('status', 'in', filter.statuses);
  const rows = await query.orderBy('seq', 'desc').limit(filter.limit ?? 200).execute();
  return rows.map(toRepairOrder);
}
