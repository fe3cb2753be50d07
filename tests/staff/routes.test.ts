import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { can, STAFF_ROLES, type Permission } from '../../src/staff/permissions';
import type { StaffRole } from '../../src/store/staff-schema';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { apiToken, staffMember, type SignedInStaff } from '../helpers/staff';
import { dialects } from '../helpers/stores';

/** Walks every route the app serves under /console and /api: none may be reachable without the right role. */
describe('every console and API route is protected', () => {
  let svc: TestService;
  const staff = new Map<StaffRole, SignedInStaff>();
  const tokens = new Map<StaffRole, Awaited<ReturnType<typeof apiToken>>>();

  beforeAll(async () => {
    svc = await startTestService(dialects[0]!, testConfig());
    for (const role of STAFF_ROLES) {
      staff.set(role, await staffMember(svc, role));
      if (role !== 'admin') tokens.set(role, await apiToken(svc, role));
    }
  });
  afterAll(async () => {
    await svc.close();
  });

  const served = () =>
    svc.app.routes
      .filter((r) => (r.path === '/console' || r.path.startsWith('/console/') || r.path.startsWith('/api/') || r.path === '/api') && r.method !== 'ALL')
      .map((r) => ({ method: r.method, path: r.path }))
      .filter((r, i, all) => all.findIndex((o) => o.method === r.method && o.path === r.path) === i);

  const concrete = (path: string) => path.replace(/:([A-Za-z]+)(\{[^}]*\})?/g, '00000000-0000-4000-8000-000000000000');

  it('has every served route declared with a permission', () => {
    const routes = served();
    expect(routes.length).toBeGreaterThan(3);
    for (const r of routes) {
      const declared = svc.routes.find(r.method, r.path);
      expect(declared, `${r.method} ${r.path} is served but not declared with a permission`).toBeDefined();
      if (declared!.permission === 'public') expect(['/console/login'], `${r.method} ${r.path} is public`).toContain(r.path);
    }
  });

  it('refuses every protected route without credentials: 302 to login for console pages, 401 otherwise', async () => {
    for (const r of served()) {
      const declared = svc.routes.find(r.method, r.path)!;
      if (declared.permission === 'public') continue;
      const res = await svc.app.request(concrete(r.path), { method: r.method, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: r.method === 'GET' ? undefined : '' });
      if (r.path.startsWith('/console') && r.method === 'GET') {
        expect(res.status, `${r.method} ${r.path}`).toBe(302);
        expect(res.headers.get('location'), `${r.method} ${r.path}`).toMatch(/^\/console\/login/);
      } else {
        expect(res.status, `${r.method} ${r.path}`).toBe(401);
      }
    }
  });

  it('refuses every protected route to roles without its permission (403)', async () => {
    let checked = 0;
    for (const r of served()) {
      const declared = svc.routes.find(r.method, r.path)!;
      if (declared.permission === 'public') continue;
      const permission = declared.permission as Permission;
      for (const role of STAFF_ROLES) {
        if (can(role, permission)) continue;
        if (r.path.startsWith('/console')) {
          const res = await staff.get(role)!.request(concrete(r.path), { method: r.method, ...(r.method === 'GET' ? {} : { form: {} }) });
          expect(res.status, `${role} ${r.method} ${r.path}`).toBe(403);
        } else {
          const token = tokens.get(role);
          if (!token) continue;
          const res = await token.request(concrete(r.path), { method: r.method, ...(r.method === 'GET' ? {} : { json: {} }) });
          expect(res.status, `${role} token ${r.method} ${r.path}`).toBe(403);
        }
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('lets console pages be opened by roles that have their permission', async () => {
    for (const r of served().filter((x) => x.method === 'GET' && x.path.startsWith('/console') && !x.path.includes(':'))) {
      const declared = svc.routes.find(r.method, r.path)!;
      if (declared.permission === 'public') continue;
      for (const role of STAFF_ROLES) {
        if (!can(role, declared.permission as Permission)) continue;
        const res = await staff.get(role)!.request(r.path);
        expect(res.status, `${role} GET ${r.path}`).toBe(200);
      }
    }
  });
});
