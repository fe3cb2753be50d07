/*
 * Fan-out of repair-order notices: N customers' cars become ready at once and each customer gets the pickup
 * card, through a fake LINE or Telegram API that enforces a configured rate limit (a sliding second, 429
 * beyond it) and fails now and then (500s, on LINE some after taking the push). The baseline is the limit
 * itself: how close the outbox comes to it, delivered ÷ (limit × time), measured in the same run.
 *
 *   npm run bench:fanout                              # 10,000 customers on LINE, then 10,000 on Telegram
 *   npm run bench:fanout -- --customers 2000 --platform telegram --telegram-rate 100
 *   npm run bench:fanout -- --postgres postgres://postgres@127.0.0.1:5432/test
 *
 * The fake platform runs in a child process so it does not share the sender's event loop. It reports what
 * it accepted: per recipient (lost and duplicated notices), and per sliding second (never above the limit).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { parseConfig } from '../src/config';
import { openNodeStore } from '../src/entry/node-store';
import { systemClock } from '../src/ops/clock';
import { silentLogger } from '../src/ops/logger';
import { changeStatus } from '../src/repair-orders/operations';
import { findRepairOrder } from '../src/repair-orders/repair-orders';
import { buildService } from '../src/service';
import { seedFreshDatabase } from '../src/store/seed';
import type { Store } from '../src/store/store';

const { values: args } = parseArgs({
  options: {
    fake: { type: 'string' },
    rate: { type: 'string' },
    'fail-every': { type: 'string', default: '500' },
    customers: { type: 'string', default: '10000' },
    platform: { type: 'string', default: 'both' },
    'line-rate': { type: 'string', default: '100' },
    'telegram-rate': { type: 'string', default: '100' },
    /** The service is configured this fraction under the platform's limit, as an operator leaves headroom. */
    headroom: { type: 'string', default: '1' },
    postgres: { type: 'string' },
  },
});

const TELEGRAM_TOKEN = '123456:BENCH-telegram-token';
const LINE_TOKEN = 'bench-line-token';

interface FakeStats {
  accepted: number;
  recipients: number;
  duplicates: number;
  /** The most sends the fake accepted within any one second. */
  maxPerSecond: number;
  /** Requests over the limit that were answered 429, and the failures injected. */
  refused429: number;
  injected: number;
  firstAt: number | null;
  lastAt: number | null;
}

/** The child: a fake platform with a rate limit, injecting a failure every `fail-every` accepted sends. */
async function fakeChild(platform: 'line' | 'telegram', rate: number, failEvery: number): Promise<void> {
  const acceptedAt: { to: string; at: number }[] = [];
  let injected = 0;
  let url: string;
  let counts: () => { accepted: { to: string; at: number }[]; refused: number };
  let inject: (n: number) => void;
  if (platform === 'line') {
    const { startFakeLineApi } = await import('../tests/fakes/line-api');
    const fake = await startFakeLineApi({ channelAccessToken: LINE_TOKEN, pushesPerSecond: rate });
    url = fake.url;
    counts = () => ({ accepted: fake.accepted.pushes().map((p) => ({ to: p.to ?? '', at: p.at })), refused: fake.requests.filter((r) => r.status === 429).length });
    // Every other failure happens after LINE took the push: only the retry key keeps it from arriving twice.
    inject = (n) => fake.failNext('push', { status: 500, afterAccepting: n % 2 === 0 });
  } else {
    const { startFakeTelegramApi } = await import('../tests/fakes/telegram-api');
    const fake = await startFakeTelegramApi({ token: TELEGRAM_TOKEN, perSecond: rate });
    url = fake.url;
    counts = () => ({ accepted: fake.sent().map((r) => ({ to: String(r.params.chat_id), at: r.at })), refused: fake.requests.filter((r) => r.status === 429).length });
    // Telegram has no idempotency key: a failure is only ever one Telegram answered before sending.
    inject = () => fake.failNext('sendMessage', { errorCode: 500, description: 'Internal Server Error' });
  }
  let nextFailure = failEvery;
  setInterval(() => {
    if (failEvery <= 0) return;
    const n = counts().accepted.length;
    if (n >= nextFailure) {
      inject(injected);
      injected += 1;
      nextFailure += failEvery;
    }
  }, 20).unref();
  process.on('message', (msg: { type: string }) => {
    if (msg.type !== 'stats') return;
    const { accepted, refused } = counts();
    acceptedAt.length = 0;
    acceptedAt.push(...accepted);
    const per = new Map<string, number>();
    for (const a of accepted) per.set(a.to, (per.get(a.to) ?? 0) + 1);
    const times = accepted.map((a) => a.at).sort((a, b) => a - b);
    let maxPerSecond = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1000) j++;
      maxPerSecond = Math.max(maxPerSecond, i - j + 1);
    }
    const stats: FakeStats = {
      accepted: accepted.length,
      recipients: per.size,
      duplicates: [...per.values()].filter((n) => n > 1).length,
      maxPerSecond,
      refused429: refused,
      injected,
      firstAt: times[0] ?? null,
      lastAt: times[times.length - 1] ?? null,
    };
    process.send!({ type: 'stats', stats });
  });
  process.send!({ type: 'ready', url });
}

function startFake(platform: 'line' | 'telegram', rate: number) {
  const child = fork(new URL(import.meta.url).pathname, ['--fake', platform, '--rate', String(rate), '--fail-every', args['fail-every']!], { execArgv: process.execArgv, stdio: 'inherit' });
  const ready = new Promise<string>((resolve) => child.once('message', (m: { type: string; url: string }) => resolve(m.url)));
  return {
    url: ready,
    stats: () =>
      new Promise<FakeStats>((resolve) => {
        child.once('message', (m: { type: string; stats: FakeStats }) => resolve(m.stats));
        child.send({ type: 'stats' });
      }),
    stop: () => child.kill(),
  };
}

interface Result {
  platform: string;
  customers: number;
  limit: number;
  noticesPerSecond: number;
  seconds: number;
  ratio: number;
  stats: FakeStats;
  outbox: Record<string, number>;
  /** The sending process's CPU milliseconds per delivered notice, and its share of one core while sending. */
  cpuPerNotice: number;
  cpuShare: number;
}

async function run(platform: 'line' | 'telegram', customers: number, limit: number): Promise<Result> {
  const fake = startFake(platform, limit);
  const configured = Math.max(1, Math.floor(limit * Number(args.headroom)));
  const fakeUrl = await fake.url;
  const dir = mkdtempSync(join(tmpdir(), 'dealer-chat-fanout-'));
  const schema = `fanout_${Date.now().toString(36)}`;
  let store: Store;
  if (args.postgres) {
    const admin = new pg.Client({ connectionString: args.postgres });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    store = await openNodeStore({ kind: 'postgres', url: args.postgres, schema }, { poolSize: 20 });
  } else {
    store = await openNodeStore({ kind: 'sqlite', path: join(dir, 'bench.sqlite') });
  }
  const config = parseConfig({
    WEB_CHAT_SECRET: 'bench-web-chat-secret-0123456789abcdef',
    DEFAULT_LOCALE: 'en',
    ...(platform === 'line'
      ? { LINE_CHANNEL_SECRET: 'bench-secret', LINE_CHANNEL_ACCESS_TOKEN: LINE_TOKEN, LINE_API_BASE_URL: fakeUrl, LINE_DATA_API_BASE_URL: fakeUrl, LINE_RATE_LIMIT_PER_SECOND: String(configured) }
      : { TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, TELEGRAM_WEBHOOK_SECRET: 'bench-secret', TELEGRAM_API_BASE_URL: fakeUrl, TELEGRAM_RATE_LIMIT_PER_SECOND: String(configured) }),
  });
  const now = new Date();
  await seedFreshDatabase(store, config, now);
  const svc = await buildService({ config, store, logger: silentLogger, clock: systemClock });
  const db = store.db;
  const branch = await db.selectFrom('branches').select(['id']).executeTakeFirstOrThrow();
  // Notices go out at any hour in this run: no quiet hours at the bench branch.
  await db.updateTable('branch_settings').set({ quiet_hours_start: null, quiet_hours_end: null }).where('branch_id', '=', branch.id).execute();

  // N customers on the platform, each with one car in quality check (not timed).
  const nowIso = now.toISOString();
  const orderIds: string[] = [];
  for (let start = 0; start < customers; start += 500) {
    const batch = Array.from({ length: Math.min(500, customers - start) }, (_, k) => start + k);
    const rows = batch.map((i) => ({ i, customerId: crypto.randomUUID(), orderId: crypto.randomUUID(), vehicleId: crypto.randomUUID() }));
    await store.transaction(async (tx) => {
      await tx.insertInto('customers').values(rows.map((r) => ({ id: r.customerId, display_name: `Customer ${r.i}`, phone: null, locale: 'en', category: 'base' as const, notes: null, consent_at: null, opted_out_at: null, erased_at: null, merged_into_id: null, created_at: nowIso, updated_at: nowIso }))).execute();
      await tx
        .insertInto('channel_identities')
        .values(rows.map((r) => ({ id: crypto.randomUUID(), customer_id: r.customerId, channel: platform, external_id: platform === 'line' ? `U${r.customerId.replace(/-/g, '')}` : String(100_000_000 + r.i), display_name: null, reachable: 1, unreachable_since: null, created_at: nowIso, last_seen_at: nowIso, rich_menu_id: null, rich_menu_locale: null, rich_menu_linked_at: null })))
        .execute();
      await tx.insertInto('vehicles').values(rows.map((r) => ({ id: r.vehicleId, customer_id: r.customerId, plate: `B-${r.i}`, plate_normalized: `B${r.i}`, make: 'Toyota', model: 'Corolla', year: null, vin: null, mileage_km: null, created_at: nowIso, updated_at: nowIso }))).execute();
      await tx
        .insertInto('repair_orders')
        .values(
          rows.map((r) => ({
            id: r.orderId,
            seq: r.i + 1,
            number: `RO-${String(r.i + 1).padStart(6, '0')}`,
            appointment_id: null,
            branch_id: branch.id,
            customer_id: r.customerId,
            vehicle_id: r.vehicleId,
            advisor_id: null,
            status: 'quality_check' as const,
            mileage_in: null,
            version: 1,
            created_at: nowIso,
            updated_at: nowIso,
            dms_number: null,
            promised_at: null,
            estimated_amount: 350_000,
            final_amount: null,
            work_summary: 'Periodic maintenance',
            status_changed_at: nowIso,
            ready_at: null,
            collected_at: null,
            pickup_planned_at: null,
          })),
        )
        .execute();
    });
    orderIds.push(...rows.map((r) => r.orderId));
  }

  // The workshop marks every car ready; each change queues its customer's pickup card (timed apart).
  const actor = { type: 'staff' as const, id: null, label: 'bench', channel: 'console' as const };
  const made = performance.now();
  for (let start = 0; start < orderIds.length; start += 100) {
    await store.transaction(async (tx) => {
      for (const id of orderIds.slice(start, start + 100)) {
        const order = await findRepairOrder(tx, id);
        await changeStatus({ db: tx, now: new Date(), defaultLocale: 'en' }, order!, 'ready', actor);
      }
    });
  }
  const noticesPerSecond = customers / ((performance.now() - made) / 1000);

  // The sender, as `npm start` runs it, until the platform has every card.
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  svc.outbox.start();
  let stats = await fake.stats();
  while (stats.recipients < customers && Date.now() - t0 < (customers / limit) * 4000 + 60_000) {
    await new Promise((r) => setTimeout(r, 200));
    stats = await fake.stats();
  }
  // Anything still being retried would show up as a duplicate a little later: wait and look once more.
  await new Promise((r) => setTimeout(r, 2000));
  stats = await fake.stats();
  await svc.outbox.stop();
  const used = process.cpuUsage(cpu0);
  const cpuMs = (used.user + used.system) / 1000;
  const outbox = Object.fromEntries((await db.selectFrom('outbox').select(['status', sql<number>`count(*)`.as('n')]).groupBy('status').execute()).map((r) => [r.status, Number(r.n)]));
  const seconds = ((stats.lastAt ?? Date.now()) - t0) / 1000;
  await store.close();
  fake.stop();
  rmSync(dir, { recursive: true, force: true });
  if (args.postgres) {
    const admin = new pg.Client({ connectionString: args.postgres });
    await admin.connect();
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  }
  return { platform, customers, limit, noticesPerSecond, seconds, ratio: stats.recipients / (limit * seconds), stats, outbox, cpuPerNotice: cpuMs / customers, cpuShare: cpuMs / (Date.now() - t0) };
}

async function main(): Promise<void> {
  if (args.fake) return fakeChild(args.fake as 'line' | 'telegram', Number(args.rate), Number(args['fail-every']));
  const customers = Number(args.customers);
  const platforms = args.platform === 'both' ? (['line', 'telegram'] as const) : [args.platform as 'line' | 'telegram'];
  console.log(`fan-out of pickup cards to ${customers.toLocaleString('en')} customers on ${args.postgres ? 'Postgres' : 'SQLite'}; a failure injected every ${args['fail-every']} sends`);
  console.log('| platform | limit /s | notices queued /s | delivery time | delivered ÷ (limit × time) | most in any second | 429s | failures injected | lost | duplicates | outbox | sender CPU per notice | share of a core while sending | load average |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  let failed = false;
  for (const platform of platforms) {
    const limit = Number(platform === 'line' ? args['line-rate'] : args['telegram-rate']);
    const load = loadavg()[0]!;
    const r = await run(platform, customers, limit);
    const lost = customers - r.stats.recipients;
    console.log(
      `| ${platform} | ${limit.toLocaleString('en')} | ${Math.round(r.noticesPerSecond).toLocaleString('en')} | ${r.seconds.toFixed(1)} s | **${r.ratio.toFixed(3)}** | ${r.stats.maxPerSecond.toLocaleString('en')} | ${r.stats.refused429} | ${r.stats.injected} | ${lost} | ${r.stats.duplicates} | ${Object.entries(r.outbox).map(([k, v]) => `${v} ${k}`).join(', ')} | ${r.cpuPerNotice.toFixed(2)} ms | ${(r.cpuShare * 100).toFixed(0)} % | ${load.toFixed(1)} → ${loadavg()[0]!.toFixed(1)} |`,
    );
    if (r.ratio < 0.9 || lost !== 0 || r.stats.duplicates !== 0 || r.stats.maxPerSecond > limit) failed = true;
  }
  if (failed) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
