import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { InboundEvent } from '../../src/channels/types';
import { manualClock } from '../../src/ops/clock';
import { createBranch, createCustomer, localIso } from '../booking/fixtures';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { apiToken } from '../helpers/staff';
import { dialects } from '../helpers/stores';

type Token = Awaited<ReturnType<typeof apiToken>>;
type Json = Record<string, any>;

/*
 * The DMS side of repair orders: the contract's operations by the dealership's RO number, as an integration
 * calls them with a branch-scoped manager token, and the signed webhooks it receives when the customer
 * answers an added item or says when they will collect — delivered to a real HTTP endpoint that fails
 * first, and retried until it takes them, each once.
 */

// Monday 2026-03-09, 08:00 in Taipei.
const START = '2026-03-09T00:00:00.000Z';
const MON = '2026-03-09';
const SECRET = 'dms-webhook-secret-0123456789';

interface Received {
  headers: Record<string, string>;
  body: string;
}

describe.each(dialects)('repair orders API and DMS webhooks on $name', (dialect) => {
  let svc: TestService;
  let dms: Token;
  let branchId: string;
  let server: Server;
  let endpoint: string;
  const received: Received[] = [];
  let failNext = 0;
  const clock = manualClock(START);
  const db = () => svc.db.store.db;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        received.push({ headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(failNext-- > 0 ? 503 : 204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dms/hooks`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(async () => {
    clock.set(START);
    received.length = 0;
    failNext = 0;
    svc = await startTestService(dialect, testConfig({ DEFAULT_LOCALE: 'en', DMS_WEBHOOK_URL: endpoint, DMS_WEBHOOK_SECRET: SECRET, DMS_WEBHOOK_MAX_ATTEMPTS: '3' }), clock);
    branchId = (await db().selectFrom('branches').select('id').executeTakeFirstOrThrow()).id;
    dms = await apiToken(svc, 'manager', [branchId]);
  });
  afterEach(async () => {
    await svc.close();
  });

  async function json(res: Response, status: number): Promise<Json> {
    const body = (await res.json()) as Json;
    expect(res.status, JSON.stringify(body)).toBe(status);
    return body;
  }

  async function runJobs() {
    for (const job of svc.scheduledJobs) await job.runOnce();
    await svc.flush();
  }

  /** The customer taps a button in the web chat (they wrote from there before). */
  async function tap(visitor: string, id: string, params: Record<string, string> | null = null) {
    const event: InboundEvent = { channel: 'web', eventId: crypto.randomUUID(), externalId: visitor, occurredAt: clock.now().toISOString(), replyToken: null, profile: null, input: { type: 'choice', id, params } };
    await svc.engine.handle(event);
    await svc.flush();
  }

  it('publishes the four operations under their operationIds, for any branch-scoped manager token', async () => {
    const doc = await json(await dms.request('/api/openapi.json'), 200);
    const ops = Object.entries(doc.paths as Record<string, Record<string, { operationId?: string }>>).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => [op.operationId, method.toUpperCase(), path]));
    expect(ops).toEqual(
      expect.arrayContaining([
        ['upsertRepairOrder', 'PUT', '/api/repair-orders/{number}'],
        ['getRepairOrder', 'GET', '/api/repair-orders/{number}'],
        ['setRepairOrderStatus', 'POST', '/api/repair-orders/{number}/status'],
        ['addRepairOrderItems', 'POST', '/api/repair-orders/{number}/items'],
      ]),
    );
    const statuses = doc.components.schemas.RepairOrderDetail.properties.status.enum;
    expect(statuses).toEqual(['checked_in', 'diagnosing', 'awaiting_approval', 'in_progress', 'quality_check', 'ready', 'collected', 'cancelled']);
  });

  it('checks a booking in by its reference, idempotently, and moves and reads the order by the DMS number', async () => {
    const customer = await createCustomer(svc.db.store, clock.now(), 'Lin Mei');
    const booked = await json(await dms.request('/api/appointments', { json: { branchId, customerId: customer.customerId, vehicleId: customer.vehicleId, serviceType: 'periodic_maintenance', startsAt: localIso(MON, '09:00') } }), 201);
    clock.set(localIso(MON, '09:05'));
    const body = { bookingReference: booked.reference, promisedAt: localIso(MON, '17:00'), estimatedAmount: 3500, mileageIn: 42000 };
    const created = await json(await dms.request('/api/repair-orders/W2026-01873', { method: 'PUT', json: body }), 201);
    expect(created).toMatchObject({ number: 'W2026-01873', dmsNumber: 'W2026-01873', ourNumber: 'RO-000001', status: 'checked_in', bookingReference: booked.reference, estimatedAmount: 3500, currency: 'TWD', mileageIn: 42000, promisedAt: localIso(MON, '17:00'), items: [] });
    expect((await json(await dms.request(`/api/appointments/${booked.id}`), 200)).status).toBe('checked_in');
    // The same PUT again changes nothing: same version, one timeline entry, one notice attempt.
    const again = await json(await dms.request('/api/repair-orders/W2026-01873', { method: 'PUT', json: body }), 200);
    expect(again.version).toBe(created.version);
    expect(again.timeline.map((t: Json) => t.action)).toEqual(['opened']);
    expect(await db().selectFrom('repair_orders').select('id').execute()).toHaveLength(1);

    const moved = await json(await dms.request('/api/repair-orders/W2026-01873/status', { json: { status: 'diagnosing', note: 'On the lift' } }), 200);
    expect(moved).toMatchObject({ status: 'diagnosing', timeline: [{ action: 'status', from: 'checked_in', to: 'diagnosing', note: 'On the lift', channel: 'dms', by: { type: 'api_token', name: 'token:manager token' } }, { action: 'opened' }] });
    const delayed = await json(await dms.request('/api/repair-orders/W2026-01873', { method: 'PUT', json: { promisedAt: localIso(MON, '18:00'), status: 'in_progress' } }), 200);
    expect(delayed.status).toBe('in_progress');
    expect(delayed.notices.map((n: Json) => n.kind)).toContain('delay');
    // Our own number finds the order too; a number nobody has is 404.
    expect((await json(await dms.request('/api/repair-orders/RO-000001'), 200)).id).toBe(created.id);
    await json(await dms.request('/api/repair-orders/W-404'), 404);
  });

  it('creates a walk-in from a plate, sends added items, and reports every answer with who, when and how', async () => {
    const customer = await createCustomer(svc.db.store, clock.now(), 'Chen');
    const visitor = (await db().selectFrom('channel_identities').select('external_id').where('customer_id', '=', customer.customerId).executeTakeFirstOrThrow()).external_id;
    clock.set(localIso(MON, '10:00'));
    const created = await json(await dms.request('/api/repair-orders/W-77', { method: 'PUT', json: { plate: 'abc 1234', estimatedAmount: 1000.5 } }), 201);
    expect(created).toMatchObject({ customerId: customer.customerId, vehicleId: customer.vehicleId, branchId, status: 'checked_in', estimatedAmount: 1000.5 });
    const items = { items: [{ description: 'Front brake pads', price: 2400, urgency: 'red' }, { description: 'Wiper blades', price: 600, urgency: 'green', photoUrl: 'https://photos.example/w.jpg' }], requestKey: 'dms-req-1' };
    const sent = await json(await dms.request('/api/repair-orders/W-77/items', { json: items }), 201);
    expect(sent.repairOrder).toMatchObject({ status: 'awaiting_approval', items: [{ position: 1, description: 'Front brake pads', price: 2400, urgency: 'red', decision: 'pending' }, { position: 2, photoUrl: 'https://photos.example/w.jpg' }] });
    // The same request again asks the customer nothing more.
    const repeated = await json(await dms.request('/api/repair-orders/W-77/items', { json: items }), 200);
    expect(repeated.requestId).toBe(sent.requestId);
    expect(await db().selectFrom('repair_order_notices').select('kind').where('kind', '=', 'consent').execute()).toHaveLength(1);

    await svc.flush();
    const [pads, wipers] = sent.itemIds as [string, string];
    clock.set(localIso(MON, '10:20'));
    await tap(visitor, `prog:a:${pads}`);
    await tap(visitor, `prog:d:${wipers}`);
    await tap(visitor, `prog:d:${pads}`);
    const read = await json(await dms.request('/api/repair-orders/W-77'), 200);
    expect(read.items).toEqual([
      expect.objectContaining({ id: pads, decision: 'approved', decidedVia: 'web', decidedAt: localIso(MON, '10:20'), decidedBy: { type: 'customer', name: 'Chen' }, customerSaw: expect.stringContaining('#1 🔴: Front brake pads · NT$2,400') }),
      expect.objectContaining({ id: wipers, decision: 'declined', decidedVia: 'web' }),
    ]);
    expect(read.amountDue).toBe(3400.5);

    // The DMS is told each answer once: the first post fails (503) and is retried after its backoff.
    failNext = 1;
    await runJobs();
    expect(received).toHaveLength(2);
    await runJobs();
    expect(received).toHaveLength(2);
    clock.set(localIso(MON, '10:30'));
    await runJobs();
    await runJobs();
    const deliveries = new Map(received.map((r) => [r.headers['x-dealer-delivery'], r]));
    expect(received).toHaveLength(3);
    expect(deliveries.size).toBe(2);
    for (const r of received) {
      const timestamp = r.headers['x-dealer-timestamp']!;
      const expected = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${r.body}`).digest('hex')}`;
      expect(timingSafeEqual(Buffer.from(r.headers['x-dealer-signature']!), Buffer.from(expected))).toBe(true);
      expect(r.headers['content-type']).toBe('application/json');
    }
    const bodies = [...deliveries.values()].map((r) => JSON.parse(r.body) as Json).sort((a, b) => a.data.item.position - b.data.item.position);
    expect(bodies.map((b) => [b.type, b.data.number, b.data.item.description, b.data.decision, b.data.channel, b.data.by])).toEqual([
      ['repair_order.item_decided', 'W-77', 'Front brake pads', 'approved', 'web', { type: 'customer', name: 'Chen' }],
      ['repair_order.item_decided', 'W-77', 'Wiper blades', 'declined', 'web', { type: 'customer', name: 'Chen' }],
    ]);
    expect((await db().selectFrom('dms_webhook_deliveries').select(['status', 'attempts']).execute()).map((d) => d.status)).toEqual(['sent', 'sent']);

    // Ready, and the customer picks a time: the DMS hears that too.
    await json(await dms.request('/api/repair-orders/W-77/status', { json: { status: 'ready' } }), 200);
    await svc.flush();
    await tap(visitor, `prog:pt:${created.id}`, { datetime: `${MON}T16:30` });
    await runJobs();
    const pickup = received.map((r) => JSON.parse(r.body) as Json).find((b) => b.type === 'repair_order.pickup_time_confirmed');
    expect(pickup?.data).toMatchObject({ number: 'W-77', pickupAt: localIso(MON, '16:30'), channel: 'web' });
  });

  it('gives up on a DMS that keeps failing after its attempts, keeping why', async () => {
    const customer = await createCustomer(svc.db.store, clock.now(), 'Wu');
    const visitor = (await db().selectFrom('channel_identities').select('external_id').where('customer_id', '=', customer.customerId).executeTakeFirstOrThrow()).external_id;
    await json(await dms.request('/api/repair-orders/W-88', { method: 'PUT', json: { customerId: customer.customerId } }), 201);
    const sent = await json(await dms.request('/api/repair-orders/W-88/items', { json: { items: [{ description: 'Battery', price: 3200, urgency: 'yellow' }] } }), 201);
    await svc.flush();
    await tap(visitor, `prog:a:${sent.itemIds[0]}`);
    failNext = 100;
    for (let i = 0; i < 5; i++) {
      await runJobs();
      clock.advance(10 * 60_000);
    }
    expect(received).toHaveLength(3);
    expect(await db().selectFrom('dms_webhook_deliveries').select(['status', 'attempts', 'last_status']).execute()).toEqual([{ status: 'dead', attempts: 3, last_status: 503 }]);
  });

  it('refuses bad input with 400 and details, other branches with 404, and changes to a closed order with 409', async () => {
    const customer = await createCustomer(svc.db.store, clock.now(), 'Ko');
    const bad = await json(await dms.request('/api/repair-orders/W-1', { method: 'PUT', json: { customerId: customer.customerId, status: 'ready_for_pickup', estimatedAmount: 10.005 } }), 400);
    expect(bad.details.map((d: Json) => d.field).sort()).toEqual(['estimatedAmount', 'status']);
    expect((await json(await dms.request('/api/repair-orders/W-1', { method: 'PUT', json: { plate: 'ZZZ-0000' } }), 400)).details).toEqual([{ field: 'plate', code: 'plateUnknown', message: 'No customer has a car with this plate.' }]);
    expect((await json(await dms.request('/api/repair-orders/W-1', { method: 'PUT', json: { bookingReference: 'BK-NOPE22' } }), 400)).details[0].code).toBe('unknownBooking');
    await json(await dms.request('/api/repair-orders/bad%2Fnumber', { method: 'PUT', json: {} }), 400);
    await json(await dms.request('/api/repair-orders/W-1', { method: 'PUT', json: { customerId: customer.customerId } }), 201);
    const photo = await json(await dms.request('/api/repair-orders/W-1/items', { json: { items: [{ description: 'Pads', price: 1, urgency: 'red', photoUrl: 'http://insecure.example/p.jpg' }] } }), 400);
    expect(photo.details[0].field).toBe('items.0.photoUrl');
    await json(await dms.request('/api/repair-orders/W-1/items', { json: { items: [] } }), 400);
    await json(await dms.request('/api/repair-orders/W-1/items', { json: { items: [{ description: 'Pads', price: 1, urgency: 'purple' }] } }), 400);

    const other = await createBranch(svc.db.store, {}, clock.now());
    const elsewhere = await apiToken(svc, 'manager', [other.branchId]);
    await json(await elsewhere.request('/api/repair-orders/W-1'), 404);
    await json(await elsewhere.request('/api/repair-orders/W-1/status', { json: { status: 'ready' } }), 404);
    const care = await apiToken(svc, 'care', [branchId]);
    expect((await care.request('/api/repair-orders/W-1/status', { json: { status: 'ready' } })).status).toBe(403);
    expect((await care.request('/api/repair-orders/W-1')).status).toBe(200);

    await json(await dms.request('/api/repair-orders/W-1/status', { json: { status: 'cancelled' } }), 200);
    expect(await json(await dms.request('/api/repair-orders/W-1/status', { json: { status: 'ready' } }), 409)).toMatchObject({ reason: 'closed' });
    expect(await json(await dms.request('/api/repair-orders/W-1/items', { json: { items: [{ description: 'Pads', price: 1, urgency: 'red' }] } }), 409)).toMatchObject({ reason: 'closed' });
    // Setting a closed order's own status again is harmless.
    await json(await dms.request('/api/repair-orders/W-1/status', { json: { status: 'cancelled' } }), 200);
  });
});
