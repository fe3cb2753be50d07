import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStaffAccount } from '../../src/staff/accounts';
import { hashPassword, verifyPassword } from '../../src/staff/auth/password';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { apiToken, staffMember, TEST_PASSWORD } from '../helpers/staff';
import { dialects } from '../helpers/stores';

describe('password hashing', () => {
  it('verifies the right password only, with a fresh salt each time', async () => {
    const a = await hashPassword('a long enough password', 2000);
    const b = await hashPassword('a long enough password', 2000);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^pbkdf2-sha256\$2000\$/);
    expect(await verifyPassword('a long enough password', a)).toBe(true);
    expect(await verifyPassword('a long enough passworD', a)).toBe(false);
    expect(await verifyPassword('anything', 'not-a-hash')).toBe(false);
  });
});

describe.each(dialects)('staff sign-in on $name', (dialect) => {
  let svc: TestService;
  beforeEach(async () => {
    svc = await startTestService(dialect, testConfig());
    await createStaffAccount(svc.db.store, { email: 'Mei@Dealer.example', role: 'advisor', password: TEST_PASSWORD, branches: 'all' }, { kind: 'cli', label: 'test' }, new Date(), { defaultLocale: 'en', iterations: 1000 });
  });
  afterEach(async () => {
    await svc.close();
  });

  // `ip` is the address of the connection, as the Node server hands it to the app (src/http/client-address.ts).
  const login = (email: string, password: string, ip = '10.0.0.1', extra: Record<string, string> = {}) =>
    svc.app.request(
      '/console/login',
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'en', ...extra },
        body: new URLSearchParams({ email, password, next: '/console/customers' }).toString(),
      },
      { incoming: { socket: { remoteAddress: ip } } },
    );

  it('signs in with a secure session cookie, shows the console, and signs out', async () => {
    const res = await login('mei@dealer.example', TEST_PASSWORD);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/customers');
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/dealer_staff_session=/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    const cookie = setCookie.split(';')[0]!;
    const home = await svc.app.request('/console', { headers: { cookie } });
    expect(home.status).toBe(200);
    const html = await home.text();
    expect(html).toContain('advisor');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    const out = await svc.app.request('/console/logout', { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${encodeURIComponent(csrf)}` });
    expect(out.status).toBe(303);
    expect((await svc.app.request('/console', { headers: { cookie } })).status).toBe(302);
    const audit = await svc.db.store.db.selectFrom('audit_log').select('action').orderBy('id').execute();
    expect(audit.map((a) => a.action)).toEqual(['staff.create', 'login', 'logout']);
  });

  it('marks the cookie Secure behind https', async () => {
    const res = await login('mei@dealer.example', TEST_PASSWORD, '10.0.0.2', { 'x-forwarded-proto': 'https' });
    expect(res.headers.get('set-cookie')).toMatch(/Secure/);
  });

  it('refuses a wrong password and limits attempts per account, whatever the password', async () => {
    for (let i = 0; i < 5; i++) expect((await login('mei@dealer.example', `wrong password ${i}`, `10.1.0.${i}`)).status).toBe(401);
    const blocked = await login('mei@dealer.example', TEST_PASSWORD, '10.1.0.99');
    expect(blocked.status).toBe(429);
    expect(await blocked.text()).toContain('Too many attempts');
  });

  it('limits attempts per address across accounts', async () => {
    for (let i = 0; i < 20; i++) await login(`nobody${i}@dealer.example`, 'whatever password', '10.2.0.1');
    expect((await login('mei@dealer.example', TEST_PASSWORD, '10.2.0.1')).status).toBe(429);
    expect((await login('mei@dealer.example', TEST_PASSWORD, '10.2.0.2')).status).toBe(303);
  });

  it('refuses a form post without this session’s form token, or from another site', async () => {
    const staff = await staffMember(svc, 'admin');
    const noToken = await svc.app.request('/console/logout', { method: 'POST', headers: { cookie: staff.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(noToken.status).toBe(403);
    const crossSite = await staff.request('/console/logout', { form: {}, headers: { origin: 'https://evil.example' } });
    expect(crossSite.status).toBe(403);
    expect((await staff.request('/console/logout', { form: {} })).status).toBe(303);
  });

  it('sends an unauthenticated page visit to the login with the way back', async () => {
    const res = await svc.app.request('/console?view=week');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/console/login?next=%2Fconsole%3Fview%3Dweek');
  });

  it('accepts API tokens only as Bearer, and not once revoked', async () => {
    const dms = await apiToken(svc, 'manager');
    const routes = svc.routes.routes.filter((r) => r.path.startsWith('/api/') && r.method === 'GET' && !r.path.includes(':'));
    if (routes.length === 0) return; // The API arrives with its own routes; until then there is nothing to call.
    const path = routes[0]!.path;
    expect((await dms.request(path)).status).toBe(200);
    expect((await svc.app.request(path, { headers: { authorization: 'Bearer dct_nottoken_x' } })).status).toBe(401);
    await svc.db.store.db.updateTable('api_tokens').set({ revoked_at: new Date().toISOString() }).execute();
    expect((await dms.request(path)).status).toBe(401);
  });
});
