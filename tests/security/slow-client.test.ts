import http from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_TIMEOUTS, serveNode } from '../../src/entry/node-http';
import { testConfig } from '../helpers/config';
import { recordingLogger } from '../helpers/logger';
import { startTestService, type TestService } from '../helpers/service';
import { dialects } from '../helpers/stores';

/*
 * Clients that send their headers or body too slowly are dropped with a 408 once the time is up (here
 * shortened; the production times are CLIENT_TIMEOUTS), logged at info level, never as an error.
 */
describe('slow clients on the Node server', () => {
  let svc: TestService;
  let server: ServerType;
  let port: number;
  const { logger, records } = recordingLogger();
  const timeouts = { headersMs: 400, requestMs: 800, checkEveryMs: 100 };

  beforeAll(async () => {
    svc = await startTestService(dialects[0]!, testConfig());
    server = serveNode(svc.app, { port: 0, hostname: '127.0.0.1', logger, timeouts });
    await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      (server as http.Server).closeAllConnections();
    });
    await svc.close();
  });

  /** Opens a raw connection, writes `first`, then nothing more; resolves with what came back and when the server closed. */
  function stall(first: string): Promise<{ answer: string; closedAfterMs: number }> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const socket: Socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.6' }, () => socket.write(first));
      let answer = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (answer += d));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ answer, closedAfterMs: Date.now() - started }));
      setTimeout(() => {
        socket.destroy();
        reject(new Error('the server kept the slow connection open'));
      }, 5000).unref();
    });
  }

  it('production times fit webhooks and forms, well below Node’s minutes', () => {
    expect(CLIENT_TIMEOUTS.headersMs).toBeLessThanOrEqual(15_000);
    expect(CLIENT_TIMEOUTS.requestMs).toBeLessThanOrEqual(120_000);
    expect(CLIENT_TIMEOUTS.checkEveryMs).toBeLessThanOrEqual(2_000);
  });

  it('drops a client whose headers never end', async () => {
    const { answer, closedAfterMs } = await stall('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(closedAfterMs).toBeLessThan(timeouts.headersMs + 1500);
  });

  it('drops a client whose body never ends', async () => {
    const { answer, closedAfterMs } = await stall('POST /console/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nemail=a');
    expect(answer).toMatch(/408/);
    expect(closedAfterMs).toBeLessThan(timeouts.requestMs + 1500);
  });

  it('logs a dropped slow client below error level, with its address', () => {
    const dropped = records.filter((r) => r.msg?.includes('slow client'));
    expect(dropped.length).toBeGreaterThanOrEqual(2);
    expect(dropped.every((r) => r.level === 'info')).toBe(true);
    expect(dropped.some((r) => (r.obj as { address?: string }).address?.endsWith('127.0.0.6'))).toBe(true);
    expect(records.filter((r) => r.level === 'error')).toEqual([]);
  });

  it('answers a client that sends in time', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
  });
});
