import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InboundEvent } from '../../src/channels/types';
import { manualClock } from '../../src/ops/clock';
import { createCustomer, localIso } from '../booking/fixtures';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { staffMember, type SignedInStaff } from '../helpers/staff';
import { dialects } from '../helpers/stores';

/*
 * The repair-order pages as an advisor uses them over HTTP: the board, a walk-in, moving a car on from the
 * board, sending added items, the order's live section showing the customer's answers as they arrive, an
 * answer taken on the phone, an alert handled, and the branch settings a manager keeps. Refused posts come
 * back with the page, the reason and the status (400, 409).
 */

// Monday 2026-03-09, 10:00 in Taipei.
const START = '2026-03-09T02:00:00.000Z';
const MON = '2026-03-09';

describe.each(dialects)('console repair orders on $name', (dialect) => {
  let svc: TestService;
  let advisor: SignedInStaff;
  let branchId: string;
  const clock = manualClock(START);
  const db = () => svc.db.store.db;

  beforeEach(async () => {
    clock.set(START);
    svc = await startTestService(dialect, testConfig({ DEFAULT_LOCALE: 'en' }), clock);
    branchId = (await db().selectFrom('branches').select('id').executeTakeFirstOrThrow()).id;
    advisor = await staffMember(svc, 'advisor', { email: 'amy@dealer.example' });
  });
  afterEach(async () => {
    await svc.close();
  });

  async function html(res: Response, status = 200): Promise<string> {
    const text = await res.text();
    expect(res.status, text.slice(0, 500)).toBe(status);
    return text;
  }

  const location = (res: Response) => res.headers.get('location') ?? '';

  it('opens a walk-in, moves it on from the board, sends items, and shows the answers live, the phone answer and the alert', async () => {
    const customer = await createCustomer(svc.db.store, clock.now(), 'Lin Mei');
    const visitor = (await db().selectFrom('channel_identities').select('external_id').where('customer_id', '=', customer.customerId).executeTakeFirstOrThrow()).external_id;
    expect(await html(await advisor.request(`/console/repair-orders/new?branch=${branchId}&q=Lin`))).toContain('Lin Mei');

    const opened = await advisor.request('/console/repair-orders/new', {
      form: { branch: branchId, customer: customer.customerId, vehicle: customer.vehicleId, advisorId: advisor.id, promisedAt: `${MON}T17:00`, estimatedAmount: '3,500', mileageIn: '42000', dmsNumber: 'W-9' },
    });
    expect(opened.status).toBe(303);
    expect(location(opened)).toMatch(/^\/console\/repair-orders\/[0-9a-f-]{36}\?flash=opened$/);
    const id = location(opened).split('/').pop()!.split('?')[0]!;
    const order = await db().selectFrom('repair_orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(order).toMatchObject({ dms_number: 'W-9', advisor_id: advisor.id, promised_at: localIso(MON, '17:00'), estimated_amount: 350_000, mileage_in: 42_000, status: 'checked_in' });
    const page = await html(await advisor.request(`/console/repair-orders/${id}?flash=opened`));
    expect(page).toContain('The repair order is open; the customer was told.');
    expect(page).toContain('NT$3,500');

    // The board: the car under "Checked in", its advisor, and a button to move it on.
    const board = await html(await advisor.request(`/console/repair-orders?branch=${branchId}`));
    expect(board).toMatch(new RegExp(`data-column="checked_in">[\\s\\S]*?data-order="${id}"`));
    expect(board).toContain('→ Diagnosing');
    const moved = await advisor.request(`/console/repair-orders/${id}/status`, { form: { status: 'diagnosing', version: String(order.version), back: `/console/repair-orders?branch=${branchId}` } });
    expect(moved.status).toBe(303);
    expect(location(moved)).toBe(`/console/repair-orders?branch=${branchId}&flash=moved`);
    // The same button pressed again from the stale board is refused, not applied twice.
    const stale = await advisor.request(`/console/repair-orders/${id}/status`, { form: { status: 'diagnosing', version: String(order.version), back: `/console/repair-orders?branch=${branchId}` } });
    expect(await html(stale, 409)).toContain('Someone changed this order meanwhile');

    const badItems = await advisor.request(`/console/repair-orders/${id}/items`, { form: { description_0: 'Front brake pads', price_0: 'two thousand', urgency_0: 'red' } });
    expect(await html(badItems, 400)).toContain('An amount such as 2400 or 2400.50.');
    const sent = await advisor.request(`/console/repair-orders/${id}/items`, {
      form: { description_0: 'Front brake pads', price_0: '2400', urgency_0: 'red', photo_0: 'https://photos.dealer.example/p.jpg', description_1: 'Wiper blades', price_1: '600', urgency_1: 'green' },
    });
    expect(sent.status).toBe(303);
    await svc.flush();
    const [pads, wipers] = (await db().selectFrom('repair_order_items').select('id').orderBy('position').execute()).map((i) => i.id) as [string, string];

    const before = await html(await advisor.request(`/console/repair-orders/${id}/live`));
    const stampOf = (text: string) => /data-stamp="([^"]+)"/.exec(text)?.[1];
    expect(before.match(/Waiting for answer/g)).toHaveLength(2);
    expect(before).toContain('Added items');
    expect(before).toContain('data-delivery="sent"');
    // The customer answers in the chat; the live section shows it with when and how.
    clock.set(localIso(MON, '10:20'));
    const event: InboundEvent = { channel: 'web', eventId: 'c-1', externalId: visitor, occurredAt: clock.now().toISOString(), replyToken: null, profile: null, input: { type: 'choice', id: `prog:a:${pads}`, params: null } };
    await svc.engine.handle(event);
    await svc.flush();
    const after = await html(await advisor.request(`/console/repair-orders/${id}/live`));
    expect(stampOf(after)).not.toBe(stampOf(before));
    expect(after).toContain('Approved');
    expect(after).toContain('web chat · Lin Mei');
    expect(after).toContain('What the customer saw');

    // The wipers: the customer phones instead; the advisor records it with the time of the call.
    clock.set(localIso(MON, '10:30'));
    const phoned = await advisor.request(`/console/repair-orders/items/${wipers}/phone`, { form: { decision: 'declined', decidedAt: `${MON}T10:25`, note: 'Mrs Lin: next time' } });
    expect(phoned.status).toBe(303);
    const decided = await html(await advisor.request(`/console/repair-orders/${id}`));
    expect(decided).toContain('phone · advisor user');
    expect(decided).toContain('Mrs Lin: next time');
    // A phone answer for an item already answered is refused.
    expect(await html(await advisor.request(`/console/repair-orders/items/${pads}/phone`, { form: { decision: 'declined', note: 'changed mind' } }), 409)).toContain('This item already has an answer.');

    // "Call me" from the chat reaches the order page as something to do, until done.
    await svc.engine.handle({ ...event, eventId: 'c-2', input: { type: 'choice', id: `prog:call:${id}`, params: null } });
    await svc.flush();
    const withAlert = await html(await advisor.request(`/console/repair-orders/${id}`));
    expect(withAlert).toContain('The customer asks to be called');
    const alert = await db().selectFrom('repair_order_alerts').select('id').executeTakeFirstOrThrow();
    expect((await advisor.request(`/console/repair-orders/alerts/${alert.id}/resolve`, { form: { back: `/console/repair-orders/${id}` } })).status).toBe(303);
    expect(await html(await advisor.request(`/console/repair-orders/${id}`))).not.toContain('The customer asks to be called');
    expect(await db().selectFrom('audit_log').select('action').where('entity', '=', 'repair_order').orderBy('id').execute()).toEqual([
      { action: 'repair_order.open' },
      { action: 'repair_order.status' },
      { action: 'repair_order.items_add' },
      { action: 'repair_order.decision' },
      { action: 'repair_order.alert_resolve' },
    ]);
  });

  it('keeps each branch’s settings for managers only, and refuses a currency that is not one', async () => {
    const manager = await staffMember(svc, 'manager');
    expect((await advisor.request(`/console/repair-orders/settings?branch=${branchId}`)).status).toBe(403);
    expect(await html(await manager.request(`/console/repair-orders/settings?branch=${branchId}`))).toContain('value="TWD"');
    const bad = await manager.request(`/console/repair-orders/settings?branch=${branchId}`, { form: { notify: 'ready', currency: 'XXQ', consentReminderMinutes: '30', consentFlagMinutes: '30' } });
    expect(await html(bad, 400)).toContain('A currency code such as TWD, JPY or THB.');
    const saved = await manager.request(`/console/repair-orders/settings?branch=${branchId}`, { form: { notify: 'ready', currency: 'jpy', consentReminderMinutes: '30', consentFlagMinutes: '45' } });
    expect(saved.status).toBe(303);
    expect(await db().selectFrom('repair_order_settings').selectAll().executeTakeFirstOrThrow()).toMatchObject({ notify_statuses: '["ready"]', notify_delay: 0, currency: 'JPY', consent_reminder_minutes: 30, consent_flag_minutes: 45 });
  });
});
