import type { RepairOrderStatus } from '../store/schema';

/** Every status, in the order a job goes through the workshop; the API's names. */
export const REPAIR_ORDER_STATUSES: readonly RepairOrderStatus[] = ['checked_in', 'diagnosing', 'awaiting_approval', 'in_progress', 'quality_check', 'ready', 'collected', 'cancelled'];

/** The statuses of a car in the workshop: the board's columns. */
export const OPEN_STATUSES: readonly RepairOrderStatus[] = ['checked_in', 'diagnosing', 'awaiting_approval', 'in_progress', 'quality_check', 'ready'];

/** Statuses an order never leaves. */
export const CLOSED_STATUSES: readonly RepairOrderStatus[] = ['collected', 'cancelled'];

export function isRepairOrderStatus(value: unknown): value is RepairOrderStatus {
  return typeof value === 'string' && (REPAIR_ORDER_STATUSES as readonly string[]).includes(value);
}

export function isClosed(status: RepairOrderStatus): boolean {
  return CLOSED_STATUSES.includes(status);
}

/** The status a board's "advance" button moves an order to, or null at the end of the line. */
export function nextStatus(status: RepairOrderStatus): RepairOrderStatus | null {
  const i = OPEN_STATUSES.indexOf(status);
  if (i < 0) return null;
  return i === OPEN_STATUSES.length - 1 ? 'collected' : OPEN_STATUSES[i + 1]!;
}

/** Statuses in which added items may be sent to the customer; sending them moves the order to awaiting approval. */
export const ITEMS_ACCEPTED_IN: readonly RepairOrderStatus[] = ['checked_in', 'diagnosing', 'awaiting_approval', 'in_progress', 'quality_check', 'ready'];
