import { createApiToken } from '../../src/staff/auth/api-tokens';
import { createSession, SESSION_COOKIE } from '../../src/staff/auth/sessions';
import { csrfTokenFor } from '../../src/staff/guard';
import { createStaffUser } from '../../src/staff/staff-users';
import type { StaffRole } from '../../src/store/staff-schema';
import type { TestService } from './service';

/** Passwords in tests are hashed with few iterations; the hash itself is the production code. */
export const TEST_PASSWORD_ITERATIONS = 1000;
export const TEST_PASSWORD = 'correct horse battery staple';

export interface SignedInStaff {
  id: string;
  email: string;
  role: StaffRole;
  cookie: string;
  csrf: string;
  /** A request as this staff member's browser would make it (cookie, and the form token on posts). */
  request(path: string, init?: { method?: string; form?: Record<string, string>; json?: unknown; headers?: Record<string, string> }): Promise<Response>;
}

export async function staffMember(svc: TestService, role: StaffRole, opts: { email?: string; locale?: string; branchIds?: string[] } = {}): Promise<SignedInStaff> {
  const db = svc.db.store.db;
  const branchIds = opts.branchIds ?? (await db.selectFrom('branches').select('id').execute()).map((b) => b.id);
  const user = await createStaffUser(
    db,
    { email: opts.email ?? `${role}-${crypto.randomUUID().slice(0, 6)}@dealer.example`, name: `${role} user`, role, locale: opts.locale ?? 'en', password: TEST_PASSWORD, branchIds },
    new Date(),
    TEST_PASSWORD_ITERATIONS,
  );
  const session = await createSession(db, user.id, { ip: '127.0.0.1', userAgent: 'test', now: new Date() });
  const secret = (await db.selectFrom('settings').select('value').where('key', '=', 'console_csrf_secret').executeTakeFirstOrThrow()).value;
  const csrf = await csrfTokenFor(secret, session.sessionId);
  const cookie = `${SESSION_COOKIE}=${session.token}`;
  return {
    id: user.id,
    email: user.email,
    role,
    cookie,
    csrf,
    request(path, init = {}) {
      const method = init.method ?? (init.form || init.json ? 'POST' : 'GET');
      const headers: Record<string, string> = { cookie, ...init.headers };
      let body: string | undefined;
      if (init.form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams({ _csrf: csrf, ...init.form }).toString();
      } else if (init.json !== undefined) {
        headers['content-type'] = 'application/json';
        headers['x-csrf-token'] = csrf;
        body = JSON.stringify(init.json);
      } else if (method !== 'GET') {
        headers['x-csrf-token'] = csrf;
      }
      return Promise.resolve(svc.app.request(path, { method, headers, body }));
    },
  };
}

export async function apiToken(svc: TestService, role: StaffRole, branchIds: string[] | 'all' = 'all'): Promise<{ token: string; request(path: string, init?: { method?: string; json?: unknown }): Promise<Response> }> {
  const created = await createApiToken(svc.db.store.db, { name: `${role} token`, role, branchIds, createdBy: null, now: new Date() });
  return {
    token: created.token,
    request(path, init = {}) {
      const headers: Record<string, string> = { authorization: `Bearer ${created.token}` };
      if (init.json !== undefined) headers['content-type'] = 'application/json';
      return Promise.resolve(svc.app.request(path, { method: init.method ?? (init.json !== undefined ? "POST" : "GET"), headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) }));
    },
  };
}
