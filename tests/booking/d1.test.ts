import { startTestD1, type TestD1 } from '../helpers/d1';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isBookingConflict, type BookRequest } from '../../src/booking/booking';
import { createReminders } from '../../src/booking/reminders';
import { createBookingService } from '../../src/booking/service';
import { silentLogger } from '../../src/ops/logger';
import { manualClock } from '../../src/ops/clock';
import { createD1Store } from '../../src/store/d1-driver';
import { migrateToLatest, type Store } from '../../src/store/store';
import { createBranch, createCustomer, GENERAL_WORK, localIso } from './fixtures';

/*
 * Booking on real D1 (workerd, run by Miniflare): there a transaction is a batch whose reads run at once
 * and whose writes are sent together at commit, so nothing can be learned from a write before commit. The
 * guarantees must come from the database failing the batch, and these check that they do.
 */

const DATABASES = ['DB0', 'DB1', 'DB2', 'DB3'];
let mf: TestD1;
let used = 0;
beforeAll(() => {
  mf = startTestD1(DATABASES);
});
afterAll(async () => {
  await mf.dispose();
});

const START = '2026-03-09T00:00:00.000Z'; // Monday 08:00 in Taipei
const TUE = '2026-03-10';

describe('booking on D1', () => {
  let store: Store;
  let conflicts: number;
  const clock = manualClock(START);

  beforeEach(async () => {
    const name = DATABASES[used++];
    if (!name) throw new Error('add names to DATABASES: every test needs its own database');
    const d1 = mf.database(name);
    const d1Store = createD1Store(d1);
    await migrateToLatest(d1Store.db);
    conflicts = 0;
    store = {
      ...d1Store,
      transaction: async (fn) => {
        try {
          return await d1Store.transaction(fn);
        } catch (err) {
          if (isBookingConflict(err)) conflicts++;
          throw err;
        }
      },
    };
    clock.set(START);
  });

  it('books, moves by one slot onto its own time, and cancels', async () => {
    const { branchId } = await createBranch(store, { settings: { minNoticeMinutes: 0, bufferMinutes: 15 }, bays: [{ name: 'Bay 1', serviceTypes: GENERAL_WORK }] }, clock.now());
    const customer = await createCustomer(store, clock.now());
    const booking = createBookingService({ store, clock });
    const me = { type: 'customer' as const, customerId: customer.customerId };
    const booked = await booking.book({ branchId, customerId: customer.customerId, vehicleId: customer.vehicleId, serviceTypeCode: 'periodic_maintenance', startsAt: localIso(TUE, '10:00'), loaner: false, note: null, channel: 'line', actor: me });
    if (!booked.ok) throw new Error(booked.reason);
    expect(await booking.find(booked.appointment.id)).toEqual(booked.appointment);

    // Deleting the old claims and inserting overlapping new ones in one batch works: the batch runs in order.
    const moved = await booking.reschedule({ appointmentId: booked.appointment.id, actor: me, channel: 'line', startsAt: localIso(TUE, '10:30') });
    expect(moved).toMatchObject({ ok: true, appointment: { localStart: '10:30', version: 2 } });
    const claims = await store.db.selectFrom('capacity_claims').select('resource').where('appointment_id', '=', booked.appointment.id).execute();
    expect(claims).toHaveLength((60 + 15) / 5 + 2);

    expect(await booking.cancel({ appointmentId: booked.appointment.id, actor: me, channel: 'line' })).toMatchObject({ ok: true, appointment: { status: 'cancelled' } });
    expect(await store.db.selectFrom('capacity_claims').select('resource').execute()).toEqual([]);
    expect(conflicts).toBe(0);
  });

  it('books exactly the last places when bookings race, the losing batches failing at commit', async () => {
    const { branchId } = await createBranch(store, { settings: { minNoticeMinutes: 0, advisorsPerSlot: 10 }, bays: [1, 2].map((n) => ({ name: `Bay ${n}`, serviceTypes: GENERAL_WORK })) }, clock.now());
    const racers = await Promise.all(Array.from({ length: 12 }, (_, i) => createCustomer(store, clock.now(), `Racer ${i}`)));
    const booking = createBookingService({ store, clock, random: () => 0 });
    const results = await Promise.all(
      racers.map((c) => {
        const request: BookRequest = {
          branchId,
          customerId: c.customerId,
          vehicleId: c.vehicleId,
          serviceTypeCode: 'periodic_maintenance',
          startsAt: localIso(TUE, '10:00'),
          loaner: false,
          note: null,
          channel: 'telegram',
          actor: { type: 'customer', customerId: c.customerId },
        };
        return booking.book(request);
      }),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(2);
    expect(results.filter((r) => !r.ok).every((r) => r.reason === 'slot_taken' && 'alternatives' in r && r.alternatives.length > 0)).toBe(true);
    expect(conflicts).toBeGreaterThan(0);
    const live = await store.db.selectFrom('appointments').select('id').where('status', '=', 'booked').execute();
    expect(live).toHaveLength(2);
  });
  it('sends the day-before reminders of more visits than D1 binds parameters in one statement', async () => {
    const bays = Array.from({ length: 8 }, (_, i) => ({ name: `Bay ${i + 1}`, serviceTypes: GENERAL_WORK }));
    const { branchId } = await createBranch(store, { settings: { minNoticeMinutes: 0, bufferMinutes: 0, advisorsPerSlot: 100, dailyCap: 500 }, bays }, clock.now());
    const customer = await createCustomer(store, clock.now());
    const booking = createBookingService({ store, clock });
    const me = { type: 'customer' as const, customerId: customer.customerId };
    // 8 bays × 15 half-hour starts from 09:00 to 16:00: 120 visits on Tuesday.
    const starts = Array.from({ length: 15 }, (_, i) => `${String(9 + Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}`);
    for (const time of starts) {
      for (let bay = 0; bay < bays.length; bay++) {
        const booked = await booking.book({ branchId, customerId: customer.customerId, vehicleId: customer.vehicleId, serviceTypeCode: 'inspection', startsAt: localIso(TUE, time), loaner: false, note: null, channel: 'web', actor: me });
        if (!booked.ok) throw new Error(`${time}: ${booked.reason}`);
      }
    }
    clock.set('2026-03-09T10:05:00.000Z'); // Monday 18:05 in Taipei: the day-before reminders are due.
    const reminders = createReminders({ store, clock, logger: silentLogger, defaultLocale: 'en' });
    expect(await reminders.runOnce()).toBe(120);
    expect(await reminders.runOnce()).toBe(0);
  }, 120_000);
});
