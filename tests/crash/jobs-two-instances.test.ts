import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBookingService } from '../../src/booking/service';
import type { InboundEvent } from '../../src/channels/types';
import { saveComplaintSettings } from '../../src/complaints/branch';
import { setOnDuty } from '../../src/complaints/staffing';
import { diskBlobStore } from '../../src/entry/node-blobs';
import { openNodeStore } from '../../src/entry/node-store';
import { EVENT_TYPES, type Subscriber } from '../../src/events/events';
import { manualClock } from '../../src/ops/clock';
import { silentLogger } from '../../src/ops/logger';
import { buildService, type Service } from '../../src/service';
import { createApiToken } from '../../src/staff/auth/api-tokens';
import { createStaffUser } from '../../src/staff/staff-users';
import { seedFreshDatabase } from '../../src/store/seed';
import { createStore, type Store } from '../../src/store/store';
import { startFakeTelegramApi, type FakeTelegramApi } from '../fakes/telegram-api';
import { testConfig } from '../helpers/config';
import { withClient } from '../helpers/stores';

/*
 * The scheduled jobs, run by two instances at the same moment on one Postgres database, as two Node
 * processes do once a minute. Each instance has its own pool and its own service; before either may act,
 * both have read the same due work (a gate holds each instance's first query until the other's has
 * answered too), so every guard is really tested against a rival that saw what it saw. Each piece of
 * work is then checked to have been done once: a reminder, a survey, an escalation and an assignment, a
 * handoff handed back, a staff group alert, a domain event's handling, a DMS webhook, a repair-order
 * notice and the alert about its failed delivery.
 */

const URL = process.env.TEST_DATABASE_URL;
const MONDAY_10 = '2026-11-30T02:00:00.000Z'; // Monday 10:00 in Taipei
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const STAFF_GROUP = '-1001234567890';

/**
 * Holds each instance's first query result, while armed, until every instance's first query has answered:
 * all of them then act on the same picture of what is due.
 */
function sameReadGate(parties: number) {
  let armed = false;
  let arrived = new Set<number>();
  let release: () => void = () => undefined;
  let all: Promise<void> = Promise.resolve();
  return {
    arm() {
      armed = true;
      arrived = new Set();
      all = new Promise<void>((resolve) => (release = resolve));
    },
    disarm() {
      armed = false;
      release();
    },
    plugin(party: number): KyselyPlugin {
      return {
        transformQuery: (args: PluginTransformQueryArgs): RootOperationNode => args.node,
        async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
          if (armed && !arrived.has(party)) {
            arrived.add(party);
            if (arrived.size === parties) release();
            // An instance with nothing to read twice must not hold the other for long.
            await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 3000))]);
          }
          return args.result;
        },
      };
    },
  };
}

describe.skipIf(!URL)('scheduled jobs run by two instances at once on Postgres', () => {
  const clock = manualClock(MONDAY_10);
  const gate = sameReadGate(2);
  let schema: string;
  let bases: Store[];
  let stores: Store[];
  let services: Service[];
  let telegram: FakeTelegramApi;
  let dms: Server;
  let dmsUrl: string;
  const dmsDeliveries: string[] = [];
  let blobDir: string;
  /** Every time a subscriber was handed an event, on either instance. */
  const handled: string[] = [];
  const counter: Subscriber = {
    name: 'two-instance-counter',
    types: [EVENT_TYPES.repairOrderCollected, EVENT_TYPES.repairOrderStatusChanged],
    async handle(_tx, event) {
      handled.push(event.id);
    },
  };

  const admin = (statement: string) => withClient(URL!, (client) => client.query(statement));

  beforeAll(async () => {
    telegram = await startFakeTelegramApi();
    dms = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        dmsDeliveries.push(String(req.headers['x-dealer-delivery']));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => dms.listen(0, '127.0.0.1', resolve));
    dmsUrl = `http://127.0.0.1:${(dms.address() as AddressInfo).port}/dms`;
    schema = `jobs2_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`;
    await admin(`create schema ${schema}`);
    bases = [await openNodeStore({ kind: 'postgres', url: URL!, schema }, { poolSize: 5 }), await openNodeStore({ kind: 'postgres', url: URL!, schema }, { poolSize: 5, migrate: false })];
    stores = bases.map((base, i) => ({ ...createStore(base.db.withPlugin(gate.plugin(i)), 'postgres'), close: () => base.close() }));
    const config = testConfig({ DEFAULT_LOCALE: 'en', DMS_WEBHOOK_URL: dmsUrl, DMS_WEBHOOK_SECRET: 'dms-secret-for-two-instances' }, { telegram: telegram.url });
    await seedFreshDatabase(stores[0]!, config, clock.now());
    blobDir = await mkdtemp(join(tmpdir(), 'dealer-jobs2-'));
    services = [];
    for (const store of stores) services.push(await buildService({ config, store, logger: silentLogger, clock, passwordIterations: 1000, blobs: diskBlobStore(blobDir), subscribers: [counter] }));
  }, 60_000);

  afterAll(async () => {
    for (const s of services ?? []) {
      await s.engine.stop();
      await s.outbox.stop();
    }
    for (const s of stores ?? []) await s.close();
    if (schema) await admin(`drop schema ${schema} cascade`);
    await telegram?.close();
    await new Promise<void>((resolve) => (dms ? dms.close(() => resolve()) : resolve()));
    if (blobDir) await rm(blobDir, { recursive: true, force: true });
  });

  const db = () => bases[0]!.db;

  /** Runs one job on both instances at once, both acting on the same reading of what is due; returns what each did. */
  async function both(name: string): Promise<number[]> {
    gate.arm();
    try {
      return await Promise.all(
        services.map((s) => {
          const job = s.scheduledJobs.find((j) => j.name === name);
          if (!job) throw new Error(`no scheduled job ${name}`);
          return job.runOnce();
        }),
      );
    } finally {
      gate.disarm();
    }
  }

  let seq = 0;
  /** A web chat customer writing to the first instance; returns their customer id once it is processed. */
  async function webSays(visitor: string, text: string): Promise<string> {
    const event: InboundEvent = { channel: 'web', eventId: `${visitor}-${++seq}`, externalId: visitor, occurredAt: clock.now().toISOString(), replyToken: null, profile: { displayName: 'Mei', languageHint: 'en' }, input: { type: 'text', text } };
    await services[0]!.engine.handle(event);
    const row = await db().selectFrom('channel_identities').select('customer_id').where('channel', '=', 'web').where('external_id', '=', visitor).executeTakeFirstOrThrow();
    return row.customer_id;
  }

  const branchId = async () => (await db().selectFrom('branches').select('id').executeTakeFirstOrThrow()).id;

  async function api(path: string, json: unknown, method = 'POST'): Promise<Response> {
    const { token } = await createApiToken(db(), { name: 'dms', role: 'manager', branchIds: [await branchId()], createdBy: null, now: clock.now() });
    return services[0]!.app.request(path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(json) });
  }

  async function carOf(customerId: string, plate: string): Promise<void> {
    const now = clock.now().toISOString();
    await db().insertInto('vehicles').values({ id: crypto.randomUUID(), customer_id: customerId, plate, plate_normalized: plate.replace(/[^A-Z0-9]/gi, '').toUpperCase(), make: null, model: null, year: null, vin: null, mileage_km: null, created_at: now, updated_at: now }).execute();
  }

  it('hands a silent handoff back to the bot once, and assigns and escalates its ticket once', async () => {
    clock.set(MONDAY_10);
    // Staff group alerts go to a Telegram group; nobody is on duty when the customer asks for a person.
    await saveComplaintSettings(db(), await branchId(), { firstResponseMinutes: 30, resolutionMinutes: 18 * 60, telegramChatId: STAFF_GROUP, lineGroupId: null }, clock.now().toISOString());
    const customerId = await webSays('quiet-visitor', 'human');
    const [ticket] = await db().selectFrom('complaints').selectAll().where('customer_id', '=', customerId).execute();
    expect(ticket).toMatchObject({ assignee_id: null });

    clock.advance(31 * MINUTE);
    expect((await both('handoff-return')).reduce((a, b) => a + b)).toBe(1);
    const idle = await db().selectFrom('outbox').select('payload').where('customer_id', '=', customerId).where('source', '=', 'system').execute();
    expect(idle.filter((r) => r.payload.includes('handoff.idle'))).toHaveLength(1);
    expect(await db().selectFrom('complaint_events').select('id').where('complaint_id', '=', ticket!.id).where('kind', '=', 'handoff_ended').execute()).toHaveLength(1);

    // Someone comes on duty, a manager is there to escalate to, and the first answer is late.
    const care = await createStaffUser(db(), { email: 'care@dealer.example', name: 'Mei Lin', role: 'care', locale: 'en', password: 'correct horse battery staple', branchIds: [await branchId()] }, clock.now(), 1000);
    await setOnDuty(db(), care.id, true, clock.now().toISOString());
    await createStaffUser(db(), { email: 'boss@dealer.example', name: 'Boss', role: 'manager', locale: 'en', password: 'correct horse battery staple', branchIds: [await branchId()] }, clock.now(), 1000);
    clock.advance(HOUR);
    expect((await both('complaint-clock')).reduce((a, b) => a + b)).toBe(2);
    const timeline = await db().selectFrom('complaint_events').select(['kind', 'details']).where('complaint_id', '=', ticket!.id).execute();
    expect(timeline.filter((e) => e.kind === 'assigned')).toHaveLength(1);
    expect(timeline.filter((e) => e.kind === 'escalated')).toHaveLength(1);
    const notices = await db().selectFrom('staff_notifications').select(['staff_id', 'kind']).where('complaint_id', '=', ticket!.id).execute();
    expect(notices.filter((n) => n.kind === 'assigned')).toHaveLength(1);
    expect(notices.filter((n) => n.kind === 'escalated').length).toBe(new Set(notices.filter((n) => n.kind === 'escalated').map((n) => n.staff_id)).size);
    expect(await db().selectFrom('complaint_alerts').select('kind').where('complaint_id', '=', ticket!.id).where('kind', '=', 'escalated').execute()).toHaveLength(1);
    // Nothing is left due: another pass from both does nothing.
    expect(await both('complaint-clock')).toEqual([0, 0]);
  });

  it('sends each staff group alert once', async () => {
    // The ticket's alerts may already have gone out: the step and the clock wake the sender of the instance that queued them.
    await both('complaint-alerts');
    const alerts = await db().selectFrom('complaint_alerts').select(['id', 'status', 'kind', 'complaint_id']).execute();
    expect(alerts.map((a) => a.kind).sort()).toEqual(['escalated', 'new']);
    expect(alerts.every((a) => a.status === 'sent')).toBe(true);
    expect(telegram.sent(STAFF_GROUP)).toHaveLength(alerts.length);

    // Three more waiting (the customer reopened it, as a retry would leave them), sent by whichever instance claims each.
    const now = clock.now().toISOString();
    await db()
      .insertInto('complaint_alerts')
      .values(Array.from({ length: 3 }, () => ({ key: crypto.randomUUID(), complaint_id: alerts[0]!.complaint_id, channel: 'telegram' as const, target: STAFF_GROUP, kind: 'reopened' as const, status: 'pending' as const, attempts: 0, next_attempt_at: now, lease_until: null, last_error: null, created_at: now, sent_at: null })))
      .execute();
    expect((await both('complaint-alerts')).reduce((a, b) => a + b)).toBe(3);
    expect(await db().selectFrom('complaint_alerts').select('id').where('status', '!=', 'sent').execute()).toEqual([]);
    expect(telegram.sent(STAFF_GROUP)).toHaveLength(alerts.length + 3);
  });

  it('hands each domain event to each subscriber once, posts each DMS webhook once and sends the survey once', async () => {
    const customerId = await webSays('collected-visitor', 'hello');
    await carOf(customerId, 'ABC-2222');
    expect((await api('/api/repair-orders/W-1', { plate: 'ABC-2222' }, 'PUT')).status).toBe(201);
    expect((await api('/api/repair-orders/W-1/status', { status: 'collected' })).status).toBe(200);
    const events = await db().selectFrom('domain_events').select(['id', 'type']).execute();
    expect(events.length).toBeGreaterThan(0);

    const done = await both('domain-events');
    const handlings = await db().selectFrom('event_handlings').select(['subscriber', 'event_id']).execute();
    expect(done.reduce((a, b) => a + b)).toBe(handlings.length);
    expect(new Set(handlings.map((h) => `${h.subscriber}|${h.event_id}`)).size).toBe(handlings.length);
    expect(handled.sort()).toEqual(events.map((e) => e.id).sort());
    expect(await db().selectFrom('surveys').select('id').where('customer_id', '=', customerId).execute()).toHaveLength(1);

    // Webhooks the DMS subscriber queued (for added items decided and pickup times confirmed) wait for the sender.
    const queued = Array.from({ length: 3 }, (_, i) => ({ id: crypto.randomUUID(), event_type: i % 2 ? 'repair_order.item_decided' : 'repair_order.pickup_time_confirmed', payload: JSON.stringify({ n: i }), status: 'pending' as const, attempts: 0, next_attempt_at: clock.now().toISOString(), lease_until: null, last_status: null, last_error: null, created_at: clock.now().toISOString(), sent_at: null }));
    await db().insertInto('dms_webhook_deliveries').values(queued).execute();
    expect((await both('dms-webhooks')).reduce((a, b) => a + b)).toBe(queued.length);
    expect(dmsDeliveries.sort()).toEqual(queued.map((d) => d.id).sort());
    expect(await db().selectFrom('dms_webhook_deliveries').select('status').where('status', '!=', 'sent').execute()).toEqual([]);

    clock.advance(2 * HOUR);
    expect((await both('surveys')).reduce((a, b) => a + b)).toBe(1);
    const [survey] = await db().selectFrom('surveys').selectAll().where('customer_id', '=', customerId).execute();
    expect(survey).toMatchObject({ status: 'sent' });
    expect(await db().selectFrom('outbox').select('id').where('key', 'like', `survey:${survey!.id}%`).execute()).toHaveLength(1);
  });

  it('queues each booking reminder once', async () => {
    clock.set('2026-11-30T09:00:00.000Z'); // Monday 17:00 in Taipei
    const customerId = await webSays('reminded-visitor', 'hello');
    const booking = createBookingService({ store: bases[0]!, clock });
    const booked = await booking.book({ branchId: await branchId(), customerId, vehicleId: null, serviceTypeCode: 'periodic_maintenance', startsAt: '2026-12-01T02:00:00.000Z', loaner: false, note: null, channel: 'web', actor: { type: 'customer', customerId } });
    expect(booked.ok).toBe(true);
    const before = (await db().selectFrom('outbox').select('id').where('customer_id', '=', customerId).execute()).length;
    clock.set('2026-11-30T10:01:00.000Z'); // 18:01: the day-before reminder is due
    expect((await both('reminders')).reduce((a, b) => a + b)).toBe(1);
    expect(await db().selectFrom('appointment_reminders').select('kind').execute()).toEqual([{ kind: 'day_before' }]);
    expect(await db().selectFrom('outbox').select('id').where('customer_id', '=', customerId).execute()).toHaveLength(before + 1);
  });

  it('queues a notice that waited out quiet hours once, and raises the alert about its failed delivery once', async () => {
    clock.set('2026-11-30T14:00:00.000Z'); // Monday 22:00 in Taipei: quiet hours
    const customerId = await webSays('night-visitor', 'hello');
    await carOf(customerId, 'XYZ-3333');
    expect((await api('/api/repair-orders/W-2', { plate: 'XYZ-3333' }, 'PUT')).status).toBe(201);
    expect((await api('/api/repair-orders/W-2/status', { status: 'ready' })).status).toBe(200);
    const [notice] = await db().selectFrom('repair_order_notices').selectAll().where('customer_id', '=', customerId).where('status', '=', 'ready').execute();
    expect(notice).toMatchObject({ state: 'scheduled' });

    clock.set('2026-12-01T01:01:00.000Z'); // Tuesday 09:01
    expect((await both('repair-order-notices')).reduce((a, b) => a + b)).toBe(1);
    expect(await db().selectFrom('repair_order_notices').select('state').where('id', '=', notice!.id).executeTakeFirstOrThrow()).toEqual({ state: 'queued' });
    const rows = await db().selectFrom('outbox').select(['id', 'key']).where('key', 'like', `${notice!.id}%`).execute();
    expect(rows).toHaveLength(1);

    // The platform refused it for good: the advisor is asked to phone, once.
    await db().updateTable('outbox').set({ status: 'dead', last_error: '400: chat not found' }).where('id', '=', rows[0]!.id).execute();
    expect((await both('repair-order-deliveries')).reduce((a, b) => a + b)).toBe(1);
    expect(await db().selectFrom('repair_order_alerts').select('kind').where('kind', '=', 'delivery_failed').execute()).toHaveLength(1);
  });
});
