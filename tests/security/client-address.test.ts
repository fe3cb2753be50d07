import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config';
import { serveNode } from '../../src/entry/node-http';
import { addressSet, normalizeAddress, resolveClientAddress } from '../../src/http/client-address';
import { MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS } from '../../src/staff/auth/login-limit';
import { createStaffAccount } from '../../src/staff/accounts';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { TEST_PASSWORD } from '../helpers/staff';
import { dialects } from '../helpers/stores';

/*
 * The client's address comes from the connection. Distinct loopback addresses (127.0.0.2, 127.0.0.3 …) act
 * as distinct clients of a real Node server; one of them is named a trusted proxy.
 */

const PROXY = '127.0.0.9';

describe('reading the client address', () => {
  const trusted = addressSet(['10.0.0.0/8', PROXY, 'fd00::/8']);
  it('believes forwarded headers only from a trusted proxy, and only the part it appended', () => {
    expect(resolveClientAddress('203.0.113.5', { xForwardedFor: '198.51.100.1' }, trusted)).toBe('203.0.113.5');
    expect(resolveClientAddress(PROXY, { xForwardedFor: '198.51.100.1' }, trusted)).toBe('198.51.100.1');
    // A client's own header travels at the start of the chain; the proxy appends the real address at the end.
    expect(resolveClientAddress(PROXY, { xForwardedFor: '1.2.3.4, 198.51.100.1' }, trusted)).toBe('198.51.100.1');
    expect(resolveClientAddress(PROXY, { xForwardedFor: '1.2.3.4, 198.51.100.1, 10.1.2.3' }, trusted)).toBe('198.51.100.1');
    expect(resolveClientAddress(PROXY, { xForwardedFor: 'garbage, 10.1.2.3' }, trusted)).toBe('10.1.2.3');
    expect(resolveClientAddress(PROXY, { forwarded: 'for=1.2.3.4, for="[2001:db8::7]:4711"' }, trusted)).toBe('2001:db8:0:0:0:0:0:7');
    expect(resolveClientAddress(PROXY, { forwarded: 'for=192.0.2.60:8080;proto=https' }, trusted)).toBe('192.0.2.60');
    expect(resolveClientAddress(`::ffff:${PROXY}`, {}, trusted)).toBe(PROXY);
    expect(resolveClientAddress(null, { xForwardedFor: '198.51.100.1' }, trusted)).toBeNull();
  });
  it('writes each address one way', () => {
    expect(normalizeAddress('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(normalizeAddress('2001:DB8::1')).toBe('2001:db8:0:0:0:0:0:1');
    expect(normalizeAddress('not-an-ip')).toBeNull();
    expect(normalizeAddress('999.1.1.1')).toBeNull();
  });
  it('refuses a TRUSTED_PROXIES entry that is not an address or range', () => {
    expect(() => testConfig({ TRUSTED_PROXIES: '10.0.0.0/8, nonsense' })).toThrow(ConfigError);
    expect(() => testConfig({ TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(/TRUSTED_PROXIES/);
    expect(testConfig({ TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.7,::1' }).trustedProxies).toEqual(['10.0.0.0/8', '192.0.2.7', '::1']);
  });
});

describe.each(dialects)('sign-in limits and the audit log over real connections on $name', (dialect) => {
  let svc: TestService;
  let server: ServerType;
  let port: number;

  beforeAll(async () => {
    svc = await startTestService(dialect, testConfig({ TRUSTED_PROXIES: PROXY }));
    // Known accounts with wrong passwords keep the test quick (an unknown email costs a full-strength hash, on purpose).
    for (const email of ['mei@dealer.example', 'kai@dealer.example', 'race@dealer.example', ...Array.from({ length: 24 }, (_, i) => `user${i}@dealer.example`)]) {
      await createStaffAccount(svc.db.store, { email, role: 'advisor', password: TEST_PASSWORD, branches: 'all' }, { kind: 'cli', label: 'test' }, new Date(), { defaultLocale: 'en', iterations: 1000 });
    }
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

  /** A sign-in posted from `from` (a loopback address of this machine), as a browser there would. */
  function login(from: string, email: string, password: string, headers: Record<string, string> = {}): Promise<{ status: number; location: string | undefined }> {
    const body = new URLSearchParams({ email, password }).toString();
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, localAddress: from, method: 'POST', path: '/console/login', agent: false, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)), 'accept-language': 'en', ...headers } },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, location: res.headers.location }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  it('failed sign-ins from one address lock out that address only, not every staff member', async () => {
    for (let i = 0; i < MAX_FAILURES_PER_ADDRESS; i++) expect((await login('127.0.0.2', `user${i}@dealer.example`, 'guess')).status).toBe(401);
    expect((await login('127.0.0.2', 'mei@dealer.example', TEST_PASSWORD)).status).toBe(429);
    // Another client is not held up by what 127.0.0.2 did.
    expect((await login('127.0.0.3', 'mei@dealer.example', TEST_PASSWORD)).status).toBe(303);
  });

  it('a rotating X-Forwarded-For from a client that is not a trusted proxy does not escape the limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < MAX_FAILURES_PER_ADDRESS + 4; i++) statuses.push((await login('127.0.0.4', `user${i}@dealer.example`, 'guess', { 'x-forwarded-for': `198.51.100.${i}`, forwarded: `for=198.51.100.${i}` })).status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(MAX_FAILURES_PER_ADDRESS);
    expect(statuses.slice(MAX_FAILURES_PER_ADDRESS).every((s) => s === 429)).toBe(true);
  });

  it('the audit log records the connection’s address, or what the trusted proxy forwarded; never a forged one', async () => {
    const audit = svc.db.store.db;
    const lastLogin = async () => (await audit.selectFrom('audit_log').select('ip').where('action', '=', 'login').orderBy('id', 'desc').executeTakeFirstOrThrow()).ip;
    expect((await login('127.0.0.5', 'kai@dealer.example', TEST_PASSWORD, { 'x-forwarded-for': '203.0.113.66' })).status).toBe(303);
    expect(await lastLogin()).toBe('127.0.0.5');
    expect((await login(PROXY, 'kai@dealer.example', TEST_PASSWORD, { 'x-forwarded-for': '203.0.113.66, 198.51.100.77' })).status).toBe(303);
    expect(await lastLogin()).toBe('198.51.100.77');
    const sessions = await audit.selectFrom('staff_sessions').select('ip').orderBy('created_at', 'desc').execute();
    expect(sessions.map((s) => s.ip)).not.toContain('203.0.113.66');
  });

  it('behind the trusted proxy, each forwarded client has its own count', async () => {
    for (let i = 0; i < MAX_FAILURES_PER_ADDRESS; i++) await login(PROXY, `user${i}@dealer.example`, 'guess', { 'x-forwarded-for': '198.51.100.200' });
    expect((await login(PROXY, 'kai@dealer.example', TEST_PASSWORD, { 'x-forwarded-for': '198.51.100.200' })).status).toBe(429);
    expect((await login(PROXY, 'kai@dealer.example', TEST_PASSWORD, { 'x-forwarded-for': '198.51.100.201' })).status).toBe(303);
  });

  it('parallel wrong passwords for one account pass the per-account limit no more than it allows', async () => {
    const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => login(`127.0.1.${i + 1}`, 'race@dealer.example', `wrong ${i}`)));
    const counts = statuses.reduce<Record<number, number>>((acc, s) => ({ ...acc, [s.status]: (acc[s.status] ?? 0) + 1 }), {});
    expect(counts[401] ?? 0).toBeLessThanOrEqual(MAX_FAILURES_PER_ACCOUNT);
    expect(counts[429]).toBeGreaterThanOrEqual(20 - MAX_FAILURES_PER_ACCOUNT);
    expect((await login('127.0.2.1', 'race@dealer.example', TEST_PASSWORD)).status).toBe(429);
  });
});
