/*
 * Operational figures: what the service costs to run, measured on the compiled start as operators run it.
 *
 *   npm run bench:ops                                          # everything (the soak alone takes --soak-minutes)
 *   npm run bench:ops -- --only idle,start                     # some of: idle, start, backup, tuning, soak
 *   npm run bench:ops -- --only backup --backup-mb 1024 --keep /var/tmp/big.sqlite   # keep the 1 GB file for next time
 *   npm run bench:ops -- --only soak --soak-minutes 15 --customers 100000
 *
 * idle   resident memory (RSS) of the service process 10 s after it is healthy, beside a bare Node HTTP
 *        server (the floor), the same service started through tsx as `npm start` did before, and the whole
 *        process tree of each way of starting (npm, tsx's esbuild). A breakdown says where the memory is.
 * start  time from spawning the process to the first 200 from /healthz on a database already migrated.
 * backup `npm run backup` of a SQLite file of --backup-mb (1 GB by default), idle and while the service
 *        runs on it and takes webhooks; beside a plain copy of the same file and SQLite's VACUUM INTO.
 * tuning the memory settings the start script uses (--optimize-for-size, MALLOC_ARENA_MAX=2) and others,
 *        against Node's defaults: --tuning-seconds of the soak's load for each, --tuning-rounds times,
 *        interleaved so that other work on the machine falls on all of them alike. Not in the default run.
 * soak   --customers LINE customers (100,000 by default) each following the account, then the same customers
 *        writing, for --soak-minutes (15 by default) in all, as fast as the service processes them; RSS
 *        sampled every 10 s, the heap every minute.
 *
 * Every service runs from dist/ (built first when stale) with LINE and Telegram configured, replying to the
 * fake LINE API from tests/fakes. Ratios are against a baseline measured in the same run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import { openNodeStore } from '../src/entry/node-store';
import { ensureBuilt, freePort, ROOT, startScript } from '../tests/entry/compiled';
import { startFakeLineApi, type FakeLineApi } from '../tests/fakes/line-api';
import { startFakeTelegramApi, type FakeTelegramApi } from '../tests/fakes/telegram-api';
import { TEST_LINE_SECRET, TEST_LINE_TOKEN, TEST_TELEGRAM_SECRET, TEST_TELEGRAM_TOKEN } from '../tests/helpers/config';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string', default: 'idle,start,backup,soak' },
    'soak-minutes': { type: 'string', default: '15' },
    customers: { type: 'string', default: '100000' },
    'backup-mb': { type: 'string', default: '1024' },
    keep: { type: 'string' },
    runs: { type: 'string', default: '7' },
    'node-options': { type: 'string', default: '' },
    'tuning-seconds': { type: 'string', default: '90' },
    'tuning-rounds': { type: 'string', default: '2' },
  },
});
const parts = new Set(args.only!.split(','));
const MB = 1048576;
const PROBE = join(ROOT, 'bench/lib/memory-probe.mjs');
const mb = (bytes: number) => (bytes / MB).toFixed(1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------- processes

interface Memory {
  rss: number;
  anon: number;
  file: number;
}

function memoryOf(pid: number): Memory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: field('VmRSS'), anon: field('RssAnon'), file: field('RssFile') };
  } catch {
    return null;
  }
}

function descendants(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const task of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const child of children.trim().split(/\s+/).filter(Boolean).map(Number)) out.push(child, ...descendants(child));
  }
  return out;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').replace(ROOT, '');
  } catch {
    return '?';
  }
}

/** The process tree's RSS, and which process in it is the service (the one listening: the deepest node). */
function treeMemory(root: number): { total: number; processes: { pid: number; command: string; memory: Memory }[] } {
  const processes = [root, ...descendants(root)].map((pid) => ({ pid, command: commandOf(pid), memory: memoryOf(pid) })).filter((p): p is { pid: number; command: string; memory: Memory } => p.memory !== null);
  return { total: processes.reduce((sum, p) => sum + p.memory.rss, 0), processes };
}

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function launch(command: string[], env: Record<string, string | undefined>, cwd = ROOT): Running {
  const child = spawn(command[0]!, command.slice(1), { cwd, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out, exited: new Promise((resolve) => child.on('close', (code) => resolve(code))) };
}

async function untilHealthy(port: number, running: Running, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (running.child.exitCode !== null) throw new Error(`exited ${running.child.exitCode}: ${running.output()}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
  throw new Error(`not healthy in ${timeoutMs} ms: ${running.output()}`);
}

async function stop(running: Running): Promise<void> {
  if (running.child.exitCode === null) running.child.kill('SIGTERM');
  const code = await running.exited;
  if (code !== 0 && code !== null) throw new Error(`exited ${code}: ${running.output().slice(-2000)}`);
}

/** Ways of starting a server: a command and the variables it is given. */
interface Way {
  name: string;
  command: string[];
  env: Record<string, string>;
  /** The service process inside the tree (for npm and tsx, a descendant of what was spawned). */
  service: (root: number) => number;
}

const deepestNode = (root: number) => [root, ...descendants(root)].filter((pid) => /(^|\/)node\b/.test(commandOf(pid).split(' ')[0]!)).at(-1) ?? root;

/** The service as `npm start` runs it (its node options and variables), plus any given on the command line. */
function started(extraNodeOptions: string[] = []): { command: string[]; env: Record<string, string> } {
  const { env, command } = startScript();
  return { env, command: [command[0]!, ...extraNodeOptions, ...command.slice(1)] };
}

/** The compiled entry with none of the start script's memory settings: what they are measured against. */
const untuned = [process.execPath, '--enable-source-maps', 'dist/entry/node.js'];

const WAYS = ['bare', 'started', 'untuned', 'startedNoMaps', 'npmStart', 'tsx'] as const;

function ways(extraNodeOptions: string[]): Record<(typeof WAYS)[number], Way> {
  const start = started(extraNodeOptions);
  const self = (p: number) => p;
  return {
    bare: { name: 'bare Node HTTP server (floor)', command: [process.execPath, '-e', "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT)"], env: {}, service: self },
    started: { name: `\`${Object.entries(start.env).map(([k, v]) => `${k}=${v} `).join('')}node ${start.command.slice(1).join(' ')}\` (as npm start runs it)`, ...start, service: self },
    untuned: { name: '`node --enable-source-maps dist/entry/node.js` (without the memory settings)', command: untuned, env: {}, service: self },
    startedNoMaps: { name: 'as npm start runs it, without `--enable-source-maps`', command: start.command.filter((a) => a !== '--enable-source-maps'), env: start.env, service: self },
    npmStart: { name: '`npm start` (npm, then exec node)', command: ['npm', 'start', '--silent'], env: {}, service: deepestNode },
    tsx: { name: '`tsx src/entry/node.ts` (npm start before)', command: [join(ROOT, 'node_modules/.bin/tsx'), 'src/entry/node.ts'], env: {}, service: deepestNode },
  };
}

// ---------------------------------------------------------------------------------------------- fakes, env

interface Fakes {
  line: FakeLineApi;
  telegram: FakeTelegramApi;
  env: Record<string, string>;
}

async function startFakes(): Promise<Fakes> {
  const line = await startFakeLineApi();
  const telegram = await startFakeTelegramApi();
  return {
    line,
    telegram,
    env: {
      LINE_CHANNEL_SECRET: TEST_LINE_SECRET,
      LINE_CHANNEL_ACCESS_TOKEN: TEST_LINE_TOKEN,
      LINE_API_BASE_URL: line.url,
      LINE_DATA_API_BASE_URL: line.url,
      TELEGRAM_BOT_TOKEN: TEST_TELEGRAM_TOKEN,
      TELEGRAM_WEBHOOK_SECRET: TEST_TELEGRAM_SECRET,
      TELEGRAM_API_BASE_URL: telegram.url,
      WEB_CHAT_SECRET: 'bench-ops-web-chat-secret-0123456789abcdef',
    },
  };
}

function lineWebhook(events: Record<string, unknown>[]): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ destination: 'Ubenchbot', events });
  return { body, headers: { 'content-type': 'application/json', 'x-line-signature': createHmac('sha256', TEST_LINE_SECRET).update(body).digest('base64') } };
}

let eventSeq = 0;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** A ULID, as LINE's webhookEventIds are. */
function ulid(): string {
  let time = '';
  for (let t = Date.now(), i = 0; i < 10; i++, t = Math.floor(t / 32)) time = CROCKFORD[t % 32] + time;
  let rest = (eventSeq++).toString(32).toUpperCase().padStart(16, '0');
  rest = [...rest].map((c) => CROCKFORD[parseInt(c, 32)]).join('');
  return time + rest;
}

const customerId = (i: number) => `U${i.toString(16).padStart(32, '0')}`;
const TEXTS = ['menu', 'hello', 'book', 'cancel', 'language', 'help', 'status', '你好', 'メニュー'];

function customerEvent(fakes: Fakes, i: number, first: boolean): Record<string, unknown> {
  const base = {
    mode: 'active',
    timestamp: Date.now(),
    source: { type: 'user', userId: customerId(i) },
    webhookEventId: ulid(),
    deliveryContext: { isRedelivery: false },
    replyToken: fakes.line.issueReplyToken({ userId: customerId(i), ttlMs: 120_000 }),
  };
  if (first) return { ...base, type: 'follow', follow: { isUnblocked: false } };
  return { ...base, type: 'message', message: { id: String(eventSeq), type: 'text', quoteToken: 'q', text: TEXTS[eventSeq % TEXTS.length] } };
}

async function processedSoFar(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return [...text.matchAll(/^dealer_events_processed_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

// ---------------------------------------------------------------------------------------------- idle

interface ProbeReport {
  memoryUsage: NodeJS.MemoryUsage;
  heap: { total_physical_size: number; malloced_memory: number; used_heap_size: number };
  spaces: { name: string; size: number; used: number }[];
  status: Record<string, number>;
  byMapping: Record<string, number>;
}

async function probe(running: Running, reportFile: string): Promise<ProbeReport> {
  rmSync(reportFile, { force: true });
  running.child.kill('SIGUSR2');
  for (let i = 0; i < 6000 && !existsSync(reportFile); i++) await sleep(10);
  return JSON.parse(readFileSync(reportFile, 'utf8')) as ProbeReport;
}

function printBreakdown(title: string, report: ProbeReport): void {
  const m = report.memoryUsage;
  console.log(`\n${title}`);
  console.log(`| part | MB |`);
  console.log(`|---|---|`);
  console.log(`| RSS (VmRSS) | ${mb(report.status.VmRSS!)} |`);
  console.log(`| – file-backed (RssFile: the node binary's code and ICU data, addons, shared libraries) | ${mb(report.status.RssFile!)} |`);
  console.log(`| – anonymous (RssAnon: V8 heap, malloc, stacks) | ${mb(report.status.RssAnon!)} |`);
  console.log(`| V8 heap committed (heapTotal) / in use (heapUsed) | ${mb(m.heapTotal)} / ${mb(m.heapUsed)} |`);
  for (const s of report.spaces.filter((s) => s.size > 0)) console.log(`| – ${s.name} committed / used | ${mb(s.size)} / ${mb(s.used)} |`);
  console.log(`| external (ArrayBuffers, buffers, SQLite statements held by JS) | ${mb(m.external)} |`);
  console.log(`| anonymous RSS outside the V8 heap (malloc: SQLite page cache, ICU, libuv, OpenSSL; thread stacks) | ${mb(report.status.RssAnon! - report.heap.total_physical_size)} |`);
  const top = Object.entries(report.byMapping)
    .slice(0, 6)
    .map(([name, bytes]) => `${name.replace(ROOT, '')} ${mb(bytes)}`)
    .join('; ');
  console.log(`| largest mappings | ${top} |`);
}

async function idle(fakes: Fakes, dir: string, nodeOptions: string[]): Promise<void> {
  const db = join(dir, 'idle.sqlite');
  // Migrate and seed once, so every start below finds the same database.
  (await openNodeStore({ kind: 'sqlite', path: db })).close();
  const all = ways(nodeOptions);
  console.log('\n## Idle memory, 10 s after healthy (no traffic), LINE and Telegram configured');
  console.log('| started as | service process RSS | anon / file | whole tree RSS | processes in the tree | ratio to bare Node |');
  console.log('|---|---|---|---|---|---|');
  let floor = 0;
  for (const key of WAYS) {
    const way = all[key];
    const port = await freePort();
    const running = launch(way.command, { ...fakes.env, ...way.env, PORT: String(port), DATABASE_URL: `file:${db}` });
    await untilHealthy(port, running);
    await sleep(10_000);
    const service = memoryOf(way.service(running.child.pid!))!;
    const tree = treeMemory(running.child.pid!);
    if (key === 'bare') floor = service.rss;
    console.log(`| ${way.name} | ${mb(service.rss)} MB | ${mb(service.anon)} / ${mb(service.file)} | ${mb(tree.total)} MB | ${tree.processes.map((p) => `${p.command.split(' ').slice(0, 2).join(' ').slice(0, 40)} ${mb(p.memory.rss)}`).join('; ')} | ${(service.rss / floor).toFixed(2)} |`);
    await stop(running);
  }
  const port = await freePort();
  const reportFile = join(dir, 'idle-memory.json');
  const probed = launch([process.execPath, '--import', PROBE, ...all.started.command.slice(1)], { ...fakes.env, ...all.started.env, PORT: String(port), DATABASE_URL: `file:${db}`, BENCH_MEMORY_REPORT: reportFile });
  await untilHealthy(port, probed);
  await sleep(10_000);
  printBreakdown('Where the idle compiled service\'s memory is:', await probe(probed, reportFile));
  await stop(probed);
}

// ---------------------------------------------------------------------------------------------- start

/** CPU seconds (user + system) the process tree has used, including children it has waited for. */
function cpuSeconds(root: number): number {
  const ticks = (pid: number, withChildren: boolean) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      // utime, stime, cutime, cstime are fields 14–17 of the line, 12–15 after the command name.
      return Number(fields[11]) + Number(fields[12]) + (withChildren ? Number(fields[13]) + Number(fields[14]) : 0);
    } catch {
      return 0;
    }
  };
  return ([root, ...descendants(root)].reduce((sum, pid) => sum + ticks(pid, pid === root), 0) / 100);
}

async function startTimes(fakes: Fakes, dir: string, nodeOptions: string[]): Promise<void> {
  const db = join(dir, 'start.sqlite');
  (await openNodeStore({ kind: 'sqlite', path: db })).close();
  const runs = Number(args.runs);
  const all = ways(nodeOptions);
  const times = new Map<string, { wall: number; cpu: number }[]>();
  // Round by round, every way once in each, so that other work on the machine falls on all of them alike.
  for (let i = 0; i < runs; i++) {
    for (const key of WAYS) {
      const port = await freePort();
      const began = performance.now();
      const running = launch(all[key].command, { ...fakes.env, ...all[key].env, PORT: String(port), DATABASE_URL: `file:${db}` });
      await untilHealthy(port, running);
      const wall = performance.now() - began;
      const cpu = cpuSeconds(running.child.pid!);
      await stop(running);
      times.set(key, [...(times.get(key) ?? []), { wall, cpu }]);
    }
  }
  console.log(`\n## Start to healthy on a migrated SQLite database (${runs} rounds, every way once a round; spawn → first 200 from /healthz, polled every 5 ms)`);
  console.log('| started as | wall, median | wall, min–max | CPU time to healthy, median | wall ÷ bare Node | CPU ÷ bare Node |');
  console.log('|---|---|---|---|---|---|');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const floor = { wall: median(times.get('bare')!.map((t) => t.wall)), cpu: median(times.get('bare')!.map((t) => t.cpu)) };
  for (const key of WAYS) {
    const wall = times.get(key)!.map((t) => t.wall);
    const cpu = median(times.get(key)!.map((t) => t.cpu));
    console.log(`| ${all[key].name} | ${median(wall).toFixed(0)} ms | ${Math.min(...wall).toFixed(0)}–${Math.max(...wall).toFixed(0)} ms | ${(cpu * 1000).toFixed(0)} ms | ${(median(wall) / floor.wall).toFixed(1)} | ${(cpu / floor.cpu).toFixed(1)} |`);
  }
}

// ---------------------------------------------------------------------------------------------- backup

/** A SQLite file of the service's schema with `megabytes` of customers, identities and transcript in it. */
async function bigDatabase(path: string, megabytes: number): Promise<void> {
  (await openNodeStore({ kind: 'sqlite', path })).close();
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = OFF');
  sqlite.pragma('synchronous = OFF');
  const now = new Date().toISOString();
  const customer = sqlite.prepare("insert into customers (id, display_name, phone, locale, category, notes, consent_at, opted_out_at, erased_at, merged_into_id, created_at, updated_at) values (?, ?, ?, 'zh-TW', 'prospect', null, null, null, null, null, ?, ?)");
  const identity = sqlite.prepare("insert into channel_identities (id, customer_id, channel, external_id, display_name, reachable, unreachable_since, created_at, last_seen_at) values (?, ?, 'line', ?, ?, 1, null, ?, ?)");
  const message = sqlite.prepare("insert into messages (customer_id, channel, direction, sender, kind, text, payload, flow, step, event_id, outbox_id, staff_user_id, created_at) values (?, 'line', ?, ?, 'text', ?, null, 'booking', 'choose_day', ?, null, null, ?)");
  const texts = ['您好，我想預約下週二上午的定期保養，順便檢查一下冷氣，謝謝。', '請選擇日期：明天、後天，或輸入想要的日期。', 'Your car is ready to collect at the Taipei branch. The invoice is attached.', '追加項目：前煞車來令片更換 NT$3,200，是否同意？'];
  const customers = 100_000;
  sqlite.transaction(() => {
    for (let i = 0; i < customers; i++) {
      customer.run(`c${i}`, `客戶 ${i}`, `+8869${String(i).padStart(8, '0')}`, now, now);
      identity.run(`i${i}`, `c${i}`, customerId(i), `客戶 ${i}`, now, now);
    }
  })();
  const pageSize = sqlite.pragma('page_size', { simple: true }) as number;
  let n = 0;
  while ((sqlite.pragma('page_count', { simple: true }) as number) * pageSize < megabytes * MB) {
    sqlite.transaction(() => {
      for (let i = 0; i < 20_000; i++, n++) message.run(`c${n % customers}`, n % 2 ? 'out' : 'in', n % 2 ? 'bot' : 'customer', `${texts[n % texts.length]} #${n} ${'．'.repeat(n % 200)}`, `e${n}`, now);
    })();
  }
  sqlite.pragma('journal_mode = WAL');
  sqlite.close();
}

function timed<T>(fn: () => T): { ms: number; value: T } {
  const began = performance.now();
  const value = fn();
  return { ms: performance.now() - began, value };
}

async function backups(fakes: Fakes, dir: string): Promise<void> {
  const megabytes = Number(args['backup-mb']);
  const source = args.keep ?? join(dir, 'big.sqlite');
  if (!existsSync(source)) {
    const made = performance.now();
    await bigDatabase(source, megabytes);
    console.log(`\n(made a ${mb(statSync(source).size)} MB database in ${((performance.now() - made) / 1000).toFixed(0)} s${args.keep ? `, kept at ${source}` : ''})`);
  }
  const size = statSync(source).size;
  console.log(`\n## Backup of a ${mb(size)} MB SQLite file (${size.toLocaleString('en')} bytes)`);
  console.log('| how | wall time | MB/s | ratio to plain copy |');
  console.log('|---|---|---|---|');

  const plain = join(dir, 'plain-copy.sqlite');
  const copy = timed(() => {
    copyFileSync(source, plain);
    const fd = openSync(plain, 'r+');
    fsyncSync(fd);
    closeSync(fd);
  });
  rmSync(plain);
  const row = (name: string, ms: number) => console.log(`| ${name} | ${(ms / 1000).toFixed(2)} s | ${(size / MB / (ms / 1000)).toFixed(0)} | ${(ms / copy.ms).toFixed(2)} |`);
  row('plain file copy + fsync (baseline; not consistent while the service writes)', copy.ms);

  const vacuumed = join(dir, 'vacuum-into.sqlite');
  const sqlite = new SQLite(source, { readonly: true });
  row('SQLite `VACUUM INTO` (another consistent way)', timed(() => sqlite.prepare('vacuum into ?').run(vacuumed)).ms);
  sqlite.close();
  rmSync(vacuumed);

  const env = { ...fakes.env, DATABASE_URL: `file:${source}` };
  const target = join(dir, 'backup.sqlite');
  let began = performance.now();
  let backup = launch([process.execPath, 'dist/scripts/backup.js', target], env);
  if ((await backup.exited) !== 0) throw new Error(backup.output());
  row(`\`npm run backup\`, service stopped: ${backup.output().trim().replace(/^.*MiB, /, '').replace(/\.$/, '')}`, performance.now() - began);
  rmSync(target);

  // The same with the service running on the file and taking LINE webhooks, 16 at a time, all along.
  const port = await freePort();
  const start = started();
  const service = launch(start.command, { ...env, ...start.env, PORT: String(port) });
  await untilHealthy(port, service);
  let loading = true;
  let acknowledged = 0;
  let during = 0;
  let inBackup = false;
  const load = Array.from({ length: 16 }, async (_, w) => {
    for (let n = 0; loading; n++) {
      const { body, headers } = lineWebhook([customerEvent(fakes, (w * 7919 + n) % 100_000, false)]);
      const res = await fetch(`http://127.0.0.1:${port}/webhooks/line`, { method: 'POST', headers, body });
      await res.arrayBuffer();
      if (res.ok) {
        acknowledged++;
        if (inBackup) during++;
      }
    }
  });
  await sleep(3000);
  const before = await processedSoFar(port);
  inBackup = true;
  began = performance.now();
  backup = launch([process.execPath, 'dist/scripts/backup.js', target], env);
  if ((await backup.exited) !== 0) throw new Error(backup.output());
  const ms = performance.now() - began;
  inBackup = false;
  const processedDuring = (await processedSoFar(port)) - before;
  loading = false;
  await Promise.all(load);
  row(`\`npm run backup\` while the service runs and takes webhooks: ${backup.output().trim().replace(/^.*MiB, /, '').replace(/\.$/, '')}`, ms);
  console.log(`\nDuring that backup the service acknowledged ${during} webhooks and processed ${processedDuring} events (${(processedDuring / (ms / 1000)).toFixed(0)}/s).`);
  await stop(service);
  const check = new SQLite(target, { readonly: true });
  console.log(`The copy: integrity_check ${check.pragma('integrity_check', { simple: true })}, ${(check.prepare('select count(*) as n from messages').get() as { n: number }).n.toLocaleString('en')} transcript rows.`);
  check.close();
  rmSync(target);
  if (!args.keep) rmSync(source, { force: true });
}

// ---------------------------------------------------------------------------------------------- soak

interface Drive {
  sent: number;
  followed: number;
  processed: number;
}

/**
 * Sends LINE webhooks to the service until `endAt`: first a follow from each of `customers` customers in
 * turn, then messages from customers picked at random. At most WINDOW events are sent and not yet processed,
 * so the engine is always busy and no backlog grows: the rate is the service's processing rate. `tick` is
 * called every 200 ms with the counts so far.
 */
async function drive(fakes: Fakes, port: number, customers: number, endAt: number, tick: (d: Drive) => Promise<void> | void): Promise<Drive> {
  const WINDOW = 800;
  const d: Drive = { sent: 0, followed: 0, processed: 0 };
  let stopping = false;
  const watcher = (async () => {
    while (!stopping) {
      d.processed = await processedSoFar(port);
      await tick(d);
      await sleep(200);
    }
  })();
  const senders = Array.from({ length: 8 }, async () => {
    while (Date.now() < endAt) {
      if (d.sent - d.processed >= WINDOW) {
        await sleep(20);
        continue;
      }
      const first = d.followed < customers;
      const i = first ? d.followed++ : Math.floor(Math.random() * customers);
      d.sent++;
      const { body, headers } = lineWebhook([customerEvent(fakes, i, first)]);
      const res = await fetch(`http://127.0.0.1:${port}/webhooks/line`, { method: 'POST', headers, body });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`webhook ${res.status}`);
    }
  });
  await Promise.all(senders);
  // Let the engine finish what was sent.
  const drainUntil = Date.now() + 120_000;
  while (d.processed < d.sent && Date.now() < drainUntil) await sleep(200);
  stopping = true;
  await watcher;
  // The fake keeps every request it saw; the benchmark needs none of them.
  fakes.line.requests.splice(0);
  return d;
}

async function soak(fakes: Fakes, dir: string, nodeOptions: string[]): Promise<void> {
  const minutes = Number(args['soak-minutes']);
  const customers = Number(args.customers);
  const db = join(dir, 'soak.sqlite');
  const reportFile = join(dir, 'soak-memory.json');
  const port = await freePort();
  const start = started(['--import', PROBE, ...nodeOptions]);
  const service = launch(start.command, { ...fakes.env, ...start.env, PORT: String(port), DATABASE_URL: `file:${db}`, BENCH_MEMORY_REPORT: reportFile });
  await untilHealthy(port, service);
  console.log(`\n## Soak: ${customers.toLocaleString('en')} LINE customers follow, then keep writing; ${minutes} minutes in all`);

  const began = Date.now();
  const samples: { at: number; rss: number; processed: number; followed: number; heapUsed?: number; heapTotal?: number }[] = [];
  let next = began;
  const d = await drive(fakes, port, customers, began + minutes * 60_000, async ({ processed, followed }) => {
    if (Date.now() < next) return;
    const sample: (typeof samples)[number] = { at: Date.now(), rss: memoryOf(service.child.pid!)!.rss, processed, followed };
    if (samples.length % 6 === 0) {
      const report = await probe(service, reportFile);
      sample.heapUsed = report.memoryUsage.heapUsed;
      sample.heapTotal = report.memoryUsage.heapTotal;
      fakes.line.requests.splice(0);
    }
    samples.push(sample);
    next += 10_000;
  });
  const final = await probe(service, reportFile);
  await stop(service);

  console.log(`Sent ${d.sent.toLocaleString('en')} events (${d.followed.toLocaleString('en')} follows, then messages), processed ${d.processed.toLocaleString('en')} in ${((Date.now() - began) / 1000).toFixed(0)} s; the fake LINE API accepted ${fakes.line.accepted.all().length.toLocaleString('en')} sends.`);
  console.log('| minute | customers so far | events processed | events/s in the minute | RSS MB | heap used / committed MB |');
  console.log('|---|---|---|---|---|---|');
  let last = { processed: 0, at: began };
  for (const s of samples.filter((_, i) => i % 6 === 0)) {
    const rate = (s.processed - last.processed) / Math.max(1, (s.at - last.at) / 1000);
    console.log(`| ${((s.at - began) / 60_000).toFixed(0)} | ${s.followed.toLocaleString('en')} | ${s.processed.toLocaleString('en')} | ${rate.toFixed(0)} | ${mb(s.rss)} | ${s.heapUsed === undefined ? '' : `${mb(s.heapUsed)} / ${mb(s.heapTotal!)}`} |`);
    last = { processed: s.processed, at: s.at };
  }
  const rss = samples.map((s) => s.rss);
  const lastTen = samples.filter((s) => s.at - began >= (minutes - 10) * 60_000).map((s) => s.rss);
  const allFollowed = samples.find((s) => s.followed >= customers);
  console.log(
    `\nRSS: max ${mb(Math.max(...rss))} MB; over the last ${Math.min(10, minutes)} minutes between ${mb(Math.min(...lastTen))} and ${mb(Math.max(...lastTen))} MB, ${mb(lastTen[0]!)} at its start and ${mb(lastTen.at(-1)!)} at its end` +
      `${allFollowed ? `; when all ${customers.toLocaleString('en')} customers had followed (minute ${((allFollowed.at - began) / 60_000).toFixed(1)}): ${mb(allFollowed.rss)} MB` : ''}.`,
  );
  printBreakdown('Where the memory is at the end of the soak:', final);
  const sqlite = new SQLite(db, { readonly: true });
  const count = (table: string) => (sqlite.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n.toLocaleString('en');
  console.log(`\nThe database at the end: ${mb(statSync(db).size)} MB; ${count('customers')} customers, ${count('messages')} transcript rows, ${count('outbox')} outbox rows.`);
  sqlite.close();
}

// ---------------------------------------------------------------------------------------------- tuning

/** Node and allocator settings tried against the defaults, each run twice, interleaved, on the same load. */
const TUNINGS: { name: string; nodeOptions: string[]; env: Record<string, string> }[] = [
  { name: 'defaults (baseline)', nodeOptions: [], env: {} },
  { name: '--max-semi-space-size=2', nodeOptions: ['--max-semi-space-size=2'], env: {} },
  { name: '--optimize-for-size', nodeOptions: ['--optimize-for-size'], env: {} },
  { name: '--optimize-for-size, MALLOC_ARENA_MAX=2', nodeOptions: ['--optimize-for-size'], env: { MALLOC_ARENA_MAX: '2' } },
];

async function tuning(fakes: Fakes, dir: string): Promise<void> {
  const seconds = Number(args['tuning-seconds']);
  const customers = 5000;
  const results = new Map<string, { rate: number; rss: number }[]>();
  for (let round = 0; round < Number(args['tuning-rounds']); round++) {
    for (const t of TUNINGS) {
      const db = join(dir, `tuning-${round}-${TUNINGS.indexOf(t)}.sqlite`);
      const port = await freePort();
      const service = launch([untuned[0]!, ...t.nodeOptions, ...untuned.slice(1)], { ...fakes.env, ...t.env, PORT: String(port), DATABASE_URL: `file:${db}` });
      await untilHealthy(port, service);
      const began = Date.now();
      let maxRss = 0;
      // The rate is taken after the first third, once the process has warmed up.
      let warm: { at: number; processed: number } | null = null;
      const d = await drive(fakes, port, customers, began + seconds * 1000, ({ processed }) => {
        maxRss = Math.max(maxRss, memoryOf(service.child.pid!)!.rss);
        if (!warm && Date.now() - began > (seconds * 1000) / 3) warm = { at: Date.now(), processed };
      });
      const rate = (d.processed - warm!.processed) / ((Date.now() - warm!.at) / 1000);
      await stop(service);
      rmSync(db, { force: true });
      const list = results.get(t.name) ?? [];
      list.push({ rate, rss: maxRss });
      results.set(t.name, list);
    }
  }
  console.log(`\n## Memory settings: ${seconds} s each of ${customers.toLocaleString('en')} customers following and writing, every setting ${args['tuning-rounds']} times, interleaved`);
  console.log('| setting | events/s (each run) | max RSS MB (each run) | events/s ÷ defaults | max RSS ÷ defaults |');
  console.log('|---|---|---|---|---|');
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const base = results.get(TUNINGS[0]!.name)!;
  for (const t of TUNINGS) {
    const r = results.get(t.name)!;
    console.log(`| ${t.name} | ${r.map((x) => x.rate.toFixed(0)).join(', ')} | ${r.map((x) => mb(x.rss)).join(', ')} | ${(mean(r.map((x) => x.rate)) / mean(base.map((x) => x.rate))).toFixed(2)} | ${(mean(r.map((x) => x.rss)) / mean(base.map((x) => x.rss))).toFixed(2)} |`);
  }
}

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'dealer-bench-ops-'));
  const fakes = await startFakes();
  const nodeOptions = args['node-options'] ? args['node-options'].split(' ') : [];
  console.log(`# Operations benchmark: node ${process.version}, ${new Date().toISOString()}${nodeOptions.length ? `, service node options ${nodeOptions.join(' ')}` : ''}`);
  try {
    if (parts.has('idle')) await idle(fakes, dir, nodeOptions);
    if (parts.has('start')) await startTimes(fakes, dir, nodeOptions);
    if (parts.has('backup')) await backups(fakes, dir);
    if (parts.has('tuning')) await tuning(fakes, dir);
    if (parts.has('soak')) await soak(fakes, dir, nodeOptions);
  } finally {
    await fakes.line.close();
    await fakes.telegram.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
