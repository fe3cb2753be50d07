import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

/*
 * The Node entry as `npm start` runs it: a real process with a SQLite file, real HTTP, JSON logs, a start-up
 * refused for bad configuration, and a clean stop on SIGTERM.
 */

const ROOT = new URL('../../', import.meta.url).pathname;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/entry/node.ts'], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

async function waitFor(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
}

describe('the Node entry (npm start)', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('serves /healthz and the web chat from a fresh SQLite file, and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dealer-node-'));
    dirs.push(dir);
    const port = await freePort();
    const run = start({ PORT: String(port), DATABASE_URL: `file:${join(dir, 'chat.sqlite')}` });
    children.push(run.child);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok);
    expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).toEqual({ status: 'ok', database: 'ok' });

    const page = await fetch(`http://127.0.0.1:${port}/chat`, { headers: { 'accept-language': 'en' } });
    expect(page.status).toBe(200);
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    const post = await fetch(`http://127.0.0.1:${port}/chat/api/start`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', 'accept-language': 'en' }, body: JSON.stringify({ id: 'node-entry-start' }) });
    expect(post.status).toBe(200);
    // The background loops send the greeting without anyone asking.
    await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/chat/api/messages?after=0`, { headers: { cookie } });
      return ((await res.json()) as { messages: unknown[] }).messages.length > 0;
    });

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const logs = run.output();
    expect(logs).toContain('"msg":"fresh database: demo branch created"');
    expect(logs).toContain('shutting down');
    expect(logs).toContain('stay queued for the next start');
  });

  it('refuses to start with a wrong setting and says which and what is expected', async () => {
    const run = start({ PORT: 'eighty', DEALER_TIMEZONE: 'Mars/Olympus' });
    children.push(run.child);
    expect(await run.exited).toBe(78);
    expect(run.output()).toContain('PORT: expected a whole number');
    expect(run.output()).toContain('DEALER_TIMEZONE: expected an IANA time zone');
  });
});
