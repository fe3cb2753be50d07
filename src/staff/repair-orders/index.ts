import { findRepairOrder, findRepairOrderForAppointment, listBranchRepairOrders, type RepairOrder } from '../../repair-orders/repair-orders';
import type { RepairOrderStatus } from '../../store/schema';
import type { Store } from '../../store/store';
import { canSeeBranch, type Principal } from '../permissions';

/*
 * Repair orders for staff: the workshop's job for one visit, opened when the customer is checked in
 * (see the appointment service's checkIn, which opens it in the same transaction). Staff see the orders
 * of their branches only; one of another branch is not found, as if it did not exist.
 */

export type { RepairOrder } from '../../repair-orders/repair-orders';

export function createRepairOrderService(deps: { store: Store }) {
  const db = deps.store.db;
  const visible = (principal: Principal, order: RepairOrder | null) => (order && canSeeBranch(principal, order.branchId) ? order : null);
  return {
    async find(principal: Principal, id: string): Promise<RepairOrder | null> {
      return visible(principal, await findRepairOrder(db, id));
    },

    /** The order opened when the appointment was checked in, or null. */
    async forAppointment(principal: Principal, appointmentId: string): Promise<RepairOrder | null> {
      return visible(principal, await findRepairOrderForAppointment(db, appointmentId));
    },

    /** A branch's orders, newest first; null when `principal` may not see the branch. */
    async listForBranch(principal: Principal, branchId: string, filter: { statuses?: readonly RepairOrderStatus[]; limit?: number } = {}): Promise<RepairOrder[] | null> {
      return canSeeBranch(principal, branchId) ? listBranchRepairOrders(db, branchId, filter) : null;
    },
  };
}

export type RepairOrderService = ReturnType<typeof createRepairOrderService>;
