import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { principalFromApiToken } from '../../src/staff/auth/api-tokens';
import { can } from '../../src/staff/permissions';
import type { Permission } from '../../src/staff/permissions';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { staffMember, type SignedInStaff } from '../helpers/staff';
import { dialects } from '../helpers/stores';

const TOKEN_RE = /dct_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}/;

/** Every field of the branch form, valid; tests override what they are about. */
function branchForm(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    name: 'Neihu Service Centre',
    address: 'No. 1, Ruiguang Rd, Neihu, Taipei',
    phone: '+886 2 2345 6789',
    mapUrl: 'https://maps.example.com/?q=neihu',
    timeZone: 'Asia/Taipei',
    hours_mon: '09:00-12:00, 13:00-18:00',
    hours_tue: '09:00–18:00',
    hours_wed: '09:00-18:00',
    hours_thu: '09:00-18:00',
    hours_fri: '09:00-18:00',
    hours_sat: '09:00-12:00',
    hours_sun: '',
    holidays: '2026-10-10\n2026-01-01\n2026-01-01',
    ...overrides,
  };
}

describe.each(dialects)('console admin pages on $name', (dialect) => {
  let svc: TestService;
  let admin: SignedInStaff;
  const db = () => svc.db.store.db;

  beforeEach(async () => {
    svc = await startTestService(dialect, testConfig({ DEFAULT_LOCALE: 'en' }));
    admin = await staffMember(svc, 'admin');
  });
  afterEach(async () => {
    await svc.close();
  });

  const demoBranch = () => db().selectFrom('branches').selectAll().where('is_demo', '=', 1).executeTakeFirstOrThrow();
  const auditOf = (action: string) => db().selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();

  /** A form post with repeated fields (checkboxes), as a browser sends it. */
  function postForm(who: { cookie: string; csrf: string }, path: string, fields: [string, string][]): Promise<Response> {
    const body = new URLSearchParams([['_csrf', who.csrf], ...fields]).toString();
    return Promise.resolve(svc.app.request(path, { method: 'POST', headers: { cookie: who.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body }));
  }

  async function signIn(email: string, password: string): Promise<Response> {
    return svc.app.request('/console/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '10.9.0.1' },
      body: new URLSearchParams({ email, password, next: '/console' }).toString(),
    });
  }

  describe('branches', () => {
    it('refuses a new branch with a bad zone, overlapping or reversed hours, or a bad date: 400 with the reason, nothing written', async () => {
      const cases: [Record<string, string>, string][] = [
        [{ timeZone: 'Mars/Olympus_Mons' }, '“Mars/Olympus_Mons” is not a time zone'],
        [{ hours_mon: '09:00-12:00, 11:30-18:00' }, 'Monday: the periods overlap.'],
        [{ hours_tue: '18:00-09:00' }, 'Tuesday: 18:00–09:00 must end after it starts'],
        [{ hours_wed: 'nine to five' }, 'Wednesday: “nine” is not a period'],
        [{ holidays: '2026-01-01\n2026-02-30' }, '“2026-02-30” is not a date'],
        [{ mapUrl: 'http://maps.example.com/' }, 'full https:// address'],
        [{ name: '  ' }, 'The branch needs a name.'],
      ];
      for (const [overrides, message] of cases) {
        const res = await admin.request('/console/branches/new', { form: branchForm(overrides) });
        expect(res.status, message).toBe(400);
        const html = await res.text();
        expect(html, message).toContain(message);
        // The form comes back with what was typed, so nothing has to be entered twice.
        expect(html).toContain('value="No. 1, Ruiguang Rd, Neihu, Taipei"');
      }
      expect(await db().selectFrom('branches').select('id').execute()).toHaveLength(1);
      expect(await auditOf('branch.create')).toHaveLength(0);
    });

    it('creates a branch with the hours and holidays as the booking rules read them, and audits it', async () => {
      const res = await admin.request('/console/branches/new', { form: branchForm({ timeZone: 'asia/tokyo', holidays: '2026/10/10\n2026-01-01 2026-01-01' }) });
      expect(res.status).toBe(303);
      const location = res.headers.get('location')!;
      const id = /^\/console\/branches\/([0-9a-f-]{36})\?flash=created$/.exec(location)![1]!;
      const row = await db().selectFrom('branches').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ name: 'Neihu Service Centre', phone: '+886 2 2345 6789', map_url: 'https://maps.example.com/?q=neihu', time_zone: 'Asia/Tokyo', is_demo: 0 });
      expect(JSON.parse(row.opening_hours)).toEqual({
        mon: [
          ['09:00', '12:00'],
          ['13:00', '18:00'],
        ],
        tue: [['09:00', '18:00']],
        wed: [['09:00', '18:00']],
        thu: [['09:00', '18:00']],
        fri: [['09:00', '18:00']],
        sat: [['09:00', '12:00']],
        sun: [],
      });
      expect(JSON.parse(row.holidays)).toEqual(['2026-01-01', '2026-10-10']);
      const [entry] = await auditOf('branch.create');
      expect(entry).toMatchObject({ actor_id: admin.id, entity: 'branch', entity_id: id });
      expect(JSON.parse(entry!.after!)).toMatchObject({ name: 'Neihu Service Centre', time_zone: 'Asia/Tokyo', holidays: ['2026-01-01', '2026-10-10'] });

      const page = await admin.request(location);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Created.');
      const list = await (await admin.request('/console/branches')).text();
      expect(list).toContain('Neihu Service Centre');
      expect(list).toContain('Mon–Sat');
    });

    it('edits the demo branch: a bad edit changes nothing; a good one is saved, audited and clears the demo mark', async () => {
      const demo = await demoBranch();
      const form = await (await admin.request(`/console/branches/${demo.id}`)).text();
      expect(form).toContain('This is the demo branch');
      expect(form).toContain(`name="updatedAt" value="${demo.updated_at}"`);

      const bad = await admin.request(`/console/branches/${demo.id}`, { form: branchForm({ updatedAt: demo.updated_at, hours_fri: '09:00-13:00 12:00-18:00', holidays: '2026-13-01' }) });
      expect(bad.status).toBe(400);
      const badHtml = await bad.text();
      expect(badHtml).toContain('Friday: the periods overlap.');
      expect(badHtml).toContain('“2026-13-01” is not a date');
      expect(await demoBranch()).toEqual(demo);
      expect(await auditOf('branch.update')).toHaveLength(0);

      const good = await admin.request(`/console/branches/${demo.id}`, { form: branchForm({ updatedAt: demo.updated_at, name: 'Taipei Main', hours_sat: '', clearDemo: '1' }) });
      expect(good.status).toBe(303);
      expect(good.headers.get('location')).toBe(`/console/branches/${demo.id}?flash=saved`);
      const saved = await db().selectFrom('branches').selectAll().where('id', '=', demo.id).executeTakeFirstOrThrow();
      expect(saved).toMatchObject({ name: 'Taipei Main', is_demo: 0, time_zone: 'Asia/Taipei' });
      expect(JSON.parse(saved.opening_hours).sat).toEqual([]);
      const [entry] = await auditOf('branch.update');
      expect(entry).toMatchObject({ actor_id: admin.id, entity: 'branch', entity_id: demo.id });
      expect(JSON.parse(entry!.before!)).toMatchObject({ name: demo.name, is_demo: 1 });
      expect(JSON.parse(entry!.after!)).toMatchObject({ name: 'Taipei Main', is_demo: 0 });

      // A form opened before that save is refused rather than silently undoing it.
      const stale = await admin.request(`/console/branches/${demo.id}`, { form: branchForm({ updatedAt: demo.updated_at, name: 'Overwritten' }) });
      expect(stale.status).toBe(409);
      expect((await db().selectFrom('branches').select('name').where('id', '=', demo.id).executeTakeFirstOrThrow()).name).toBe('Taipei Main');
    });

    it('shows an advisor the branch read-only and refuses their edits', async () => {
      const demo = await demoBranch();
      const advisor = await staffMember(svc, 'advisor');
      const res = await advisor.request(`/console/branches/${demo.id}`);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('09:00–18:00');
      expect(html).not.toContain(`action="/console/branches/${demo.id}"`);
      expect((await advisor.request(`/console/branches/${demo.id}`, { form: branchForm() })).status).toBe(403);
      expect((await advisor.request('/console/branches/new')).status).toBe(403);
    });

    it('does not show a branch to staff who do not belong to it', async () => {
      await admin.request('/console/branches/new', { form: branchForm({ name: 'Other Branch' }) });
      const other = await db().selectFrom('branches').select('id').where('name', '=', 'Other Branch').executeTakeFirstOrThrow();
      const demo = await demoBranch();
      const advisor = await staffMember(svc, 'advisor', { branchIds: [demo.id] });
      expect((await advisor.request(`/console/branches/${other.id}`)).status).toBe(404);
      expect(await (await advisor.request('/console/branches')).text()).not.toContain('Other Branch');
    });

    it('speaks the staff member’s language', async () => {
      const ja = await staffMember(svc, 'admin', { locale: 'ja' });
      const html = await (await ja.request('/console/branches/new')).text();
      expect(html).toContain('店舗を追加');
      expect(html).toContain('月曜日');
    });
  });

  describe('staff accounts', () => {
    it('creates an advisor who signs in with the password from the form and may not manage staff; switching them off ends their session', async () => {
      const demo = await demoBranch();
      const short = await admin.request('/console/staff/new', { form: { email: 'lin@dealer.example', name: 'Lin', role: 'advisor', locale: 'en', branches: demo.id, passwordMode: 'set', password: 'too short' } });
      expect(short.status).toBe(400);
      expect(await short.text()).toContain('The password needs 12 to 200 characters.');
      const noBranch = await admin.request('/console/staff/new', { form: { email: 'lin@dealer.example', name: 'Lin', role: 'advisor', locale: 'en', passwordMode: 'set', password: 'a long enough password' } });
      expect(noBranch.status).toBe(400);
      expect(await noBranch.text()).toContain('Choose at least one branch.');
      expect(await db().selectFrom('staff_users').select('id').where('email', '=', 'lin@dealer.example').execute()).toHaveLength(0);

      const created = await admin.request('/console/staff/new', { form: { email: 'Lin@Dealer.example', name: 'Lin Mei', role: 'advisor', locale: 'zh-TW', branches: demo.id, passwordMode: 'set', password: 'a long enough password' } });
      expect(created.status).toBe(303);
      const user = await db().selectFrom('staff_users').selectAll().where('email', '=', 'lin@dealer.example').executeTakeFirstOrThrow();
      expect(created.headers.get('location')).toBe(`/console/staff/${user.id}?flash=created`);
      expect(user).toMatchObject({ name: 'Lin Mei', role: 'advisor', locale: 'zh-TW', active: 1 });
      expect(await db().selectFrom('staff_branches').select('branch_id').where('staff_id', '=', user.id).execute()).toEqual([{ branch_id: demo.id }]);
      const taken = await admin.request('/console/staff/new', { form: { email: 'lin@dealer.example', name: 'Lin again', role: 'advisor', locale: 'en', branches: demo.id, passwordMode: 'generate' } });
      expect(taken.status).toBe(400);
      expect(await taken.text()).toContain('lin@dealer.example already has an account.');

      const login = await signIn('lin@dealer.example', 'a long enough password');
      expect(login.status).toBe(303);
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      expect((await svc.app.request('/console', { headers: { cookie } })).status).toBe(200);
      expect((await svc.app.request('/console/staff', { headers: { cookie } })).status).toBe(403);
      expect((await svc.app.request('/console/tokens', { headers: { cookie } })).status).toBe(403);

      const list = await (await admin.request('/console/staff')).text();
      expect(list).toContain('lin@dealer.example');
      expect(list).toContain('繁體中文');

      const off = await admin.request(`/console/staff/${user.id}`, { form: { name: 'Lin Mei', role: 'advisor', locale: 'zh-TW', branches: demo.id } });
      expect(off.status).toBe(303);
      const afterOff = await svc.app.request('/console', { headers: { cookie } });
      expect(afterOff.status).toBe(302);
      expect(afterOff.headers.get('location')).toMatch(/^\/console\/login/);
      expect(await db().selectFrom('staff_sessions').select('id').where('staff_id', '=', user.id).execute()).toHaveLength(0);
      expect((await signIn('lin@dealer.example', 'a long enough password')).status).toBe(401);
      const [update] = await auditOf('staff.update');
      expect(JSON.parse(update!.before!)).toMatchObject({ active: 1 });
      expect(JSON.parse(update!.after!)).toMatchObject({ active: 0, sessionsEnded: true });
      expect(update!.before).not.toContain('pbkdf2');
      expect((await auditOf('staff.create')).map((e) => e.entity_id)).toEqual([user.id]);
    });

    it('shows a generated password once, and a reset ends the account’s sessions', async () => {
      const demo = await demoBranch();
      const res = await admin.request('/console/staff/new', { form: { email: 'chen@dealer.example', name: 'Chen', role: 'care', locale: 'en', branches: demo.id, passwordMode: 'generate' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const password = /id="generated-password"[^>]*value="([^"]+)"/.exec(await res.text())![1]!;
      expect(password.length).toBeGreaterThanOrEqual(12);
      const login = await signIn('chen@dealer.example', password);
      expect(login.status).toBe(303);
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      const user = await db().selectFrom('staff_users').select('id').where('email', '=', 'chen@dealer.example').executeTakeFirstOrThrow();
      expect(await (await admin.request(`/console/staff/${user.id}`)).text()).not.toContain(password);

      const reset = await admin.request(`/console/staff/${user.id}/password`, { form: { passwordMode: 'set', password: 'another long password' } });
      expect(reset.status).toBe(303);
      expect((await svc.app.request('/console', { headers: { cookie } })).status).toBe(302);
      expect((await signIn('chen@dealer.example', password)).status).toBe(401);
      expect((await signIn('chen@dealer.example', 'another long password')).status).toBe(303);
      const [entry] = await auditOf('staff.password_reset');
      expect(entry).toMatchObject({ entity_id: user.id, actor_id: admin.id });
      expect(entry!.after).not.toContain('another long password');
    });

    it('keeps the last active administrator: they cannot switch themselves off or demote themselves', async () => {
      const demo = await demoBranch();
      const me = await db().selectFrom('staff_users').selectAll().where('id', '=', admin.id).executeTakeFirstOrThrow();
      const demote = await admin.request(`/console/staff/${admin.id}`, { form: { name: me.name, role: 'manager', locale: 'en', branches: demo.id, active: '1' } });
      expect(demote.status).toBe(409);
      expect(await demote.text()).toContain('You are the last active administrator');
      const switchOff = await admin.request(`/console/staff/${admin.id}`, { form: { name: me.name, role: 'admin', locale: 'en' } });
      expect(switchOff.status).toBe(409);
      expect(await db().selectFrom('staff_users').selectAll().where('id', '=', admin.id).executeTakeFirstOrThrow()).toEqual(me);
      expect((await admin.request('/console/staff')).status).toBe(200);
      expect(await auditOf('staff.update')).toHaveLength(0);

      // With a second administrator, stepping down is allowed, and ends the session that had the old role.
      await staffMember(svc, 'admin');
      const stepDown = await admin.request(`/console/staff/${admin.id}`, { form: { name: me.name, role: 'manager', locale: 'en', branches: demo.id, active: '1' } });
      expect(stepDown.status).toBe(303);
      expect((await admin.request('/console/staff')).status).toBe(302);
      expect((await db().selectFrom('staff_users').select('role').where('id', '=', admin.id).executeTakeFirstOrThrow()).role).toBe('manager');
    });
  });

  describe('API tokens', () => {
    /** A GET /api route this role may use, when the API exists; else the token is checked where /api checks it. */
    async function tokenWorks(token: string): Promise<boolean> {
      const route = svc.routes.routes.find((r) => r.method === 'GET' && r.path.startsWith('/api/') && !r.path.includes(':') && r.permission !== 'public' && can('manager', r.permission as Permission));
      if (route) {
        const res = await svc.app.request(route.path, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status, `GET ${route.path}`).toBeLessThan(500);
        return res.status !== 401;
      }
      return (await principalFromApiToken(db(), token, new Date())) !== null;
    }

    it('shows a new token once, keeps only its hash, and a revoked token stops working', async () => {
      const res = await admin.request('/console/tokens', { form: { name: 'DMS', role: 'manager', scope: 'all' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const token = TOKEN_RE.exec(await res.text())![0];
      const row = await db().selectFrom('api_tokens').selectAll().executeTakeFirstOrThrow();
      expect(row).toMatchObject({ name: 'DMS', role: 'manager', branch_ids: null, created_by: admin.id, revoked_at: null });
      expect(JSON.stringify(row)).not.toContain(token);
      expect(token.startsWith(`dct_${row.prefix}_`)).toBe(true);

      const list = await (await admin.request('/console/tokens')).text();
      expect(list).toContain(`dct_${row.prefix}…`);
      expect(list).not.toContain(token);

      expect(await tokenWorks(token)).toBe(true);
      const principal = await principalFromApiToken(db(), token, new Date());
      expect(principal).toMatchObject({ kind: 'api_token', name: 'DMS', role: 'manager', branchIds: 'all' });

      const revoke = await admin.request(`/console/tokens/${row.id}/revoke`, { form: {} });
      expect(revoke.status).toBe(303);
      expect(revoke.headers.get('location')).toBe('/console/tokens?flash=revoked');
      expect(await tokenWorks(token)).toBe(false);
      expect(await principalFromApiToken(db(), token, new Date())).toBeNull();
      const again = await admin.request(`/console/tokens/${row.id}/revoke`, { form: {} });
      expect(again.headers.get('location')).toBe('/console/tokens?flash=alreadyRevoked');
      const revokes = await auditOf('token.revoke');
      expect(revokes).toHaveLength(1);
      expect(revokes[0]).toMatchObject({ actor_id: admin.id, entity: 'api_token', entity_id: row.id });
      expect(await auditOf('token.create')).toHaveLength(1);
      expect((await admin.request(`/console/tokens/00000000-0000-4000-8000-000000000000/revoke`, { form: {} })).status).toBe(404);
    });

    it('scopes a token to the chosen branches and refuses an admin token or a token without branches', async () => {
      await admin.request('/console/branches/new', { form: branchForm({ name: 'Second' }) });
      const branches = await db().selectFrom('branches').select('id').orderBy('id').execute();
      const scoped = await postForm(admin, '/console/tokens', [
        ['name', 'Body shop script'],
        ['role', 'advisor'],
        ['scope', 'some'],
        ...branches.map((b): [string, string] => ['branches', b.id]),
      ]);
      expect(scoped.status).toBe(200);
      const row = await db().selectFrom('api_tokens').selectAll().executeTakeFirstOrThrow();
      expect((JSON.parse(row.branch_ids!) as string[]).sort()).toEqual(branches.map((b) => b.id).sort());

      const adminToken = await admin.request('/console/tokens', { form: { name: 'Too strong', role: 'admin', scope: 'all' } });
      expect(adminToken.status).toBe(400);
      expect(await adminToken.text()).toContain('A token acts as a service advisor, customer care or a manager.');
      const noBranch = await admin.request('/console/tokens', { form: { name: 'Nowhere', role: 'care', scope: 'some' } });
      expect(noBranch.status).toBe(400);
      expect(await db().selectFrom('api_tokens').select('id').execute()).toHaveLength(1);
    });
  });

  describe('audit log', () => {
    it('lists the admin actions newest first, filtered by record and by who did them', async () => {
      const demo = await demoBranch();
      await admin.request(`/console/branches/${demo.id}`, { form: branchForm({ name: 'Audited Branch' }) });
      await admin.request('/console/staff/new', { form: { email: 'wu@dealer.example', name: 'Wu', role: 'advisor', locale: 'en', branches: demo.id, passwordMode: 'generate' } });
      await admin.request('/console/tokens', { form: { name: 'DMS', role: 'manager', scope: 'all' } });
      const token = await db().selectFrom('api_tokens').select('id').executeTakeFirstOrThrow();
      await admin.request(`/console/tokens/${token.id}/revoke`, { form: {} });

      const res = await admin.request('/console/audit');
      expect(res.status).toBe(200);
      const html = await res.text();
      // Each entry says what was done in words; the action it records stays on it for scripts.
      expect(html).toContain('Revoked an API token');
      const order = ['token.revoke', 'token.create', 'staff.create', 'branch.update'].map((a) => html.indexOf(`data-action="${a}"`));
      expect(order.every((i) => i > 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      expect(html).toContain('Audited Branch');

      const tokensOnly = await (await admin.request('/console/audit?entity=api_token')).text();
      expect(tokensOnly).toContain('data-action="token.revoke"');
      expect(tokensOnly).not.toContain('data-action="branch.update"');
      const byAdmin = await (await admin.request(`/console/audit?actor=${encodeURIComponent(admin.email.toUpperCase())}`)).text();
      expect(byAdmin).toContain('data-action="staff.create"');
      const byNobody = await (await admin.request('/console/audit?actor=nobody%25')).text();
      expect(byNobody).not.toContain('data-action="staff.create"');

      const manager = await staffMember(svc, 'manager');
      expect((await manager.request('/console/audit')).status).toBe(200);
      expect((await (await staffMember(svc, 'advisor')).request('/console/audit')).status).toBe(403);
    });

    it('pages through a long log', async () => {
      const now = new Date().toISOString();
      await db()
        .insertInto('audit_log')
        .values(Array.from({ length: 60 }, (_, i) => ({ actor_type: 'system' as const, actor_id: null, actor_label: 'test', action: `test.entry${i}`, entity: 'test', entity_id: null, before: null, after: null, ip: null, created_at: now })))
        .execute();
      const first = await (await admin.request('/console/audit?entity=test')).text();
      expect(first).toContain('data-action="test.entry59"');
      expect(first).not.toContain('data-action="test.entry9"');
      expect(first).toContain('href="/console/audit?entity=test&amp;page=2"');
      const second = await (await admin.request('/console/audit?entity=test&page=2')).text();
      expect(second).toContain('data-action="test.entry9"');
      expect(second).not.toContain('data-action="test.entry59"');
    });
  });
});
