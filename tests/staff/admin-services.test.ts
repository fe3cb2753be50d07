import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadBranchCapacity } from '../../src/booking/capacity';
import { createApiTokenService } from '../../src/staff/api-tokens';
import { createAuditLogService } from '../../src/staff/audit-log';
import { recordAudit } from '../../src/staff/audit';
import { principalFromApiToken } from '../../src/staff/auth/api-tokens';
import { createSession } from '../../src/staff/auth/sessions';
import { createBranchService, type BranchFormInput } from '../../src/staff/branches';
import { createCapacityService } from '../../src/staff/capacity';
import type { Principal } from '../../src/staff/permissions';
import type { ActionContext } from '../../src/staff/result';
import { createStaffUserService } from '../../src/staff/staff-users';
import { seedFreshDatabase } from '../../src/store/seed';
import { testConfig } from '../helpers/config';
import { dialects, type TestStore } from '../helpers/stores';

/*
 * The rules the admin's staff services keep, called as the console and the API call them: branches,
 * staff accounts, API tokens, capacity and the audit log. The pages around them are tested in
 * console-admin.test.ts and capacity.test.ts; here each rule is met head on, on every dialect.
 */

const NOW = new Date('2026-03-09T00:00:00.000Z');

function staffPrincipal(over: Partial<Extract<Principal, { kind: 'staff' }>> = {}): Principal {
  return { kind: 'staff', id: crypto.randomUUID(), email: 'admin@dealer.example', name: 'Admin', role: 'admin', locale: 'en', branchIds: 'all', sessionId: crypto.randomUUID(), ...over };
}

const act = (actor: Principal): ActionContext => ({ actor, ip: '10.0.0.7', now: NOW });

const FORM: BranchFormInput = {
  name: 'Neihu',
  address: '',
  phone: '',
  mapUrl: '',
  timeZone: 'Asia/Taipei',
  hours: { mon: '09:00-18:00', tue: '09:00-18:00', wed: '09:00-18:00', thu: '09:00-18:00', fri: '09:00-18:00', sat: '09:00-12:00', sun: '' },
  holidays: '',
};

describe.each(dialects)('admin services on $name', (dialect) => {
  let db: TestStore;
  let demoBranchId: string;
  const admin = act(staffPrincipal());
  const store = () => db.store;
  const auditOf = (action: string) => store().db.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();

  beforeEach(async () => {
    db = await dialect.open();
    await seedFreshDatabase(db.store, testConfig({ DEFAULT_LOCALE: 'en' }), NOW);
    demoBranchId = (await db.store.db.selectFrom('branches').select('id').executeTakeFirstOrThrow()).id;
  });
  afterEach(async () => {
    await db.drop();
  });

  describe('branches', () => {
    it('reports every problem of a form at once and saves nothing', async () => {
      const branches = createBranchService({ store: store() });
      const refused = await branches.create(admin, { ...FORM, name: '', timeZone: 'Mars/Olympus', hours: { ...FORM.hours, fri: '9h' }, holidays: '2026-13-01' });
      expect(refused.ok).toBe(false);
      if (refused.ok || refused.reason !== 'invalid') throw new Error('expected invalid');
      expect(refused.errors.map((e) => `${e.field}:${e.code}`)).toEqual(['name:nameRequired', 'timeZone:timeZone', 'hours_fri:hoursFormat', 'holidays:holiday']);
      expect(await store().db.selectFrom('branches').select('id').execute()).toHaveLength(1);
      expect(await auditOf('branch.create')).toHaveLength(0);
    });

    it('applies a change to the form as it reads now, and refuses a save over someone else’s', async () => {
      const branches = createBranchService({ store: store() });
      const created = await branches.create(admin, FORM);
      if (!created.ok) throw new Error('not created');
      const id = created.value.id;

      // Only Saturday's hours given: every other field and day stays as it was.
      const saved = await branches.update({ ...admin, now: new Date(NOW.getTime() + 60_000) }, id, { hours: { sat: '' } });
      if (!saved.ok) throw new Error(`not saved: ${saved.reason}`);
      expect(saved.value.name).toBe('Neihu');
      expect(JSON.parse(saved.value.opening_hours)).toMatchObject({ mon: [['09:00', '18:00']], sat: [] });
      const [entry] = await auditOf('branch.update');
      expect(JSON.parse(entry!.before!)).toMatchObject({ opening_hours: { sat: [['09:00', '12:00']] } });
      expect(JSON.parse(entry!.after!)).toMatchObject({ opening_hours: { sat: [] }, is_demo: 0 });

      // An editor who read the branch before that save is told, not allowed to undo it.
      expect(await branches.update(admin, id, { name: 'Neihu Centre' }, { expectedUpdatedAt: created.value.updated_at })).toEqual({ ok: false, reason: 'conflict', code: 'changed' });
      expect(await branches.update(admin, id, { name: 'Neihu Centre' }, { expectedUpdatedAt: saved.value.updated_at })).toMatchObject({ ok: true, value: { name: 'Neihu Centre' } });
    });

    it('finds, changes and lists only the branches a principal belongs to, and turns the demo branch into a real one on request', async () => {
      const branches = createBranchService({ store: store() });
      const other = await branches.create(admin, { ...FORM, name: 'Other' });
      if (!other.ok) throw new Error('not created');
      const manager = act(staffPrincipal({ role: 'manager', branchIds: [demoBranchId] }));
      expect((await branches.list(manager.actor)).map((b) => b.id)).toEqual([demoBranchId]);
      expect(await branches.find(manager.actor, other.value.id)).toBeNull();
      expect(await branches.update(manager, other.value.id, { name: 'Mine now' })).toEqual({ ok: false, reason: 'not_found' });

      const kept = await branches.update(admin, demoBranchId, { name: 'Taipei Main' });
      expect(kept).toMatchObject({ ok: true, value: { is_demo: 1 } });
      expect(await branches.update(admin, demoBranchId, {}, { clearDemo: true })).toMatchObject({ ok: true, value: { name: 'Taipei Main', is_demo: 0 } });
    });
  });

  describe('staff accounts', () => {
    const fields = (over: Record<string, unknown> = {}) => ({ name: 'Lin Mei', role: 'advisor', locale: 'en', branchIds: [] as string[], ...over });

    it('checks an account before making it, and hands a generated password out once', async () => {
      const staff = createStaffUserService({ store: store(), passwordIterations: 1000 });
      const refused = await staff.create(admin, { ...fields({ name: '', role: 'owner', locale: 'xx', branchIds: ['nowhere'] }), email: 'not an email', password: { mode: 'set', password: 'short' } });
      if (refused.ok) throw new Error('expected refusal');
      expect(refused.errors.map((e) => `${e.field}:${e.code}`)).toEqual(['email:email', 'name:nameRequired', 'role:role', 'locale:locale', 'branches:unknownBranch', 'password:password']);

      const created = await staff.create(admin, { ...fields({ branchIds: [demoBranchId] }), email: ' Lin@Dealer.example ', password: { mode: 'generate' } });
      if (!created.ok) throw new Error('not created');
      expect(created.value.user).toMatchObject({ email: 'lin@dealer.example', role: 'advisor', active: 1 });
      expect(created.value.generatedPassword).toMatch(/^[A-Za-z0-9_-]{16}$/);
      const [entry] = await auditOf('staff.create');
      expect(entry).toMatchObject({ entity_id: created.value.user.id, actor_id: admin.actor.id, ip: '10.0.0.7' });
      expect(entry!.after).not.toContain(created.value.generatedPassword!);

      const again = await staff.create(admin, { ...fields({ branchIds: [demoBranchId] }), email: 'lin@dealer.example', password: { mode: 'generate' } });
      expect(again).toEqual({ ok: false, reason: 'invalid', errors: [{ field: 'email', code: 'emailTaken', params: { email: 'lin@dealer.example' } }] });
    });

    it('keeps one active administrator, and ends the sessions of an account switched off or moved to another role', async () => {
      const staff = createStaffUserService({ store: store(), passwordIterations: 1000 });
      const first = await staff.create(admin, { ...fields({ name: 'First', role: 'admin' }), email: 'first@dealer.example', password: { mode: 'generate' } });
      const second = await staff.create(admin, { ...fields({ name: 'Second', role: 'admin' }), email: 'second@dealer.example', password: { mode: 'generate' } });
      if (!first.ok || !second.ok) throw new Error('not created');
      const asFirst = act(staffPrincipal({ id: first.value.user.id }));
      await createSession(store().db, second.value.user.id, { ip: null, userAgent: null, now: NOW });

      const off = await staff.update(asFirst, second.value.user.id, { ...fields({ name: 'Second', role: 'admin' }), active: false });
      expect(off).toMatchObject({ ok: true, value: { active: 0 } });
      expect(await store().db.selectFrom('staff_sessions').select('id').where('staff_id', '=', second.value.user.id).execute()).toHaveLength(0);

      // The first is now the only active administrator: neither demoting nor switching it off is allowed.
      expect(await staff.update(asFirst, first.value.user.id, { ...fields({ name: 'First', branchIds: [demoBranchId] }), active: true })).toEqual({ ok: false, reason: 'conflict', code: 'lastAdminSelf' });
      expect(await staff.update(act(staffPrincipal()), first.value.user.id, { ...fields({ name: 'First', role: 'admin' }), active: false })).toEqual({ ok: false, reason: 'conflict', code: 'lastAdmin' });
      expect((await staff.find(first.value.user.id))!.user).toMatchObject({ role: 'admin', active: 1 });

      // An administrator works in every branch, whatever was ticked.
      const back = await staff.update(asFirst, second.value.user.id, { ...fields({ name: 'Second', role: 'admin' }), active: true });
      expect(back.ok).toBe(true);
      expect((await staff.find(second.value.user.id))!.branchIds).toEqual([demoBranchId]);
    });

    it('resets a password, signing the account out everywhere', async () => {
      const staff = createStaffUserService({ store: store(), passwordIterations: 1000 });
      const created = await staff.create(admin, { ...fields({ branchIds: [demoBranchId] }), email: 'reset@dealer.example', password: { mode: 'generate' } });
      if (!created.ok) throw new Error('not created');
      const id = created.value.user.id;
      await createSession(store().db, id, { ip: null, userAgent: null, now: NOW });
      expect(await staff.resetPassword(admin, id, { mode: 'set', password: 'short' })).toEqual({ ok: false, reason: 'invalid', errors: [{ field: 'password', code: 'password' }] });
      expect(await staff.resetPassword(admin, id, { mode: 'set', password: 'another long password' })).toEqual({ ok: true, value: { generatedPassword: null } });
      expect(await store().db.selectFrom('staff_sessions').select('id').where('staff_id', '=', id).execute()).toHaveLength(0);
      expect(await staff.resetPassword(admin, crypto.randomUUID(), { mode: 'generate' })).toEqual({ ok: false, reason: 'not_found' });
    });
  });

  describe('API tokens', () => {
    it('refuses an admin token or one for no branch, issues a working one, and revokes it once', async () => {
      const tokens = createApiTokenService({ store: store() });
      const refused = await tokens.create(admin, { name: '  ', role: 'admin', scope: 'some', branchIds: [] });
      if (refused.ok) throw new Error('expected refusal');
      expect(refused.errors.map((e) => `${e.field}:${e.code}`)).toEqual(['name:nameRequired', 'role:role', 'branches:branchesRequired']);

      const created = await tokens.create(admin, { name: ' DMS ', role: 'manager', scope: 'some', branchIds: [demoBranchId] });
      if (!created.ok) throw new Error('not created');
      expect(await principalFromApiToken(store().db, created.value.token, NOW)).toMatchObject({ kind: 'api_token', name: 'DMS', role: 'manager', branchIds: [demoBranchId] });
      expect(await tokens.list()).toMatchObject([{ name: 'DMS', prefix: created.value.prefix, branchIds: [demoBranchId], revokedAt: null }]);

      expect(await tokens.revoke(admin, created.value.id)).toEqual({ ok: true, value: { alreadyRevoked: false } });
      expect(await tokens.revoke(admin, created.value.id)).toEqual({ ok: true, value: { alreadyRevoked: true } });
      expect(await tokens.revoke(admin, crypto.randomUUID())).toEqual({ ok: false, reason: 'not_found' });
      expect(await principalFromApiToken(store().db, created.value.token, NOW)).toBeNull();
      expect(await auditOf('token.revoke')).toHaveLength(1);
    });
  });

  describe('capacity', () => {
    it('rewrites a renamed service type in the bays that take it, and refuses a code the branch already has', async () => {
      const capacity = createCapacityService({ store: store() });
      const before = (await loadBranchCapacity(store().db, demoBranchId))!;
      const type = before.serviceTypes.find((t) => t.code === 'periodic_maintenance')!;
      const takers = before.bays.filter((b) => b.serviceTypes.includes(type.code)).map((b) => b.id);
      expect(takers.length).toBeGreaterThan(0);

      const input = { code: 'maintenance', durationMinutes: type.durationMinutes, names: type.names, active: true, sortOrder: type.sortOrder };
      expect(await capacity.saveServiceType(admin, demoBranchId, type.id, input)).toEqual({ ok: true, value: type.id });
      const after = (await loadBranchCapacity(store().db, demoBranchId))!;
      for (const bay of after.bays.filter((b) => takers.includes(b.id))) expect(bay.serviceTypes).toContain('maintenance');
      expect(after.bays.some((b) => b.serviceTypes.includes('periodic_maintenance'))).toBe(false);
      const [entry] = await auditOf('service_type.update');
      expect(JSON.parse(entry!.after!)).toMatchObject({ code: 'maintenance', baysUpdated: expect.arrayContaining(takers) });

      const other = after.serviceTypes.find((t) => t.code !== 'maintenance')!;
      expect(await capacity.saveServiceType(admin, demoBranchId, other.id, { ...input, code: 'maintenance' })).toEqual({ ok: false, reason: 'conflict', code: 'codeTaken' });
      expect(await capacity.saveServiceType(admin, demoBranchId, null, { ...input, code: 'Bad Code' })).toEqual({ ok: false, reason: 'invalid', errors: [{ field: 'code', code: 'type.code' }] });
    });

    it('keeps a bay to the branch’s own service types, checks settings, and hides other branches', async () => {
      const capacity = createCapacityService({ store: store() });
      const saved = await capacity.saveBay(admin, demoBranchId, null, { name: 'Bay 9', serviceTypes: ['inspection', 'time_travel'], active: true, sortOrder: 90 });
      if (!saved.ok) throw new Error('not saved');
      expect((await loadBranchCapacity(store().db, demoBranchId))!.bays.find((b) => b.id === saved.value)!.serviceTypes).toEqual(['inspection']);
      expect(await capacity.saveBay(admin, demoBranchId, crypto.randomUUID(), { name: 'Ghost', serviceTypes: [], active: true, sortOrder: 0 })).toEqual({ ok: false, reason: 'not_found' });

      const settings = (await loadBranchCapacity(store().db, demoBranchId))!.rules.settings;
      const bad = await capacity.saveSettings(admin, demoBranchId, { ...settings, dailyCap: 0, slotIntervalMinutes: 7 });
      if (bad.ok || bad.reason !== 'invalid') throw new Error('expected invalid');
      expect(bad.errors.map((e) => e.code).sort()).toEqual(['settings.dailyCap', 'settings.slotIntervalMinutes']);

      const elsewhere = act(staffPrincipal({ role: 'manager', branchIds: [crypto.randomUUID()] }));
      expect(await capacity.find(elsewhere.actor, demoBranchId)).toBeNull();
      expect(await capacity.saveSettings(elsewhere, demoBranchId, settings)).toEqual({ ok: false, reason: 'not_found' });
    });
  });

  describe('audit log', () => {
    it('filters by what the actor typed as written (no wildcards, any case) and pages newest first', async () => {
      const audit = createAuditLogService({ store: store() });
      const write = (label: string, i: number) =>
        recordAudit(store().db, { actor: { kind: 'cli', label }, action: `test.entry${i}`, entity: 'test', entityId: String(i), now: new Date(NOW.getTime() + i * 1000).toISOString() });
      await write('mei_lin@dealer.example', 0);
      await write('meixlin@dealer.example', 1);
      for (let i = 2; i < 53; i++) await write('script', i);

      expect((await audit.list({ actor: 'MEI_LIN' })).items.map((e) => e.entry.action)).toEqual(['test.entry0']);
      const first = await audit.list({ entity: 'test' });
      expect(first).toMatchObject({ page: 1, hasNext: true });
      expect(first.items).toHaveLength(50);
      expect(first.items[0]!.entry.action).toBe('test.entry52');
      const last = await audit.list({ entity: 'test', page: 2 });
      expect(last.items.map((e) => e.entry.action)).toEqual(['test.entry2', 'test.entry1', 'test.entry0']);
      expect(last.hasNext).toBe(false);
      expect(await audit.entities()).toContain('test');
    });
  });
});
