import { CompiledQuery, type Insertable } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createReminders } from '../../src/booking/reminders';
import { newId } from '../../src/ids';
import { manualClock } from '../../src/ops/clock';
import { silentLogger } from '../../src/ops/logger';
import { createD1Store } from '../../src/store/d1-driver';
import type { Database } from '../../src/store/schema';
import { migrateToLatest, type Store } from '../../src/store/store';
import { startTestD1, type TestD1 } from '../helpers/d1';
import { queryPlan, recordingStore } from '../helpers/query-plan';
import { dialects, type TestStore } from '../helpers/stores';
import { createBranch, createCustomer } from './fixtures';

/*
 * The reminder pass runs every minute and reads the visits of the next two days. Its queries, exactly as the
 * pass sends them, are explained by each database over a year of appointments: each must reach the
 * appointments through appointments_status_start_idx (migration 0006), not by reading them all.
 */

const NOW = '2026-06-01T01:00:00.000Z';
const INDEX = 'appointments_status_start_idx';
const DAY_MS = 24 * 3600_000;

/** A year of visits around NOW in one branch: most of them done or cancelled, a few booked ahead. */
async function seedYear(store: Store): Promise<void> {
  const now = new Date(NOW);
  const { branchId, bayIds } = await createBranch(store, { settings: { reminderDayBeforeAt: '18:00', reminderHoursBefore: 3 } }, now);
  const { customerId } = await createCustomer(store, now);
  const serviceType = await store.db.selectFrom('service_types').select('id').where('branch_id', '=', branchId).where('code', '=', 'periodic_maintenance').executeTakeFirstOrThrow();
  const rows: Insertable<Database['appointments']>[] = [];
  for (let i = 0; i < 1500; i++) {
    const startsAt = new Date(Date.parse(NOW) + (i - 1200) * (DAY_MS / 4));
    const past = startsAt.getTime() < Date.parse(NOW);
    const status = past ? (i % 10 === 0 ? 'cancelled' : 'checked_in') : i % 7 === 0 ? 'cancelled' : 'booked';
    const iso = startsAt.toISOString();
    const end = new Date(startsAt.getTime() + 3600_000).toISOString();
    rows.push({
      id: newId(),
      reference: `BK-IDX${String(i).padStart(4, '0')}`,
      branch_id: branchId,
      customer_id: customerId,
      vehicle_id: null,
      service_type_id: serviceType.id,
      starts_at: iso,
      ends_at: end,
      busy_until: end,
      local_date: iso.slice(0, 10),
      bay_id: bayIds[0]!,
      advisor_unit: i % 3,
      day_unit: i % 4,
      loaner_unit: null,
      advisor_id: null,
      status,
      note: null,
      loaner_requested: 0,
      channel: 'web',
      created_by: 'customer',
      created_by_staff_id: null,
      version: 1,
      created_at: new Date(startsAt.getTime() - 7 * DAY_MS).toISOString(),
      updated_at: NOW,
      cancelled_at: null,
      checked_in_at: null,
      customer_confirmed_at: null,
    });
  }
  // Small batches: D1 binds at most 100 parameters a statement.
  for (let i = 0; i < rows.length; i += 3) await store.db.insertInto('appointments').values(rows.slice(i, i + 3)).execute();
}

/** The reminder pass's reads of appointments in its window, compiled as the pass sent them. */
async function reminderQueries(store: Store): Promise<CompiledQuery[]> {
  const recorded = recordingStore(store);
  const reminders = createReminders({ store: recorded.store, clock: manualClock(NOW), logger: silentLogger, defaultLocale: 'en' });
  await reminders.runOnce();
  const windowReads = recorded.queries().filter((q) => /(from|join) "appointments" as "a"/.test(q.sql) && q.sql.includes('"a"."starts_at" >'));
  // The visits in the window, and the reminders already sent for them.
  expect(windowReads).toHaveLength(2);
  return windowReads;
}

/** SQLite's and D1's plan: "SEARCH a USING INDEX appointments_status_start_idx (status=? AND starts_at>? AND starts_at<?)", never "SCAN a". */
function expectSqliteSearch(details: string[]): void {
  expect(details.find((d) => /\ba\b/.test(d) && d.includes(INDEX))).toMatch(new RegExp(`^SEARCH a USING (COVERING )?INDEX ${INDEX} \\(status=\\? AND starts_at>\\? AND starts_at<\\?\\)`));
  expect(details.some((d) => /^SCAN a\b/.test(d))).toBe(false);
}

describe.each(dialects)('the reminder pass on $name', (dialect) => {
  let db: TestStore;
  beforeEach(async () => {
    db = await dialect.open();
  });
  afterEach(async () => {
    await db.drop();
  });

  it(`reads the visits in its window through ${INDEX}`, async () => {
    const store = db.store;
    await seedYear(store);
    // Statistics as a database that has run for a while has them, so the planner chooses on real numbers.
    await store.db.executeQuery(CompiledQuery.raw(dialect.name === 'postgres' ? 'analyze' : 'ANALYZE'));
    for (const query of await reminderQueries(store)) {
      const lines = await queryPlan(store, query);
      if (dialect.name === 'sqlite') expectSqliteSearch(lines);
      else {
        expect(lines.some((l) => new RegExp(`Index (Only )?Scan using ${INDEX} on appointments a|Bitmap Index Scan on ${INDEX}`).test(l))).toBe(true);
        expect(lines.some((l) => /Seq Scan on appointments a\b/.test(l))).toBe(false);
        // The window is the index condition, not a filter applied to every row read.
        expect(lines.join('\n')).toMatch(/Index Cond: \(\(a?\.?status = 'booked'::text\) AND \(a?\.?starts_at > '[^']+'::text\) AND \(a?\.?starts_at <= '[^']+'::text\)\)/);
      }
    }
  });
});

describe('the reminder pass on D1', () => {
  let mf: TestD1;
  beforeAll(() => {
    mf = startTestD1(['IDX']);
  });
  afterAll(async () => {
    await mf.dispose();
  });

  it(`reads the visits in its window through ${INDEX}`, async () => {
    const store = createD1Store(mf.database('IDX'));
    await migrateToLatest(store.db);
    await seedYear(store);
    for (const query of await reminderQueries(store)) {
      expectSqliteSearch(await queryPlan(store, query));
    }
  }, 60_000);
});
