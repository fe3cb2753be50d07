import { sql, type Transaction } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isBookingConflict, type BookRequest, type BookResult } from '../../src/booking/booking';
import { createBookingService, type BookingService } from '../../src/booking/service';
import { manualClock } from '../../src/ops/clock';
import { resolveCustomer } from '../../src/store/customers';
import type { Database } from '../../src/store/schema';
import type { Store } from '../../src/store/store';
import { dialects, type TestStore } from '../helpers/stores';
import { createBranch, GENERAL_WORK, localIso } from './fixtures';

/*
 * The last places in a slot, fought over by 200 customers at once: exactly the capacity is booked, and
 * everyone else is told the slot was taken and offered the nearest free starts. On Postgres the bookings
 * really run in parallel (a pool of 20), so it is the database's unique key that decides; SQLite runs one
 * write transaction at a time, so there every booking reads the ones before it and its own check decides.
 * Either way the outcome is checked in the database: the live appointments and the capacity claims they
 * hold, and nothing left behind by the customers who lost.
 */

const START = '2026-03-09T00:00:00.000Z'; // Monday 08:00 in Taipei
const TUE = '2026-03-10';
const ATTEMPTS = 200;

/** Releases waiters in batches of `size`, or whoever is waiting after `ms`. */
function batchGate(size: number, ms: number): () => Promise<void> {
  let waiting: (() => void)[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const release = () => {
    clearTimeout(timer);
    timer = undefined;
    const now = waiting;
    waiting = [];
    for (const go of now) go();
  };
  return () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (waiting.length >= size) release();
      else timer ??= setTimeout(release, ms);
    });
}

/** The transaction, except that inserting an appointment (a booking's first write) first passes `gate`. */
function gateAppointmentInserts(tx: Transaction<Database>, gate: () => Promise<void>): Transaction<Database> {
  const bind = <T extends object>(target: T, prop: string | symbol) => {
    const value = Reflect.get(target, prop) as unknown;
    return typeof value === 'function' ? value.bind(target) : value;
  };
  return new Proxy(tx, {
    get(target, prop) {
      if (prop !== 'insertInto') return bind(target, prop);
      return (table: keyof Database) => {
        const insert = target.insertInto(table);
        if (table !== 'appointments') return insert;
        return new Proxy(insert, {
          get(builder, p) {
            if (p !== 'values') return bind(builder, p);
            return (values: never) => {
              const ready = builder.values(values);
              return new Proxy(ready, {
                get(b, q) {
                  if (q !== 'execute') return bind(b, q);
                  return async () => {
                    await gate();
                    return b.execute();
                  };
                },
              });
            };
          },
        });
      };
    },
  });
}

describe.each(dialects)('booking race on $name', (dialect) => {
  let db: TestStore;
  let store: Store;
  let conflicts: number;
  const clock = manualClock(START);

  beforeEach(async () => {
    clock.set(START);
    db = await dialect.open();
    conflicts = 0;
    // Counts the transactions that lost a race at the database, to show the guard is what decided. On
    // Postgres the bookings are also made to overlap for certain: each waits, after its reads and before its
    // first write, until a batch of others has read too, so they all plan on the same stale picture.
    const gate = dialect.name === 'postgres' ? batchGate(10, 100) : null;
    // Open the pool's 20 connections up front, so the first bookings do not wait for connections one by one.
    if (dialect.name === 'postgres') await Promise.all(Array.from({ length: 20 }, () => sql`select pg_sleep(0.02)`.execute(db.store.db)));
    store = {
      ...db.store,
      transaction: async (fn) => {
        try {
          return await db.store.transaction((tx) => fn(gate ? gateAppointmentInserts(tx, gate) : tx));
        } catch (err) {
          if (isBookingConflict(err)) conflicts++;
          throw err;
        }
      },
    };
  });
  afterEach(async () => {
    await db.drop();
  });

  async function customers(n: number): Promise<string[]> {
    const ids: string[] = [];
    await store.transaction(async (tx) => {
      for (let i = 0; i < n; i++) {
        const { customer } = await resolveCustomer(tx, { channel: 'telegram', externalId: `racer-${i}`, displayName: null, locale: 'en', now: START });
        ids.push(customer.id);
      }
    });
    return ids;
  }

  function bookAll(booking: BookingService, branchId: string, ids: string[], startsAt: (i: number) => string): Promise<BookResult[]> {
    return Promise.all(
      ids.map((customerId, i) => {
        const request: BookRequest = {
          branchId,
          customerId,
          vehicleId: null,
          serviceTypeCode: 'periodic_maintenance',
          startsAt: startsAt(i),
          loaner: false,
          note: null,
          channel: 'telegram',
          actor: { type: 'customer', customerId },
        };
        return booking.book(request);
      }),
    );
  }

  async function liveAt(branchId: string, startsAt: string): Promise<number> {
    const rows = await store.db.selectFrom('appointments').select('id').where('branch_id', '=', branchId).where('starts_at', '=', startsAt).where('status', '=', 'booked').execute();
    return rows.length;
  }

  /**
   * The capacity as the database holds it: every claim belongs to a live appointment (a lost or cancelled
   * booking leaves none behind), each live appointment holds its own bay over its whole visit, its own advisor
   * unit at its start and its own unit of the day.
   */
  async function heldCapacity(branchId: string) {
    const live = await store.db.selectFrom('appointments').select(['id', 'bay_id', 'starts_at', 'busy_until', 'advisor_unit', 'day_unit']).where('branch_id', '=', branchId).where('status', '=', 'booked').execute();
    const claims = await store.db.selectFrom('capacity_claims').select(['resource', 'block_start', 'appointment_id']).where('branch_id', '=', branchId).execute();
    const liveIds = new Set(live.map((a) => a.id));
    const strays = claims.filter((c) => !liveIds.has(c.appointment_id));
    const holdings = live.map((a) => {
      const own = claims.filter((c) => c.appointment_id === a.id);
      const blocks = (Date.parse(a.busy_until) - Date.parse(a.starts_at)) / (5 * 60_000);
      return {
        bayBlocks: own.filter((c) => c.resource === `bay:${a.bay_id}`).length === blocks,
        advisor: own.some((c) => c.resource === `advisor:${a.advisor_unit}` && c.block_start === a.starts_at),
        day: own.some((c) => c.resource === `day:${a.day_unit}`),
      };
    });
    return { live, strays: strays.length, holdings };
  }

  function expectDecidedBy(name: string) {
    // Postgres: the racers planned on the same stale picture and the unique key turned them away. SQLite: one
    // write transaction at a time, so no racer ever planned on a stale picture and the key never had to.
    if (name === 'postgres') expect(conflicts).toBeGreaterThan(0);
    else expect(conflicts).toBe(0);
  }

  it.each([
    ['at random', Math.random],
    ['all choosing the same bay and units', () => 0],
  ])(`books exactly the last places in a slot among ${ATTEMPTS} concurrent attempts, ${'%s'}`, async (_, random) => {
    const { branchId } = await createBranch(
      store,
      { settings: { minNoticeMinutes: 0, advisorsPerSlot: 10, dailyCap: 500, bufferMinutes: 0 }, bays: [1, 2, 3].map((n) => ({ name: `Bay ${n}`, serviceTypes: GENERAL_WORK })) },
      clock.now(),
    );
    const booking = createBookingService({ store, clock, random });
    const [first, ...racers] = await customers(ATTEMPTS + 1);
    const slot = localIso(TUE, '10:00');
    // One of the three bays is already taken at 10:00: two places are left.
    expect(await bookAll(booking, branchId, [first!], () => slot)).toMatchObject([{ ok: true }]);
    conflicts = 0;

    const results = await bookAll(booking, branchId, racers, () => slot);
    const won = results.filter((r) => r.ok);
    const lost = results.filter((r) => !r.ok);
    expect(won).toHaveLength(2);
    expect(lost).toHaveLength(ATTEMPTS - 2);
    expect(await liveAt(branchId, slot)).toBe(3);
    expectDecidedBy(dialect.name);
    const held = await heldCapacity(branchId);
    // Three bays, three live visits at 10:00, each in its own bay with its own advisor unit and day unit.
    expect(new Set(held.live.map((a) => a.bay_id)).size).toBe(3);
    expect(new Set(held.live.map((a) => a.advisor_unit)).size).toBe(3);
    expect(new Set(held.live.map((a) => a.day_unit)).size).toBe(3);
    expect(held.holdings).toEqual(Array.from({ length: 3 }, () => ({ bayBlocks: true, advisor: true, day: true })));
    expect(held.strays).toBe(0);
    // The live visits are the first customer's and the two winners', no one else's.
    const liveIds = held.live.map((a) => a.id).sort();
    expect(liveIds).toEqual([...won.map((r) => (r.ok ? r.appointment.id : '')), ...(await store.db.selectFrom('appointments').select('id').where('customer_id', '=', first!).execute()).map((a) => a.id)].sort());

    // The losers are told the slot was taken and offered starts that really are free, nearest first.
    const day = await booking.availability(branchId, { serviceTypeCode: 'periodic_maintenance', date: TUE, loaner: false });
    if (!day.ok) throw new Error(day.reason);
    const free = new Set(day.day.slots.map((s) => s.startsAt));
    expect(free.has(slot)).toBe(false);
    for (const r of lost) {
      expect(r).toMatchObject({ ok: false, reason: 'slot_taken' });
      const alternatives = 'alternatives' in r ? r.alternatives : [];
      expect(alternatives.length).toBeGreaterThan(0);
      for (const s of alternatives.filter((a) => a.localDate === TUE)) expect(free.has(s.startsAt)).toBe(true);
      // 09:00 and 11:00 are as near as each other; the earlier comes first.
      expect(alternatives.slice(0, 2).map((a) => a.localTime)).toEqual(['09:00', '11:00']);
    }

    // Cancelling one frees its place, and exactly one more customer gets it.
    const winner = won[0]!;
    if (!winner.ok) throw new Error('unreachable');
    expect(await booking.cancel({ appointmentId: winner.appointment.id, actor: { type: 'staff', staffId: null }, channel: 'console' })).toMatchObject({ ok: true });
    const again = await bookAll(booking, branchId, racers.slice(0, 50), () => slot);
    expect(again.filter((r) => r.ok)).toHaveLength(1);
    expect(await liveAt(branchId, slot)).toBe(3);
    const after = await heldCapacity(branchId);
    expect(new Set(after.live.map((a) => a.bay_id)).size).toBe(3);
    expect(after.holdings.every((h) => h.bayBlocks && h.advisor && h.day)).toBe(true);
    // The cancelled booking gave its claims back.
    expect(after.strays).toBe(0);
  });

  it(`holds the daily cap when ${ATTEMPTS} customers race for the day's last place at different times`, async () => {
    const { branchId } = await createBranch(
      store,
      { settings: { minNoticeMinutes: 0, advisorsPerSlot: 10, dailyCap: 4, bufferMinutes: 0 }, bays: [1, 2, 3, 4, 5, 6, 7, 8].map((n) => ({ name: `Bay ${n}`, serviceTypes: GENERAL_WORK })) },
      clock.now(),
    );
    const booking = createBookingService({ store, clock });
    const ids = await customers(ATTEMPTS + 3);
    const times = ['09:00', '10:00', '11:00', '12:00', '13:00', '14:00', '15:00', '16:00', '17:00'];
    expect((await bookAll(booking, branchId, ids.slice(0, 3), (i) => localIso(TUE, times[i]!))).every((r) => r.ok)).toBe(true);

    const results = await bookAll(booking, branchId, ids.slice(3), (i) => localIso(TUE, times[i % times.length]!));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expectDecidedBy(dialect.name);
    const booked = await store.db.selectFrom('appointments').select('day_unit').where('branch_id', '=', branchId).where('local_date', '=', TUE).execute();
    expect(booked.map((r) => r.day_unit).sort()).toEqual([0, 1, 2, 3]);
    const held = await heldCapacity(branchId);
    expect(held.live).toHaveLength(4);
    expect(held.holdings.every((h) => h.bayBlocks && h.advisor && h.day)).toBe(true);
    expect(held.strays).toBe(0);
    // The day is full, so the alternatives are on the following days.
    for (const r of results.filter((x) => !x.ok)) {
      expect(r).toMatchObject({ ok: false, reason: 'slot_taken' });
      const alternatives = 'alternatives' in r ? r.alternatives : [];
      expect(alternatives[0]?.localDate).toBe('2026-03-11');
    }
  });
});
