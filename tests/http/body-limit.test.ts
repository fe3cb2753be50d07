import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveNode } from '../../src/entry/node-http';
import { BODY_LIMITS } from '../../src/http/body-limit';
import { startFakeLineApi, type FakeLineApi } from '../fakes/line-api';
import { startFakeTelegramApi, type FakeTelegramApi } from '../fakes/telegram-api';
import { TEST_LINE_SECRET, TEST_TELEGRAM_SECRET, testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { apiToken } from '../helpers/staff';
import { dialects } from '../helpers/stores';

/*
 * Bodies over the limit, as a real HTTP client on a kept-alive connection meets them on the Node server
 * (served through serveNode, as src/entry/node.ts serves it). A 413 must say `Connection: close`, so a client,
 * proxy or platform never sends its next request on a connection the server is about to drop, and the next
 * request is answered normally.
 */

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  socket: Socket;
  /** Resolves once the connection that carried this request is closed (by either side). */
  closed: Promise<void>;
}

interface Sent {
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Sends the body without Content-Length, in pieces. */
  chunked?: boolean;
}

function request(agent: http.Agent, base: string, method: string, path: string, sent: Sent = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const headers: Record<string, string> = { ...sent.headers };
    const body = sent.body === undefined ? undefined : Buffer.from(sent.body);
    if (body && !sent.chunked) headers['content-length'] = String(body.length);
    if (body && sent.chunked) headers['transfer-encoding'] = 'chunked';
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, agent, headers }, (res) => {
      const socket = res.socket as Socket;
      const closed = socket.destroyed ? Promise.resolve() : new Promise<void>((done) => socket.once('close', () => done()));
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text, socket, closed }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (!body) return void req.end();
    if (!sent.chunked) return void req.end(body);
    // Small pieces, so the server sees the size grow rather than one chunk over the limit.
    const piece = 16 * 1024;
    let offset = 0;
    const pump = (): void => {
      while (offset < body.length) {
        const part = body.subarray(offset, offset + piece);
        offset += part.length;
        if (!req.write(part)) return void req.once('drain', pump);
      }
      req.end();
    };
    req.on('error', () => undefined);
    pump();
  });
}

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms).unref())]);

const sign = (body: string) => createHmac('sha256', TEST_LINE_SECRET).update(body).digest('base64');

describe('a body over the limit on a kept-alive connection to the Node server', () => {
  let line: FakeLineApi;
  let telegram: FakeTelegramApi;
  let svc: TestService;
  let server: ServerType;
  let base: string;
  let agent: http.Agent;
  let token: string;
  let visitorCookie: string;

  beforeAll(async () => {
    line = await startFakeLineApi();
    telegram = await startFakeTelegramApi();
    svc = await startTestService(dialects[0]!, testConfig({}, { line: line.url, telegram: telegram.url }));
    server = serveNode(svc.app, { port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    token = (await apiToken(svc, 'manager')).token;
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const page = await request(agent, base, 'GET', '/chat');
    visitorCookie = String(page.headers['set-cookie']![0]).split(';')[0]!;
  });
  afterAll(async () => {
    agent.destroy();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      (server as http.Server).closeAllConnections();
    });
    await svc.close();
    await line.close();
    await telegram.close();
  });

  const pingBody = '{"destination":"Ubot","events":[]}';
  const update = () =>
    JSON.stringify({ update_id: 7_000_001, message: { message_id: 1, date: Math.floor(Date.now() / 1000), chat: { id: 4242, type: 'private', first_name: 'Mei' }, from: { id: 4242, is_bot: false, first_name: 'Mei', language_code: 'en' }, text: 'hello' } });

  const routes: { name: string; limit: number; oversized: () => { path: string; headers: Record<string, string> }; next: () => { method: string; path: string; sent: Sent; status: number } }[] = [
    {
      name: 'the LINE webhook',
      limit: BODY_LIMITS.webhook,
      oversized: () => ({ path: '/webhooks/line', headers: { 'content-type': 'application/json', 'x-line-signature': 'sig' } }),
      next: () => ({ method: 'POST', path: '/webhooks/line', sent: { headers: { 'content-type': 'application/json', 'x-line-signature': sign(pingBody) }, body: pingBody }, status: 200 }),
    },
    {
      name: 'the Telegram webhook',
      limit: BODY_LIMITS.webhook,
      oversized: () => ({ path: '/webhooks/telegram', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TEST_TELEGRAM_SECRET } }),
      next: () => ({ method: 'POST', path: '/webhooks/telegram', sent: { headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TEST_TELEGRAM_SECRET }, body: update() }, status: 200 }),
    },
    {
      name: 'the web chat API',
      limit: BODY_LIMITS.webChat,
      oversized: () => ({ path: '/chat/api/messages', headers: { 'content-type': 'application/json', cookie: visitorCookie } }),
      next: () => ({ method: 'POST', path: '/chat/api/start', sent: { headers: { 'content-type': 'application/json', cookie: visitorCookie }, body: JSON.stringify({ id: `start-${crypto.randomUUID()}` }) }, status: 200 }),
    },
    {
      name: 'the staff API',
      limit: BODY_LIMITS.api,
      oversized: () => ({ path: '/api/customers', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } }),
      next: () => ({ method: 'GET', path: '/api/openapi.json', sent: { headers: { authorization: `Bearer ${token}` } }, status: 200 }),
    },
    {
      name: 'the console sign-in',
      limit: BODY_LIMITS.console,
      oversized: () => ({ path: '/console/login', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      next: () => ({ method: 'POST', path: '/console/login', sent: { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=nobody%40dealer.example&password=wrong' }, status: 401 }),
    },
  ];

  describe.each([
    { how: 'with Content-Length', chunked: false },
    { how: 'chunked, without Content-Length', chunked: true },
  ])('$how', ({ chunked }) => {
    it.each(routes)('$name answers 413 with Connection: close, and the next request on the agent is answered', async (route) => {
      const { path, headers } = route.oversized();
      const big = Buffer.alloc(route.limit * 2, 'x');
      const first = await request(agent, base, 'POST', path, { headers, body: big, chunked });
      expect(first.status).toBe(413);
      expect(first.headers.connection).toBe('close');
      expect(JSON.parse(first.text)).toEqual({ error: `the request body is larger than ${route.limit} bytes` });
      await withTimeout(first.closed, 2000, 'closing the refused connection');

      // Sent the same way, so a chunked body under the limit is seen to reach the route whole.
      const next = route.next();
      const second = await request(agent, base, next.method, next.path, { ...next.sent, chunked });
      expect(second.status).toBe(next.status);
      expect(second.headers.connection).toBe('keep-alive');
      // The connection of an ordinary answer stays open for the next request.
      const third = await request(agent, base, 'GET', '/healthz');
      expect(third.status).toBe(200);
      expect(third.socket).toBe(second.socket);
    });

  });
});

/*
 * The Node entry as `npm start` runs it, asked to take a 200 MB body: the process must refuse it without
 * taking it in (before, a 200 MB sign-in took the process from 146 MB to 922 MB), and cut the upload off.
 */
describe('a 200 MB upload to the Node entry', () => {
  const ROOT = new URL('../../', import.meta.url).pathname;
  const TOTAL = 200 * 1024 * 1024;
  let child: ChildProcess;
  let dir: string;
  let base: string;

  function freePort(): Promise<number> {
    return new Promise((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
  }

  /** The resident memory of the server process, in bytes, as the kernel counts it. */
  function rss(): number {
    const line = readFileSync(`/proc/${child.pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
    return Number(line.replace(/\D+/g, '')) * 1024;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dealer-body-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, ['--import', 'tsx', 'src/entry/node.ts'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), DATABASE_URL: `file:${join(dir, 'chat.sqlite')}`, LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    const until = Date.now() + 25_000;
    for (;;) {
      const up = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
      if (up) break;
      if (Date.now() > until) throw new Error('the Node entry did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 30_000);
  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** Streams `TOTAL` bytes without holding them, as Node's HTTP client sends them, and reports how it ended. */
  function upload(path: string, contentType: string, chunked: boolean): Promise<{ status: number; written: number; error: string | null }> {
    return new Promise((resolve) => {
      const url = new URL(path, base);
      const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': contentType, ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(TOTAL) }) } });
      let status = 0;
      let written = 0;
      let error: string | null = null;
      req.on('response', (res) => {
        status = res.statusCode!;
        res.resume();
      });
      req.on('error', (err) => (error = err.message));
      req.on('close', () => resolve({ status, written, error }));
      const piece = Buffer.alloc(64 * 1024, 'x');
      const pump = (): void => {
        while (written < TOTAL && !req.destroyed) {
          written += piece.length;
          if (!req.write(piece)) return void req.once('drain', pump);
        }
        if (!req.destroyed) req.end();
      };
      pump();
    });
  }

  it.each([
    { path: '/console/login', contentType: 'application/x-www-form-urlencoded', chunked: false },
    { path: '/console/login', contentType: 'application/x-www-form-urlencoded', chunked: true },
    { path: '/webhooks/line', contentType: 'application/json', chunked: true },
    { path: '/chat/api/messages', contentType: 'application/json', chunked: false },
  ])('$path ($contentType, chunked: $chunked) is refused early, cleanly, and the process does not grow', async ({ path, contentType, chunked }) => {
    const before = rss();
    const { status, written, error } = await withTimeout(upload(path, contentType, chunked), 15_000, 'the upload');
    // The client reads the 413 and the connection ends without a reset.
    expect({ status, error }).toEqual({ status: 413, error: null });
    // The server stops taking the body: what got out is the socket buffers' worth, not the 200 MB.
    expect(written).toBeLessThan(32 * 1024 * 1024);
    const after = rss();
    expect(after - before).toBeLessThan(48 * 1024 * 1024);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('cuts off a client that ignores the 413 and keeps sending', async () => {
    const before = rss();
    const url = new URL(base);
    const result = await withTimeout(
      new Promise<{ accepted: number; answer: string }>((resolve) => {
        const socket = connect(Number(url.port), url.hostname);
        let accepted = 0;
        let answer = '';
        socket.setEncoding('latin1');
        socket.on('data', (d: string) => (answer += d));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve({ accepted, answer }));
        const piece = Buffer.alloc(64 * 1024, 'x');
        const frame = Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]);
        socket.write(`POST /console/login HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n`);
        const pump = (): void => {
          while (accepted < TOTAL && !socket.destroyed && socket.writable) {
            accepted += piece.length;
            if (!socket.write(frame)) return void socket.once('drain', pump);
          }
        };
        pump();
      }),
      15_000,
      'cutting the connection',
    );
    expect(result.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(result.answer.toLowerCase()).toContain('connection: close');
    expect(result.accepted).toBeLessThan(32 * 1024 * 1024);
    expect(rss() - before).toBeLessThan(48 * 1024 * 1024);
  });
});
