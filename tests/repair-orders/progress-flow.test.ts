import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InboundEvent, Input, RenderedMessage } from '../../src/channels/types';
import type { DomainEvent, Subscriber } from '../../src/events/events';
import { manualClock } from '../../src/ops/clock';
import { createRepairOrderService } from '../../src/staff/repair-orders';
import type { Principal } from '../../src/staff/permissions';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { closeTestD1, flowDialects } from '../helpers/stores';

/*
 * A car's whole stay in the workshop, as the customer sees it in the web chat and the advisor drives it:
 * checked in, added items answered one by one (late, and twice), ready with the pickup card, a pickup time
 * chosen, a reminder the next morning when the car was not collected, and collected — which hands the
 * "repair order collected" event to a subscriber exactly once. The branch is the demo one: Mon–Sat
 * 09:00–18:00 in Asia/Taipei, quiet hours 21:00–09:00.
 */

// Monday 2026-11-30, 10:00 in Taipei.
const START = '2026-11-30T02:00:00.000Z';
const at = (local: string) => new Date(`${local}:00+08:00`).toISOString();

afterAll(closeTestD1);

describe.each(flowDialects)('repair progress in the web chat on $name', (dialect) => {
  let svc: TestService;
  const clock = manualClock(START);
  let seq = 0;
  const collected: DomainEvent[] = [];
  const subscriber: Subscriber = {
    name: 'test-survey',
    types: ['repair_order.collected'],
    async handle(tx, event) {
      collected.push(event);
      // What a subscriber writes commits with its handling: here, a setting row that must appear exactly once.
      await tx.insertInto('settings').values({ key: `survey:${event.aggregateId}`, value: event.id }).execute();
    },
  };

  beforeEach(async () => {
    clock.set(START);
    collected.length = 0;
    svc = await startTestService(dialect, testConfig(), clock, { subscribers: [subscriber] });
  });
  afterEach(async () => {
    await svc.close();
  });

  function customer(visitor: string) {
    let cursor = 0;
    return {
      async say(input: Input | string): Promise<RenderedMessage[]> {
        const event: InboundEvent = {
          channel: 'web',
          eventId: `ro-${++seq}`,
          externalId: visitor,
          occurredAt: clock.now().toISOString(),
          replyToken: null,
          profile: { displayName: 'Mei Lin', languageHint: 'en' },
          input: typeof input === 'string' ? { type: 'text', text: input } : input,
        };
        await svc.engine.handle(event);
        return this.heard();
      },
      async heard(): Promise<RenderedMessage[]> {
        await svc.flush();
        const rows = await svc.db.store.db
          .selectFrom('messages')
          .innerJoin('channel_identities', 'channel_identities.customer_id', 'messages.customer_id')
          .select(['messages.id', 'messages.payload'])
          .where('channel_identities.external_id', '=', visitor)
          .where('messages.direction', '=', 'out')
          .where('messages.id', '>', cursor)
          .orderBy('messages.id')
          .execute();
        cursor = rows.at(-1)?.id ?? cursor;
        return rows.map((r) => (JSON.parse(r.payload!) as { message: RenderedMessage }).message);
      },
      tap: (id: string, params: Extract<Input, { type: 'choice' }>['params'] = null): Input => ({ type: 'choice', id, params }),
    };
  }

  const texts = (messages: RenderedMessage[]) => messages.map((m) => (m.type === 'card' || m.type === 'carousel' ? m.altText : m.type === 'text' ? m.text : m.url)).join('\n');
  const ids = (messages: RenderedMessage[]) => messages.flatMap((m) => (m.type === 'image' ? [] : m.choices.map((c) => ('id' in c ? c.id : c.url))));

  async function runJobs() {
    for (const job of svc.scheduledJobs) await job.runOnce();
    await svc.flush();
  }

  async function setUp() {
    const mei = customer('mei');
    await mei.say('hello');
    const db = svc.db.store.db;
    const { customer_id: customerId } = await db.selectFrom('channel_identities').select('customer_id').where('external_id', '=', 'mei').executeTakeFirstOrThrow();
    const branch = await db.selectFrom('branches').select(['id']).executeTakeFirstOrThrow();
    const vehicleId = crypto.randomUUID();
    const now = clock.now().toISOString();
    await db.insertInto('vehicles').values({ id: vehicleId, customer_id: customerId, plate: 'ABC-1234', plate_normalized: 'ABC1234', make: 'Toyota', model: 'Corolla', year: null, vin: null, mileage_km: null, created_at: now, updated_at: now }).execute();
    const principal: Principal = { kind: 'staff', id: crypto.randomUUID(), email: 'advisor@dealer.example', name: 'Amy Advisor', role: 'advisor', locale: 'en', branchIds: 'all', sessionId: 's' };
    const orders = createRepairOrderService({ store: svc.db.store, clock, defaultLocale: 'en' });
    const action = () => ({ actor: principal, ip: null, now: clock.now() });
    return { mei, customerId, branchId: branch.id, vehicleId, orders, action };
  }

  it('tells the customer each stage, takes their answers to added items, hands the pickup card over and records it all', async () => {
    const { mei, customerId, branchId, vehicleId, orders, action } = await setUp();
    const opened = await orders.openWalkIn(action(), { branchId, customerId, vehicleId, dmsNumber: null, advisorId: null, promisedAt: at('2026-11-30T17:00'), estimatedAmount: 350_000, mileageIn: 42_000 });
    if (!opened.ok) throw new Error(JSON.stringify(opened));
    const order = opened.value;
    const checkedIn = texts(await mei.heard());
    expect(checkedIn).toContain('Your car (ABC-1234) is checked in, repair order RO-000001');
    expect(checkedIn).toContain('We expect it to be ready Mon 30 Nov 17:00.');

    // Diagnosing is not a status the demo branch tells customers about.
    expect(await orders.setStatus(action(), order.id, { status: 'diagnosing' })).toMatchObject({ ok: true });
    expect(await mei.heard()).toEqual([]);

    const added = await orders.addItems(action(), order.id, {
      items: [
        { description: 'Front brake pads', price: 240_000, urgency: 'red', photoUrl: 'https://photos.dealer.example/ro1/pads.jpg' },
        { description: 'Wiper blades', price: 60_000, urgency: 'green', photoUrl: null },
      ],
    });
    if (!added.ok) throw new Error(JSON.stringify(added));
    const [padsId, wipersId] = added.value.itemIds as [string, string];
    const request = await mei.heard();
    expect(request).toHaveLength(1);
    const card = request[0]!;
    expect(card.type).toBe('card');
    expect(texts(request)).toContain('Additional work found: ABC-1234');
    expect(texts(request)).toContain('#1 🔴: Front brake pads · NT$2,400');
    expect(texts(request)).toContain('#2 🟢: Wiper blades · NT$600');
    expect(texts(request)).toContain('Total if approved: NT$6,500');
    expect(ids(request)).toEqual([`prog:a:${padsId}`, `prog:d:${padsId}`, `prog:a:${wipersId}`, `prog:d:${wipersId}`, `prog:aa:${added.value.requestId}`, `prog:call:${order.id}`, 'https://photos.dealer.example/ro1/pads.jpg']);
    expect((await orders.find(action().actor, order.id))?.status).toBe('awaiting_approval');

    // The customer declines the wipers at once…
    const declined = await mei.say(mei.tap(`prog:d:${wipersId}`));
    expect(texts(declined)).toContain('❌ Declined: #2 Wiper blades');
    expect(texts(declined)).toContain('1 item is still waiting for your answer.');
    expect(ids(declined)).toEqual([`prog:a:${padsId}`, `prog:d:${padsId}`, `prog:call:${order.id}`]);

    // …and approves the pads three hours later, after the reminder (once) and a second tap.
    clock.set(at('2026-11-30T11:05'));
    await runJobs();
    const reminder = await mei.heard();
    expect(texts(reminder)).toContain('Waiting for your answer: ABC-1234');
    expect(texts(reminder)).not.toContain('Wiper blades');
    clock.set(at('2026-11-30T13:00'));
    const approved = await mei.say(mei.tap(`prog:a:${padsId}`));
    expect(texts(approved)).toContain('✅ Approved: #1 Front brake pads (NT$2,400)');
    expect(texts(approved)).toContain('every item is answered. Total now: NT$5,900');
    const again = await mei.say(mei.tap(`prog:d:${padsId}`));
    expect(texts(again)).toContain('You already approved #1 Front brake pads (Mon 30 Nov 13:00); that answer stands.');

    const decisions = await svc.db.store.db.selectFrom('repair_order_decisions').selectAll().orderBy('decided_at').execute();
    expect(decisions.map((d) => [d.item_id, d.decision, d.channel, d.actor_type, d.decided_at])).toEqual([
      [wipersId, 'declined', 'web', 'customer', at('2026-11-30T10:00')],
      [padsId, 'approved', 'web', 'customer', at('2026-11-30T13:00')],
    ]);
    // The exact text the customer answered: the latest message that carried the button they pressed.
    expect(decisions[0]!.shown_text).toContain('#2 🟢: Wiper blades · NT$600');
    expect(decisions[1]!.shown_text).toContain('Waiting for your answer: ABC-1234\n#1 🔴: Front brake pads · NT$2,400');
    // Answered, so no flag for the advisor however long it stays that way.
    clock.set(at('2026-11-30T16:00'));
    await runJobs();
    expect(await svc.db.store.db.selectFrom('repair_order_alerts').selectAll().execute()).toEqual([]);

    for (const status of ['in_progress', 'quality_check'] as const) expect(await orders.setStatus(action(), order.id, { status })).toMatchObject({ ok: true });
    expect(await mei.heard()).toEqual([]);
    expect(await orders.updateDetails(action(), order.id, { workSummary: 'Periodic maintenance, front brake pads replaced' })).toMatchObject({ ok: true });
    expect(await orders.setStatus(action(), order.id, { status: 'ready' })).toMatchObject({ ok: true });
    const pickup = await mei.heard();
    expect(pickup).toHaveLength(1);
    expect(texts(pickup)).toBe(
      'Ready for pickup: ABC-1234\nRepair order: RO-000001\nWork done: Periodic maintenance, front brake pads replaced\nAmount due: NT$5,900\nPickup hours: Today 09:00–18:00\nWhere: Test Motors (demo branch)\nAddress: No. 100, Ruiguang Rd., Neihu Dist., Taipei City\nPhone: +886 2 2345 6789\nTell us when you\'ll come, or ask for more time.',
    );
    const comeAt = (pickup[0] as Extract<RenderedMessage, { type: 'card' }>).choices[0]!;
    expect(comeAt).toMatchObject({ kind: 'datetime', id: `prog:pt:${order.id}`, mode: 'datetime', min: '2026-11-30T16:30', max: '2026-11-30T17:30' });

    // A time after closing is refused with the day's hours; one within them is kept.
    expect(texts(await mei.say(mei.tap(`prog:pt:${order.id}`, { datetime: '2026-11-30T18:30' })))).toContain("We're open 09:00–18:00 on Mon 30 Nov.");
    const confirmed = await mei.say(mei.tap(`prog:pt:${order.id}`, { datetime: '2026-11-30T17:30' }));
    expect(texts(confirmed)).toContain("We'll have your car ready for you at 17:30 on Mon 30 Nov at Test Motors (demo branch).");
    expect((await orders.find(action().actor, order.id))?.pickupPlannedAt).toBe(at('2026-11-30T17:30'));

    // Not collected by closing time: one friendly reminder the next morning, not before and not twice.
    clock.set(at('2026-11-30T18:05'));
    await runJobs();
    expect(await mei.heard()).toEqual([]);
    clock.set(at('2026-12-01T09:00'));
    await runJobs();
    const morning = await mei.heard();
    expect(texts(morning)).toContain('Good morning! Your car is waiting: ABC-1234');
    clock.set(at('2026-12-01T09:30'));
    await runJobs();
    clock.set(at('2026-12-02T09:30'));
    await runJobs();
    expect(await mei.heard()).toEqual([]);

    expect(await orders.setStatus(action(), order.id, { status: 'collected' })).toMatchObject({ ok: true });
    expect(await mei.heard()).toEqual([]);
    await runJobs();
    await runJobs();
    expect(collected.map((e) => [e.type, e.aggregateId, e.payload.number])).toEqual([['repair_order.collected', order.id, 'RO-000001']]);
    expect(await svc.db.store.db.selectFrom('settings').select('value').where('key', '=', `survey:${order.id}`).execute()).toEqual([{ value: collected[0]!.id }]);

    // Every notice went out once and is recorded as sent.
    const notices = await svc.db.store.db.selectFrom('repair_order_notices').select(['kind', 'state']).orderBy('created_at').execute();
    expect(notices).toEqual([
      { kind: 'status', state: 'sent' },
      { kind: 'consent', state: 'sent' },
      { kind: 'consent_reminder', state: 'sent' },
      { kind: 'pickup', state: 'sent' },
      { kind: 'pickup_reminder', state: 'sent' },
    ]);
  });

  it('keeps a ready notice made at night for the morning, unless staff force it, and skips it once the car is collected', async () => {
    const { mei, customerId, branchId, vehicleId, orders, action } = await setUp();
    const opened = await orders.openWalkIn(action(), { branchId, customerId, vehicleId, dmsNumber: 'DMS-77', advisorId: null, estimatedAmount: null });
    if (!opened.ok) throw new Error('not opened');
    await mei.heard();
    clock.set(at('2026-11-30T23:00'));
    expect(await orders.setStatus(action(), opened.value.id, { status: 'ready' })).toMatchObject({ ok: true });
    expect(await mei.heard()).toEqual([]);
    // The customer can still talk to the bot meanwhile: nothing queued holds their conversation up.
    expect(texts(await mei.say('status'))).toContain('DMS-77 · ABC-1234');
    clock.set(at('2026-12-01T09:00'));
    await runJobs();
    const pickup = await mei.heard();
    expect(texts(pickup)).toContain('Ready for pickup: ABC-1234');
    expect(texts(pickup)).toContain('Pickup hours: Today 09:00–18:00');

    // A second car: forced at night it goes at once; a third, collected before morning, never gets its notice.
    const second = await orders.openWalkIn(action(), { branchId, customerId, vehicleId: null, dmsNumber: null, advisorId: null });
    const third = await orders.openWalkIn(action(), { branchId, customerId, vehicleId: null, dmsNumber: null, advisorId: null });
    if (!second.ok || !third.ok) throw new Error('not opened');
    await mei.heard();
    clock.set(at('2026-12-01T22:00'));
    expect(await orders.setStatus(action(), second.value.id, { status: 'ready', force: true })).toMatchObject({ ok: true });
    expect(texts(await mei.heard())).toContain(`Ready for pickup: ${second.value.number}`);
    expect(await orders.setStatus(action(), third.value.id, { status: 'ready' })).toMatchObject({ ok: true });
    clock.set(at('2026-12-01T22:30'));
    expect(await orders.setStatus(action(), third.value.id, { status: 'collected' })).toMatchObject({ ok: true });
    clock.set(at('2026-12-02T09:01'));
    await runJobs();
    expect(texts(await mei.heard())).not.toContain(third.value.number);
    const states = await svc.db.store.db.selectFrom('repair_order_notices').select(['repair_order_id', 'kind', 'state']).where('repair_order_id', '=', third.value.id).execute();
    expect(states).toEqual([
      { repair_order_id: third.value.id, kind: 'status', state: 'sent' },
      { repair_order_id: third.value.id, kind: 'pickup', state: 'cancelled' },
    ]);
  });

  it('tells the advisor to phone when a request stays unanswered after its one reminder', async () => {
    const { mei, customerId, branchId, vehicleId, orders, action } = await setUp();
    const opened = await orders.openWalkIn(action(), { branchId, customerId, vehicleId, dmsNumber: null, advisorId: null });
    if (!opened.ok) throw new Error('not opened');
    await svc.db.store.db.updateTable('customers').set({ phone: '+886912345678' }).where('id', '=', customerId).execute();
    const added = await orders.addItems(action(), opened.value.id, { items: [{ description: 'Cabin air filter', price: 80_000, urgency: 'yellow', photoUrl: null }] });
    if (!added.ok) throw new Error('not added');
    await mei.heard();
    clock.set(at('2026-11-30T11:01'));
    await runJobs();
    expect(texts(await mei.heard())).toContain('Waiting for your answer');
    clock.set(at('2026-11-30T11:30'));
    await runJobs();
    expect(await svc.db.store.db.selectFrom('repair_order_alerts').selectAll().execute()).toEqual([]);
    clock.set(at('2026-11-30T12:02'));
    await runJobs();
    await runJobs();
    const alerts = await svc.db.store.db.selectFrom('repair_order_alerts').select(['kind', 'details']).execute();
    expect(alerts).toEqual([{ kind: 'consent_unanswered', details: JSON.stringify({ requestId: added.value.requestId, phone: '+886912345678' }) }]);
    // Reminded once only.
    expect(await mei.heard()).toEqual([]);
    // The advisor takes the answer on the phone; it is recorded with who and when, and the customer's later tap changes nothing.
    const [itemId] = added.value.itemIds as [string];
    expect(await orders.recordPhoneDecision(action(), itemId, { decision: 'approved', decidedAt: at('2026-11-30T11:58'), note: 'Mrs Lin approved on the phone' })).toMatchObject({ ok: true });
    const detail = await orders.detail(action().actor, opened.value.id);
    expect(detail!.items[0]).toMatchObject({ decision: 'approved', decidedVia: 'phone', decidedBy: { type: 'staff', label: 'Amy Advisor' }, decidedAt: at('2026-11-30T11:58'), note: 'Mrs Lin approved on the phone' });
    expect(texts(await mei.say(mei.tap(`prog:d:${itemId}`)))).toContain('You already approved #1 Cabin air filter');
  });
});
