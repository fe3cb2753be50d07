/*
 * Throughput beside the peer, in one run: the Telegram booking dialogue (`/book`, tap the first service,
 * send a plate) played by many new customers at once against the grammY + conversations + SQLite peer
 * (../shared/bench) and against the service, alternating, with the same load, connections and seconds.
 * What counts is processed updates per second: replies that reached the fake Telegram API, counted until
 * the server has drained what it accepted, divided by the time from the first reply to the last. The
 * webhook acknowledgement rate and latency are printed beside it.
 *
 *   npm run bench:throughput                                   # SQLite, 2 rounds, 16 connections, 8 s
 *   npm run bench:throughput -- --postgres postgres://…        # the service on Postgres as well
 *   npm run bench:throughput -- --line                         # and LINE beside a bare Hono app
 *   npm run bench:throughput -- --connections 64 --duration 10 --rounds 3
 *   npm run bench:throughput -- --ack-at 0.8      # then offer 80 % of the service's own peak: acknowledgement p99
 *   BENCH_CPU_PROFILE=/tmp/prof npm run bench:throughput       # V8 CPU profiles of the service
 *
 * The yardstick (peer, load scripts, bare Hono app) is copied once to a temporary directory and its peer's
 * packages installed there with `npm ci` (BENCH_YARDSTICK names another copy of ../shared/bench).
 * The service runs as `npm start` runs it (engine and outbox loops), its outbound rate limits lifted, as
 * the peer has none. The peer keeps its conversation state in SQLite whichever store the service uses.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const TOKEN = '123456:BENCH-telegram-bot-token';
const SECRET = 'bench-telegram-webhook-secret';
const LINE_SECRET = 'bench-line-channel-secret';
const LINE_TOKEN = 'bench-line-token';

const { values: args } = parseArgs({
  options: {
    serve: { type: 'string' },
    postgres: { type: 'string' },
    'pg-schema': { type: 'string' },
    db: { type: 'string' },
    'tg-api': { type: 'string' },
    'line-api': { type: 'string' },
    duration: { type: 'string', default: '8' },
    connections: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '2' },
    line: { type: 'boolean', default: false },
    'ack-at': { type: 'string' },
    'no-sqlite': { type: 'boolean', default: false },
    'no-telegram': { type: 'boolean', default: false },
  },
});

// ───────────────────────────── the service, in a child process ─────────────────────────────

interface Stats {
  processed: number;
  waiting: number;
  unsent: number;
}

async function serveService(): Promise<void> {
  const { serve } = await import('@hono/node-server');
  const { sql } = await import('kysely');
  const { parseConfig } = await import('../src/config');
  const { openNodeStore } = await import('../src/entry/node-store');
  const { buildService } = await import('../src/service');
  const { seedFreshDatabase } = await import('../src/store/seed');
  const { systemClock } = await import('../src/ops/clock');
  const { silentLogger } = await import('../src/ops/logger');
  const { nodeLineSignature } = await import('../src/entry/node-line-signature');
  const config = parseConfig({
    DEALER_NAME: 'Bench Motors',
    WEB_CHAT_SECRET: 'bench-web-chat-secret-0123456789abcdef',
    ...(args['tg-api'] ? { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET: SECRET, TELEGRAM_API_BASE_URL: args['tg-api'] } : {}),
    ...(args['line-api'] ? { LINE_CHANNEL_SECRET: LINE_SECRET, LINE_CHANNEL_ACCESS_TOKEN: LINE_TOKEN, LINE_API_BASE_URL: args['line-api'], LINE_DATA_API_BASE_URL: args['line-api'] } : {}),
    // The fake does not limit, and neither does the peer.
    TELEGRAM_RATE_LIMIT_PER_SECOND: '1000000',
    TELEGRAM_PER_CHAT_PER_SECOND: '1000',
    LINE_RATE_LIMIT_PER_SECOND: '1000000',
    METRICS_ALLOW: 'loopback',
  });
  const store = await openNodeStore(args.postgres ? { kind: 'postgres', url: args.postgres, schema: args['pg-schema'] } : { kind: 'sqlite', path: args.db! });
  await seedFreshDatabase(store, config, new Date());
  const service = await buildService({ config, store, logger: silentLogger, clock: systemClock, lineSignature: nodeLineSignature });
  service.engine.start();
  service.outbox.start();
  const stats = async (): Promise<Stats> => {
    const one = async (query: ReturnType<typeof sql<{ n: number | string }>>) => Number((await query.execute(store.db)).rows[0]?.n ?? 0);
    return {
      processed: await one(sql<{ n: number }>`select count(*) as n from processed_events`),
      waiting: await one(sql<{ n: number }>`select count(*) as n from inbound_events where status = 'pending'`),
      unsent: await one(sql<{ n: number }>`select count(*) as n from outbox where status in ('pending', 'sending')`),
    };
  };
  const server = serve({ fetch: service.app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => process.send!({ port: info.port }));
  process.on('message', async (m: { type: string; id?: number }) => {
    if (m.type === 'stats') process.send!({ type: 'stats', id: m.id, stats: await stats() });
    if (m.type === 'stop') {
      await service.engine.stop();
      await service.outbox.stop();
      server.close(() => void store.close().finally(() => process.exit(0)));
    }
  });
}

// ───────────────────────────── the run ─────────────────────────────

interface Server {
  port: number;
  stats(): Promise<Stats | null>;
  stop(): Promise<void>;
}

function yardstick(): string {
  const source = resolve(process.env.BENCH_YARDSTICK ?? new URL('../../shared/bench', import.meta.url).pathname);
  const copy = join(tmpdir(), 'dealer-chat-yardstick');
  if (!existsSync(join(copy, 'peer-grammy', 'node_modules', 'grammy'))) {
    rmSync(copy, { recursive: true, force: true });
    cpSync(source, copy, { recursive: true, filter: (p) => !p.includes('node_modules') });
    console.error(`installing the peer's packages in ${copy}/peer-grammy …`);
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: join(copy, 'peer-grammy'), stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return copy;
}

function waitForPort(child: ChildProcess, how: 'ipc' | 'stdout'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    if (how === 'ipc') child.once('message', (m: { port: number }) => resolvePort(m.port));
    else
      child.stdout!.on('data', (chunk: Buffer) => {
        const m = /ready (\d+)/.exec(chunk.toString());
        if (m) resolvePort(Number(m[1]));
      });
  });
}

async function startService(extra: string[], label: string): Promise<Server> {
  const profile = process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : [];
  const child = fork(new URL(import.meta.url).pathname, ['--serve', 'service', ...extra], { execArgv: ['--import', 'tsx', ...profile], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await waitForPort(child, 'ipc');
  let seq = 0;
  return {
    port,
    stats: () =>
      new Promise((res) => {
        const id = ++seq;
        const on = (m: { type: string; id: number; stats: Stats }) => {
          if (m.type === 'stats' && m.id === id) {
            child.off('message', on);
            res(m.stats);
          }
        };
        child.on('message', on);
        child.send({ type: 'stats', id });
      }),
    stop: () =>
      new Promise((res) => {
        child.once('exit', () => res());
        child.send({ type: 'stop' });
      }),
  };
}

async function startScript(dir: string, script: string, env: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, [script], { cwd: dir, env: { ...process.env, ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await waitForPort(child, 'stdout');
  return {
    port,
    stats: async () => null,
    stop: () =>
      new Promise((res) => {
        child.once('exit', () => res());
        child.kill('SIGTERM');
      }),
  };
}

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  requests: number;
}

function runLoad(dir: string, script: string, loadArgs: string[], rate?: number): Promise<LoadResult> {
  return new Promise((res, reject) => {
    const env = { ...process.env, ...(rate ? { BENCH_RATE: String(Math.max(1, Math.round(rate))) } : {}) };
    const child = spawn(process.execPath, [rate ? rateLimited(dir, script) : script, ...loadArgs], { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => (code === 0 ? res(JSON.parse(out.trim().split('\n').at(-1)!) as LoadResult) : reject(new Error(`${script} exited with ${code}`))));
  });
}

/** The yardstick's load script with autocannon's overall rate taken from BENCH_RATE (requests per second). */
function rateLimited(dir: string, script: string): string {
  const name = script.replace(/\.mjs$/, '-rate.mjs');
  const text = readFileSync(join(dir, script), 'utf8');
  const limited = text.replace('duration: Number(seconds),', 'duration: Number(seconds), overallRate: Number(process.env.BENCH_RATE),');
  if (limited === text) throw new Error(`cannot set a rate in ${script}`);
  writeFileSync(join(dir, name), limited);
  return name;
}

interface Sends {
  /** Successful sends so far. */
  count(): number;
  /** Times (ms) of the successful sends from index `from` on. */
  times(from: number): number[];
}

/** Polls until nothing more arrives at the fake and the server has nothing left waiting. */
async function drained(server: Server, sends: Sends): Promise<Stats | null> {
  let last = sends.count();
  let quietSince = Date.now();
  const deadline = Date.now() + 180_000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const now = sends.count();
    if (now !== last) {
      last = now;
      quietSince = Date.now();
      continue;
    }
    const stats = await server.stats();
    const idle = stats === null || (stats.waiting === 0 && stats.unsent === 0);
    if (idle && Date.now() - quietSince > 750) return stats;
    if (Date.now() > deadline) throw new Error('the server did not drain within 3 minutes');
  }
}

interface Measured {
  name: string;
  processedPerSecond: number;
  processed: number;
  sends: number;
  ack: LoadResult;
  drainMs: number;
}

async function measure(name: string, server: Server, sends: Sends, dir: string, script: string, loadArgs: (seconds: string) => string[], rate?: number): Promise<Measured> {
  // Warm-up: JIT, pools, page cache; then everything accepted is drained before the measured pass.
  await runLoad(dir, script, loadArgs('2'), rate);
  await drained(server, sends);
  const from = sends.count();
  const before = await server.stats();
  const ack = await runLoad(dir, script, loadArgs(args.duration!), rate);
  const loadEnded = Date.now();
  const after = await drained(server, sends);
  const times = sends.times(from);
  const window = (Math.max(...times) - Math.min(...times)) / 1000;
  // The peer processes an update before it answers and sends one message for each; the service counts
  // the events it has processed (each with its replies sent, as the drain waits for the outbox).
  const processed = before && after ? after.processed - before.processed : times.length;
  return { name, processed, sends: times.length, processedPerSecond: processed / window, ack, drainMs: Math.max(...times) - loadEnded };
}

function line(m: Measured): string {
  const f = (n: number) => n.toFixed(0).padStart(6);
  return `${m.name.padEnd(26)} processed/s ${f(m.processedPerSecond)}  (processed ${m.processed}, sends ${m.sends}, last send ${m.drainMs} ms after the load)  ack/s ${f(m.ack.rps)}  ack p50 ${m.ack.p50} ms p99 ${m.ack.p99} ms  non2xx ${m.ack.non2xx} errors ${m.ack.errors}`;
}

async function main(): Promise<void> {
  const dir = yardstick();
  const { startFakeTelegramApi } = await import('../tests/fakes/telegram-api');
  const { startFakeLineApi } = await import('../tests/fakes/line-api');
  const fakeTelegram = await startFakeTelegramApi({ token: TOKEN });
  const fakeLine = await startFakeLineApi({ channelAccessToken: LINE_TOKEN });
  const tgSends: Sends = {
    count: () => fakeTelegram.requests.length,
    times: (from) => fakeTelegram.requests.slice(from).filter((r) => r.status === 200 && (r.method.toLowerCase() === 'sendmessage' || r.method.toLowerCase() === 'sendphoto')).map((r) => r.at),
  };
  const lineRequests = (fakeLine as unknown as { requests: { at?: number; path?: string; status?: number }[] }).requests;
  const lineSends: Sends = {
    count: () => lineRequests.length,
    times: (from) => lineRequests.slice(from).map((r) => r.at ?? 0),
  };
  const tmp = mkdtempSync(join(tmpdir(), 'dealer-throughput-'));
  const pg = args.postgres ? (await import('pg')).default : null;
  const freshSchema = async (): Promise<string> => {
    const schema = `bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const client = new pg!.Client({ connectionString: args.postgres });
    await client.connect();
    await client.query(`create schema ${schema}`);
    await client.end();
    return schema;
  };
  const dropSchema = async (schema: string) => {
    const client = new pg!.Client({ connectionString: args.postgres });
    await client.connect();
    await client.query(`drop schema ${schema} cascade`);
    await client.end();
  };

  const conns = args.connections!;
  const rounds = Number(args.rounds);
  const results: Measured[] = [];
  const print = (m: Measured) => {
    results.push(m);
    console.log(line(m));
  };
  const cbData = process.env.BENCH_CALLBACK_DATA ?? 'book:st:periodic_maintenance';
  const tgLoad = (port: number, data: string) => (seconds: string) => [`http://127.0.0.1:${port}/webhooks/telegram`, SECRET, seconds, conns, data];

  const serviceTargets: { name: string; args: () => Promise<{ extra: string[]; cleanup: () => Promise<void> }> }[] = [];
  if (!args['no-sqlite'])
    serviceTargets.push({
      name: 'service (SQLite)',
      args: async () => {
        const db = join(tmp, `service-${randomUUID()}.sqlite`);
        return { extra: ['--db', db], cleanup: async () => rmSync(db, { force: true }) };
      },
    });
  if (args.postgres)
    serviceTargets.push({
      name: 'service (Postgres)',
      args: async () => {
        const schema = await freshSchema();
        return { extra: ['--postgres', args.postgres!, '--pg-schema', schema], cleanup: () => dropSchema(schema) };
      },
    });

  console.log(`# Telegram booking dialogue, ${conns} connections, ${args.duration} s, ${rounds} rounds (processed updates/s to the drain)`);
  if (!args['no-telegram'])
    for (let round = 1; round <= rounds; round++) {
      const peerDb = join(tmp, `peer-${round}.sqlite`);
      const peer = await startScript(join(dir, 'peer-grammy'), 'bot.mjs', { TG_API: fakeTelegram.url, TG_TOKEN: TOKEN, TG_SECRET: SECRET, DB: peerDb });
      print(await measure(`peer grammY (SQLite) #${round}`, peer, tgSends, dir, 'tg-load.mjs', tgLoad(peer.port, 's:maint')));
      await peer.stop();
      for (const target of serviceTargets) {
        const { extra, cleanup } = await target.args();
        const service = await startService(['--tg-api', fakeTelegram.url, ...extra], target.name.replace(/\W+/g, '-'));
        const from = fakeTelegram.requests.length;
        print(await measure(`${target.name} #${round}`, service, tgSends, dir, 'tg-load.mjs', tgLoad(service.port, cbData)));
        if (process.env.BENCH_SHOW) for (const r of fakeTelegram.requests.slice(from, from + 12)) console.log(r.method, r.status, r.description, JSON.stringify(r.params).slice(0, 300));
        await service.stop();
        await cleanup();
      }
    }

  // The acknowledgement at 80 % of the peak: the service's own mean processed rate, offered at a fixed rate.
  if (!args['no-telegram'] && args['ack-at']) {
    const share = Number(args['ack-at']);
    for (const target of serviceTargets) {
      const peak = results.filter((r) => r.name.startsWith(target.name)).reduce((a, r) => a + r.processedPerSecond, 0) / rounds;
      const { extra, cleanup } = await target.args();
      const service = await startService(['--tg-api', fakeTelegram.url, ...extra], target.name.replace(/\W+/g, '-'));
      print(await measure(`${Math.round(share * 100)} % of peak (${Math.round(share * peak)}/s offered): ${target.name}`, service, tgSends, dir, 'tg-load.mjs', tgLoad(service.port, cbData), share * peak));
      await service.stop();
      await cleanup();
    }
  }

  const mean = (prefix: string) => {
    const xs = results.filter((r) => r.name.startsWith(prefix)).map((r) => r.processedPerSecond);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
  };
  const peerMean = mean('peer grammY');
  for (const target of serviceTargets) {
    const s = mean(target.name);
    console.log(`RATIO ${target.name} / peer: ${(s / peerMean).toFixed(2)}  (${s.toFixed(0)} vs ${peerMean.toFixed(0)} processed updates/s, means of ${rounds} rounds)`);
  }

  if (args.line) {
    console.log(`# LINE mid-flow text event, ${conns} connections, ${args.duration} s (processed events/s to the drain) beside a bare Hono app`);
    const lineLoad = (port: number) => (seconds: string) => [`http://127.0.0.1:${port}/webhooks/line`, LINE_SECRET, seconds, conns, '2000', 'not a language'];
    for (let round = 1; round <= rounds; round++) {
      const hello = await startScript(dir, 'hello.mjs', {});
      const bare = await runLoad(dir, 'line-load.mjs', lineLoad(hello.port)(args.duration!));
      await hello.stop();
      console.log(`bare Hono #${round}                accepted/s ${bare.rps.toFixed(0).padStart(6)}  p99 ${bare.p99} ms`);
      results.push({ name: `bare Hono #${round}`, processedPerSecond: bare.rps, processed: bare.requests, sends: 0, ack: bare, drainMs: 0 });
      const { extra, cleanup } = await serviceTargets[0]!.args();
      const service = await startService(['--line-api', fakeLine.url, ...extra], 'service-line');
      print(await measure(`service LINE ${serviceTargets[0]!.name.replace('service ', '')} #${round}`, service, lineSends, dir, 'line-load.mjs', lineLoad(service.port)));
      await service.stop();
      await cleanup();
    }
    console.log(`RATIO service LINE / bare Hono: ${(mean('service LINE') / mean('bare Hono')).toFixed(3)}`);
  }

  await fakeTelegram.close();
  await fakeLine.close();
  rmSync(tmp, { recursive: true, force: true });
}

if (args.serve === 'service') await serveService();
else await main();
