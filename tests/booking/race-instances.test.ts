import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBookingConflict, type BookResult } from '../../src/booking/booking';
import { createBookingService, type BookingService } from '../../src/booking/service';
import { openNodeStore } from '../../src/entry/node-store';
import { manualClock } from '../../src/ops/clock';
import { resolveCustomer } from '../../src/store/customers';
import type { Store } from '../../src/store/store';
import { createBranch, GENERAL_WORK, localIso } from './fixtures';
import { withClient } from '../helpers/stores';

/*
 * The last places fought over by more than a thousand customers at once, through two service instances on
 * one Postgres database: each instance its own connection pool (ten connections, as a Node instance opens
 * by default), its own booking service, both booking at the same time. Exactly the capacity is booked, the
 * losers are told the place was taken, and the database holds no claim but those of the live visits.
 * (tests/booking/race.test.ts is the same fight inside one instance, on every dialect.)
 */

const URL = process.env.TEST_DATABASE_URL;
const START = '2026-03-09T00:00:00.000Z'; // Monday 08:00 in Taipei
const TUE = '2026-03-10';
const ATTEMPTS = 1000;

interface Instance {
  store: Store;
  booking: BookingService;
  /** Transactions this instance lost at the database's unique keys. */
  conflicts: number;
}

describe.skipIf(!URL)('booking race across two instances on Postgres', () => {
  const clock = manualClock(START);
  let schema: string;
  let instances: Instance[];

  const admin = (statement: string) => withClient(URL!, (client) => client.query(statement));

  let ids: string[];
  // One database for both races (each on a branch of its own): migrating a schema takes longer than a race.
  beforeAll(async () => {
    clock.set(START);
    schema = `race2_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`;
    await admin(`create schema ${schema}`);
    const first = await openNodeStore({ kind: 'postgres', url: URL!, schema }, { poolSize: 10 });
    const second = await openNodeStore({ kind: 'postgres', url: URL!, schema }, { poolSize: 10, migrate: false });
    instances = [first, second].map((base) => {
      const instance: Instance = { store: base, booking: undefined as unknown as BookingService, conflicts: 0 };
      const counted: Store = {
        ...base,
        transaction: async (fn) => {
          try {
            return await base.transaction(fn);
          } catch (err) {
            if (isBookingConflict(err)) instance.conflicts++;
            throw err;
          }
        },
      };
      instance.booking = createBookingService({ store: counted, clock });
      return instance;
    });
    // Both pools open their connections up front, so the first bookings do not queue for connections.
    await Promise.all(instances.flatMap((x) => Array.from({ length: 10 }, () => sql`select pg_sleep(0.02)`.execute(x.store.db))));
    ids = await customers(first, ATTEMPTS + 2);
  }, 60_000);
  afterAll(async () => {
    for (const x of instances) await x.store.close();
    await admin(`drop schema ${schema} cascade`);
  });

  async function customers(store: Store, n: number): Promise<string[]> {
    // Made ten at a time over the pool: one transaction for all would take longer than the race itself.
    const ids: string[] = [];
    for (let i = 0; i < n; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(10, n - i) }, (_, j) =>
          store.transaction(async (tx) => (await resolveCustomer(tx, { channel: 'line', externalId: `U${String(i + j).padStart(32, '0')}`, displayName: null, locale: 'en', now: START })).customer.id),
        ),
      );
      ids.push(...batch);
    }
    return ids;
  }

  /** Every customer books at once, alternately through the first and the second instance. */
  function bookAll(branchId: string, ids: string[], startsAt: (i: number) => string): Promise<{ instance: number; result: BookResult }[]> {
    return Promise.all(
      ids.map(async (customerId, i) => {
        const instance = i % 2;
        const result = await instances[instance]!.booking.book({
          branchId,
          customerId,
          vehicleId: null,
          serviceTypeCode: 'periodic_maintenance',
          startsAt: startsAt(i),
          loaner: false,
          note: null,
          channel: 'line',
          actor: { type: 'customer', customerId },
        });
        return { instance, result };
      }),
    );
  }

  async function claimsOf(store: Store, branchId: string) {
    const live = await store.db.selectFrom('appointments').select(['id', 'bay_id', 'starts_at', 'busy_until', 'advisor_unit', 'day_unit']).where('branch_id', '=', branchId).where('status', '=', 'booked').execute();
    const claims = await store.db.selectFrom('capacity_claims').select(['resource', 'block_start', 'appointment_id']).where('branch_id', '=', branchId).execute();
    const liveIds = new Set(live.map((a) => a.id));
    return {
      live,
      strays: claims.filter((c) => !liveIds.has(c.appointment_id)).length,
      whole: live.every((a) => {
        const own = claims.filter((c) => c.appointment_id === a.id);
        const blocks = (Date.parse(a.busy_until) - Date.parse(a.starts_at)) / (5 * 60_000);
        return own.filter((c) => c.resource === `bay:${a.bay_id}`).length === blocks && own.some((c) => c.resource === `advisor:${a.advisor_unit}`) && own.some((c) => c.resource === `day:${a.day_unit}`);
      }),
    };
  }

  it(`books exactly the two last places in a slot among ${ATTEMPTS} attempts through two instances`, async () => {
    const store = instances[0]!.store;
    const { branchId } = await createBranch(store, { settings: { minNoticeMinutes: 0, advisorsPerSlot: 10, dailyCap: 500, bufferMinutes: 0 }, bays: [1, 2, 3].map((n) => ({ name: `Bay ${n}`, serviceTypes: GENERAL_WORK })) }, clock.now());
    const [first, ...racers] = ids.slice(0, ATTEMPTS + 1);
    const slot = localIso(TUE, '10:00');
    expect((await bookAll(branchId, [first!], () => slot))[0]!.result.ok).toBe(true);
    instances.forEach((x) => (x.conflicts = 0));

    const raceStarted = performance.now();
    const results = await bookAll(branchId, racers, () => slot);
    console.log(`${ATTEMPTS} bookings for the last 2 places of a slot through 2 instances: ${Math.round(performance.now() - raceStarted)} ms; lost at the unique keys: ${instances.map((x) => x.conflicts).join(' + ')}`);
    const won = results.filter((r) => r.result.ok);
    expect(won).toHaveLength(2);
    for (const r of results.filter((x) => !x.result.ok)) expect(r.result).toMatchObject({ ok: false, reason: 'slot_taken' });
    // Both instances took part, and both lost races at the database's unique keys: the keys decided.
    expect(results.filter((r) => r.instance === 0)).toHaveLength(ATTEMPTS / 2);
    expect(instances.every((x) => x.conflicts > 0)).toBe(true);

    // Seen from either instance, the slot holds the first customer's visit and the two winners', each whole.
    for (const x of instances) {
      const held = await claimsOf(x.store, branchId);
      expect(held.live.filter((a) => a.starts_at === slot)).toHaveLength(3);
      expect(new Set(held.live.map((a) => a.bay_id)).size).toBe(3);
      expect(new Set(held.live.map((a) => a.advisor_unit)).size).toBe(3);
      expect(held.whole).toBe(true);
      expect(held.strays).toBe(0);
    }
  }, 120_000);

  it(`holds the daily cap when ${ATTEMPTS} customers race through two instances for the day's last places at different times`, async () => {
    const store = instances[0]!.store;
    const { branchId } = await createBranch(store, { settings: { minNoticeMinutes: 0, advisorsPerSlot: 10, dailyCap: 6, bufferMinutes: 0 }, bays: [1, 2, 3, 4, 5, 6, 7, 8].map((n) => ({ name: `Bay ${n}`, serviceTypes: GENERAL_WORK })) }, clock.now());
    const times = ['09:00', '10:00', '11:00', '12:00', '13:00', '14:00', '15:00', '16:00', '17:00'];
    expect((await bookAll(branchId, ids.slice(0, 2), (i) => localIso(TUE, times[i]!))).every((r) => r.result.ok)).toBe(true);
    instances.forEach((x) => (x.conflicts = 0));

    const raceStarted = performance.now();
    const results = await bookAll(branchId, ids.slice(2), (i) => localIso(TUE, times[i % times.length]!));
    console.log(`${ATTEMPTS} bookings for the last 4 places of a day through 2 instances: ${Math.round(performance.now() - raceStarted)} ms; lost at the unique keys: ${instances.map((x) => x.conflicts).join(' + ')}`);
    // Six a day, two already booked: four more, whichever instance they came through.
    expect(results.filter((r) => r.result.ok)).toHaveLength(4);
    expect(instances.every((x) => x.conflicts > 0)).toBe(true);
    const held = await claimsOf(instances[1]!.store, branchId);
    expect(held.live).toHaveLength(6);
    expect(held.live.map((a) => a.day_unit).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(held.whole).toBe(true);
    expect(held.strays).toBe(0);
    for (const r of results.filter((x) => !x.result.ok)) expect(r.result).toMatchObject({ ok: false, reason: 'slot_taken' });
  }, 120_000);
});
