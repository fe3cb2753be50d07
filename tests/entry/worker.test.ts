import type { ExecutionContext, ScheduledController } from '@cloudflare/workers-types';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestD1, type TestD1 } from '../helpers/d1';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { worker, type WorkerEnv } from '../../src/entry/worker';
import { enqueueReplies } from '../../src/outbox/outbox';
import { createD1Store } from '../../src/store/d1-driver';
import type { Store } from '../../src/store/store';

/*
 * The Workers entry itself: first in Node against real D1 (Miniflare), calling fetch and scheduled the
 * way the runtime does; then bundled by wrangler and run in workerd with `wrangler dev`.
 */

interface ChatMessage {
  id: number;
  direction: 'in' | 'out';
  text: string | null;
}

/** What the runtime passes as the third argument; keeps every waitUntil promise so the test can await them. */
function executionContext(): { ctx: ExecutionContext; waited: Promise<unknown>[] } {
  const waited: Promise<unknown>[] = [];
  const ctx = { waitUntil: (p: Promise<unknown>) => void waited.push(p), passThroughOnException() {}, props: {} };
  return { ctx: ctx as unknown as ExecutionContext, waited };
}

describe('Workers entry on D1 (in Node)', () => {
  // One Miniflare (slow to start) with an empty database for each test.
  const databases = Array.from({ length: 8 }, (_, i) => `DB${i}`);
  let mf: TestD1;
  let env: WorkerEnv;
  let store: Store;

  beforeAll(() => {
    mf = startTestD1(databases);
  });
  afterAll(async () => {
    await mf.dispose();
  });

  beforeEach(async () => {
    const name = databases.shift();
    if (!name) throw new Error('add names to databases: every test needs its own database');
    const d1 = mf.database(name);
    env = {
      DB: d1,
      DEALER_NAME: 'Test Motors',
      DEALER_TIMEZONE: 'Asia/Taipei',
      DEFAULT_LOCALE: 'en',
      LOG_LEVEL: 'silent',
      // Means nothing on Workers; a value Node would refuse shows it is not read.
      DATABASE_URL: 'mysql://not-used-on-workers',
    };
    store = createD1Store(d1);
  });

  async function request(path: string, init: RequestInit = {}) {
    const { ctx, waited } = executionContext();
    const response = await worker.fetch(new Request(`http://dealer.test${path}`, init), env, ctx);
    return { response, waited };
  }

  /** Opens /chat as a browser does and returns its visitor cookie. */
  async function visitor(): Promise<string> {
    const { response } = await request('/chat', { headers: { 'accept-language': 'en' } });
    expect(response.status).toBe(200);
    return response.headers.get('set-cookie')!.split(';')[0]!;
  }

  const post = (cookie: string, path: string, body: unknown) =>
    request(`/chat/api/${path}`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  async function transcript(cookie: string): Promise<ChatMessage[]> {
    const { response } = await request('/chat/api/messages?after=0', { headers: { cookie } });
    return ((await response.json()) as { messages: ChatMessage[] }).messages;
  }

  it('migrates and seeds a fresh database before the first request, then reports healthy', async () => {
    const { response } = await request('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', database: 'ok' });
    const branches = await store.db.selectFrom('branches').select(['name', 'time_zone', 'is_demo']).execute();
    expect(branches).toEqual([{ name: 'Test Motors (demo branch)', time_zone: 'Asia/Taipei', is_demo: 1 }]);
    // The web chat key was made once and kept in D1, since WEB_CHAT_SECRET is not set.
    const secret = await store.db.selectFrom('settings').select('value').where('key', '=', 'web_chat_secret').executeTakeFirst();
    expect(secret?.value).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answers a web chat message from waitUntil right after the response, and a retried post once', async () => {
    const cookie = await visitor();
    const started = await post(cookie, 'start', { id: 'start-0001' });
    expect(started.response.status).toBe(200);
    expect(await started.response.json()).toEqual({ ok: true, duplicate: false });
    expect(started.waited).toHaveLength(1);
    await Promise.all(started.waited);
    const [greeting] = await transcript(cookie);
    expect(greeting).toMatchObject({ direction: 'out' });
    expect(greeting!.text).toContain('Test Motors');

    const first = await post(cookie, 'messages', { id: 'text-000001', text: 'human' });
    await Promise.all(first.waited);
    const retried = await post(cookie, 'messages', { id: 'text-000001', text: 'human' });
    expect(await retried.response.json()).toEqual({ ok: true, duplicate: true });
    await Promise.all(retried.waited);
    const messages = await transcript(cookie);
    expect(messages.map((m) => m.direction)).toEqual(['out', 'in', 'out']);
    // Open: a person joins now; closed (the test runs on the real clock): when one will answer.
    expect(messages[2]!.text).toMatch(/asked our team|a person from our team will answer by/);
    expect(await store.db.selectFrom('outbox').select('status').execute()).toEqual([{ status: 'sent' }, { status: 'sent' }]);
  });

  it('keeps one service per isolate across requests', async () => {
    const cookie = await visitor();
    for (const id of ['start-0002', 'start-0003']) await Promise.all((await post(cookie, 'start', { id })).waited);
    // Cloudflare's edge names the connection's address; /metrics answers this machine by default (METRICS_ALLOW).
    const { response } = await request('/metrics', { headers: { 'cf-connecting-ip': '127.0.0.1' } });
    // Counters live in the service: two events counted means both requests used the same one.
    expect(await response.text()).toMatch(/dealer_events_processed_total\{channel="web",result="ok"\} 2/);
  });

  it('sends what is due and prunes old event ids from the scheduled pass', async () => {
    const cookie = await visitor();
    await Promise.all((await post(cookie, 'start', { id: 'start-0004' })).waited);
    const customer = await store.db.selectFrom('channel_identities').select(['customer_id', 'external_id']).executeTakeFirstOrThrow();
    // A staff message written without a request to drain it, as a retry that became due would be.
    await enqueueReplies(store.db, {
      customerId: customer.customer_id,
      channel: 'web',
      externalId: customer.external_id,
      replies: [{ type: 'text', text: { key: 'menu.prompt' }, choices: [] }],
      source: 'staff',
      now: new Date().toISOString(),
    });
    await store.db.insertInto('processed_events').values({ channel: 'web', event_id: 'ancient', received_at: '2020-01-01T00:00:00.000Z' }).execute();

    const controller = (scheduledTime: number) => ({ scheduledTime, cron: '* * * * *', noRetry() {} }) as unknown as ScheduledController;
    const { ctx } = executionContext();
    await worker.scheduled(controller(Date.parse('2026-11-20T02:07:00Z')), env, ctx);
    expect((await transcript(cookie)).at(-1)!.text).toBe('What would you like to do?');
    expect(await store.db.selectFrom('outbox').select('status').where('status', '!=', 'sent').execute()).toEqual([]);
    // Pruning runs on the hour only.
    expect(await store.db.selectFrom('processed_events').select('event_id').where('event_id', '=', 'ancient').execute()).toHaveLength(1);
    await worker.scheduled(controller(Date.parse('2026-11-20T03:00:00Z')), env, ctx);
    expect(await store.db.selectFrom('processed_events').select('event_id').where('event_id', '=', 'ancient').execute()).toHaveLength(0);
    // Web chat event ids are the visitor's own: `<visitor>:<the page's id>`.
    expect(await store.db.selectFrom('processed_events').select('event_id').execute()).toEqual([{ event_id: expect.stringMatching(/:start-0004$/) }]);
  });

  it('answers 503 without details when a setting is wrong, logs the reason, and starts once it is fixed', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    env.DEFAULT_LOCALE = 'klingon';
    const { response } = await request('/healthz');
    expect(response.status).toBe(503);
    expect(await response.text()).not.toContain('DEFAULT_LOCALE');
    expect(logged.mock.calls.map((c) => String(c[0])).join('\n')).toContain('DEFAULT_LOCALE');
    logged.mockRestore();
    env.DEFAULT_LOCALE = 'en';
    expect((await request('/healthz')).response.status).toBe(200);
  });
});

/** A port nothing listens on yet. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('Workers entry bundled by wrangler and run in workerd (wrangler dev)', () => {
  let child: ChildProcess;
  let base: string;
  let stateDir: string;
  let output = '';

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    stateDir = mkdtempSync(join(tmpdir(), 'dealer-chat-wrangler-'));
    child = spawn(
      'npx',
      ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', stateDir, '--test-scheduled', '--show-interactive-dev-session=false', '--var', 'DEALER_NAME:Test Motors', '--var', 'DEFAULT_LOCALE:en'],
      {
        cwd: process.cwd(),
        // Its own process group, so the whole tree (npx → wrangler → workerd) stops together.
        detached: true,
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false', WRANGLER_LOG_PATH: stateDir, CI: '1', NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout!.on('data', (d) => (output += String(d)));
    child.stderr!.on('data', (d) => (output += String(d)));
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`wrangler dev exited early:\n${output}`);
      try {
        const res = await fetch(`${base}/healthz`);
        if (res.status === 200) break;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error(`wrangler dev did not answer /healthz within 90 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 120_000);

  afterAll(async () => {
    if (child?.pid && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    }
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('serves /healthz and the web chat, and delivers the reply through the customer’s Durable Object without any other trigger', async () => {
    const health = await fetch(`${base}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok', database: 'ok' });

    const page = await fetch(`${base}/chat`, { headers: { 'accept-language': 'en' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html lang="en">');
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    const started = await fetch(`${base}/chat/api/start`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'start-wrangler' }) });
    expect(await started.json()).toEqual({ ok: true, duplicate: false });

    let messages: ChatMessage[] = [];
    for (let i = 0; i < 40 && messages.length === 0; i++) {
      const res = await fetch(`${base}/chat/api/messages?after=0`, { headers: { cookie } });
      messages = ((await res.json()) as { messages: ChatMessage[] }).messages;
      if (messages.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(messages[0]?.text).toContain('Test Motors');

    // The customer's Durable Object processed the event, not this isolate: its counters are the object's.
    const metrics = await (await fetch(`${base}/metrics`, { headers: { 'cf-connecting-ip': '127.0.0.1' } })).text();
    expect(metrics).not.toMatch(/dealer_events_processed_total\{channel="web",result="ok"\} 1/);
  });

  it('runs the scheduled handler', async () => {
    const res = await fetch(`${base}/__scheduled?cron=*+*+*+*+*`);
    expect(res.status).toBe(200);
    expect(output).not.toMatch(/outbox drain failed|Uncaught|worker could not start/);
  });
});
