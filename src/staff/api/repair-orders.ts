import { z } from '@hono/zod-openapi';
import { fromMinorUnits, MAX_AMOUNT, toMinorUnits } from '../../repair-orders/money';
import { REPAIR_ORDER_STATUSES } from '../../repair-orders/statuses';
import type { RepairOrderStatus } from '../../store/schema';
import { actionContext } from '../guard';
import type { RepairOrderDetail } from '../repair-orders';
import type { FieldError, Result } from '../result';
import { apiRoutes, jsonResponse, NOT_FOUND, type ApiApp, type ApiContext } from './route';

/*
 * Repair orders for the dealership's DMS, by its own RO number: create or update an order (idempotent),
 * read it with its timeline and the customer's answers, move its status, and send added items to the
 * customer. The operationIds are a contract DMS integrations are written against. Amounts are in the
 * branch's currency, major units (2400 is NT$2,400), at most two decimals.
 */

const STATUS = z.enum(REPAIR_ORDER_STATUSES as [RepairOrderStatus, ...RepairOrderStatus[]]).openapi({ description: 'checked_in → diagnosing → awaiting_approval → in_progress → quality_check → ready → collected (or cancelled).', example: 'in_progress' });
const URGENCY = z.enum(['green', 'yellow', 'red']).openapi({ description: 'red: needs doing now; yellow: soon; green: can wait. A request with a red item is sent even in quiet hours.' });

const amount = (description: string) =>
  z
    .number()
    .min(0)
    .max(MAX_AMOUNT)
    .refine((n) => toMinorUnits(n) !== null, 'expected an amount with at most two decimals')
    .openapi({ description, example: 2400 });
const instant = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s).toISOString())
  .openapi({ description: 'ISO 8601 with Z or an offset.', example: '2026-03-16T09:00:00.000Z' });

const NumberParams = z.object({
  number: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/, 'expected the RO number: 1–40 letters, digits, . _ or -')
    .openapi({ param: { name: 'number', in: 'path' }, description: 'The dealership’s RO number (our own `RO-…` number also finds an order).', example: 'W2026-01873' }),
});

const PersonSchema = z.object({ type: z.string().openapi({ description: 'customer, staff, api_token or system.' }), name: z.string().nullable() });

const ItemSchema = z
  .object({
    id: z.string(),
    requestId: z.string().openapi({ description: 'The consent request the item was sent in.' }),
    position: z.number().int().openapi({ description: '#1, #2 … over the order: what the customer sees.' }),
    description: z.string(),
    price: z.number(),
    urgency: URGENCY,
    photoUrl: z.string().nullable(),
    decision: z.enum(['pending', 'approved', 'declined']),
    decidedAt: z.string().nullable().openapi({ description: 'When the customer answered (or told staff on the phone).' }),
    decidedVia: z.string().nullable().openapi({ description: 'line, telegram, web, or phone.' }),
    decidedBy: PersonSchema.nullable(),
    customerSaw: z.string().nullable().openapi({ description: 'The text of the message the customer answered, as they were shown it.' }),
    note: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('RepairOrderItem');

const DeliverySchema = z.object({ state: z.enum(['pending', 'sending', 'sent', 'failed']), attempts: z.number().int(), lastError: z.string().nullable(), sentAt: z.string().nullable() });

const RepairOrderDetailSchema = z
  .object({
    id: z.string(),
    number: z.string().openapi({ description: 'The dealership’s RO number when it has one, else ours.' }),
    dmsNumber: z.string().nullable(),
    ourNumber: z.string().openapi({ example: 'RO-000123' }),
    status: STATUS,
    branchId: z.string(),
    customerId: z.string(),
    vehicleId: z.string().nullable(),
    appointmentId: z.string().nullable(),
    bookingReference: z.string().nullable(),
    advisor: z.object({ id: z.string(), name: z.string() }).nullable(),
    promisedAt: z.string().nullable(),
    estimatedAmount: z.number().nullable(),
    finalAmount: z.number().nullable(),
    amountDue: z.number().nullable().openapi({ description: 'The final amount, else the estimate plus approved items.' }),
    currency: z.string().openapi({ example: 'TWD' }),
    workSummary: z.string().nullable(),
    mileageIn: z.number().int().nullable(),
    pickupPlannedAt: z.string().nullable().openapi({ description: 'When the customer said they will come.' }),
    readyAt: z.string().nullable(),
    collectedAt: z.string().nullable(),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
    items: z.array(ItemSchema),
    timeline: z.array(
      z.object({ at: z.string(), action: z.string(), from: z.string().nullable(), to: z.string().nullable(), by: PersonSchema, channel: z.string(), note: z.string().nullable(), details: z.record(z.string(), z.unknown()).nullable() }),
    ),
    notices: z.array(
      z.object({ id: z.string(), kind: z.string(), status: z.string().nullable(), state: z.string().openapi({ description: 'scheduled (quiet hours), queued, sent, failed, unreachable, cancelled.' }), channel: z.string().nullable(), dueAt: z.string(), createdAt: z.string(), delivery: DeliverySchema.nullable() }),
    ),
    alerts: z.array(z.object({ id: z.string(), kind: z.string(), createdAt: z.string(), resolvedAt: z.string().nullable() })),
  })
  .openapi('RepairOrderDetail');
type ApiDetail = z.infer<typeof RepairOrderDetailSchema>;

const notifyNow = z.boolean().optional().openapi({ description: 'Send the customer’s notice now even in the branch’s quiet hours.' });

const UpsertSchema = z
  .object({
    bookingReference: z.string().min(1).max(20).optional().openapi({ description: 'The `BK-…` the customer got: the appointment is checked in (or its order linked).', example: 'BK-7K3QXM' }),
    customerId: z.string().min(1).max(100).optional(),
    vehicleId: z.string().min(1).max(100).optional(),
    plate: z.string().min(1).max(20).optional().openapi({ description: 'Finds the customer by the car, when no booking reference or customer is given.' }),
    branchId: z.string().min(1).max(100).optional().openapi({ description: 'Needed to create an order without a booking reference (unless the token has one branch).' }),
    status: STATUS.optional(),
    promisedAt: instant.nullable().optional(),
    advisor: z.string().min(1).max(320).nullable().optional().openapi({ description: 'A service advisor of the branch, by staff id or e-mail; null for nobody.' }),
    estimatedAmount: amount('The estimate before added items.').nullable().optional(),
    finalAmount: amount('What the customer pays.').nullable().optional(),
    workSummary: z.string().max(1000).nullable().optional().openapi({ description: 'What was done, as the pickup card shows it.' }),
    mileageIn: z.number().int().min(0).max(10_000_000).nullable().optional(),
    note: z.string().max(500).nullable().optional().openapi({ description: 'Kept in the timeline with a status change.' }),
    notifyNow,
  })
  .openapi('RepairOrderUpsert');

const StatusSchema = z.object({ status: STATUS, note: z.string().max(500).nullable().optional(), notifyNow }).openapi('RepairOrderStatusChange');

const ItemsSchema = z
  .object({
    items: z
      .array(
        z.object({
          description: z.string().trim().min(1).max(200).openapi({ example: 'Front brake pads' }),
          price: amount('The item’s price.'),
          urgency: URGENCY,
          photoUrl: z.url({ protocol: /^https$/, error: 'expected an https URL' }).max(1000).nullable().optional(),
        }),
      )
      .min(1)
      .max(20),
    requestKey: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/).optional().openapi({ description: 'Your key for this request: sending it again returns the first one instead of asking the customer twice.' }),
    notifyNow,
  })
  .openapi('RepairOrderItemsAdd');

const ItemsAddedSchema = z.object({ requestId: z.string(), itemIds: z.array(z.string()), repairOrder: RepairOrderDetailSchema }).openapi('RepairOrderItemsAdded');
const RefusalSchema = z.object({ error: z.string(), reason: z.string().openapi({ description: 'closed (collected or cancelled), changed, bookingHasOrder, bookingNotOpen, notNow, busy.' }) }).openapi('RepairOrderRefusal');
const REFUSED = jsonResponse(RefusalSchema, 'Not done: `reason` says why.');

const money = (minor: number | null) => (minor === null ? null : fromMinorUnits(minor));
const minor = (major: number | null | undefined) => (major === undefined ? undefined : major === null ? null : toMinorUnits(major)!);

function toApiDetail(d: RepairOrderDetail): ApiDetail {
  const o = d.order;
  return {
    id: o.id,
    number: o.dmsNumber ?? o.number,
    dmsNumber: o.dmsNumber,
    ourNumber: o.number,
    status: o.status,
    branchId: o.branchId,
    customerId: o.customerId,
    vehicleId: o.vehicleId,
    appointmentId: o.appointmentId,
    bookingReference: d.appointment?.reference ?? null,
    advisor: d.advisor,
    promisedAt: o.promisedAt,
    estimatedAmount: money(o.estimatedAmount),
    finalAmount: money(o.finalAmount),
    amountDue: money(d.amountDue),
    currency: d.currency,
    workSummary: o.workSummary,
    mileageIn: o.mileageIn,
    pickupPlannedAt: o.pickupPlannedAt,
    readyAt: o.readyAt,
    collectedAt: o.collectedAt,
    version: o.version,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
    items: d.items.map((i) => ({
      id: i.id,
      requestId: i.requestId,
      position: i.position,
      description: i.description,
      price: fromMinorUnits(i.price),
      urgency: i.urgency,
      photoUrl: i.photoUrl,
      decision: i.decision ?? 'pending',
      decidedAt: i.decidedAt,
      decidedVia: i.decidedVia,
      decidedBy: i.decidedBy ? { type: i.decidedBy.type, name: i.decidedBy.label } : null,
      customerSaw: i.shownText,
      note: i.note,
      createdAt: i.createdAt,
    })),
    timeline: d.timeline.map((t) => ({ at: t.at, action: t.action, from: t.from, to: t.to, by: { type: t.actorType, name: t.actorLabel }, channel: t.channel, note: t.note, details: t.details })),
    notices: d.notices.map((n) => ({ id: n.id, kind: n.kind, status: n.status, state: n.state, channel: n.channel, dueAt: n.dueAt, createdAt: n.createdAt, delivery: n.delivery ? { state: n.delivery.state, attempts: n.delivery.attempts, lastError: n.delivery.lastError, sentAt: n.delivery.sentAt } : null })),
    alerts: d.alerts.map((a) => ({ id: a.id, kind: a.kind, createdAt: a.createdAt, resolvedAt: a.resolvedAt })),
  };
}

/** Repair orders for integrations; see the module comment. */
export function registerRepairOrderRoutes(app: ApiApp, deps: ApiContext): void {
  const route = apiRoutes(app, deps, 'Repair orders');
  const { clock, translator } = deps;
  const { repairOrders } = deps.services;
  const noSuchOrder = { error: 'no such repair order' };
  const problem = (e: FieldError) => {
    const key = `console-repair-orders:errors.${e.code}`;
    return { field: e.field, message: translator.has('en', key) ? translator.t('en', key, e.params) : e.code, code: e.code };
  };
  /** A service's refusal as the API answers it. */
  const failure = <T>(result: Exclude<Result<T>, { ok: true }>) => {
    if (result.reason === 'invalid') return { status: 400 as const, body: { error: 'invalid request', details: result.errors.map(problem) } };
    if (result.reason === 'not_found') return { status: 404 as const, body: noSuchOrder };
    const key = `console-repair-orders:refused.${result.code}`;
    return { status: 409 as const, body: { error: translator.has('en', key) ? translator.t('en', key) : result.code, reason: result.code } };
  };
  const detailOf = async (principal: Parameters<typeof repairOrders.detail>[0], id: string) => {
    const d = await repairOrders.detail(principal, id);
    return d ? toApiDetail(d) : null;
  };

  route(
    'repair_orders.write',
    {
      method: 'put',
      path: '/api/repair-orders/{number}',
      operationId: 'upsertRepairOrder',
      summary: 'Create or update a repair order by the dealership’s RO number',
      description:
        'Idempotent: the same body sent again changes nothing. A new order comes from `bookingReference` (the appointment is checked in, or its order linked to this number), or from `customerId` or `plate` at `branchId`. Fields left out stay as they are; `null` clears them. A status change tells the customer when the branch does so (quiet hours wait unless `notifyNow`); a promised time moved later sends a delay notice.',
      request: { params: NumberParams, body: { required: true, content: { 'application/json': { schema: UpsertSchema } } } },
      responses: { 200: jsonResponse(RepairOrderDetailSchema, 'Updated (or unchanged).'), 201: jsonResponse(RepairOrderDetailSchema, 'Created.'), 404: NOT_FOUND, 409: REFUSED },
    },
    async (c) => {
      const { number } = c.req.valid('param');
      const b = c.req.valid('json');
      const result = await repairOrders.upsert(actionContext(c, clock), number, {
        bookingReference: b.bookingReference,
        customerId: b.customerId,
        vehicleId: b.vehicleId,
        plate: b.plate,
        branchId: b.branchId,
        status: b.status,
        promisedAt: b.promisedAt,
        advisor: b.advisor,
        estimatedAmount: minor(b.estimatedAmount),
        finalAmount: minor(b.finalAmount),
        workSummary: b.workSummary,
        mileageIn: b.mileageIn,
        note: b.note,
        force: b.notifyNow,
      });
      if (!result.ok) {
        const f = failure(result);
        return f.status === 400 ? c.json(f.body, 400) : f.status === 404 ? c.json(f.body, 404) : c.json(f.body, 409);
      }
      const detail = await detailOf(c.get('principal'), result.value.order.id);
      if (!detail) return c.json(noSuchOrder, 404);
      return result.value.created ? c.json(detail, 201) : c.json(detail, 200);
    },
  );

  route(
    'repair_orders.read',
    {
      method: 'get',
      path: '/api/repair-orders/{number}',
      operationId: 'getRepairOrder',
      summary: 'Read a repair order with its timeline, items and the customer’s answers',
      request: { params: NumberParams },
      responses: { 200: jsonResponse(RepairOrderDetailSchema, 'The repair order.'), 404: NOT_FOUND },
    },
    async (c) => {
      const order = await repairOrders.byNumber(c.get('principal'), c.req.valid('param').number);
      const detail = order ? await detailOf(c.get('principal'), order.id) : null;
      return detail ? c.json(detail, 200) : c.json(noSuchOrder, 404);
    },
  );

  route(
    'repair_orders.write',
    {
      method: 'post',
      path: '/api/repair-orders/{number}/status',
      operationId: 'setRepairOrderStatus',
      summary: 'Move a repair order to a status',
      description: 'The same status again changes nothing. A collected or cancelled order stays so (409, reason `closed`).',
      request: { params: NumberParams, body: { required: true, content: { 'application/json': { schema: StatusSchema } } } },
      responses: { 200: jsonResponse(RepairOrderDetailSchema, 'The repair order.'), 404: NOT_FOUND, 409: REFUSED },
    },
    async (c) => {
      const principal = c.get('principal');
      const order = await repairOrders.byNumber(principal, c.req.valid('param').number);
      if (!order) return c.json(noSuchOrder, 404);
      const b = c.req.valid('json');
      const result = await repairOrders.setStatus(actionContext(c, clock), order.id, { status: b.status, note: b.note ?? null, force: b.notifyNow });
      if (!result.ok) {
        const f = failure(result);
        return f.status === 400 ? c.json(f.body, 400) : f.status === 404 ? c.json(f.body, 404) : c.json(f.body, 409);
      }
      const detail = await detailOf(principal, order.id);
      return detail ? c.json(detail, 200) : c.json(noSuchOrder, 404);
    },
  );

  route(
    'repair_orders.write',
    {
      method: 'post',
      path: '/api/repair-orders/{number}/items',
      operationId: 'addRepairOrderItems',
      summary: 'Send added items to the customer for approval',
      description:
        'One consent request: the customer gets one message listing the items with the new total, and approves or declines each (or all). The order moves to `awaiting_approval`. Answers arrive in `items[].decision` and by webhook (see the README). With `requestKey`, sending the same request again returns the first (200) and asks the customer nothing.',
      request: { params: NumberParams, body: { required: true, content: { 'application/json': { schema: ItemsSchema } } } },
      responses: { 201: jsonResponse(ItemsAddedSchema, 'Sent.'), 200: jsonResponse(ItemsAddedSchema, 'This `requestKey` was sent before; nothing was sent again.'), 404: NOT_FOUND, 409: REFUSED },
    },
    async (c) => {
      const principal = c.get('principal');
      const order = await repairOrders.byNumber(principal, c.req.valid('param').number);
      if (!order) return c.json(noSuchOrder, 404);
      const b = c.req.valid('json');
      const result = await repairOrders.addItems(actionContext(c, clock), order.id, {
        items: b.items.map((i) => ({ description: i.description, price: toMinorUnits(i.price)!, urgency: i.urgency, photoUrl: i.photoUrl ?? null })),
        requestKey: b.requestKey ?? null,
        force: b.notifyNow,
      });
      if (!result.ok) {
        const f = failure(result);
        return f.status === 400 ? c.json(f.body, 400) : f.status === 404 ? c.json(f.body, 404) : c.json(f.body, 409);
      }
      const detail = await detailOf(principal, order.id);
      if (!detail) return c.json(noSuchOrder, 404);
      const body = { requestId: result.value.requestId, itemIds: result.value.itemIds, repairOrder: detail };
      return result.value.repeated ? c.json(body, 200) : c.json(body, 201);
    },
  );
}
