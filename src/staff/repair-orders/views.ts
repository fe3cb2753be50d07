import { sql, type Kysely } from 'kysely';
import { deliveryStates, type DeliveryState } from '../../repair-orders/notices';
import { toRepairOrder, type RepairOrder } from '../../repair-orders/repair-orders';
import { loadRepairOrderSettings } from '../../repair-orders/settings';
import { OPEN_STATUSES } from '../../repair-orders/statuses';
import { amountDue, loadItems, type ItemView } from '../../repair-orders/subject';
import type { AlertKind, ChannelName, Database, NoticeKind, NoticeState, RepairOrderStatus } from '../../store/schema';
import { branchAdvisors } from '../appointments/operations';

/*
 * Repair orders as staff read them: the board's cards (one query a branch, counts joined in) and one
 * order with everything its page shows — items and answers, the timeline, the notices with how their
 * delivery went, and what an advisor must do by hand.
 */

export interface BoardCard {
  order: RepairOrder;
  customerName: string | null;
  customerErased: boolean;
  plate: string | null;
  advisorName: string | null;
  openAlerts: number;
  pendingItems: number;
}

/** The branch's orders in the workshop, and those collected or cancelled since `since`, newest first. */
export async function boardCards(db: Kysely<Database>, branchId: string, since: string): Promise<BoardCard[]> {
  const rows = await db
    .selectFrom('repair_orders as o')
    .innerJoin('customers as c', 'c.id', 'o.customer_id')
    .leftJoin('vehicles as v', 'v.id', 'o.vehicle_id')
    .leftJoin('staff_users as s', 's.id', 'o.advisor_id')
    .selectAll('o')
    .select(['c.display_name as customer_name', 'c.erased_at as customer_erased_at', 'v.plate as plate', 's.name as advisor_name'])
    .where('o.branch_id', '=', branchId)
    .where((eb) => eb.or([eb('o.status', 'in', OPEN_STATUSES), eb('o.status_changed_at', '>=', since)]))
    .orderBy('o.seq', 'desc')
    .limit(500)
    .execute();
  const [alerts, pending] = await Promise.all([
    db
      .selectFrom('repair_order_alerts')
      .select(['repair_order_id', sql<number>`count(*)`.as('n')])
      .where('branch_id', '=', branchId)
      .where('resolved_at', 'is', null)
      .groupBy('repair_order_id')
      .execute(),
    db
      .selectFrom('repair_order_items as i')
      .innerJoin('repair_orders as o', 'o.id', 'i.repair_order_id')
      .leftJoin('repair_order_decisions as d', 'd.item_id', 'i.id')
      .select(['i.repair_order_id', sql<number>`count(*)`.as('n')])
      .where('o.branch_id', '=', branchId)
      .where('o.status', 'in', OPEN_STATUSES)
      .where('d.item_id', 'is', null)
      .groupBy('i.repair_order_id')
      .execute(),
  ]);
  const alertCount = new Map(alerts.map((a) => [a.repair_order_id, Number(a.n)]));
  const pendingCount = new Map(pending.map((a) => [a.repair_order_id, Number(a.n)]));
  return rows.map((r) => ({
    order: toRepairOrder(r),
    customerName: r.customer_name,
    customerErased: r.customer_erased_at !== null,
    plate: r.plate || null,
    advisorName: r.advisor_name,
    openAlerts: alertCount.get(r.id) ?? 0,
    pendingItems: pendingCount.get(r.id) ?? 0,
  }));
}

export interface TimelineEntry {
  id: string;
  at: string;
  action: string;
  from: RepairOrderStatus | null;
  to: RepairOrderStatus | null;
  actorType: string;
  actorLabel: string | null;
  channel: string;
  details: Record<string, unknown> | null;
  note: string | null;
}

export interface NoticeView {
  id: string;
  kind: NoticeKind;
  status: RepairOrderStatus | null;
  state: NoticeState;
  channel: ChannelName | null;
  urgent: boolean;
  dueAt: string;
  createdAt: string;
  queuedAt: string | null;
  settledAt: string | null;
  error: string | null;
  /** How its messages are doing in the outbox, once queued. */
  delivery: DeliveryState | null;
}

export interface AlertView {
  id: string;
  kind: AlertKind;
  details: Record<string, unknown> | null;
  createdAt: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
}

export interface RequestView {
  id: string;
  actorLabel: string | null;
  createdAt: string;
  sentAt: string | null;
  remindedAt: string | null;
  flaggedAt: string | null;
  closedAt: string | null;
}

export interface RepairOrderDetail {
  order: RepairOrder;
  branch: { id: string; name: string; timeZone: string };
  customer: { id: string; name: string | null; phone: string | null; erased: boolean; channels: { channel: ChannelName; reachable: boolean }[] };
  vehicle: { id: string; plate: string; make: string | null; model: string | null } | null;
  appointment: { id: string; reference: string } | null;
  advisor: { id: string; name: string } | null;
  advisors: { id: string; name: string }[];
  currency: string;
  amountDue: number | null;
  items: ItemView[];
  requests: RequestView[];
  timeline: TimelineEntry[];
  notices: NoticeView[];
  alerts: AlertView[];
}

function json(text: string | null): Record<string, unknown> | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Everything the order's page shows; null when the order (or its branch) is gone. */
export async function repairOrderDetail(db: Kysely<Database>, order: RepairOrder): Promise<RepairOrderDetail | null> {
  const [branch, customer, identities, vehicle, appointment, advisors, items, requests, changes, notices, alerts] = await Promise.all([
    db.selectFrom('branches').select(['id', 'name', 'time_zone']).where('id', '=', order.branchId).executeTakeFirst(),
    db.selectFrom('customers').select(['id', 'display_name', 'phone', 'erased_at']).where('id', '=', order.customerId).executeTakeFirst(),
    db.selectFrom('channel_identities').select(['channel', 'reachable']).where('customer_id', '=', order.customerId).orderBy('last_seen_at', 'desc').execute(),
    order.vehicleId ? db.selectFrom('vehicles').select(['id', 'plate', 'make', 'model']).where('id', '=', order.vehicleId).executeTakeFirst() : Promise.resolve(undefined),
    order.appointmentId ? db.selectFrom('appointments').select(['id', 'reference']).where('id', '=', order.appointmentId).executeTakeFirst() : Promise.resolve(undefined),
    branchAdvisors(db, order.branchId),
    loadItems(db, order.id),
    db.selectFrom('repair_order_requests').selectAll().where('repair_order_id', '=', order.id).orderBy('created_at').execute(),
    db.selectFrom('repair_order_changes').selectAll().where('repair_order_id', '=', order.id).orderBy('created_at', 'desc').orderBy('version', 'desc').limit(200).execute(),
    db.selectFrom('repair_order_notices').selectAll().where('repair_order_id', '=', order.id).orderBy('created_at', 'desc').limit(100).execute(),
    db.selectFrom('repair_order_alerts').selectAll().where('repair_order_id', '=', order.id).orderBy('created_at', 'desc').limit(100).execute(),
  ]);
  if (!branch || !customer) return null;
  const settings = await loadRepairOrderSettings(db, branch.id, branch.time_zone);
  const advisor = order.advisorId ? ((await db.selectFrom('staff_users').select(['id', 'name']).where('id', '=', order.advisorId).executeTakeFirst()) ?? null) : null;
  const delivery = await deliveryStates(db, notices.filter((n) => n.rows > 0));
  return {
    order,
    branch: { id: branch.id, name: branch.name, timeZone: branch.time_zone },
    customer: { id: customer.id, name: customer.display_name, phone: customer.phone, erased: customer.erased_at !== null, channels: identities.map((i) => ({ channel: i.channel, reachable: i.reachable === 1 })) },
    vehicle: vehicle ?? null,
    appointment: appointment ?? null,
    advisor,
    advisors,
    currency: settings.currency,
    amountDue: amountDue({ order, items }),
    items,
    requests: requests.map((r) => ({ id: r.id, actorLabel: r.actor_label, createdAt: r.created_at, sentAt: r.sent_at, remindedAt: r.reminded_at, flaggedAt: r.flagged_at, closedAt: r.closed_at })),
    timeline: changes.map((c) => ({ id: c.id, at: c.created_at, action: c.action, from: c.from_status, to: c.to_status, actorType: c.actor_type, actorLabel: c.actor_label, channel: c.channel, details: json(c.details), note: c.note })),
    notices: notices.map((n) => ({
      id: n.id,
      kind: n.kind,
      status: n.status,
      state: n.state,
      channel: n.channel,
      urgent: n.urgent === 1,
      dueAt: n.due_at,
      createdAt: n.created_at,
      queuedAt: n.queued_at,
      settledAt: n.settled_at,
      error: n.error,
      delivery: delivery.get(n.id) ?? null,
    })),
    alerts: alerts.map((a) => ({ id: a.id, kind: a.kind, details: json(a.details), createdAt: a.created_at, resolvedAt: a.resolved_at, resolvedBy: a.resolved_by })),
  };
}
