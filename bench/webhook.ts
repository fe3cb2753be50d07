/*
 * Webhook throughput: signed LINE webhook requests, each carrying one text event from a customer in the
 * middle of a conversation, fully processed (signature, dedupe, state, transcript, outbox) — against a
 * bare Hono "hello" server measured the same way in the same run. The servers run in child processes
 * so the load generator does not share their event loop.
 *
 *   npm run bench:webhook                         # SQLite file (the default store)
 *   npm run bench:webhook -- --postgres URL       # Postgres
 *   npm run bench:webhook -- --duration 10 --connections 20
 *   BENCH_CPU_PROFILE=/tmp/prof npm run bench:webhook   # a V8 CPU profile of the processing server
 *   BENCH_PROFILE_KEPT=1 BENCH_CPU_PROFILE=/tmp/prof …   # … of the keep-only server instead
 *
 * Three servers run in turn: the bare baseline, the service processing and sending as `npm start` does,
 * and the service with processing paused (events only kept), which shows what answering costs by itself.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const SECRET = 'bench-line-channel-secret';
const CUSTOMERS = 500;

const { values: args } = parseArgs({
  options: {
    serve: { type: 'string' },
    postgres: { type: 'string' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    'line-api': { type: 'string' },
    paused: { type: 'boolean', default: false },
    db: { type: 'string' },
  },
});

async function serveChild(): Promise<void> {
  const { serve } = await import('@hono/node-server');
  const { Hono } = await import('hono');
  let fetch: (req: Request) => Response | Promise<Response>;
  if (args.serve === 'hello') {
    const app = new Hono();
    app.post('/webhooks/line', (c) => c.json({ ok: true }));
    fetch = app.fetch;
  } else {
    const { parseConfig } = await import('../src/config');
    const { openNodeStore } = await import('../src/entry/node-store');
    const { buildService } = await import('../src/service');
    const { seedFreshDatabase } = await import('../src/store/seed');
    const { systemClock } = await import('../src/ops/clock');
    const { silentLogger } = await import('../src/ops/logger');
    const { nodeLineSignature } = await import('../src/entry/node-line-signature');
    const config = parseConfig({
      LINE_CHANNEL_SECRET: SECRET,
      LINE_CHANNEL_ACCESS_TOKEN: 'bench-token',
      LINE_API_BASE_URL: args['line-api'],
      LINE_DATA_API_BASE_URL: args['line-api'],
      WEB_CHAT_SECRET: 'bench-web-chat-secret-0123456789abcdef',
      ...(args.postgres ? { DATABASE_URL: args.postgres } : {}),
    });
    const store = await openNodeStore(args.postgres ? { kind: 'postgres', url: args.postgres, schema: args.db! } : { kind: 'sqlite', path: args.db! });
    await seedFreshDatabase(store, config, new Date());
    const service = await buildService({ config, store, logger: silentLogger, clock: systemClock, lineSignature: nodeLineSignature });
    // --paused: events are kept but not processed, to show what answering a webhook costs on its own.
    if (!args.paused) {
      service.engine.start();
      service.outbox.start();
    }
    // Put every bench customer in the middle of a conversation: the language picker, waiting for a choice.
    for (let i = 0; i < CUSTOMERS; i++) {
      await service.engine.handle({
        channel: 'line',
        eventId: `warm-${i}`,
        externalId: `Ubench${i}`,
        occurredAt: new Date().toISOString(),
        replyToken: null,
        profile: null,
        input: { type: 'text', text: 'language' },
      });
    }
    await service.outbox.drain();
    fetch = service.app.fetch;
  }
  const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info) => process.send!({ port: info.port }));
  process.on('message', () => server.close(() => process.exit(0)));
}

function startChild(extra: string[]): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const profile = process.env.BENCH_CPU_PROFILE && extra.includes('service') && extra.includes('--paused') === Boolean(process.env.BENCH_PROFILE_KEPT) ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : [];
    const child = fork(new URL(import.meta.url).pathname, extra, { execArgv: ['--import', 'tsx', ...profile], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m: { port: number }) => resolve({ child, port: m.port }));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID, as LINE's webhookEventIds are: the time in ms, then randomness, so ids arrive nearly in order. */
function ulid(): string {
  let time = '';
  for (let t = Date.now(), i = 0; i < 10; i++, t = Math.floor(t / 32)) time = CROCKFORD[t % 32] + time;
  let random = '';
  for (let i = 0; i < 16; i++) random += CROCKFORD[Math.floor(Math.random() * 32)];
  return time + random;
}

function lineBody(replyToken: string): string {
  const user = `Ubench${Math.floor(Math.random() * CUSTOMERS)}`;
  return JSON.stringify({
    destination: 'Ubenchbot',
    events: [
      {
        type: 'message',
        mode: 'active',
        timestamp: Date.now(),
        source: { type: 'user', userId: user },
        webhookEventId: ulid(),
        deliveryContext: { isRedelivery: false },
        replyToken,
        message: { id: String(Date.now()), type: 'text', quoteToken: 'q', text: 'not a language' },
      },
    ],
  });
}

/** Events processed so far and still waiting, read from the service's own /metrics. */
async function processedSoFar(port: number): Promise<{ processed: number; waiting: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const sum = (pattern: RegExp) => [...text.matchAll(pattern)].reduce((total, m) => total + Number(m[1]), 0);
  return {
    processed: sum(/^dealer_events_processed_total\{[^}]*result="ok"[^}]*\} (\d+)/gm),
    waiting: sum(/^dealer_inbox_events\{[^}]*\} (\d+)/gm),
  };
}

async function load(port: number, issueReplyToken: () => string): Promise<autocannon.Result> {
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: Number(args.connections),
    duration: Number(args.duration),
    requests: [
      {
        method: 'POST',
        path: '/webhooks/line',
        setupRequest: (req) => {
          // A token the LINE fake will accept, as LINE's own would be: the reply is sent, not pushed.
          const body = lineBody(issueReplyToken());
          return {
            ...req,
            body,
            headers: { 'content-type': 'application/json', 'x-line-signature': createHmac('sha256', SECRET).update(body).digest('base64') },
          };
        },
      },
    ],
  });
}

async function main(): Promise<void> {
  const { startFakeLineApi } = await import('../tests/fakes/line-api');
  const fakeLine = await startFakeLineApi({ channelAccessToken: 'bench-token' });
  const dir = mkdtempSync(join(tmpdir(), 'dealer-bench-'));
  let pgSchema: string | null = null;
  if (args.postgres) {
    const pg = (await import('pg')).default;
    pgSchema = `bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const client = new pg.Client({ connectionString: args.postgres });
    await client.connect();
    await client.query(`create schema ${pgSchema}`);
    await client.end();
  }

  const results: Record<string, autocannon.Result> = {};
  let processing: { perSecond: number; backlog: number } | null = null;
  for (const target of ['hello', 'service', 'kept'] as const) {
    const db = args.postgres ? `${pgSchema!}` : join(dir, `bench-${target}.sqlite`);
    if (args.postgres && target === 'kept') {
      const pg = (await import('pg')).default;
      const client = new pg.Client({ connectionString: args.postgres });
      await client.connect();
      await client.query(`drop schema ${pgSchema} cascade`);
      await client.query(`create schema ${pgSchema}`);
      await client.end();
    }
    const serve = target === 'hello' ? 'hello' : 'service';
    const { child, port } = await startChild(['--serve', serve, '--line-api', fakeLine.url, '--db', db, ...(target === 'kept' ? ['--paused'] : []), ...(args.postgres ? ['--postgres', args.postgres] : [])]);
    const issue = () => fakeLine.issueReplyToken({ ttlMs: 60_000 });
    await load(port, issue); // warm-up: JIT, connection pools, SQLite page cache
    const before = target === 'service' ? await processedSoFar(port) : null;
    results[target] = await load(port, issue);
    if (before) {
      // Events are answered once kept; the engine works through them alongside. Report how fast it did,
      // and what was still waiting when the load stopped.
      const after = await processedSoFar(port);
      processing = { perSecond: (after.processed - before.processed) / Number(args.duration), backlog: after.waiting };
    }
    child.send('stop');
    await new Promise((r) => child.once('exit', r));
  }
  await fakeLine.close();
  rmSync(dir, { recursive: true, force: true });
  if (pgSchema) {
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: args.postgres });
    await client.connect();
    await client.query(`drop schema ${pgSchema} cascade`);
    await client.end();
  }

  const row = (name: string, r: autocannon.Result) =>
    `| ${name} | ${r.requests.average.toFixed(0)} | ${r.latency.p50} | ${r.latency.p99} | ${r.non2xx} | ${r.errors} |`;
  const ratio = results.service!.requests.average / results.hello!.requests.average;
  console.log(`\nwebhook benchmark: ${args.connections} connections, ${args.duration} s, store ${args.postgres ? 'postgres' : 'sqlite file'}, node ${process.version}`);
  console.log('| server | req/s | p50 ms | p99 ms | non-2xx | errors |');
  console.log('|---|---|---|---|---|---|');
  console.log(row('bare Hono hello', results.hello!));
  console.log(row('LINE webhook, persisted and processed', results.service!));
  console.log(row('LINE webhook, kept only (processing paused)', results.kept!));
  console.log(`ratio (processed / hello): ${ratio.toFixed(3)}; ratio (kept only / hello): ${(results.kept!.requests.average / results.hello!.requests.average).toFixed(3)}`);
  if (processing) console.log(`events fully processed while under load: ${processing.perSecond.toFixed(0)}/s; still waiting when the load stopped: ${processing.backlog}`);
  if (results.service!.non2xx + results.service!.errors + results.kept!.non2xx + results.kept!.errors > 0) process.exitCode = 1;
}

if (args.serve) void serveChild();
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
