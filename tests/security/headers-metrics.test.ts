import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveNode } from '../../src/entry/node-http';
import { GAUGE_MAX_AGE_MS, Metrics } from '../../src/ops/metrics';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { staffMember } from '../helpers/staff';
import { dialects } from '../helpers/stores';

const TOKEN = 'scrape-token-0123456789abcdef';

describe.each(dialects)('console headers and /metrics on $name', (dialect) => {
  let svc: TestService;
  let server: ServerType;
  let port: number;
  beforeAll(async () => {
    svc = await startTestService(dialect, testConfig({ METRICS_TOKEN: TOKEN, METRICS_ALLOW: '127.0.0.7' }));
    server = serveNode(svc.app, { port: 0, hostname: '127.0.0.1' });
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

  const get = (from: string, path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path, localAddress: from, agent: false, headers }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, text }));
        })
        .on('error', reject);
    });

  it('every console page, the sign-in too, refuses to be framed and says what it may load', async () => {
    const staff = await staffMember(svc, 'admin');
    for (const res of [await svc.app.request('/console/login'), await staff.request('/console'), await staff.request('/console/customers'), await svc.app.request('/console/customers')]) {
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("form-action 'self'");
      expect(csp).toContain("object-src 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('/metrics answers only the configured addresses or the token', async () => {
    expect((await get('127.0.0.2', '/metrics')).status).toBe(403);
    expect((await get('127.0.0.2', '/metrics', { 'x-forwarded-for': '127.0.0.7' })).status).toBe(403);
    expect((await get('127.0.0.2', '/metrics', { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(403);
    const byToken = await get('127.0.0.2', '/metrics', { authorization: `Bearer ${TOKEN}` });
    expect(byToken.status).toBe(200);
    expect(byToken.text).toContain('# TYPE dealer_outbox_messages gauge');
    expect((await get('127.0.0.7', '/metrics')).status).toBe(200);
    // Without a connection address (no peer known) and without the token: refused.
    expect((await svc.app.request('/metrics')).status).toBe(403);
  });

  it('by default /metrics answers this machine only', async () => {
    const local = await startTestService(dialect, testConfig());
    try {
      expect((await local.app.request('/metrics', {}, { incoming: { socket: { remoteAddress: '::ffff:127.0.0.1' } } })).status).toBe(200);
      expect((await local.app.request('/metrics', {}, { incoming: { socket: { remoteAddress: '::1' } } })).status).toBe(200);
      expect((await local.app.request('/metrics', {}, { incoming: { socket: { remoteAddress: '192.0.2.1' } } })).status).toBe(403);
    } finally {
      await local.close();
    }
  });
});

describe('metrics are served from memory', () => {
  it('reads each database gauge at most once per GAUGE_MAX_AGE_MS, however many scrapes', async () => {
    let now = 1_000_000;
    let reads = 0;
    const metrics = new Metrics(() => now);
    metrics.addGauge({
      name: 'test_depth',
      help: 'A gauge read from the database.',
      async collect() {
        reads += 1;
        await new Promise((r) => setTimeout(r, 5));
        return [{ labels: {}, value: reads }];
      },
    });
    const scrapes = await Promise.all(Array.from({ length: 50 }, () => metrics.render()));
    expect(reads).toBe(1);
    expect(scrapes.every((s) => s.includes('test_depth 1'))).toBe(true);
    now += GAUGE_MAX_AGE_MS - 1;
    await metrics.render();
    expect(reads).toBe(1);
    now += 1;
    expect(await metrics.render()).toContain('test_depth 2');
    expect(reads).toBe(2);
  });
});
