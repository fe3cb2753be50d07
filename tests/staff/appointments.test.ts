import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBookingService, type BookingService } from '../../src/booking/service';
import { manualClock } from '../../src/ops/clock';
import { createStaffBooking } from '../../src/staff/appointments/operations';
import { erasureCode, eraseCustomer } from '../../src/staff/customers/erase';
import { mergeCustomers } from '../../src/staff/customers/merge';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { staffMember, type SignedInStaff } from '../helpers/staff';
import { dialects } from '../helpers/stores';
import { createBranch, createCustomer, localIso } from '../booking/fixtures';

// Monday 2026-03-09, 08:00 in Taipei: the demo branch opens at 09:00, and customers must book two hours ahead.
const START = '2026-03-09T00:00:00.000Z';
const MON = '2026-03-09';
const TUE = '2026-03-10';

describe.each(dialects)('console appointments on $name', (dialect) => {
  let svc: TestService;
  let booking: BookingService;
  let advisor: SignedInStaff;
  let branchId: string;
  const clock = manualClock(START);
  const db = () => svc.db.store.db;

  beforeEach(async () => {
    clock.set(START);
    svc = await startTestService(dialect, testConfig({ DEFAULT_LOCALE: 'en' }), clock);
    booking = createBookingService({ store: svc.db.store, clock });
    branchId = (await db().selectFrom('branches').select('id').where('is_demo', '=', 1).executeTakeFirstOrThrow()).id;
    advisor = await staffMember(svc, 'advisor');
  });
  afterEach(async () => {
    await svc.close();
  });

  /** A customer books in the chat, as the LINE flow does (bound by the minimum notice). */
  async function chatBooking(date: string, time: string, name = 'Lin Mei') {
    const customer = await createCustomer(svc.db.store, clock.now(), name);
    const result = await booking.book({
      branchId,
      customerId: customer.customerId,
      vehicleId: customer.vehicleId,
      serviceTypeCode: 'periodic_maintenance',
      startsAt: localIso(date, time),
      loaner: false,
      note: null,
      channel: 'line',
      actor: { type: 'customer', customerId: customer.customerId },
    });
    if (!result.ok) throw new Error(`booking refused: ${result.reason}`);
    return { ...customer, appointment: result.appointment };
  }

  const auditOf = (action: string) => db().selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();

  it('shows a chat booking in the day view (today by default) and the week view, in the staff member’s language', async () => {
    const monday = await chatBooking(MON, '11:00', 'Lin Mei');
    const tuesday = await chatBooking(TUE, '10:00', 'Wang Wei');
    await db().updateTable('appointments').set({ customer_confirmed_at: '2026-03-09T00:00:00.000Z' }).where('id', '=', monday.appointment.id).execute();

    const today = await advisor.request('/console/appointments');
    expect(today.status).toBe(200);
    const html = await today.text();
    expect(html).toContain(monday.appointment.reference);
    expect(html).toContain('11:00–12:00');
    expect(html).toContain(`href="/console/customers/${monday.customerId}"`);
    expect(html).toContain('Lin Mei');
    expect(html).toContain('ABC-1234');
    expect(html).toContain('Scheduled service');
    expect(html).toContain('Booked');
    expect(html).toContain('✓');
    expect(html).not.toContain(tuesday.appointment.reference);

    const week = await (await advisor.request(`/console/appointments?branch=${branchId}&date=${TUE}&view=week`)).text();
    expect(week).toContain(monday.appointment.reference);
    expect(week).toContain(tuesday.appointment.reference);

    const cancelledOnly = await (await advisor.request(`/console/appointments?branch=${branchId}&date=${MON}&status=cancelled`)).text();
    expect(cancelledOnly).not.toContain(monday.appointment.reference);

    const japanese = await staffMember(svc, 'care', { locale: 'ja' });
    const ja = await (await japanese.request(`/console/appointments?date=${MON}`)).text();
    expect(ja).toContain('定期点検');
    expect(ja).toContain('予約済み');
    // Customer care reads appointments but does not change them: no action buttons.
    expect(ja).not.toContain('/check-in');
  });

  it('checks a customer in and opens exactly one repair order; a second check-in is refused', async () => {
    const { appointment } = await chatBooking(MON, '11:00');
    const res = await advisor.request(`/console/appointments/${appointment.id}/check-in`, { form: { version: '1', mileageIn: '42180' } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/console/appointments/${appointment.id}?flash=checkedIn`);
    const page = await (await advisor.request(res.headers.get('location')!)).text();
    expect(page).toContain('Checked in. Repair order RO-000001 is open.');

    const orders = await db().selectFrom('repair_orders').selectAll().execute();
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ number: 'RO-000001', seq: 1, appointment_id: appointment.id, branch_id: branchId, customer_id: appointment.customerId, vehicle_id: appointment.vehicleId, status: 'checked_in', mileage_in: 42180, version: 1 });
    expect(await db().selectFrom('appointments').select(['status', 'version', 'checked_in_at']).where('id', '=', appointment.id).executeTakeFirstOrThrow()).toEqual({ status: 'checked_in', version: 2, checked_in_at: START });
    expect((await auditOf('appointment.check_in')).map((a) => [a.entity_id, a.actor_id])).toEqual([[appointment.id, advisor.id]]);
    expect((await auditOf('repair_order.open')).map((a) => a.entity_id)).toEqual([orders[0]!.id]);

    const again = await advisor.request(`/console/appointments/${appointment.id}/check-in`, { form: { version: '2' } });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('This appointment is Checked in, so that is no longer possible.');
    expect(await db().selectFrom('repair_orders').select('id').execute()).toHaveLength(1);
  });

  it('numbers repair orders without gaps or repeats when check-ins race, and opens one per appointment', async () => {
    const staffBooking = createStaffBooking({ store: svc.db.store, clock });
    const times = ['10:00', '10:00', '12:00', '12:00', '14:00', '14:00'];
    const appointments = [];
    for (const [i, t] of times.entries()) appointments.push((await chatBooking(MON, t, `Customer ${i}`)).appointment);
    const principal = { kind: 'staff' as const, id: advisor.id, email: advisor.email, name: 'advisor', role: 'advisor' as const, locale: 'en', branchIds: 'all' as const, sessionId: 'test' };
    const req = { actor: principal, ip: null, channel: 'console' as const };
    // Every appointment checked in twice at once: each gets exactly one order, and every number is used once.
    const results = await Promise.all(appointments.flatMap((a) => [a, a]).map((a) => staffBooking.checkIn(req, { appointmentId: a.id, mileageIn: null })));
    expect(results.filter((r) => r.ok)).toHaveLength(appointments.length);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.reason)).toEqual(Array(appointments.length).fill('not_changeable'));
    const orders = await db().selectFrom('repair_orders').select(['number', 'appointment_id']).orderBy('seq').execute();
    expect(orders.map((o) => o.number)).toEqual(['RO-000001', 'RO-000002', 'RO-000003', 'RO-000004', 'RO-000005', 'RO-000006']);
    expect(new Set(orders.map((o) => o.appointment_id)).size).toBe(appointments.length);
  });

  it('refuses a no-show before the start, with the reason, and marks it after', async () => {
    const { appointment } = await chatBooking(MON, '11:00');
    const early = await advisor.request(`/console/appointments/${appointment.id}/no-show`, { form: { version: '1' } });
    expect(early.status).toBe(409);
    expect(await early.text()).toContain('The appointment has not started yet; a no-show can only be marked after its start time.');
    expect((await booking.find(appointment.id))!.status).toBe('booked');
    expect(await auditOf('appointment.no_show')).toHaveLength(0);
    // Before the start the list offers no no-show button.
    expect(await (await advisor.request('/console/appointments')).text()).not.toContain(`/console/appointments/${appointment.id}/no-show`);

    clock.set(localIso(MON, '11:05'));
    expect(await (await advisor.request('/console/appointments')).text()).toContain(`/console/appointments/${appointment.id}/no-show`);
    const back = `/console/appointments?branch=${branchId}&date=${MON}&view=day`;
    const res = await advisor.request(`/console/appointments/${appointment.id}/no-show`, { form: { version: '1', back } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${back}&flash=noShow`);
    expect((await booking.find(appointment.id))!.status).toBe('no_show');
    expect(await db().selectFrom('capacity_claims').select('resource').where('appointment_id', '=', appointment.id).execute()).toHaveLength(0);
    expect(await auditOf('appointment.no_show')).toHaveLength(1);
  });

  it('books for a caller: registers them, adds their car and ignores the minimum notice', async () => {
    const found = await advisor.request('/console/appointments/new?q=Chen');
    expect(await found.text()).toContain('No customer matches.');
    const registered = await advisor.request('/console/appointments/new/customer', { form: { branch: branchId, displayName: 'Chen Wei', phone: '0912-345-678' } });
    expect(registered.status).toBe(303);
    const customer = await db().selectFrom('customers').selectAll().where('display_name', '=', 'Chen Wei').executeTakeFirstOrThrow();
    expect(registered.headers.get('location')).toBe(`/console/appointments/new?branch=${branchId}&customer=${customer.id}`);
    expect(await (await advisor.request('/console/appointments/new?q=Chen')).text()).toContain(`customer=${customer.id}`);

    const nine = localIso(MON, '09:00');
    // Customers could book 10:00 at the earliest (two hours' notice); staff on the phone can take 09:00.
    const forCustomers = await booking.availability(branchId, { serviceTypeCode: 'periodic_maintenance', date: MON, loaner: false });
    expect(forCustomers.ok && forCustomers.day.slots.map((s) => s.localTime)[0]).toBe('10:00');
    const times = await (await advisor.request(`/console/appointments/new?branch=${branchId}&customer=${customer.id}&serviceType=periodic_maintenance&date=${MON}`)).text();
    expect(times).toContain(`value="${nine}"`);

    const res = await advisor.request('/console/appointments/new', {
      form: { branch: branchId, customer: customer.id, vehicle: 'new', plate: 'xyz 9876', serviceType: 'periodic_maintenance', date: MON, startsAt: nine, channel: 'phone', note: 'Noise from the front left wheel' },
    });
    expect(res.status).toBe(303);
    const row = await db().selectFrom('appointments').selectAll().where('customer_id', '=', customer.id).executeTakeFirstOrThrow();
    expect(res.headers.get('location')).toBe(`/console/appointments/${row.id}?flash=booked`);
    expect(row).toMatchObject({ starts_at: nine, channel: 'phone', created_by: 'staff', created_by_staff_id: advisor.id, status: 'booked', note: 'Noise from the front left wheel' });
    const vehicle = await db().selectFrom('vehicles').selectAll().where('id', '=', row.vehicle_id!).executeTakeFirstOrThrow();
    expect(vehicle).toMatchObject({ customer_id: customer.id, plate_normalized: 'XYZ9876' });
    expect((await auditOf('appointment.create')).map((a) => a.entity_id)).toEqual([row.id]);
    expect(await auditOf('customer.create')).toHaveLength(1);
    expect(await auditOf('vehicle.create')).toHaveLength(1);
  });

  it('offers the nearest free times to the callers who lose the last place to a concurrent booking', async () => {
    // Two advisors receive customers per slot: one place is left at 10:00 once a chat booking took the other.
    const ten = localIso(MON, '10:00');
    const first = await chatBooking(MON, '10:00', 'Early bird');
    expect(first.appointment.startsAt).toBe(ten);
    const callers = [];
    for (const name of ['Caller A', 'Caller B', 'Caller C']) callers.push(await createCustomer(svc.db.store, clock.now(), name));
    const answers = await Promise.all(
      callers.map((c) =>
        advisor.request('/console/appointments/new', {
          form: { branch: branchId, customer: c.customerId, vehicle: c.vehicleId, serviceType: 'periodic_maintenance', date: MON, startsAt: ten, channel: 'phone' },
        }),
      ),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([303, 409, 409]);
    for (const lost of answers.filter((r) => r.status === 409)) {
      const html = await lost.text();
      expect(html).toContain('That time has just been taken. Please choose another one.');
      expect(html).toContain('That time was taken. The nearest free times:');
      expect(html).toContain(`value="${localIso(MON, '10:30')}"`);
      expect(html).not.toContain(`value="${ten}"`);
    }
    const at10 = await db().selectFrom('appointments').select('id').where('starts_at', '=', ten).where('status', '=', 'booked').execute();
    expect(at10).toHaveLength(2);
    expect(await auditOf('appointment.create')).toHaveLength(1);
  });

  it('moves, gives to an advisor and cancels a booking; a change from a stale page is refused', async () => {
    const { appointment } = await chatBooking(TUE, '10:00');
    const other = await staffMember(svc, 'advisor');
    const manager = await staffMember(svc, 'manager');
    const detail = await (await manager.request(`/console/appointments/${appointment.id}?rescheduleDate=${TUE}`)).text();
    expect(detail).toContain(`value="${localIso(TUE, '14:00')}"`);
    expect(detail).toContain(`<option value="${other.id}"`);

    const moved = await manager.request(`/console/appointments/${appointment.id}/reschedule`, { form: { version: '1', startsAt: localIso(TUE, '14:00') } });
    expect(moved.status).toBe(303);
    expect((await booking.find(appointment.id))!.localStart).toBe('14:00');

    const stale = await manager.request(`/console/appointments/${appointment.id}/advisor`, { form: { version: '1', advisorId: other.id } });
    expect(stale.status).toBe(409);
    expect(await stale.text()).toContain('Someone changed this appointment a moment ago.');
    const notAdvisor = await manager.request(`/console/appointments/${appointment.id}/advisor`, { form: { version: '2', advisorId: manager.id } });
    expect(notAdvisor.status).toBe(400);

    const assigned = await manager.request(`/console/appointments/${appointment.id}/advisor`, { form: { version: '2', advisorId: other.id } });
    expect(assigned.status).toBe(303);
    expect(await db().selectFrom('appointments').select(['advisor_id', 'version']).where('id', '=', appointment.id).executeTakeFirstOrThrow()).toEqual({ advisor_id: other.id, version: 3 });
    const history = await booking.history(appointment.id);
    expect(history.map((h) => [h.version, h.action, h.actorId])).toEqual([
      [1, 'booked', appointment.customerId],
      [2, 'rescheduled', manager.id],
      [3, 'advisor_assigned', manager.id],
    ]);
    const mine = await (await other.request(`/console/appointments?branch=${branchId}&date=${TUE}&advisor=${other.id}`)).text();
    expect(mine).toContain(appointment.reference);

    // The customers' change cutoff (24 hours) has passed for a booking tomorrow morning; staff may still cancel.
    clock.set(localIso(TUE, '09:00'));
    const cancelled = await manager.request(`/console/appointments/${appointment.id}/cancel`, { form: { version: '3', reason: 'Customer phoned' } });
    expect(cancelled.status).toBe(303);
    expect((await booking.find(appointment.id))!.status).toBe('cancelled');
    expect((await auditOf('appointment.cancel')).map((a) => JSON.parse(a.after!))).toEqual([{ status: 'cancelled', reason: 'Customer phoned' }]);
    expect(await auditOf('appointment.reschedule')).toHaveLength(1);
    expect(await auditOf('appointment.assign_advisor')).toHaveLength(1);
  });

  it('moves repair orders with the person on merge, and keeps them without the odometer reading on erasure', async () => {
    const { appointment, customerId } = await chatBooking(MON, '11:00', 'Chat profile');
    const kept = await createCustomer(svc.db.store, clock.now(), 'Phone profile');
    expect((await advisor.request(`/console/appointments/${appointment.id}/check-in`, { form: { mileageIn: '88000' } })).status).toBe(303);
    const principal = { kind: 'staff' as const, id: advisor.id, email: advisor.email, name: 'advisor', role: 'manager' as const, locale: 'en', branchIds: 'all' as const, sessionId: 'test' };
    const ctx = { actor: principal, ip: null, now: clock.now() };

    const merged = await mergeCustomers(svc.db.store, ctx, { mergeId: customerId, keepId: kept.customerId });
    expect(merged).toMatchObject({ ok: true, value: { moved: { repair_orders: 1, appointments: 1 } } });
    expect(await db().selectFrom('repair_orders').select(['customer_id', 'mileage_in']).executeTakeFirstOrThrow()).toEqual({ customer_id: kept.customerId, mileage_in: 88000 });

    expect((await eraseCustomer(svc.db.store, ctx, kept.customerId, { confirmation: erasureCode(kept.customerId) })).ok).toBe(true);
    expect(await db().selectFrom('repair_orders').select(['number', 'customer_id', 'status', 'mileage_in']).executeTakeFirstOrThrow()).toEqual({
      number: 'RO-000001',
      customer_id: kept.customerId,
      status: 'checked_in',
      mileage_in: null,
    });
    // The day view still shows the visit, without the person.
    const html = await (await advisor.request(`/console/appointments?date=${MON}`)).text();
    expect(html).toContain(appointment.reference);
    expect(html).toContain('Erased customer');
    expect(html).not.toContain('Phone profile');
  });

  it('shows and changes only the appointments of the staff member’s own branches', async () => {
    const { appointment } = await chatBooking(MON, '11:00');
    const { branchId: otherBranch } = await createBranch(svc.db.store, {}, clock.now());
    const elsewhere = await staffMember(svc, 'advisor', { branchIds: [otherBranch] });
    expect((await elsewhere.request(`/console/appointments/${appointment.id}`)).status).toBe(404);
    const list = await (await elsewhere.request(`/console/appointments?branch=${branchId}&date=${MON}`)).text();
    expect(list).not.toContain(appointment.reference);
    expect(list).not.toContain('demo branch');
    expect((await elsewhere.request(`/console/appointments/${appointment.id}/check-in`, { form: { version: '1' } })).status).toBe(404);
    expect((await elsewhere.request(`/console/branches/${branchId}/capacity`)).status).toBe(404);
    expect(await db().selectFrom('repair_orders').select('id').execute()).toHaveLength(0);
  });
});
