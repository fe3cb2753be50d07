import type { Transaction } from 'kysely';
import { findAppointmentByReference } from '../../booking/appointments';
import { isBookingConflict } from '../../booking/booking';
import { zonedInstant, minutesOfDay, isLocalDate } from '../../domain/local-time';
import type { Locale } from '../../i18n/locales';
import type { Clock } from '../../ops/clock';
import { checkInWithRepairOrder } from '../../repair-orders/check-in';
import { MAX_AMOUNT } from '../../repair-orders/money';
import { addItems, changeStatus, decide, openOrder, updateDetails, type ChangeRefusal, type DetailChanges, type NewItem, type OrderActor } from '../../repair-orders/operations';
import { findRepairOrder, findRepairOrderByNumber, findRepairOrderForAppointment, isRepairOrderConflict, listBranchRepairOrders, type RepairOrder } from '../../repair-orders/repair-orders';
import { loadRepairOrderSettings, repairOrderSettingsSchema, saveRepairOrderSettings, type RepairOrderSettings } from '../../repair-orders/settings';
import { isRepairOrderStatus, OPEN_STATUSES } from '../../repair-orders/statuses';
import { loadItems } from '../../repair-orders/subject';
import type { Database, ItemDecision, ItemUrgency, RepairOrderStatus } from '../../store/schema';
import type { Store } from '../../store/store';
import { branchAdvisors } from '../appointments/operations';
import { recordAudit } from '../audit';
import { liveCustomer } from '../customers/result';
import { findVehiclesByPlate } from '../customers/vehicles';
import { canSeeBranch, principalLabel, type Principal } from '../permissions';
import { conflict, invalid, notFound, ok, type ActionContext, type FieldError, type Result } from '../result';
import { boardCards, repairOrderDetail, type BoardCard, type RepairOrderDetail } from './views';

/*
 * Repair orders for staff, for the console and the DMS API alike: the board, one order with its timeline,
 * items, answers and notices, and every change — status, details, added items (one consent request to the
 * customer), an answer the customer gave on the phone, an alert handled, the branch's settings; plus the
 * DMS's upsert by its own RO number. Staff see the orders of their branches only; another branch's is not
 * found, as if it did not exist. Each change is one transaction with its audit entry, run again on fresh
 * reads when it lost a race.
 */

export type { RepairOrder } from '../../repair-orders/repair-orders';
export type { BoardCard, RepairOrderDetail } from './views';

export const MAX_ITEMS_PER_REQUEST = 20;
const MAX_DESCRIPTION_CHARS = 200;
const MAX_NOTE_CHARS = 500;
const MAX_SUMMARY_CHARS = 1000;
/** The dealership's RO numbers: letters, digits and . _ - (no slash: it travels in a path). */
const DMS_NUMBER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;

export interface ItemInput {
  description: string;
  /** Minor units. */
  price: number;
  urgency: ItemUrgency;
  photoUrl: string | null;
}

export interface DetailsInput {
  promisedAt?: string | null;
  estimatedAmount?: number | null;
  finalAmount?: number | null;
  workSummary?: string | null;
  advisorId?: string | null;
  mileageIn?: number | null;
}

export interface WalkInInput extends DetailsInput {
  branchId: string;
  customerId: string;
  vehicleId: string | null;
  dmsNumber: string | null;
  force?: boolean;
}

/** What the DMS sends to create or update an order by its RO number; see the API's upsertRepairOrder. */
export interface UpsertInput extends DetailsInput {
  bookingReference?: string;
  customerId?: string;
  vehicleId?: string;
  plate?: string;
  branchId?: string;
  status?: RepairOrderStatus;
  /** An advisor of the branch by staff id or e-mail; null gives the order to nobody. */
  advisor?: string | null;
  note?: string | null;
  force?: boolean;
}

export interface RepairOrderServiceDeps {
  store: Store;
  clock?: Clock;
  defaultLocale?: Locale;
  /** Wakes the outbox sender after a change queued notices. */
  onOutbox?: () => void;
}

function actorOf(principal: Principal): OrderActor {
  return principal.kind === 'staff'
    ? { type: 'staff', id: principal.id, label: principal.name, channel: 'console' }
    : { type: 'api_token', id: principal.id, label: principalLabel(principal), channel: 'dms' };
}

/** A local 'YYYY-MM-DDTHH:mm' (a form's datetime-local) in the branch's zone as a UTC instant, or null. */
export function localInputToIso(value: string, timeZone: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})$/.exec(value.trim());
  if (!m || !isLocalDate(m[1]!)) return null;
  const minutes = minutesOfDay(m[2]!);
  return minutes === null ? null : new Date(zonedInstant(m[1]!, minutes, timeZone)).toISOString();
}

/** Problems with added items, one per field (`items.0.price`). */
export function itemProblems(items: readonly ItemInput[]): FieldError[] {
  const errors: FieldError[] = [];
  if (items.length === 0) errors.push({ field: 'items', code: 'noItems' });
  if (items.length > MAX_ITEMS_PER_REQUEST) errors.push({ field: 'items', code: 'tooManyItems', params: { max: MAX_ITEMS_PER_REQUEST } });
  items.forEach((item, i) => {
    const description = item.description.trim();
    if (!description) errors.push({ field: `items.${i}.description`, code: 'required' });
    else if ([...description].length > MAX_DESCRIPTION_CHARS) errors.push({ field: `items.${i}.description`, code: 'tooLong', params: { max: MAX_DESCRIPTION_CHARS } });
    if (!Number.isInteger(item.price) || item.price < 0 || item.price > MAX_AMOUNT * 100) errors.push({ field: `items.${i}.price`, code: 'amount' });
    if (!['green', 'yellow', 'red'].includes(item.urgency)) errors.push({ field: `items.${i}.urgency`, code: 'urgency' });
    if (item.photoUrl !== null && (!/^https:\/\/[^\s]+$/i.test(item.photoUrl) || item.photoUrl.length > 1000)) errors.push({ field: `items.${i}.photoUrl`, code: 'photoUrl' });
  });
  return errors;
}

function detailProblems(input: DetailsInput): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of ['estimatedAmount', 'finalAmount'] as const) {
    const v = input[field];
    if (v !== undefined && v !== null && (!Number.isInteger(v) || v < 0 || v > MAX_AMOUNT * 100)) errors.push({ field, code: 'amount' });
  }
  if (input.promisedAt !== undefined && input.promisedAt !== null && Number.isNaN(Date.parse(input.promisedAt))) errors.push({ field: 'promisedAt', code: 'promisedAt' });
  if (input.workSummary && [...input.workSummary].length > MAX_SUMMARY_CHARS) errors.push({ field: 'workSummary', code: 'tooLong', params: { max: MAX_SUMMARY_CHARS } });
  if (input.mileageIn !== undefined && input.mileageIn !== null && (!Number.isInteger(input.mileageIn) || input.mileageIn < 0 || input.mileageIn > 10_000_000)) errors.push({ field: 'mileageIn', code: 'mileage' });
  return errors;
}

function detailChanges(input: DetailsInput): DetailChanges {
  const out: DetailChanges = {};
  if (input.promisedAt !== undefined) out.promisedAt = input.promisedAt === null ? null : new Date(input.promisedAt).toISOString();
  if (input.estimatedAmount !== undefined) out.estimatedAmount = input.estimatedAmount;
  if (input.finalAmount !== undefined) out.finalAmount = input.finalAmount;
  if (input.workSummary !== undefined) out.workSummary = input.workSummary?.trim() || null;
  if (input.advisorId !== undefined) out.advisorId = input.advisorId;
  if (input.mileageIn !== undefined) out.mileageIn = input.mileageIn;
  return out;
}

function refusal(r: ChangeRefusal | { ok: false; reason: 'not_now' }) {
  switch (r.reason) {
    case 'changed':
      return conflict('changed');
    case 'closed':
      return conflict('closed');
    case 'not_now':
      return conflict('notNow');
    case 'gone':
      return notFound();
  }
}

export function createRepairOrderService(deps: RepairOrderServiceDeps) {
  const { store } = deps;
  const db = store.db;
  const clock = deps.clock ?? { now: () => new Date() };
  const defaultLocale = deps.defaultLocale ?? 'en';
  const visible = (principal: Principal, order: RepairOrder | null) => (order && canSeeBranch(principal, order.branchId) ? order : null);

  /** Runs a change in a transaction, again on fresh reads when a racing change won (8 tries). */
  async function run<T>(op: (tx: Transaction<Database>, now: Date) => Promise<T>): Promise<T | ReturnType<typeof conflict>> {
    for (let attempt = 0; attempt < 8; attempt++) {
      try {
        const result = await store.transaction((tx) => op(tx, clock.now()));
        deps.onOutbox?.();
        return result;
      } catch (err) {
        if (!isRepairOrderConflict(err) && !isBookingConflict(err)) throw err;
      }
    }
    return conflict('busy');
  }

  async function advisorProblem(tx: Transaction<Database> | typeof db, branchId: string, advisorId: string | null | undefined, field = 'advisorId'): Promise<FieldError[]> {
    if (!advisorId) return [];
    return (await branchAdvisors(tx, branchId)).some((a) => a.id === advisorId) ? [] : [{ field, code: 'advisor' }];
  }

  async function audit(tx: Transaction<Database>, ctx: ActionContext, action: string, order: RepairOrder, before: unknown, after: unknown, now: Date) {
    await recordAudit(tx, { actor: ctx.actor, action, entity: 'repair_order', entityId: order.id, before, after, ip: ctx.ip, now: now.toISOString() });
  }

  async function visibleBranches(principal: Principal) {
    const rows = await db.selectFrom('branches').select(['id', 'name', 'time_zone']).orderBy('name').orderBy('id').execute();
    return rows.filter((b) => canSeeBranch(principal, b.id));
  }

  /** The order visible to `ctx.actor` as read in `tx`, or null. */
  async function readVisible(tx: Transaction<Database>, ctx: ActionContext, id: string): Promise<RepairOrder | null> {
    return visible(ctx.actor, await findRepairOrder(tx, id));
  }

  /** The status change and its audit entry, on an order read in this transaction. */
  async function statusIn(tx: Transaction<Database>, ctx: ActionContext, order: RepairOrder, status: RepairOrderStatus, opts: { note?: string | null; force?: boolean; expectedVersion?: number }, now: Date) {
    const result = await changeStatus({ db: tx, now, defaultLocale }, order, status, actorOf(ctx.actor), opts);
    if (result.ok && result.order.version !== order.version) await audit(tx, ctx, 'repair_order.status', order, { status: order.status }, { status, note: opts.note ?? null, notices: result.notices }, now);
    return result;
  }

  async function detailsIn(tx: Transaction<Database>, ctx: ActionContext, order: RepairOrder, changes: DetailChanges, opts: { note?: string | null; force?: boolean; expectedVersion?: number }, now: Date) {
    const result = await updateDetails({ db: tx, now, defaultLocale }, order, changes, actorOf(ctx.actor), opts);
    if (result.ok && result.changed.length > 0) {
      const pick = (o: RepairOrder) => Object.fromEntries(result.changed.map((f) => [f, o[f as keyof RepairOrder]]));
      await audit(tx, ctx, 'repair_order.update', order, pick(order), pick(result.order), now);
    }
    return result;
  }

  return {
    async find(principal: Principal, id: string): Promise<RepairOrder | null> {
      return visible(principal, await findRepairOrder(db, id));
    },

    /** The order the dealership calls `number` (its DMS number, else ours), when visible. */
    async byNumber(principal: Principal, number: string): Promise<RepairOrder | null> {
      return visible(principal, await findRepairOrderByNumber(db, number));
    },

    /** The order an added item belongs to, when visible. */
    async orderOfItem(principal: Principal, itemId: string): Promise<RepairOrder | null> {
      const item = await db.selectFrom('repair_order_items').select('repair_order_id').where('id', '=', itemId).executeTakeFirst();
      return item ? visible(principal, await findRepairOrder(db, item.repair_order_id)) : null;
    },

    /** The order opened when the appointment was checked in, or null. */
    async forAppointment(principal: Principal, appointmentId: string): Promise<RepairOrder | null> {
      return visible(principal, await findRepairOrderForAppointment(db, appointmentId));
    },

    /** A branch's orders, newest first; null when `principal` may not see the branch. */
    async listForBranch(principal: Principal, branchId: string, filter: { statuses?: readonly RepairOrderStatus[]; limit?: number } = {}): Promise<RepairOrder[] | null> {
      return canSeeBranch(principal, branchId) ? listBranchRepairOrders(db, branchId, filter) : null;
    },

    branches: visibleBranches,

    /** The board of one of the staff member's branches (else their first): cards in the workshop and those closed today. */
    async board(principal: Principal, branchId?: string): Promise<{ branches: { id: string; name: string; time_zone: string }[]; branch: { id: string; name: string; time_zone: string }; cards: BoardCard[] } | null> {
      const branches = await visibleBranches(principal);
      const branch = branches.find((b) => b.id === branchId) ?? branches[0];
      if (!branch) return null;
      const since = new Date(clock.now().getTime() - 24 * 3600_000).toISOString();
      return { branches, branch, cards: await boardCards(db, branch.id, since) };
    },

    async detail(principal: Principal, id: string): Promise<RepairOrderDetail | null> {
      const order = visible(principal, await findRepairOrder(db, id));
      return order ? repairOrderDetail(db, order) : null;
    },

    /** The active advisors of a branch the staff member sees, for the walk-in form. */
    async advisors(principal: Principal, branchId: string) {
      return canSeeBranch(principal, branchId) ? branchAdvisors(db, branchId) : [];
    },

    /** Opens an order for a car that came without an appointment; the customer is told it is checked in. */
    async openWalkIn(ctx: ActionContext, input: WalkInInput): Promise<Result<RepairOrder>> {
      if (!canSeeBranch(ctx.actor, input.branchId)) return invalid([{ field: 'branchId', code: 'branch' }]);
      const problems = detailProblems(input);
      if (input.dmsNumber !== null && !DMS_NUMBER.test(input.dmsNumber)) problems.push({ field: 'dmsNumber', code: 'number' });
      if (problems.length > 0) return invalid(problems);
      return run(async (tx, now) => {
        const customer = await liveCustomer(tx, input.customerId);
        if (!customer.ok) return invalid([{ field: 'customerId', code: 'customer' }]);
        const errors = await advisorProblem(tx, input.branchId, input.advisorId);
        if (input.vehicleId) {
          const vehicle = await tx.selectFrom('vehicles').select('customer_id').where('id', '=', input.vehicleId).executeTakeFirst();
          if (vehicle?.customer_id !== input.customerId) errors.push({ field: 'vehicleId', code: 'vehicle' });
        }
        if (input.dmsNumber && (await findRepairOrderByNumber(tx, input.dmsNumber))) errors.push({ field: 'dmsNumber', code: 'numberTaken' });
        if (errors.length > 0) return invalid(errors);
        const c = detailChanges(input);
        const opened = await openOrder(
          { db: tx, now, defaultLocale },
          { appointmentId: null, branchId: input.branchId, customerId: input.customerId, vehicleId: input.vehicleId, advisorId: input.advisorId ?? null, mileageIn: input.mileageIn ?? null, dmsNumber: input.dmsNumber, promisedAt: c.promisedAt ?? null, estimatedAmount: c.estimatedAmount ?? null, finalAmount: c.finalAmount ?? null, workSummary: c.workSummary ?? null },
          actorOf(ctx.actor),
          { force: input.force },
        );
        await audit(tx, ctx, 'repair_order.open', opened.order, undefined, { number: opened.order.number, dmsNumber: opened.order.dmsNumber, walkIn: true, notices: opened.notices }, now);
        return ok(opened.order);
      });
    },

    /**
     * Creates or updates the order the DMS calls `number`: idempotent, so sending the same body twice
     * changes nothing the second time. A new order comes from a booking reference (the appointment is
     * checked in, or its order linked) or from a customer or plate at a branch.
     */
    async upsert(ctx: ActionContext, number: string, input: UpsertInput): Promise<Result<{ order: RepairOrder; created: boolean }>> {
      if (!DMS_NUMBER.test(number)) return invalid([{ field: 'number', code: 'number' }]);
      const problems = detailProblems(input);
      if (input.status !== undefined && !isRepairOrderStatus(input.status)) problems.push({ field: 'status', code: 'status' });
      if (problems.length > 0) return invalid(problems);
      return run(async (tx, now) => {
        let order = visible(ctx.actor, await findRepairOrderByNumber(tx, number));
        let created = false;
        const actor = actorOf(ctx.actor);
        const ops = { db: tx, now, defaultLocale };
        const resolveAdvisor = async (branchId: string): Promise<{ id: string | null } | null | undefined> => {
          if (input.advisor === undefined) return undefined;
          if (input.advisor === null) return { id: null };
          const advisors = await branchAdvisors(tx, branchId);
          const byId = advisors.find((a) => a.id === input.advisor);
          if (byId) return { id: byId.id };
          const staff = await tx.selectFrom('staff_users').select('id').where('email', '=', input.advisor.toLowerCase()).executeTakeFirst();
          return staff && advisors.some((a) => a.id === staff.id) ? { id: staff.id } : null;
        };
        const c = detailChanges(input);
        if (!order) {
          if (await findRepairOrderByNumber(tx, number)) return notFound();
          if (input.bookingReference) {
            const appointment = await findAppointmentByReference(tx, input.bookingReference.trim().toUpperCase());
            if (!appointment || !canSeeBranch(ctx.actor, appointment.branchId)) return invalid([{ field: 'bookingReference', code: 'unknownBooking' }]);
            const advisor = await resolveAdvisor(appointment.branchId);
            if (advisor === null) return invalid([{ field: 'advisor', code: 'advisor' }]);
            const existing = await findRepairOrderForAppointment(tx, appointment.id);
            if (existing) {
              if (existing.dmsNumber && existing.dmsNumber !== number) return conflict('bookingHasOrder');
              order = existing;
              const linked = await detailsIn(tx, ctx, order, { ...c, dmsNumber: number }, { note: input.note, force: input.force }, now);
              if (!linked.ok) return refusal(linked);
              order = linked.order;
            } else {
              if (appointment.status !== 'booked') return conflict('bookingNotOpen');
              const checkedIn = await checkInWithRepairOrder(
                tx,
                { appointmentId: appointment.id, actor: { type: 'staff', staffId: ctx.actor.kind === 'staff' ? ctx.actor.id : null }, channel: 'dms', mileageIn: input.mileageIn ?? null },
                now,
                { dmsNumber: number, promisedAt: c.promisedAt ?? null, estimatedAmount: c.estimatedAmount ?? null, finalAmount: c.finalAmount ?? null, workSummary: c.workSummary ?? null, actorLabel: actor.label, defaultLocale, force: input.force },
              );
              if (!checkedIn.ok) return conflict('bookingNotOpen');
              order = checkedIn.repairOrder;
              created = true;
              await audit(tx, ctx, 'repair_order.open', order, undefined, { number: order.number, dmsNumber: number, appointment: appointment.reference }, now);
            }
            if (advisor) {
              const assigned = await detailsIn(tx, ctx, order, { advisorId: advisor.id }, {}, now);
              if (!assigned.ok) return refusal(assigned);
              order = assigned.order;
            }
          } else {
            const branchId = input.branchId ?? (ctx.actor.branchIds !== 'all' && ctx.actor.branchIds.length === 1 ? ctx.actor.branchIds[0] : undefined);
            if (!branchId) return invalid([{ field: 'branchId', code: 'branchRequired' }]);
            if (!canSeeBranch(ctx.actor, branchId) || !(await tx.selectFrom('branches').select('id').where('id', '=', branchId).executeTakeFirst())) return invalid([{ field: 'branchId', code: 'branch' }]);
            let customerId = input.customerId ?? null;
            let vehicleId = input.vehicleId ?? null;
            if (input.plate && !customerId) {
              const vehicles = await findVehiclesByPlate(tx, input.plate);
              const owners = new Set(vehicles.map((v) => v.customer_id));
              if (owners.size === 0) return invalid([{ field: 'plate', code: 'plateUnknown' }]);
              if (owners.size > 1) return invalid([{ field: 'plate', code: 'plateAmbiguous' }]);
              customerId = vehicles[0]!.customer_id;
              vehicleId ??= vehicles[0]!.id;
            }
            if (!customerId) return invalid([{ field: 'customerId', code: 'required' }]);
            const customer = await liveCustomer(tx, customerId);
            if (!customer.ok) return invalid([{ field: 'customerId', code: 'customer' }]);
            if (vehicleId) {
              const vehicle = await tx.selectFrom('vehicles').select('customer_id').where('id', '=', vehicleId).executeTakeFirst();
              if (vehicle?.customer_id !== customer.value.id) return invalid([{ field: 'vehicleId', code: 'vehicle' }]);
            }
            const advisor = await resolveAdvisor(branchId);
            if (advisor === null) return invalid([{ field: 'advisor', code: 'advisor' }]);
            const opened = await openOrder(
              ops,
              {
                appointmentId: null,
                branchId,
                customerId: customer.value.id,
                vehicleId,
                advisorId: advisor?.id ?? null,
                mileageIn: input.mileageIn ?? null,
                status: input.status && input.status !== 'collected' && input.status !== 'cancelled' ? input.status : 'checked_in',
                dmsNumber: number,
                promisedAt: c.promisedAt ?? null,
                estimatedAmount: c.estimatedAmount ?? null,
                finalAmount: c.finalAmount ?? null,
                workSummary: c.workSummary ?? null,
              },
              actor,
              { force: input.force },
            );
            order = opened.order;
            created = true;
            await audit(tx, ctx, 'repair_order.open', order, undefined, { number: order.number, dmsNumber: number, notices: opened.notices }, now);
          }
        } else {
          const advisor = await resolveAdvisor(order.branchId);
          if (advisor === null) return invalid([{ field: 'advisor', code: 'advisor' }]);
          const changes = { ...c, ...(advisor ? { advisorId: advisor.id } : {}) };
          const updated = await detailsIn(tx, ctx, order, changes, { note: input.note, force: input.force }, now);
          if (!updated.ok) return refusal(updated);
          order = updated.order;
        }
        if (input.status && input.status !== order.status) {
          const moved = await statusIn(tx, ctx, order, input.status, { note: input.note, force: input.force }, now);
          if (!moved.ok) return refusal(moved);
          order = moved.order;
        }
        return ok({ order, created });
      });
    },

    /** Moves the order to `status` (the board's buttons, the DMS); the customer is told when the branch says so. */
    async setStatus(ctx: ActionContext, id: string, input: { status: string; note?: string | null; force?: boolean; expectedVersion?: number }): Promise<Result<RepairOrder>> {
      if (!isRepairOrderStatus(input.status)) return invalid([{ field: 'status', code: 'status' }]);
      const status = input.status;
      if (input.note && [...input.note].length > MAX_NOTE_CHARS) return invalid([{ field: 'note', code: 'tooLong', params: { max: MAX_NOTE_CHARS } }]);
      return run(async (tx, now) => {
        const order = await readVisible(tx, ctx, id);
        if (!order) return notFound();
        const moved = await statusIn(tx, ctx, order, status, { note: input.note?.trim() || null, force: input.force, expectedVersion: input.expectedVersion }, now);
        return moved.ok ? ok(moved.order) : refusal(moved);
      });
    },

    /** Changes promised time, amounts, work summary, advisor or mileage; a later promised time tells the customer. */
    async updateDetails(ctx: ActionContext, id: string, input: DetailsInput & { expectedVersion?: number; note?: string | null; force?: boolean }): Promise<Result<RepairOrder>> {
      const problems = detailProblems(input);
      if (problems.length > 0) return invalid(problems);
      return run(async (tx, now) => {
        const order = await readVisible(tx, ctx, id);
        if (!order) return notFound();
        const advisorErrors = input.advisorId !== undefined ? await advisorProblem(tx, order.branchId, input.advisorId) : [];
        if (advisorErrors.length > 0) return invalid(advisorErrors);
        const updated = await detailsIn(tx, ctx, order, detailChanges(input), { note: input.note, force: input.force, expectedVersion: input.expectedVersion }, now);
        return updated.ok ? ok(updated.order) : refusal(updated);
      });
    },

    /**
     * Sends added items to the customer as one request (one message listing them with the new total) and
     * moves the order to awaiting approval. A retried request with the same `requestKey` sends nothing again.
     */
    async addItems(ctx: ActionContext, id: string, input: { items: ItemInput[]; requestKey?: string | null; force?: boolean; expectedVersion?: number }): Promise<Result<{ order: RepairOrder; requestId: string; itemIds: string[]; repeated: boolean }>> {
      const items: NewItem[] = input.items.map((i) => ({ description: i.description.trim(), price: i.price, urgency: i.urgency, photoUrl: i.photoUrl?.trim() || null }));
      const problems = itemProblems(items);
      if (input.requestKey !== undefined && input.requestKey !== null && !/^[A-Za-z0-9._:-]{1,64}$/.test(input.requestKey)) problems.push({ field: 'requestKey', code: 'number' });
      if (problems.length > 0) return invalid(problems);
      return run(async (tx, now) => {
        const order = await readVisible(tx, ctx, id);
        if (!order) return notFound();
        const added = await addItems({ db: tx, now, defaultLocale }, order, { items, requestKey: input.requestKey ?? null }, actorOf(ctx.actor), { force: input.force, expectedVersion: input.expectedVersion });
        if (!added.ok) return refusal(added);
        if (!added.repeated) await audit(tx, ctx, 'repair_order.items_add', order, { status: order.status }, { status: added.order.status, requestId: added.requestId, items: added.items.map((i) => ({ position: i.position, description: i.description, price: i.price, urgency: i.urgency })), notices: added.notices }, now);
        return ok({ order: added.order, requestId: added.requestId, itemIds: added.items.map((i) => i.id), repeated: added.repeated });
      });
    },

    /**
     * Records an answer the customer gave by phone: who took it (the staff member), when the call was, and
     * a note. Like every answer, it is recorded once; an item already answered is a conflict.
     */
    async recordPhoneDecision(ctx: ActionContext, itemId: string, input: { decision: string; decidedAt?: string | null; note: string }): Promise<Result<RepairOrder>> {
      const errors: FieldError[] = [];
      if (input.decision !== 'approved' && input.decision !== 'declined') errors.push({ field: 'decision', code: 'decision' });
      const note = input.note.trim();
      if (!note) errors.push({ field: 'note', code: 'required' });
      else if ([...note].length > MAX_NOTE_CHARS) errors.push({ field: 'note', code: 'tooLong', params: { max: MAX_NOTE_CHARS } });
      const decidedAt = input.decidedAt ? new Date(input.decidedAt) : clock.now();
      if (Number.isNaN(decidedAt.getTime()) || decidedAt.getTime() > clock.now().getTime() + 60_000) errors.push({ field: 'decidedAt', code: 'decidedAt' });
      if (errors.length > 0) return invalid(errors);
      return run(async (tx, now) => {
        const item = await tx.selectFrom('repair_order_items').select('repair_order_id').where('id', '=', itemId).executeTakeFirst();
        const order = item ? await readVisible(tx, ctx, item.repair_order_id) : null;
        if (!order) return notFound();
        const items = await loadItems(tx, order.id);
        if (items.find((i) => i.id === itemId)?.decision) return conflict('alreadyDecided');
        const staffId = ctx.actor.kind === 'staff' ? ctx.actor.id : null;
        const { decided } = await decide({ db: tx, now, defaultLocale }, order, items, [itemId], input.decision as ItemDecision, { type: 'staff', id: staffId, label: ctx.actor.name, channel: 'phone', decidedAt: decidedAt.toISOString(), note }, () => null);
        await audit(tx, ctx, 'repair_order.decision', order, undefined, { item: itemId, decision: input.decision, via: 'phone', decidedAt: decidedAt.toISOString(), note, recorded: decided.length }, now);
        return ok(order);
      });
    },

    /** Marks an alert done (the customer was phoned). */
    async resolveAlert(ctx: ActionContext, alertId: string): Promise<Result<RepairOrder>> {
      return run(async (tx, now) => {
        const alert = await tx.selectFrom('repair_order_alerts').selectAll().where('id', '=', alertId).executeTakeFirst();
        const order = alert ? await readVisible(tx, ctx, alert.repair_order_id) : null;
        if (!alert || !order) return notFound();
        if (alert.resolved_at) return ok(order);
        await tx.updateTable('repair_order_alerts').set({ resolved_at: now.toISOString(), resolved_by: ctx.actor.name }).where('id', '=', alertId).where('resolved_at', 'is', null).execute();
        await audit(tx, ctx, 'repair_order.alert_resolve', order, { alert: alert.kind }, { resolvedBy: ctx.actor.name }, now);
        return ok(order);
      });
    },

    /** The branch's settings, or null when the staff member may not see it. */
    async settings(principal: Principal, branchId: string): Promise<{ branch: { id: string; name: string; time_zone: string }; settings: RepairOrderSettings } | null> {
      if (!canSeeBranch(principal, branchId)) return null;
      const branch = await db.selectFrom('branches').select(['id', 'name', 'time_zone']).where('id', '=', branchId).executeTakeFirst();
      return branch ? { branch, settings: await loadRepairOrderSettings(db, branch.id, branch.time_zone) } : null;
    },

    async saveSettings(ctx: ActionContext, branchId: string, raw: unknown): Promise<Result<RepairOrderSettings>> {
      if (!canSeeBranch(ctx.actor, branchId)) return notFound();
      const parsed = repairOrderSettingsSchema.safeParse(raw);
      if (!parsed.success) return invalid(parsed.error.issues.map((i) => ({ field: String(i.path[0] ?? ''), code: /^[a-z]+$/i.test(i.message) ? i.message : 'invalid' })));
      return store.transaction(async (tx) => {
        const branch = await tx.selectFrom('branches').select(['id', 'time_zone']).where('id', '=', branchId).executeTakeFirst();
        if (!branch) return notFound();
        const before = await loadRepairOrderSettings(tx, branchId, branch.time_zone);
        const now = clock.now().toISOString();
        await saveRepairOrderSettings(tx, branchId, parsed.data, now);
        await recordAudit(tx, { actor: ctx.actor, action: 'repair_order.settings', entity: 'branch', entityId: branchId, before, after: parsed.data, ip: ctx.ip, now });
        return ok(parsed.data);
      });
    },
  };
}

export type RepairOrderService = ReturnType<typeof createRepairOrderService>;
export { OPEN_STATUSES };
