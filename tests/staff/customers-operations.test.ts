import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { suggestCategory } from '../../src/domain/customer-category';
import { checkInWithRepairOrder } from '../../src/repair-orders/check-in';
import { eraseCustomer, erasureCode } from '../../src/staff/customers/erase';
import { exportCustomer } from '../../src/staff/customers/export';
import { mergeCustomers } from '../../src/staff/customers/merge';
import { isPhoneLike, isValidPlate, isValidVin, maskPhoneNumber, normalizePhone, normalizePlate, phoneSearchDigits } from '../../src/staff/customers/normalize';
import type { ActionContext } from '../../src/staff/customers/result';
import { sendStaffMessage } from '../../src/staff/customers/conversation';
import { searchCustomers } from '../../src/staff/customers/search';
import { updateCustomerProfile } from '../../src/staff/customers/update';
import type { Principal } from '../../src/staff/permissions';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { dialects } from '../helpers/stores';

describe('customer rules', () => {
  it('suggests base for an owner of a registered car, prospect otherwise, and never overrides a key influencer', () => {
    expect(suggestCategory('prospect', { registeredVehicles: 1 })).toBe('base');
    expect(suggestCategory('base', { registeredVehicles: 0 })).toBe('prospect');
    expect(suggestCategory('prospect', { registeredVehicles: 0 })).toBe('prospect');
    expect(suggestCategory('key_influencer', { registeredVehicles: 0 })).toBe('key_influencer');
    expect(suggestCategory('key_influencer', { registeredVehicles: 3 })).toBe('key_influencer');
  });

  it('reads phone numbers as typed, stores digits with an optional +, and finds them without the trunk zero', () => {
    expect(isPhoneLike('0912-345-678')).toBe(true);
    expect(isPhoneLike('+81 (3) 1234.5678')).toBe(true);
    expect(isPhoneLike('０９１２３４５６７８')).toBe(true);
    expect(isPhoneLike('12345')).toBe(false);
    expect(isPhoneLike('1234567890123456')).toBe(false);
    expect(isPhoneLike('09-12 ab')).toBe(false);
    expect(normalizePhone(' +886 912-345-678 ')).toBe('+886912345678');
    expect(normalizePhone('０９１２３４５６７８')).toBe('0912345678');
    expect(phoneSearchDigits('0912-345-678')).toBe('912345678');
    expect(phoneSearchDigits('Lin')).toBeNull();
    expect(phoneSearchDigits('05')).toBeNull();
    expect(maskPhoneNumber('+886912345678')).toBe('+•••••••••678');
  });

  it('compares plates without case, spaces or dashes, and checks VINs', () => {
    expect(normalizePlate('abc-1234')).toBe('ABC1234');
    expect(normalizePlate('ＡＢＣ　１２３４')).toBe('ABC1234');
    expect(normalizePlate('品川 300 あ 12-34')).toBe('品川300あ1234');
    expect(isValidPlate('品川300あ1234')).toBe(true);
    expect(isValidPlate(normalizePlate('กข 1234'))).toBe(true);
    expect(isValidPlate('A')).toBe(false);
    expect(isValidPlate('ABCDEFGHIJK')).toBe(false);
    expect(isValidPlate('AB#1')).toBe(false);
    expect(isValidVin('JTDBR32E720123456')).toBe(true);
    expect(isValidVin('JTDBR32E7I0123456')).toBe(false);
    expect(isValidVin('JTDBR32E72012345')).toBe(false);
  });
});

describe.each(dialects)('customer operations on $name', (dialect) => {
  let svc: TestService;
  let ctx: ActionContext;

  beforeEach(async () => {
    svc = await startTestService(dialect, testConfig({ DEFAULT_LOCALE: 'en' }));
    const actor: Principal = { kind: 'staff', id: crypto.randomUUID(), email: 'manager@dealer.example', name: 'Manager', role: 'manager', locale: 'en', branchIds: 'all', sessionId: crypto.randomUUID() };
    ctx = { actor, ip: '10.0.0.9', now: new Date() };
  });
  afterEach(async () => {
    await svc.close();
  });

  const db = () => svc.db.store.db;

  async function webCustomer(visitorId: string, text = 'hello'): Promise<string> {
    await svc.engine.handle({ channel: 'web', eventId: `e-${crypto.randomUUID()}`, externalId: visitorId, occurredAt: new Date().toISOString(), replyToken: null, profile: null, input: { type: 'text', text } });
    await svc.flush();
    return (await db().selectFrom('channel_identities').select('customer_id').where('external_id', '=', visitorId).executeTakeFirstOrThrow()).customer_id;
  }

  /** A booking as the booking flow writes it, on the demo branch. */
  async function booking(customerId: string, note: string): Promise<string> {
    const branch = await db().selectFrom('branches').select('id').executeTakeFirstOrThrow();
    const type = await db().selectFrom('service_types').select('id').where('branch_id', '=', branch.id).executeTakeFirstOrThrow();
    const bay = await db().selectFrom('bays').select('id').where('branch_id', '=', branch.id).executeTakeFirstOrThrow();
    const id = crypto.randomUUID();
    const now = new Date().toISOString();
    await db()
      .insertInto('appointments')
      .values({
        id,
        reference: `BK-${id.slice(0, 6).toUpperCase()}`,
        branch_id: branch.id,
        customer_id: customerId,
        vehicle_id: null,
        service_type_id: type.id,
        starts_at: '2030-01-07T01:00:00.000Z',
        ends_at: '2030-01-07T02:00:00.000Z',
        busy_until: '2030-01-07T02:15:00.000Z',
        local_date: '2030-01-07',
        bay_id: bay.id,
        advisor_unit: 0,
        day_unit: 0,
        loaner_unit: null,
        advisor_id: null,
        status: 'booked',
        note,
        loaner_requested: 0,
        channel: 'web',
        created_by: 'customer',
        created_by_staff_id: null,
        version: 1,
        created_at: now,
        updated_at: now,
        cancelled_at: null,
        checked_in_at: null,
      })
      .execute();
    return id;
  }

  it('moves bookings with the person on merge, exports them, and keeps them without their note on erasure', async () => {
    const kept = await webCustomer('ops-kept');
    const merged = await webCustomer('ops-merged');
    const appointment = await booking(merged, 'Please call 0911222333 before starting');

    const result = await mergeCustomers(svc.db.store, ctx, { mergeId: merged, keepId: kept });
    expect(result).toMatchObject({ ok: true, value: { moved: { appointments: 1, channel_identities: 1 } } });
    expect((await db().selectFrom('appointments').select('customer_id').where('id', '=', appointment).executeTakeFirstOrThrow()).customer_id).toBe(kept);

    const exported = await exportCustomer(svc.db.store, ctx, merged);
    expect(exported).toEqual({ ok: false, reason: 'merged', mergedInto: kept });
    const data = await exportCustomer(svc.db.store, ctx, kept);
    expect(data.ok && data.value.appointments.map((a) => a.id)).toEqual([appointment]);
    expect(data.ok && data.value.mergedProfiles.map((p) => p.id)).toEqual([merged]);

    expect(await eraseCustomer(svc.db.store, ctx, kept, { confirmation: 'nope' })).toMatchObject({ ok: false, reason: 'invalid' });
    const erased = await eraseCustomer(svc.db.store, ctx, kept, { confirmation: erasureCode(kept).toUpperCase() });
    expect(erased).toMatchObject({ ok: true, value: { appointmentsKept: 1, channelIdentitiesRemoved: 2 } });
    expect(await db().selectFrom('appointments').select(['customer_id', 'note', 'status']).where('id', '=', appointment).executeTakeFirstOrThrow()).toEqual({ customer_id: kept, note: null, status: 'booked' });
    // The profile merged into the erased one held the same person's details: it is erased too.
    expect((await db().selectFrom('customers').select('erased_at').where('id', '=', merged).executeTakeFirstOrThrow()).erased_at).not.toBeNull();
  });

  it('exports the workshop history too: what happened to each booking and the repair order it opened', async () => {
    const id = await webCustomer('ops-history');
    const appointment = await booking(id, 'Brakes squeak');
    // Checked in on the day of the visit, as the service desk does.
    const checkedIn = await svc.db.store.transaction((tx) =>
      checkInWithRepairOrder(tx, { appointmentId: appointment, actor: { type: 'staff', staffId: null }, channel: 'console', mileageIn: 42_000 }, new Date('2030-01-07T01:05:00.000Z')),
    );
    expect(checkedIn.ok).toBe(true);
    const data = await exportCustomer(svc.db.store, ctx, id);
    if (!data.ok) throw new Error('export refused');
    expect(data.value.appointmentChanges.map((c) => [c.appointment_id, c.action])).toEqual([[appointment, 'checked_in']]);
    expect(data.value.repairOrders.map((r) => [r.appointment_id, r.mileage_in, r.status])).toEqual([[appointment, 42_000, 'checked_in']]);
  });

  it('cancels unsent messages on erasure and forgets where they were going', async () => {
    const id = await webCustomer('ops-unsent');
    const queued = await sendStaffMessage(svc.db.store, ctx, id, { text: 'We will call you at 0911222333' });
    expect(queued).toMatchObject({ ok: true, value: { channel: 'web' } });
    expect(await eraseCustomer(svc.db.store, ctx, id, { confirmation: erasureCode(id) })).toMatchObject({ ok: true, value: { outboxCancelled: 1 } });
    const rows = await db().selectFrom('outbox').selectAll().where('customer_id', '=', id).execute();
    expect(rows.some((r) => r.status === 'cancelled')).toBe(true);
    expect(rows.every((r) => r.payload === '[]' && r.external_id === '' && r.reply_token === null)).toBe(true);
    expect(await sendStaffMessage(svc.db.store, ctx, id, { text: 'hello?' })).toEqual({ ok: false, reason: 'erased' });
  });

  it('refuses merges that cannot be right and changes nothing', async () => {
    const a = await webCustomer('ops-a');
    const b = await webCustomer('ops-b');
    const c = await webCustomer('ops-c');
    expect(await mergeCustomers(svc.db.store, ctx, { mergeId: a, keepId: a })).toEqual({ ok: false, reason: 'conflict', code: 'mergeSameProfile' });
    expect(await mergeCustomers(svc.db.store, ctx, { mergeId: a, keepId: crypto.randomUUID() })).toMatchObject({ ok: false, reason: 'invalid', errors: [{ field: 'into', code: 'mergeTargetMissing' }] });
    expect((await mergeCustomers(svc.db.store, ctx, { mergeId: b, keepId: c })).ok).toBe(true);
    expect(await mergeCustomers(svc.db.store, ctx, { mergeId: a, keepId: b })).toEqual({ ok: false, reason: 'conflict', code: 'mergeTargetMerged' });
    expect(await mergeCustomers(svc.db.store, ctx, { mergeId: b, keepId: a })).toEqual({ ok: false, reason: 'merged', mergedInto: c });
    expect((await db().selectFrom('customers').select('merged_into_id').where('id', '=', a).executeTakeFirstOrThrow()).merged_into_id).toBeNull();
    expect(await db().selectFrom('audit_log').select('id').where('action', '=', 'customer.merge').execute()).toHaveLength(1);
  });

  it('changes only the fields an update names, and keeps a stronger category on merge', async () => {
    const a = await webCustomer('ops-partial');
    expect(await updateCustomerProfile(svc.db.store, ctx, a, { displayName: 'Only Name' })).toMatchObject({ ok: true, value: { display_name: 'Only Name', phone: null, category: 'prospect' } });
    expect(await updateCustomerProfile(svc.db.store, ctx, a, { phone: '12' })).toMatchObject({ ok: false, reason: 'invalid', errors: [{ field: 'phone', code: 'phoneInvalid' }] });
    expect(await updateCustomerProfile(svc.db.store, ctx, a, { locale: 'de', category: 'vip' })).toMatchObject({
      ok: false,
      errors: [
        { field: 'locale', code: 'localeInvalid' },
        { field: 'category', code: 'categoryInvalid' },
      ],
    });
    const b = await webCustomer('ops-influencer');
    await updateCustomerProfile(svc.db.store, ctx, b, { category: 'key_influencer' });
    await mergeCustomers(svc.db.store, ctx, { mergeId: b, keepId: a });
    expect(await db().selectFrom('customers').select(['display_name', 'category']).where('id', '=', a).executeTakeFirstOrThrow()).toEqual({ display_name: 'Only Name', category: 'key_influencer' });
    expect((await searchCustomers(db(), { q: 'only name' })).items.map((i) => i.id)).toEqual([a]);
  });
});
