import type { Kysely } from 'kysely';
import { EVENT_TYPES, emitEvent } from '../events/events';
import { newId } from '../ids';
import type { Locale } from '../i18n/locales';
import type { Database, ItemDecision, ItemUrgency, RepairOrderActorType, RepairOrderChannel, RepairOrderStatus, RepairOrdersTable } from '../store/schema';
import { raiseAlert } from './alerts';
import { createNotice, type NoticeOutcome } from './notices';
import { displayNumber, openRepairOrder, type OpenRepairOrder, type RepairOrder } from './repair-orders';
import { newShortId } from './short-id';
import { isClosed, ITEMS_ACCEPTED_IN } from './statuses';
import { loadItems, loadSubject, type ItemView, type OrderSubject } from './subject';

/*
 * What happens to a repair order, each in the caller's transaction: opening it, moving its status, changing
 * its details, sending added items, an item's answer, the customer's pickup time, "call me", "more time".
 * Each writes the order's timeline, the notices the customer is sent and the domain events others react
 * to, in that one transaction. Reads come before writes and nothing written is read back (D1): the order
 * as changed is carried in memory and handed to the notices.
 *
 * Staff and DMS changes move the order to its next version; the timeline's key on (order, version) lets one
 * of two racing changes commit and the other run again (isRepairOrderConflict). What the customer does has
 * no version, so it never makes an advisor's open page stale.
 */

export interface OrderActor {
  type: RepairOrderActorType;
  id: string | null;
  label: string | null;
  channel: RepairOrderChannel;
}

export interface OpsContext {
  db: Kysely<Database>;
  now: Date;
  defaultLocale: Locale;
}

export type ChangeRefusal = { ok: false; reason: 'changed' | 'closed' | 'gone' };
export type Changed = { ok: true; order: RepairOrder; notices: NoticeOutcome[] };

/** The order, its fields and the event names' common part, as events carry them. */
export function orderRef(order: RepairOrder) {
  return { repairOrderId: order.id, number: displayNumber(order), dmsNumber: order.dmsNumber, ourNumber: order.number, branchId: order.branchId, customerId: order.customerId };
}

async function addChange(db: Kysely<Database>, orderId: string, change: { version: number | null; action: string; from?: RepairOrderStatus | null; to?: RepairOrderStatus | null; actor: OrderActor; details?: unknown; note?: string | null }, now: string): Promise<void> {
  await db
    .insertInto('repair_order_changes')
    .values({
      id: newId(),
      repair_order_id: orderId,
      version: change.version,
      action: change.action,
      from_status: change.from ?? null,
      to_status: change.to ?? null,
      actor_type: change.actor.type,
      actor_id: change.actor.id,
      actor_label: change.actor.label,
      channel: change.actor.channel,
      details: change.details === undefined ? null : JSON.stringify(change.details),
      note: change.note ?? null,
      created_at: now,
    })
    .execute();
}

type Columns = Partial<Omit<RepairOrdersTable, 'id' | 'seq' | 'number' | 'version' | 'created_at'>>;

/** The order with columns changed, in memory (what the database will hold once the transaction commits). */
function applied(order: RepairOrder, set: Columns, version: number, now: string): RepairOrder {
  const pick = <K extends keyof Columns>(k: K, current: unknown) => (k in set ? set[k] : current);
  return {
    ...order,
    status: pick('status', order.status) as RepairOrderStatus,
    advisorId: pick('advisor_id', order.advisorId) as string | null,
    vehicleId: pick('vehicle_id', order.vehicleId) as string | null,
    mileageIn: pick('mileage_in', order.mileageIn) as number | null,
    dmsNumber: pick('dms_number', order.dmsNumber) as string | null,
    promisedAt: pick('promised_at', order.promisedAt) as string | null,
    estimatedAmount: pick('estimated_amount', order.estimatedAmount) as number | null,
    finalAmount: pick('final_amount', order.finalAmount) as number | null,
    workSummary: pick('work_summary', order.workSummary) as string | null,
    statusChangedAt: (pick('status_changed_at', order.statusChangedAt) as string | null) ?? order.statusChangedAt,
    readyAt: pick('ready_at', order.readyAt) as string | null,
    collectedAt: pick('collected_at', order.collectedAt) as string | null,
    pickupPlannedAt: pick('pickup_planned_at', order.pickupPlannedAt) as string | null,
    version,
    updatedAt: now,
  };
}

/** A staff or DMS change: the order's next version with its timeline entry. */
async function bump(db: Kysely<Database>, order: RepairOrder, set: Columns, change: Parameters<typeof addChange>[2], now: string): Promise<RepairOrder> {
  const version = order.version + 1;
  // The timeline row first: its key (order, version) refuses the second of two racing changes.
  await addChange(db, order.id, { ...change, version }, now);
  await db
    .updateTable('repair_orders')
    .set({ ...set, version, updated_at: now })
    .where('id', '=', order.id)
    .where('version', '=', order.version)
    .execute();
  return applied(order, set, version, now);
}

/** Columns a status change sets beside the status. */
function statusColumns(order: RepairOrder, to: RepairOrderStatus, now: string): Columns {
  return {
    status: to,
    status_changed_at: now,
    ...(to === 'ready' ? { ready_at: now, pickup_planned_at: null } : {}),
    ...(to === 'collected' ? { collected_at: now } : {}),
    ...(order.status === 'ready' && to !== 'collected' && to !== 'ready' ? { ready_at: null } : {}),
  };
}

/** The notice a status tells the customer, when the branch tells about it. */
async function statusNotice(ctx: OpsContext, s: OrderSubject, status: RepairOrderStatus, force: boolean): Promise<NoticeOutcome[]> {
  if (!s.settings.notifyStatuses.includes(status)) return [];
  const o = s.order;
  const spec = status === 'ready' ? { kind: 'pickup' as const, dedupeKey: `${o.id}:pickup:${o.version}` } : { kind: 'status' as const, dedupeKey: `${o.id}:status:${status}:${o.version}` };
  return [await createNotice(ctx.db, s, { ...spec, status, urgent: force }, ctx.now)];
}

/** After the status changed: the notice, events, closing what a closed order leaves open. */
async function afterStatus(ctx: OpsContext, before: RepairOrder, after: RepairOrder, items: ItemView[], opts: { force: boolean; notify: boolean }): Promise<NoticeOutcome[]> {
  const now = ctx.now.toISOString();
  await emitEvent(ctx.db, { type: EVENT_TYPES.repairOrderStatusChanged, aggregateId: after.id, payload: { ...orderRef(after), from: before.status, to: after.status }, now });
  if (after.status === 'collected') {
    await emitEvent(ctx.db, { type: EVENT_TYPES.repairOrderCollected, aggregateId: after.id, payload: { ...orderRef(after), collectedAt: now, vehicleId: after.vehicleId, appointmentId: after.appointmentId }, now });
  }
  if (isClosed(after.status)) {
    await ctx.db.updateTable('repair_order_requests').set({ closed_at: now }).where('repair_order_id', '=', after.id).where('closed_at', 'is', null).execute();
  }
  if (!opts.notify) return [];
  const s = await loadSubject(ctx.db, after, ctx.defaultLocale, items);
  return s ? statusNotice(ctx, s, after.status, opts.force) : [];
}

/** Opens an order (a walk-in, or one the DMS sends) with its first timeline entry and the notice of its status. */
export async function openOrder(ctx: OpsContext, input: OpenRepairOrder, actor: OrderActor, opts: { force?: boolean; notify?: boolean } = {}): Promise<Changed> {
  const order = await openRepairOrder(ctx.db, input, ctx.now.toISOString());
  await addChange(ctx.db, order.id, { version: 1, action: 'opened', to: order.status, actor, details: { appointmentId: order.appointmentId, dmsNumber: order.dmsNumber } }, ctx.now.toISOString());
  if (opts.notify === false) return { ok: true, order, notices: [] };
  const s = await loadSubject(ctx.db, order, ctx.defaultLocale, []);
  return { ok: true, order, notices: s ? await statusNotice(ctx, s, order.status, opts.force ?? false) : [] };
}

/**
 * Moves the order to `to`. Same status: nothing happens (a DMS sending it again changes nothing). A closed
 * order stays closed. `force` sends the notice even in quiet hours.
 */
export async function changeStatus(ctx: OpsContext, order: RepairOrder, to: RepairOrderStatus, actor: OrderActor, opts: { note?: string | null; force?: boolean; expectedVersion?: number; notify?: boolean } = {}): Promise<Changed | ChangeRefusal> {
  if (opts.expectedVersion !== undefined && opts.expectedVersion !== order.version) return { ok: false, reason: 'changed' };
  if (order.status === to) return { ok: true, order, notices: [] };
  if (isClosed(order.status)) return { ok: false, reason: 'closed' };
  const items = await loadItems(ctx.db, order.id);
  const now = ctx.now.toISOString();
  const after = await bump(ctx.db, order, statusColumns(order, to, now), { version: 0, action: 'status', from: order.status, to, actor, note: opts.note ?? null }, now);
  return { ok: true, order: after, notices: await afterStatus(ctx, order, after, items, { force: opts.force ?? false, notify: opts.notify ?? true }) };
}

export interface DetailChanges {
  promisedAt?: string | null;
  estimatedAmount?: number | null;
  finalAmount?: number | null;
  workSummary?: string | null;
  advisorId?: string | null;
  mileageIn?: number | null;
  dmsNumber?: string | null;
  vehicleId?: string | null;
}

const DETAIL_COLUMNS: [keyof DetailChanges, keyof Columns, keyof RepairOrder][] = [
  ['promisedAt', 'promised_at', 'promisedAt'],
  ['estimatedAmount', 'estimated_amount', 'estimatedAmount'],
  ['finalAmount', 'final_amount', 'finalAmount'],
  ['workSummary', 'work_summary', 'workSummary'],
  ['advisorId', 'advisor_id', 'advisorId'],
  ['mileageIn', 'mileage_in', 'mileageIn'],
  ['dmsNumber', 'dms_number', 'dmsNumber'],
  ['vehicleId', 'vehicle_id', 'vehicleId'],
];

/**
 * Changes the order's details (what is given; undefined leaves a field alone). Nothing that differs:
 * nothing happens. A promised time moved later tells the customer, when the branch does so.
 */
export async function updateDetails(ctx: OpsContext, order: RepairOrder, changes: DetailChanges, actor: OrderActor, opts: { note?: string | null; force?: boolean; expectedVersion?: number } = {}): Promise<(Changed & { changed: (keyof DetailChanges)[] }) | ChangeRefusal> {
  if (opts.expectedVersion !== undefined && opts.expectedVersion !== order.version) return { ok: false, reason: 'changed' };
  const set: Columns = {};
  const changed: (keyof DetailChanges)[] = [];
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  for (const [field, column, current] of DETAIL_COLUMNS) {
    const value = changes[field];
    if (value === undefined || value === order[current]) continue;
    (set as Record<string, unknown>)[column] = value;
    changed.push(field);
    before[field] = order[current];
    after[field] = value;
  }
  if (changed.length === 0) return { ok: true, order, notices: [], changed };
  if (isClosed(order.status) && changed.some((f) => f !== 'dmsNumber' && f !== 'finalAmount' && f !== 'workSummary')) return { ok: false, reason: 'closed' };
  const now = ctx.now.toISOString();
  const next = await bump(ctx.db, order, set, { version: 0, action: 'details', actor, details: { before, after }, note: opts.note ?? null }, now);
  const notices: NoticeOutcome[] = [];
  const moved = changed.includes('promisedAt') && order.promisedAt !== null && next.promisedAt !== null && Date.parse(next.promisedAt) > Date.parse(order.promisedAt);
  if (moved && !isClosed(next.status)) {
    const s = await loadSubject(ctx.db, next, ctx.defaultLocale);
    if (s?.settings.notifyDelay) {
      notices.push(await createNotice(ctx.db, s, { kind: 'delay', dedupeKey: `${order.id}:delay:${next.promisedAt}`, urgent: opts.force ?? false, params: { from: order.promisedAt!, to: next.promisedAt! } }, ctx.now));
    }
  }
  return { ok: true, order: next, notices, changed };
}

export interface NewItem {
  description: string;
  /** Minor units. */
  price: number;
  urgency: ItemUrgency;
  photoUrl: string | null;
}

export type ItemsAdded = { ok: true; order: RepairOrder; requestId: string; items: ItemView[]; notices: NoticeOutcome[]; repeated: boolean };

/**
 * Sends added items to the customer as one request: the items, the order moved to awaiting approval, and
 * the consent message (urgent when an item is red, or when staff force it). `requestKey` recognises a
 * retried request: the first one is answered again, nothing is sent twice.
 */
export async function addItems(ctx: OpsContext, order: RepairOrder, input: { items: NewItem[]; requestKey?: string | null }, actor: OrderActor, opts: { force?: boolean; expectedVersion?: number } = {}): Promise<ItemsAdded | ChangeRefusal | { ok: false; reason: 'not_now' }> {
  const existingItems = await loadItems(ctx.db, order.id);
  if (input.requestKey) {
    const earlier = await ctx.db.selectFrom('repair_order_requests').select('id').where('repair_order_id', '=', order.id).where('request_key', '=', input.requestKey).executeTakeFirst();
    if (earlier) return { ok: true, order, requestId: earlier.id, items: existingItems.filter((i) => i.requestId === earlier.id), notices: [], repeated: true };
  }
  if (opts.expectedVersion !== undefined && opts.expectedVersion !== order.version) return { ok: false, reason: 'changed' };
  if (isClosed(order.status)) return { ok: false, reason: 'closed' };
  if (!ITEMS_ACCEPTED_IN.includes(order.status)) return { ok: false, reason: 'not_now' };
  const now = ctx.now.toISOString();
  const requestId = newShortId();
  const start = existingItems.reduce((max, i) => Math.max(max, i.position), 0);
  const items: ItemView[] = input.items.map((item, i) => ({
    id: newShortId(),
    requestId,
    position: start + i + 1,
    description: item.description,
    price: item.price,
    urgency: item.urgency,
    photoUrl: item.photoUrl,
    createdAt: now,
    decision: null,
    decidedAt: null,
    decidedVia: null,
    decidedBy: null,
    shownText: null,
    note: null,
  }));
  await ctx.db
    .insertInto('repair_order_requests')
    .values({ id: requestId, repair_order_id: order.id, request_key: input.requestKey ?? null, actor_type: actor.type, actor_label: actor.label, sent_at: null, reminded_at: null, flagged_at: null, closed_at: null, created_at: now })
    .execute();
  for (const item of items) {
    // One statement an item: D1 binds at most 100 parameters a statement.
    await ctx.db
      .insertInto('repair_order_items')
      .values({ id: item.id, repair_order_id: order.id, request_id: requestId, position: item.position, description: item.description, price: item.price, urgency: item.urgency, photo_url: item.photoUrl, created_at: now })
      .execute();
  }
  const moving = order.status !== 'awaiting_approval';
  const after = await bump(
    ctx.db,
    order,
    moving ? statusColumns(order, 'awaiting_approval', now) : {},
    { version: 0, action: 'items_added', from: moving ? order.status : null, to: moving ? 'awaiting_approval' : null, actor, details: { requestId, items: items.map((i) => ({ id: i.id, position: i.position, description: i.description, price: i.price, urgency: i.urgency })) } },
    now,
  );
  if (moving) await emitEvent(ctx.db, { type: EVENT_TYPES.repairOrderStatusChanged, aggregateId: after.id, payload: { ...orderRef(after), from: order.status, to: after.status }, now });
  const s = await loadSubject(ctx.db, after, ctx.defaultLocale, [...existingItems, ...items]);
  const urgent = (opts.force ?? false) || items.some((i) => i.urgency === 'red');
  const notices = s ? [await createNotice(ctx.db, s, { kind: 'consent', requestId, dedupeKey: `${requestId}:consent`, urgent }, ctx.now)] : [];
  return { ok: true, order: after, requestId, items, notices, repeated: false };
}

export interface DecisionBy {
  type: 'customer' | 'staff';
  id: string | null;
  label: string | null;
  channel: RepairOrderChannel;
  /** When it was decided (a call staff write down afterwards); defaults to now. */
  decidedAt?: string;
  note?: string | null;
}

/**
 * Records the answer to items not yet answered (`items` as read in this transaction), with the text the
 * customer was shown for each. An item has one answer, ever: the decision's key refuses a second, and the
 * caller answers "already recorded" from what it read. Closes the request when nothing of it is left open.
 */
export async function decide(ctx: OpsContext, order: RepairOrder, all: readonly ItemView[], itemIds: readonly string[], decision: ItemDecision, by: DecisionBy, shownText: (item: ItemView) => string | null): Promise<{ decided: ItemView[]; items: ItemView[] }> {
  const now = ctx.now.toISOString();
  const decidedAt = by.decidedAt ?? now;
  const decided: ItemView[] = [];
  for (const item of all) {
    if (!itemIds.includes(item.id) || item.decision !== null) continue;
    const text = shownText(item);
    await ctx.db
      .insertInto('repair_order_decisions')
      .values({
        item_id: item.id,
        repair_order_id: order.id,
        request_id: item.requestId,
        decision,
        decided_at: decidedAt,
        channel: by.channel,
        actor_type: by.type,
        actor_id: by.id,
        actor_label: by.label,
        shown_text: text,
        note: by.note ?? null,
        created_at: now,
      })
      .execute();
    decided.push({ ...item, decision, decidedAt, decidedVia: by.channel, decidedBy: { type: by.type, label: by.label }, shownText: text, note: by.note ?? null });
  }
  if (decided.length === 0) return { decided, items: [...all] };
  const items = all.map((i) => decided.find((d) => d.id === i.id) ?? i);
  const actor: OrderActor = { type: by.type, id: by.id, label: by.label, channel: by.channel };
  await addChange(ctx.db, order.id, { version: null, action: 'decision', actor, details: { decision, items: decided.map((d) => ({ id: d.id, position: d.position, description: d.description, price: d.price })), decidedAt }, note: by.note ?? null }, now);
  for (const d of decided) {
    await emitEvent(ctx.db, {
      type: EVENT_TYPES.itemDecided,
      aggregateId: order.id,
      payload: {
        ...orderRef(order),
        item: { id: d.id, requestId: d.requestId, position: d.position, description: d.description, price: d.price / 100, urgency: d.urgency },
        decision,
        decidedAt,
        channel: by.channel,
        by: { type: by.type, name: by.label },
        note: by.note ?? null,
      },
      now,
    });
  }
  for (const requestId of new Set(decided.map((d) => d.requestId))) {
    if (items.every((i) => i.requestId !== requestId || i.decision !== null)) {
      await ctx.db.updateTable('repair_order_requests').set({ closed_at: now }).where('id', '=', requestId).where('closed_at', 'is', null).execute();
    }
  }
  return { decided, items };
}

/** The customer said when they will come: kept on the order, in the timeline, and told to the DMS. */
export async function planPickup(ctx: OpsContext, order: RepairOrder, at: string, actor: OrderActor): Promise<RepairOrder> {
  const now = ctx.now.toISOString();
  await ctx.db.updateTable('repair_orders').set({ pickup_planned_at: at, updated_at: now }).where('id', '=', order.id).execute();
  await addChange(ctx.db, order.id, { version: null, action: 'pickup_planned', actor, details: { at } }, now);
  await emitEvent(ctx.db, { type: EVENT_TYPES.pickupTimeConfirmed, aggregateId: order.id, payload: { ...orderRef(order), pickupAt: at, channel: actor.channel }, now });
  return { ...order, pickupPlannedAt: at, updatedAt: now };
}

/** "Call me" or "I need more time": the advisor is told (an alert) and it is kept in the timeline. */
export async function askForAdvisor(ctx: OpsContext, order: RepairOrder, kind: 'call_requested' | 'more_time', actor: OrderActor, details: Record<string, unknown> = {}): Promise<void> {
  const now = ctx.now.toISOString();
  await addChange(ctx.db, order.id, { version: null, action: kind, actor, details }, now);
  await raiseAlert(ctx.db, { orderId: order.id, branchId: order.branchId, kind, details }, now);
}

export { isClosed };
