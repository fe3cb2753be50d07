import { sql, type Kysely } from 'kysely';
import { newId } from '../ids';
import { isUniqueViolation } from '../store/errors';
import type { Database, RepairOrderRow, RepairOrderStatus } from '../store/schema';

/*
 * Repair orders: the workshop's job for one visit. Opened at check-in (see check-in.ts), by staff for a walk-in
 * or by the DMS; operations.ts moves them on through the workshop's statuses. Everything here runs on a Kysely instance or a
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
  /** The dealership's own RO number, by which its DMS knows the order. */
  dmsNumber: string | null;
  promisedAt: string | null;
  /** Minor units of the branch's currency. */
  estimatedAmount: number | null;
  finalAmount: number | null;
  workSummary: string | null;
  statusChangedAt: string;
  readyAt: string | null;
  collectedAt: string | null;
  pickupPlannedAt: string | null;
}

/** Digits of the number; more appear once a dealership passes a million orders, and it still sorts by seq. */
const NUMBER_DIGITS = 6;

/** 'RO-000123' for sequence 123. */
export function repairOrderNumber(seq: number): string {
  return `RO-${String(seq).padStart(NUMBER_DIGITS, '0')}`;
}

export function toRepairOrder(r: RepairOrderRow): RepairOrder {
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
    dmsNumber: r.dms_number,
    promisedAt: r.promised_at,
    estimatedAmount: r.estimated_amount,
    finalAmount: r.final_amount,
    workSummary: r.work_summary,
    statusChangedAt: r.status_changed_at ?? r.created_at,
    readyAt: r.ready_at,
    collectedAt: r.collected_at,
    pickupPlannedAt: r.pickup_planned_at,
  };
}

/** The number the customer and the dealership quote: the DMS's own when it has one, else ours. */
export function displayNumber(order: Pick<RepairOrder, 'number' | 'dmsNumber'>): string {
  return order.dmsNumber ?? order.number;
}

/**
 * True when another transaction took the same repair order number (or opened an order for the same
 * appointment) first: the whole operation runs again on fresh reads, like a lost booking race.
 */
export function isRepairOrderConflict(err: unknown): boolean {
  return REPAIR_ORDER_KEYED_TABLES.some((table) => isUniqueViolation(err, table));
}

/**
 * Tables whose keys settle races over a repair order: the order's number, its next version in the
 * timeline, an item's place and answer, a notice sent once. Losing one of them means "run it again".
 */
const REPAIR_ORDER_KEYED_TABLES = ['repair_orders', 'repair_order_changes', 'repair_order_items', 'repair_order_decisions', 'repair_order_notices', 'repair_order_requests'] as const;

export interface OpenRepairOrder {
  appointmentId: string | null;
  branchId: string;
  customerId: string;
  vehicleId: string | null;
  advisorId: string | null;
  mileageIn: number | null;
  /** What a walk-in or the DMS knows from the start. */
  status?: RepairOrderStatus;
  dmsNumber?: string | null;
  promisedAt?: string | null;
  estimatedAmount?: number | null;
  finalAmount?: number | null;
  workSummary?: string | null;
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
    status: input.status ?? 'checked_in',
    mileage_in: input.mileageIn,
    version: 1,
    created_at: now,
    updated_at: now,
    dms_number: input.dmsNumber ?? null,
    promised_at: input.promisedAt ?? null,
    estimated_amount: input.estimatedAmount ?? null,
    final_amount: input.finalAmount ?? null,
    work_summary: input.workSummary ?? null,
    status_changed_at: now,
    ready_at: input.status === 'ready' ? now : null,
    collected_at: input.status === 'collected' ? now : null,
    pickup_planned_at: null,
  };
  await db.insertInto('repair_orders').values(row).execute();
  return toRepairOrder(row);
}

export async function findRepairOrder(db: Kysely<Database>, id: string): Promise<RepairOrder | null> {
  const row = await db.selectFrom('repair_orders').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toRepairOrder(row) : null;
}

/** The order the dealership calls `number`: its DMS number, else our own ('RO-000123'); null when none. */
export async function findRepairOrderByNumber(db: Kysely<Database>, number: string): Promise<RepairOrder | null> {
  const rows = await db
    .selectFrom('repair_orders')
    .selectAll()
    .where((eb) => eb.or([eb('dms_number', '=', number), eb('number', '=', number)]))
    .execute();
  // A DMS number that happens to look like one of ours names the DMS's order.
  const row = rows.find((r) => r.dms_number === number) ?? rows[0];
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
