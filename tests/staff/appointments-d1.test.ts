import { startTestD1, type TestD1 } from '../helpers/d1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBookingService } from '../../src/booking/service';
import { manualClock } from '../../src/ops/clock';
import { isRepairOrderConflict } from '../../src/repair-orders/repair-orders';
import { createStaffBooking } from '../../src/staff/appointments/operations';
import type { Principal } from '../../src/staff/permissions';
import { createD1Store } from '../../src/store/d1-driver';
import { migrateToLatest, type Store } from '../../src/store/store';
import { createBranch, createCustomer, GENERAL_WORK, localIso } from '../booking/fixtures';

/*
 * Check-in on real D1 (workerd, run by Miniflare): a transaction's reads run at once and its writes go in
 * one batch at commit, so two check-ins read the same highest repair order number. The unique key must
 * fail the later batch, and the retry must take the next number.
 */

let mf: TestD1;
beforeAll(() => {
  mf = startTestD1(['DB']);
});
afterAll(async () => {
  await mf.dispose();
});

const START = '2026-03-09T00:00:00.000Z'; // Monday 08:00 in Taipei
const MON = '2026-03-09';

describe('check-in on D1', () => {
  it('opens one repair order per appointment with unique numbers when check-ins race', async () => {
    const d1Store = createD1Store(mf.database('DB'));
    await migrateToLatest(d1Store.db);
    let numberClashes = 0;
    const store: Store = {
      ...d1Store,
      transaction: async (fn) => {
        try {
          return await d1Store.transaction(fn);
        } catch (err) {
          if (isRepairOrderConflict(err)) numberClashes++;
          throw err;
        }
      },
    };
    const clock = manualClock(START);
    const bays = [1, 2, 3, 4].map((n) => ({ name: `Bay ${n}`, serviceTypes: GENERAL_WORK }));
    const { branchId } = await createBranch(store, { settings: { advisorsPerSlot: 4 }, bays }, clock.now());
    const booking = createBookingService({ store, clock });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await createCustomer(store, clock.now(), `Customer ${i}`);
      const r = await booking.book({ branchId, customerId: c.customerId, vehicleId: c.vehicleId, serviceTypeCode: 'inspection', startsAt: localIso(MON, '10:00'), loaner: false, note: null, channel: 'phone', actor: { type: 'staff', staffId: null } });
      if (!r.ok) throw new Error(r.reason);
      ids.push(r.appointment.id);
    }
    const actor: Principal = { kind: 'api_token', id: 'token', name: 'DMS', role: 'advisor', branchIds: 'all' };
    const staffBooking = createStaffBooking({ store, clock });
    const results = await Promise.all([...ids, ...ids].map((id) => staffBooking.checkIn({ actor, ip: null, channel: 'dms' }, { appointmentId: id, mileageIn: 1000 })));
    expect(results.filter((r) => r.ok)).toHaveLength(4);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.reason)).toEqual(['not_changeable', 'not_changeable', 'not_changeable', 'not_changeable']);
    const orders = await store.db.selectFrom('repair_orders').select(['number', 'appointment_id']).orderBy('seq').execute();
    expect(orders.map((o) => o.number)).toEqual(['RO-000001', 'RO-000002', 'RO-000003', 'RO-000004']);
    expect(new Set(orders.map((o) => o.appointment_id))).toEqual(new Set(ids));
    // The reads of concurrent batches saw the same highest number: the unique key, not luck, kept them apart.
    expect(numberClashes).toBeGreaterThan(0);
    expect(await store.db.selectFrom('audit_log').select('id').where('action', '=', 'repair_order.open').execute()).toHaveLength(4);
  });
});
