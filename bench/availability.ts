/*
 * Availability and booking under load: a branch with 10 bays and 50,000 live appointments over its 60-day
 * horizon. Measures one day's availability (the indexed read of that day's appointments plus the pure
 * rules), the 60-day free-days summary, and bookings under contention (many concurrent creates into a few
 * slots). Every figure is printed beside a baseline taken in the same run: a bare `select 1` round trip,
 * the same availability on an empty branch, and uncontended bookings into distinct free slots.
 *
 * 50,000 appointments in 60 days is ~833 a day, more than 10 bays can hold in workshop hours, so the busy
 * branch is open round the clock with 15-minute jobs and is ~87% full: the heaviest day a branch of this
 * size can have. Its claims are written too, so inserts meet full-size indexes.
 *
 *   npx tsx bench/availability.ts                   # SQLite file in a temp dir
 *   npx tsx bench/availability.ts --postgres URL    # Postgres (a throwaway schema, dropped after)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { availabilityForDate, availabilitySummary, isBookingConflict, type BookRequest } from '../src/booking/booking';
import { loadBranchCapacity, saveBay, saveBookingSettings, saveServiceType } from '../src/booking/capacity';
import { createBookingService } from '../src/booking/service';
import { claimsOf } from '../src/domain/availability';
import { newBookingReference } from '../src/domain/booking-reference';
import { DEFAULT_BOOKING_SETTINGS, type OpeningHours } from '../src/domain/booking-rules';
import { addDays, localDateOf, zonedInstant } from '../src/domain/local-time';
import { openNodeStore } from '../src/entry/node-store';
import { newId } from '../src/ids';
import { manualClock } from '../src/ops/clock';
import type { Store } from '../src/store/store';

const { values: args } = parseArgs({
  options: {
    postgres: { type: 'string' },
    appointments: { type: 'string', default: '50000' },
    iterations: { type: 'string', default: '2000' },
  },
});

const TZ = 'Asia/Taipei';
const BAYS = 10;
const HORIZON = 60;
const APPOINTMENTS = Number(args.appointments);
const ITERATIONS = Number(args.iterations);
const NOW = new Date('2026-03-01T16:00:00.000Z'); // 00:00 on Monday 2026-03-02 in Taipei
const TODAY = localDateOf(NOW, TZ);
const ALL_DAY = Object.fromEntries(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'].map((d) => [d, [['00:00', '24:00']]])) as unknown as OpeningHours;
const SETTINGS = { ...DEFAULT_BOOKING_SETTINGS, slotIntervalMinutes: 15, minNoticeMinutes: 0, horizonDays: HORIZON, bufferMinutes: 0, advisorsPerSlot: BAYS, dailyCap: 2000, loanerCars: 20 };
const SERVICE = 'express_check';

/** A small deterministic generator, so every run books the same 50,000 appointments. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

interface Timing {
  p50: number;
  p95: number;
}

async function time(iterations: number, run: (i: number) => Promise<unknown>): Promise<Timing> {
  for (let i = 0; i < Math.min(50, iterations); i++) await run(i);
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await run(i);
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5), p95: percentile(samples, 0.95) };
}

const ms = (n: number) => `${n.toFixed(3)} ms`;

async function createBenchBranch(store: Store, name: string): Promise<{ branchId: string; bayIds: string[]; serviceTypeId: string }> {
  const branchId = newId();
  const nowIso = NOW.toISOString();
  const bayIds: string[] = [];
  let serviceTypeId = '';
  await store.transaction(async (tx) => {
    await tx
      .insertInto('branches')
      .values({ id: branchId, name, address: null, phone: null, map_url: null, time_zone: TZ, opening_hours: JSON.stringify(ALL_DAY), holidays: '[]', is_demo: 0, created_at: nowIso, updated_at: nowIso })
      .execute();
    await saveBookingSettings(tx, branchId, SETTINGS, nowIso);
    serviceTypeId = await saveServiceType(tx, branchId, { code: SERVICE, durationMinutes: 15, names: { en: 'Express check' }, active: true, sortOrder: 0 }, nowIso);
    for (let b = 0; b < BAYS; b++) bayIds.push(await saveBay(tx, branchId, { name: `Bay ${b + 1}`, serviceTypes: [SERVICE], active: true, sortOrder: b }, nowIso));
  });
  return { branchId, bayIds, serviceTypeId };
}

async function createCustomers(store: Store, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => newId());
  const nowIso = NOW.toISOString();
  for (let i = 0; i < ids.length; i += 1000) {
    await store.db
      .insertInto('customers')
      .values(
        ids.slice(i, i + 1000).map((id) => ({
          id,
          display_name: null,
          phone: null,
          locale: 'en',
          category: 'prospect' as const,
          notes: null,
          consent_at: null,
          opted_out_at: null,
          erased_at: null,
          merged_into_id: null,
          created_at: nowIso,
          updated_at: nowIso,
        })),
      )
      .execute();
  }
  return ids;
}

/** Fills the busy branch: `APPOINTMENTS` 15-minute jobs on distinct (day, start, bay), with their claims. */
async function fillBranch(store: Store, branch: { branchId: string; bayIds: string[]; serviceTypeId: string }, customers: string[]): Promise<void> {
  const random = mulberry32(42);
  const cells: [number, number, number][] = [];
  for (let d = 1; d <= HORIZON; d++) for (let s = 0; s < 96; s++) for (let b = 0; b < BAYS; b++) cells.push([d, s, b]);
  if (APPOINTMENTS > cells.length) throw new Error(`at most ${cells.length} appointments fit`);
  for (let i = cells.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [cells[i], cells[j]] = [cells[j]!, cells[i]!];
  }
  const chosen = cells.slice(0, APPOINTMENTS).sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2]);
  const perDay = new Map<number, number>();
  const references = new Set<string>();
  const nowIso = NOW.toISOString();
  const rows = chosen.map(([d, s, b], i) => {
    const date = addDays(TODAY, d);
    const start = zonedInstant(date, s * 15, TZ);
    const dayUnit = perDay.get(d) ?? 0;
    perDay.set(d, dayUnit + 1);
    let reference = newBookingReference();
    while (references.has(reference)) reference = newBookingReference();
    references.add(reference);
    return {
      id: newId(),
      reference,
      branch_id: branch.branchId,
      customer_id: customers[i % customers.length]!,
      vehicle_id: null,
      service_type_id: branch.serviceTypeId,
      starts_at: new Date(start).toISOString(),
      ends_at: new Date(start + 15 * 60_000).toISOString(),
      busy_until: new Date(start + 15 * 60_000).toISOString(),
      local_date: date,
      bay_id: branch.bayIds[b]!,
      advisor_unit: b,
      day_unit: dayUnit,
      loaner_unit: dayUnit < SETTINGS.loanerCars ? dayUnit : null,
      advisor_id: null,
      status: 'booked' as const,
      note: null,
      loaner_requested: dayUnit < SETTINGS.loanerCars ? 1 : 0,
      channel: 'line' as const,
      created_by: 'customer' as const,
      created_by_staff_id: null,
      version: 1,
      created_at: nowIso,
      updated_at: nowIso,
      cancelled_at: null,
      checked_in_at: null,
    };
  });
  await store.transaction(async (tx) => {
    for (let i = 0; i < rows.length; i += 1000) await tx.insertInto('appointments').values(rows.slice(i, i + 1000)).execute();
    const claims = rows.flatMap((r) =>
      claimsOf({ localDate: r.local_date, bayId: r.bay_id, startsAt: r.starts_at, busyUntil: r.busy_until, advisorUnit: r.advisor_unit, dayUnit: r.day_unit, loanerUnit: r.loaner_unit }).map((c) => ({
        branch_id: r.branch_id,
        resource: c.resource,
        block_start: c.blockStart,
        appointment_id: r.id,
      })),
    );
    for (let i = 0; i < claims.length; i += 5000) await tx.insertInto('capacity_claims').values(claims.slice(i, i + 5000)).execute();
  });
}

/** A store whose transactions are counted: every booking attempt, won or lost, is one. */
function counting(store: Store): { store: Store; attempts: () => number; conflicts: () => number } {
  let attempts = 0;
  let conflicts = 0;
  return {
    store: {
      ...store,
      transaction: async (fn) => {
        attempts++;
        try {
          return await store.transaction(fn);
        } catch (err) {
          if (isBookingConflict(err)) conflicts++;
          throw err;
        }
      },
    },
    attempts: () => attempts,
    conflicts: () => conflicts,
  };
}

async function bookingRun(store: Store, customers: string[], starts: string[], concurrency: number): Promise<{ ok: number; tries: number; conflicts: number; seconds: number }> {
  const branch = await createBenchBranch(store, `contention ${newId()}`);
  const counted = counting(store);
  const booking = createBookingService({ store: counted.store, clock: manualClock(NOW) });
  const started = performance.now();
  let ok = 0;
  let next = 0;
  // `concurrency` customers at a time keep asking, each for the next start in the list.
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < customers.length) {
        const i = next++;
        const request: BookRequest = {
          branchId: branch.branchId,
          customerId: customers[i]!,
          vehicleId: null,
          serviceTypeCode: SERVICE,
          startsAt: starts[i % starts.length]!,
          loaner: false,
          note: null,
          channel: 'line',
          actor: { type: 'customer', customerId: customers[i]! },
        };
        if ((await booking.book(request)).ok) ok++;
      }
    }),
  );
  return { ok, tries: counted.attempts(), conflicts: counted.conflicts(), seconds: (performance.now() - started) / 1000 };
}

async function run(label: string, store: Store): Promise<void> {
  console.log(`\n## ${label}`);
  const setupStart = performance.now();
  const busy = await createBenchBranch(store, 'busy');
  const empty = await createBenchBranch(store, 'empty');
  const customers = await createCustomers(store, 5000);
  await fillBranch(store, busy, customers);
  // What autovacuum does soon after a bulk load; without it Postgres cannot answer from the index alone.
  if (store.dialect === 'postgres') await sql`vacuum analyze`.execute(store.db);
  console.log(`setup: ${APPOINTMENTS} appointments in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`);

  const busyCapacity = (await loadBranchCapacity(store.db, busy.branchId))!;
  const emptyCapacity = (await loadBranchCapacity(store.db, empty.branchId))!;
  const heldPerDay = await store.db.selectFrom('appointments').select(sql<number>`count(*)`.as('n')).where('branch_id', '=', busy.branchId).where('local_date', '=', addDays(TODAY, 7)).executeTakeFirstOrThrow();
  const day = (i: number) => addDays(TODAY, 1 + (i % HORIZON));
  const query = (i: number) => ({ serviceTypeCode: SERVICE, loaner: false, date: day(i) });

  const select1 = await time(ITERATIONS, () => sql`select 1`.execute(store.db));
  const emptyDay = await time(ITERATIONS, (i) => availabilityForDate(store.db, emptyCapacity, query(i), NOW));
  const busyDay = await time(ITERATIONS, (i) => availabilityForDate(store.db, busyCapacity, query(i), NOW));
  const busyDayWithLoad = await time(ITERATIONS, async (i) => availabilityForDate(store.db, (await loadBranchCapacity(store.db, busy.branchId))!, query(i), NOW));
  const check = await availabilityForDate(store.db, busyCapacity, query(7), NOW);
  const freeThatDay = check.ok ? check.day.slots.length : -1;
  const summaryIterations = Math.max(20, Math.floor(ITERATIONS / 20));
  const emptySummary = await time(summaryIterations, () => availabilitySummary(store.db, emptyCapacity, { serviceTypeCode: SERVICE, loaner: false, days: HORIZON }, NOW));
  const busySummary = await time(summaryIterations, () => availabilitySummary(store.db, busyCapacity, { serviceTypeCode: SERVICE, loaner: false, days: HORIZON }, NOW));

  console.log(`live appointments on one day: ${heldPerDay.n}; free starts left that day: ${freeThatDay} of 96`);
  console.log('| measure | p50 | p95 | p95 ÷ select 1 p95 | p95 ÷ empty branch p95 |');
  console.log('|---|---|---|---|---|');
  console.log(`| select 1 round trip (baseline) | ${ms(select1.p50)} | ${ms(select1.p95)} | 1.0 | – |`);
  console.log(`| one day, empty branch (baseline) | ${ms(emptyDay.p50)} | ${ms(emptyDay.p95)} | ${(emptyDay.p95 / select1.p95).toFixed(1)} | 1.0 |`);
  console.log(`| one day, busy branch (read + rules) | ${ms(busyDay.p50)} | ${ms(busyDay.p95)} | ${(busyDay.p95 / select1.p95).toFixed(1)} | ${(busyDay.p95 / emptyDay.p95).toFixed(1)} |`);
  console.log(`| one day, busy branch, capacity loaded too | ${ms(busyDayWithLoad.p50)} | ${ms(busyDayWithLoad.p95)} | ${(busyDayWithLoad.p95 / select1.p95).toFixed(1)} | ${(busyDayWithLoad.p95 / emptyDay.p95).toFixed(1)} |`);
  console.log(`| 60-day summary, empty branch (baseline) | ${ms(emptySummary.p50)} | ${ms(emptySummary.p95)} | ${(emptySummary.p95 / select1.p95).toFixed(1)} | 1.0 |`);
  console.log(`| 60-day summary, busy branch | ${ms(busySummary.p50)} | ${ms(busySummary.p95)} | ${(busySummary.p95 / select1.p95).toFixed(1)} | ${(busySummary.p95 / emptySummary.p95).toFixed(1)} |`);

  // Bookings: uncontended (each customer a distinct free start) as the baseline, then 1,000 customers,
  // 50 at a time, all after the same 4 starts (40 places: 10 bays each).
  const concurrency = 50;
  const bookingCustomers = customers.slice(0, 1000);
  const target = addDays(TODAY, 3);
  // 400 different starts (96 a day over five days), so no two customers want the same bay or advisor.
  const distinct = Array.from({ length: 400 }, (_, i) => new Date(zonedInstant(addDays(target, Math.floor(i / 96)), (i % 96) * 15, TZ)).toISOString());
  const uncontended = await bookingRun(store, bookingCustomers.slice(0, 400), distinct, concurrency);
  const fewSlots = ['10:00', '10:15', '10:30', '10:45'].map((t) => new Date(zonedInstant(target, Number(t.slice(0, 2)) * 60 + Number(t.slice(3)), TZ)).toISOString());
  const contended = await bookingRun(store, bookingCustomers, fewSlots, concurrency);
  const rate = (n: number, s: number) => (n / s).toFixed(0);
  console.log('\n| bookings | customers | booked | transactions (incl. retries) | lost at commit | booked/s | transactions/s | customers answered/s |');
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(`| uncontended, 400 distinct starts (baseline) | 400 | ${uncontended.ok} | ${uncontended.tries} | ${uncontended.conflicts} | ${rate(uncontended.ok, uncontended.seconds)} | ${rate(uncontended.tries, uncontended.seconds)} | ${rate(400, uncontended.seconds)} |`);
  console.log(`| contended, 1,000 customers → 4 starts | 1000 | ${contended.ok} | ${contended.tries} | ${contended.conflicts} | ${rate(contended.ok, contended.seconds)} | ${rate(contended.tries, contended.seconds)} | ${rate(1000, contended.seconds)} |`);
  console.log(`customers answered/s under contention ÷ uncontended: ${(1000 / contended.seconds / (400 / uncontended.seconds)).toFixed(2)}`);
}

async function main(): Promise<void> {
  console.log(`Node ${process.version}, ${APPOINTMENTS} appointments, ${BAYS} bays, ${HORIZON}-day horizon, ${ITERATIONS} iterations`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-availability-'));
  try {
    const store = await openNodeStore({ kind: 'sqlite', path: join(dir, 'bench.sqlite') });
    try {
      await run('SQLite (file, WAL)', store);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  if (args.postgres) {
    const schema = `bench_${newId().replace(/-/g, '').slice(0, 12)}`;
    const admin = new pg.Client({ connectionString: args.postgres });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    try {
      const store = await openNodeStore({ kind: 'postgres', url: args.postgres, schema }, { poolSize: 20 });
      try {
        await run('Postgres', store);
      } finally {
        await store.close();
      }
    } finally {
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    }
  }
}

await main();
