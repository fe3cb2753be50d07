import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/ops/clock';
import { createAppointmentService, MAX_LIST_DAYS, type StaffRequest } from '../../src/staff/appointments';
import { createStaffUser } from '../../src/staff/staff-users';
import type { Principal } from '../../src/staff/permissions';
import { createRepairOrderService } from '../../src/staff/repair-orders';
import { dialects, type TestStore } from '../helpers/stores';
import { createBranch, createCustomer, localIso } from '../booking/fixtures';

/*
 * The appointment and repair-order services as the console and the DMS API call them: the workshop's day
 * and week, the range a list may cover, booking for a caller (with a car they name on the phone), and
 * what staff of another branch can see.
 */

const START = '2026-03-09T00:00:00.000Z'; // Monday 08:00 in Taipei
const MON = '2026-03-09';
const WED = '2026-03-11';

function principal(branchIds: string[] | 'all', role: 'advisor' | 'manager' = 'manager'): Principal {
  return { kind: 'staff', id: crypto.randomUUID(), email: `${role}@dealer.example`, name: role, role, locale: 'en', branchIds, sessionId: crypto.randomUUID() };
}

describe.each(dialects)('appointment services on $name', (dialect) => {
  let db: TestStore;
  let branchId: string;
  let customerId: string;
  let vehicleId: string;
  let staff: StaffRequest;
  const clock = manualClock(START);
  const service = () => createAppointmentService({ store: db.store, clock });

  const book = (startsAt: string, over: Partial<Parameters<ReturnType<typeof service>['bookFor']>[1]> = {}, req = staff) =>
    service().bookFor(req, { branchId, customerId, vehicle: { id: vehicleId }, serviceTypeCode: 'periodic_maintenance', startsAt, loaner: false, note: null, advisorId: null, ...over });

  beforeEach(async () => {
    clock.set(START);
    db = await dialect.open();
    ({ branchId } = await createBranch(db.store, {}, new Date(START)));
    ({ customerId, vehicleId } = await createCustomer(db.store, new Date(START), 'Lin Mei'));
    staff = { actor: principal([branchId]), ip: '10.0.0.8', channel: 'phone' };
  });
  afterEach(async () => {
    await db.drop();
  });

  it('lists the workshop’s day or its week from Monday, with what each row shows, and falls back to a branch the staff member has', async () => {
    const monday = await book(localIso(MON, '11:00'));
    const wednesday = await book(localIso(WED, '10:00'));
    if (!monday.ok || !wednesday.ok) throw new Error('not booked');

    const day = (await service().workshop(staff.actor, { branchId, date: MON }))!;
    expect(day).toMatchObject({ view: 'day', today: MON, from: MON, to: MON });
    expect(day.items.map((v) => v.appointment.id)).toEqual([monday.appointment.id]);
    expect(day.items[0]!.extras).toMatchObject({ customerName: 'Lin Mei', plate: 'ABC-1234', repairOrderNumber: null });

    const week = (await service().workshop(staff.actor, { branchId: crypto.randomUUID(), date: WED, view: 'week' }))!;
    expect(week.branch.id).toBe(branchId);
    expect(week).toMatchObject({ view: 'week', from: MON, to: '2026-03-15' });
    expect(week.items.map((v) => v.appointment.id)).toEqual([monday.appointment.id, wednesday.appointment.id]);

    expect((await service().workshop(staff.actor, { date: 'not a day', status: 'cancelled' }))!).toMatchObject({ date: MON, status: 'cancelled', items: [] });
    expect(await service().workshop(principal([]), {})).toBeNull();
  });

  it('lists at most a month at a time, and nothing of a branch the principal does not have', async () => {
    const last = new Date(Date.parse(`${MON}T00:00:00Z`) + (MAX_LIST_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
    const afterLast = new Date(Date.parse(`${last}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    expect(await service().listForBranch(staff.actor, branchId, { from: MON, to: last })).toEqual({ ok: true, value: [] });
    expect(await service().listForBranch(staff.actor, branchId, { from: MON, to: afterLast })).toEqual({ ok: false, reason: 'invalid', errors: [{ field: 'to', code: 'range', params: { days: MAX_LIST_DAYS - 1, latest: last } }] });
    expect(await service().listForBranch(staff.actor, branchId, { from: WED, to: MON })).toMatchObject({ ok: false, reason: 'invalid' });
    expect(await service().listForBranch(principal([crypto.randomUUID()]), branchId, {})).toEqual({ ok: false, reason: 'not_found' });
  });

  it('books a caller’s new car first, keeps it when the time is refused, and refuses what the staff member may not book', async () => {
    const refusedPlate = await book(localIso(MON, '11:00'), { vehicle: { newPlate: '#' } });
    expect(refusedPlate).toMatchObject({ ok: false, reason: 'vehicle', failure: { reason: 'invalid', errors: [{ field: 'plate', code: 'plateInvalid' }] } });

    const booked = await book(localIso(MON, '11:00'), { vehicle: { newPlate: 'rbx 7788' } });
    if (!booked.ok) throw new Error(`not booked: ${booked.reason}`);
    const car = await db.store.db.selectFrom('vehicles').selectAll().where('id', '=', booked.vehicleId!).executeTakeFirstOrThrow();
    expect(car).toMatchObject({ customer_id: customerId, plate: 'rbx 7788', plate_normalized: 'RBX7788' });
    expect(booked.appointment).toMatchObject({ vehicleId: car.id, channel: 'phone', createdBy: 'staff' });
    expect(await db.store.db.selectFrom('audit_log').select(['action', 'ip']).orderBy('id').execute()).toEqual([
      { action: 'vehicle.create', ip: '10.0.0.8' },
      { action: 'appointment.create', ip: '10.0.0.8' },
    ]);

    // A start outside the hours is refused with alternatives; the car added for it stays the customer's.
    const closed = await book(localIso(MON, '20:00'), { vehicle: { newPlate: 'KLM-5521' } });
    expect(closed).toMatchObject({ ok: false, reason: 'outside_hours' });
    if (closed.ok || !('alternatives' in closed)) throw new Error('expected alternatives');
    expect(closed.alternatives.length).toBeGreaterThan(0);
    expect(closed.vehicleId).not.toBeNull();

    expect(await book(localIso(MON, '13:00'), {}, { ...staff, actor: principal([crypto.randomUUID()]) })).toEqual({ ok: false, reason: 'no_branch' });
    expect(await book('not a time')).toEqual({ ok: false, reason: 'bad_start' });
    expect(await book(localIso(MON, '13:00'), { advisorId: crypto.randomUUID() })).toEqual({ ok: false, reason: 'unknown_advisor' });
    expect(await book(localIso(MON, '13:00'), { customerId: crypto.randomUUID() })).toEqual({ ok: false, reason: 'customer', failure: { ok: false, reason: 'not_found' } });
  });

  it('opens the repair order at check-in, gives it to the appointment’s advisor, and shows it only within the branch', async () => {
    const advisor = await createStaffUser(db.store.db, { email: 'advisor@dealer.example', name: 'Advisor', role: 'advisor', locale: 'en', password: 'a long enough password', branchIds: [branchId] }, new Date(START), 1000);
    const booked = await book(localIso(MON, '09:00'));
    if (!booked.ok) throw new Error('not booked');
    clock.set(localIso(MON, '09:05'));
    const checkedIn = await service().checkIn(staff, { appointmentId: booked.appointment.id, expectedVersion: booked.appointment.version, mileageIn: 42_000 });
    if (!checkedIn.ok) throw new Error(`not checked in: ${checkedIn.reason}`);

    const orders = createRepairOrderService({ store: db.store });
    expect(await orders.forAppointment(staff.actor, booked.appointment.id)).toMatchObject({ id: checkedIn.repairOrder.id, number: 'RO-000001', mileageIn: 42_000, advisorId: null, version: 1 });
    expect((await orders.listForBranch(staff.actor, branchId, { statuses: ['checked_in'] }))!.map((o) => o.number)).toEqual(['RO-000001']);
    expect(await orders.listForBranch(staff.actor, branchId, { statuses: ['ready'] })).toEqual([]);

    const assigned = await service().assignAdvisor(staff, { appointmentId: booked.appointment.id, expectedVersion: checkedIn.appointment.version, advisorId: advisor.id });
    expect(assigned).toMatchObject({ ok: true, appointment: { advisorId: advisor.id } });
    expect(await orders.find(staff.actor, checkedIn.repairOrder.id)).toMatchObject({ advisorId: advisor.id, version: 2 });
    // The customer is told of both in their chat, once each: the check-in (the repair order's notice, not the
    // booking's as well), then who looks after the car.
    const told = await db.store.db.selectFrom('outbox').select('payload').where('customer_id', '=', customerId).orderBy('id').execute();
    const keyOf = (text: { key: string } | { key: string }[]) => (Array.isArray(text) ? text[0]! : text).key;
    expect(told.map((row) => keyOf((JSON.parse(row.payload) as { text: { key: string } | { key: string }[] }[])[0]!.text))).toEqual(['progress:status.checked_in', 'booking:noticeAdvisor']);

    const elsewhere = principal([crypto.randomUUID()]);
    expect(await orders.find(elsewhere, checkedIn.repairOrder.id)).toBeNull();
    expect(await orders.forAppointment(elsewhere, booked.appointment.id)).toBeNull();
    expect(await orders.listForBranch(elsewhere, branchId)).toBeNull();
  });
});
