import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBookingService, type BookingService } from '../../src/booking/service';
import { manualClock } from '../../src/ops/clock';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { apiToken } from '../helpers/staff';
import { dialects } from '../helpers/stores';
import { createBranch, createCustomer, localIso } from '../booking/fixtures';

type Token = Awaited<ReturnType<typeof apiToken>>;
type Json = Record<string, any>;

// Monday 2026-03-09, 08:00 in Taipei.
const START = '2026-03-09T00:00:00.000Z';
const MON = '2026-03-09';
const TUE = '2026-03-10';

describe.each(dialects)('appointments API on $name', (dialect) => {
  let svc: TestService;
  let booking: BookingService;
  let dms: Token;
  let branchId: string;
  const clock = manualClock(START);
  const db = () => svc.db.store.db;

  beforeEach(async () => {
    clock.set(START);
    svc = await startTestService(dialect, testConfig({ DEFAULT_LOCALE: 'en' }), clock);
    booking = createBookingService({ store: svc.db.store, clock });
    branchId = (await db().selectFrom('branches').select('id').executeTakeFirstOrThrow()).id;
    dms = await apiToken(svc, 'advisor', [branchId]);
  });
  afterEach(async () => {
    await svc.close();
  });

  async function json(res: Response, status: number): Promise<Json> {
    const body = (await res.json()) as Json;
    expect(res.status, JSON.stringify(body)).toBe(status);
    return body;
  }

  async function book(customerId: string, time: string, date = MON, token = dms): Promise<Response> {
    return token.request('/api/appointments', { json: { branchId, customerId, serviceType: 'periodic_maintenance', startsAt: localIso(date, time) } });
  }

  it('answers free times as staff see them (no minimum notice), and refuses an unknown service or a bad date', async () => {
    const day = await json(await dms.request(`/api/branches/${branchId}/availability?serviceType=periodic_maintenance&date=${MON}`), 200);
    expect(day).toMatchObject({ branchId, serviceType: 'periodic_maintenance', date: MON, closed: null, placesLeft: 24, loanersLeft: 2 });
    expect(day.slots[0]).toEqual({ startsAt: localIso(MON, '09:00'), endsAt: localIso(MON, '10:00'), localDate: MON, localTime: '09:00' });
    const sunday = await json(await dms.request(`/api/branches/${branchId}/availability?serviceType=periodic_maintenance&date=2026-03-15`), 200);
    expect(sunday).toMatchObject({ closed: 'closed', slots: [] });

    const unknown = await json(await dms.request(`/api/branches/${branchId}/availability?serviceType=oil_painting&date=${MON}`), 400);
    expect(unknown.details).toEqual([{ field: 'serviceType', message: expect.stringContaining('oil_painting') }]);
    const badDate = await json(await dms.request(`/api/branches/${branchId}/availability?serviceType=periodic_maintenance&date=2026-02-30`), 400);
    expect(badDate.details.map((d: Json) => d.field)).toEqual(['date']);
  });

  it('books for an existing customer (channel dms), lists and reads it, and answers a taken start with 409 and alternatives', async () => {
    const customer = await createCustomer(svc.db.store, clock.now(), 'Lin Mei');
    const created = await dms.request('/api/appointments', {
      json: { branchId, customerId: customer.customerId, vehicleId: customer.vehicleId, serviceType: 'periodic_maintenance', startsAt: '2026-03-09T09:00:00+08:00', loaner: true, note: 'From the DMS' },
    });
    const appointment = await json(created, 201);
    expect(created.headers.get('location')).toBe(`/api/appointments/${appointment.id}`);
    expect(appointment).toMatchObject({
      branchId,
      customerId: customer.customerId,
      vehicleId: customer.vehicleId,
      serviceType: 'periodic_maintenance',
      serviceTypeNames: { en: 'Scheduled service', 'zh-TW': '定期保養' },
      startsAt: localIso(MON, '09:00'),
      localDate: MON,
      localStart: '09:00',
      localEnd: '10:00',
      timeZone: 'Asia/Taipei',
      status: 'booked',
      loaner: true,
      note: 'From the DMS',
      channel: 'dms',
      createdBy: 'staff',
      version: 1,
      customerConfirmedAt: null,
      repairOrder: null,
    });
    const tokenId = (await db().selectFrom('api_tokens').select('id').executeTakeFirstOrThrow()).id;
    const audit = await db().selectFrom('audit_log').selectAll().where('action', '=', 'appointment.create').execute();
    expect(audit.map((a) => [a.entity_id, a.actor_type, a.actor_id])).toEqual([[appointment.id, 'api_token', tokenId]]);

    expect(await json(await dms.request(`/api/appointments/${appointment.id}`), 200)).toEqual(appointment);
    const list = await json(await dms.request(`/api/appointments?branchId=${branchId}&from=${MON}&to=${TUE}&status=booked,checked_in`), 200);
    expect(list.items.map((a: Json) => a.id)).toEqual([appointment.id]);
    expect((await json(await dms.request(`/api/appointments?branchId=${branchId}`), 200)).items).toHaveLength(1);
    expect((await json(await dms.request(`/api/appointments?branchId=${branchId}&status=cancelled`), 200)).items).toHaveLength(0);
    expect((await json(await dms.request(`/api/appointments?branchId=${branchId}&from=${MON}&to=2026-06-01`), 400)).details[0].field).toBe('to');
    expect((await json(await dms.request(`/api/appointments?branchId=${branchId}&status=lost`), 400)).details[0].field).toBe('status');

    // Two advisors per slot: one more booking fills 09:00, and the next is offered the nearest free starts.
    const second = await createCustomer(svc.db.store, clock.now(), 'Wang Wei');
    await json(await book(second.customerId, '09:00'), 201);
    const third = await createCustomer(svc.db.store, clock.now(), 'Chen Hao');
    const refused = await json(await book(third.customerId, '09:00'), 409);
    expect(refused).toMatchObject({ reason: 'slot_taken', error: expect.stringContaining('alternatives') });
    expect(refused.alternatives.length).toBeGreaterThan(0);
    expect(refused.alternatives[0]).toMatchObject({ localDate: MON, localTime: '09:30' });
    expect(refused.alternatives.map((s: Json) => s.startsAt)).not.toContain(localIso(MON, '09:00'));
  });

  it('refuses a booking with bad input field by field, and for a merged or unknown customer', async () => {
    const bad = await json(await dms.request('/api/appointments', { json: { branchId, startsAt: 'tomorrow', loaner: 'yes' } }), 400);
    expect(bad.details.map((d: Json) => d.field).sort()).toEqual(['customerId', 'loaner', 'serviceType', 'startsAt']);
    const unknown = await json(await book(crypto.randomUUID(), '10:00'), 404);
    expect(unknown.error).toBe('no such customer');

    const kept = await createCustomer(svc.db.store, clock.now(), 'Kept');
    const merged = await createCustomer(svc.db.store, clock.now(), 'Merged');
    await db().updateTable('customers').set({ merged_into_id: kept.customerId }).where('id', '=', merged.customerId).execute();
    expect(await json(await book(merged.customerId, '10:00'), 404)).toMatchObject({ mergedInto: kept.customerId });

    const notTheirs = await dms.request('/api/appointments', { json: { branchId, customerId: kept.customerId, vehicleId: merged.vehicleId, serviceType: 'periodic_maintenance', startsAt: localIso(MON, '10:00') } });
    expect((await json(notTheirs, 400)).details).toEqual([{ field: 'vehicleId', message: 'Not a vehicle of this customer.' }]);
    const noType = await dms.request('/api/appointments', { json: { branchId, customerId: kept.customerId, serviceType: 'oil_painting', startsAt: localIso(MON, '10:00') } });
    expect((await json(noType, 400)).details[0].field).toBe('serviceType');
    expect(await db().selectFrom('appointments').select('id').execute()).toHaveLength(0);
  });

  it('checks in with a repair order once, refuses an early no-show, cancels and reschedules', async () => {
    const customer = await createCustomer(svc.db.store, clock.now());
    const a = await json(await book(customer.customerId, '11:00'), 201);

    const early = await json(await dms.request(`/api/appointments/${a.id}/no-show`, { method: 'POST' }), 409);
    expect(early).toMatchObject({ reason: 'too_early', error: expect.stringContaining('not started yet') });

    const checked = await json(await dms.request(`/api/appointments/${a.id}/check-in`, { json: { mileageIn: 30500, version: 1 } }), 200);
    expect(checked.appointment).toMatchObject({ id: a.id, status: 'checked_in', version: 2, checkedInAt: START });
    expect(checked.repairOrder).toMatchObject({ number: 'RO-000001', appointmentId: a.id, customerId: customer.customerId, status: 'checked_in', mileageIn: 30500, version: 1 });
    expect(checked.appointment.repairOrder).toEqual({ id: checked.repairOrder.id, number: 'RO-000001' });
    const again = await json(await dms.request(`/api/appointments/${a.id}/check-in`, { method: 'POST' }), 409);
    expect(again).toMatchObject({ reason: 'not_changeable', status: 'checked_in' });
    expect(await db().selectFrom('repair_orders').select('id').execute()).toHaveLength(1);

    const later = await json(await book(customer.customerId, '10:00', TUE), 201);
    const tooEarly = await json(await dms.request(`/api/appointments/${later.id}/check-in`, { method: 'POST' }), 409);
    expect(tooEarly.reason).toBe('too_early');
    const stale = await json(await dms.request(`/api/appointments/${later.id}/reschedule`, { json: { startsAt: localIso(TUE, '15:00'), version: 7 } }), 409);
    expect(stale.reason).toBe('changed');
    const moved = await json(await dms.request(`/api/appointments/${later.id}/reschedule`, { json: { startsAt: localIso(TUE, '15:00'), version: 1 } }), 200);
    expect(moved).toMatchObject({ id: later.id, reference: later.reference, localStart: '15:00', version: 2 });
    const outside = await json(await dms.request(`/api/appointments/${later.id}/reschedule`, { json: { startsAt: localIso(TUE, '15:10') } }), 409);
    expect(outside.reason).toBe('outside_hours');
    expect(outside.alternatives.length).toBeGreaterThan(0);
    const cancelled = await json(await dms.request(`/api/appointments/${later.id}/cancel`, { json: { reason: 'Customer called the DMS' } }), 200);
    expect(cancelled).toMatchObject({ status: 'cancelled', version: 3 });
    expect((await booking.history(later.id)).map((h) => [h.action, h.channel])).toEqual([
      ['booked', 'dms'],
      ['rescheduled', 'dms'],
      ['cancelled', 'dms'],
    ]);

    clock.set(localIso(TUE, '10:30'));
    const third = await json(await book(customer.customerId, '11:00', TUE), 201);
    clock.set(localIso(TUE, '11:01'));
    expect(await json(await dms.request(`/api/appointments/${third.id}/no-show`, { method: 'POST' }), 200)).toMatchObject({ status: 'no_show' });
  });

  it('keeps a token to its branches: another branch’s appointments and availability are not found', async () => {
    const { branchId: other } = await createBranch(svc.db.store, {}, clock.now());
    const customer = await createCustomer(svc.db.store, clock.now());
    const a = await json(await book(customer.customerId, '11:00'), 201);
    const elsewhere = await apiToken(svc, 'manager', [other]);

    expect((await elsewhere.request(`/api/appointments/${a.id}`)).status).toBe(404);
    expect((await elsewhere.request(`/api/appointments?branchId=${branchId}`)).status).toBe(404);
    expect((await elsewhere.request(`/api/branches/${branchId}/availability?serviceType=periodic_maintenance&date=${MON}`)).status).toBe(404);
    for (const action of ['check-in', 'no-show', 'cancel']) expect((await elsewhere.request(`/api/appointments/${a.id}/${action}`, { method: 'POST' })).status, action).toBe(404);
    expect((await elsewhere.request(`/api/appointments/${a.id}/reschedule`, { json: { startsAt: localIso(TUE, '10:00') } })).status).toBe(404);
    expect((await book(customer.customerId, '12:00', MON, elsewhere)).status).toBe(404);
    expect((await json(await elsewhere.request(`/api/appointments?branchId=${other}`), 200)).items).toEqual([]);
    expect((await booking.find(a.id))!.status).toBe('booked');

    // Customer care may read appointments but not change them.
    const care = await apiToken(svc, 'care');
    expect((await care.request(`/api/appointments/${a.id}`)).status).toBe(200);
    expect((await care.request(`/api/appointments/${a.id}/cancel`, { method: 'POST' })).status).toBe(403);
  });

  it('describes the appointment routes in the OpenAPI document', async () => {
    const doc = await json(await dms.request('/api/openapi.json'), 200);
    for (const path of ['/api/branches/{id}/availability', '/api/appointments', '/api/appointments/{id}', '/api/appointments/{id}/check-in', '/api/appointments/{id}/no-show', '/api/appointments/{id}/cancel', '/api/appointments/{id}/reschedule']) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(doc.paths['/api/appointments'].post.responses['409']).toBeDefined();
    expect(doc.components.schemas.RepairOrder).toBeDefined();
  });
});
