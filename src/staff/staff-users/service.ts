import { sql, type Kysely } from 'kysely';
import { isLocale } from '../../i18n/locales';
import { isUniqueViolation } from '../../store/errors';
import type { Database } from '../../store/schema';
import type { StaffRole, StaffUser } from '../../store/staff-schema';
import type { Store } from '../../store/store';
import { recordAudit, type AuditActor } from '../audit';
import { randomToken } from '../auth/crypto';
import { hashPassword, passwordProblem } from '../auth/password';
import { endAllSessions, staffBranchIds } from '../auth/sessions';
import { isStaffRole } from '../permissions';
import { conflict, invalid, notFound, ok, type ActionContext, type Conflict, type FieldError, type Invalid, type NotFound, type Result } from '../result';
import { createStaffUser, normalizeEmail, publicStaff, setStaffBranches, type NewStaff } from './records';

/*
 * Staff accounts (the admin's). Customers belong to the dealership, not to an advisor: switching an
 * account off ends its sessions at once and keeps everything it did. The last active administrator cannot
 * be switched off or demoted, or nobody could manage the console any more. Problem codes are keys under
 * `staff.errors.` of the console-admin texts.
 */

/** Taken by one transaction at a time, so two admins cannot each demote the other and leave none. */
const ADMINS_LOCK = 'staff:admins';
export const MAX_STAFF_NAME_CHARS = 100;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** What creating and editing an account share. */
export interface StaffFields {
  name: string;
  role: string;
  locale: string;
  /** Ignored for an administrator, who works in every branch. */
  branchIds: string[];
}

/** A password typed by the admin, or one made up and shown once. */
export type PasswordChoice = { mode: 'generate' } | { mode: 'set'; password: string };

/** A generated password: 16 characters of base64url (96 random bits), over the 12 a password needs. */
export function generatePassword(): string {
  return randomToken(12);
}

function checkFields(fields: StaffFields, branchIds: readonly string[]): FieldError[] {
  const errors: FieldError[] = [];
  if (!fields.name) errors.push({ field: 'name', code: 'nameRequired' });
  else if ([...fields.name].length > MAX_STAFF_NAME_CHARS) errors.push({ field: 'name', code: 'nameTooLong', params: { max: MAX_STAFF_NAME_CHARS } });
  if (!isStaffRole(fields.role)) errors.push({ field: 'role', code: 'role' });
  if (!isLocale(fields.locale)) errors.push({ field: 'locale', code: 'locale' });
  if (fields.branchIds.some((id) => !branchIds.includes(id))) errors.push({ field: 'branches', code: 'unknownBranch' });
  else if (fields.role !== 'admin' && fields.branchIds.length === 0) errors.push({ field: 'branches', code: 'branchesRequired' });
  return errors;
}

function passwordOf(choice: PasswordChoice): { password: string; generated: boolean } | FieldError {
  if (choice.mode === 'generate') return { password: generatePassword(), generated: true };
  if (passwordProblem(choice.password)) return { field: 'password', code: 'password' };
  return { password: choice.password, generated: false };
}

/** How many other accounts could still run the console if this one stopped being an active admin. */
async function otherActiveAdmins(db: Kysely<Database>, staffId: string): Promise<number> {
  const row = await db.selectFrom('staff_users').select(sql<number>`count(*)`.as('n')).where('role', '=', 'admin').where('active', '=', 1).where('id', '!=', staffId).executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Creates an account with its audit entry, in one transaction: what the console and `npm run
 * staff:create` both end in, once they have checked what was asked for.
 */
export async function openStaffAccount(store: Store, staff: NewStaff, actor: AuditActor, now: Date, opts: { iterations?: number; ip?: string | null } = {}): Promise<StaffUser> {
  return store.transaction(async (tx) => {
    const user = await createStaffUser(tx, staff, now, opts.iterations);
    await recordAudit(tx, { actor, action: 'staff.create', entity: 'staff_user', entityId: user.id, after: { ...publicStaff(user), branchIds: staff.branchIds }, ip: opts.ip, now: now.toISOString() });
    return user;
  });
}

export function createStaffUserService(deps: { store: Store; passwordIterations?: number }) {
  const { store } = deps;
  const db = store.db;
  const branchIdsAll = async () => (await db.selectFrom('branches').select('id').execute()).map((b) => b.id);

  async function find(id: string): Promise<{ user: StaffUser; branchIds: string[] } | null> {
    const user = await db.selectFrom('staff_users').selectAll().where('id', '=', id).executeTakeFirst();
    return user ? { user, branchIds: await staffBranchIds(db, user.id) } : null;
  }

  return {
    /** Every account, active first, by name, with the names of its branches. */
    async list(): Promise<{ user: StaffUser; branchNames: string[] }[]> {
      const users = await db.selectFrom('staff_users').selectAll().orderBy('active', 'desc').orderBy('name').orderBy('email').execute();
      const links = await db.selectFrom('staff_branches').innerJoin('branches', 'branches.id', 'staff_branches.branch_id').select(['staff_branches.staff_id', 'branches.name']).orderBy('branches.name').execute();
      return users.map((user) => ({ user, branchNames: links.filter((l) => l.staff_id === user.id).map((l) => l.name) }));
    },

    find,

    /** Creates an account; a generated password comes back once, to be shown once. */
    async create(ctx: ActionContext, input: StaffFields & { email: string; password: PasswordChoice }): Promise<Result<{ user: StaffUser; generatedPassword: string | null }, Invalid>> {
      const branchIds = await branchIdsAll();
      const errors: FieldError[] = [];
      const email = normalizeEmail(input.email);
      if (!EMAIL_PATTERN.test(email) || email.length > 320) errors.push({ field: 'email', code: 'email' });
      else if (await db.selectFrom('staff_users').select('id').where('email', '=', email).executeTakeFirst()) errors.push({ field: 'email', code: 'emailTaken', params: { email } });
      errors.push(...checkFields(input, branchIds));
      const password = passwordOf(input.password);
      if ('field' in password) errors.push(password);
      if (errors.length > 0 || 'field' in password) return invalid(errors);
      const staff: NewStaff = { email, name: input.name, role: input.role as StaffRole, locale: input.locale, password: password.password, branchIds: input.role === 'admin' ? branchIds : input.branchIds };
      try {
        const user = await openStaffAccount(store, staff, ctx.actor, ctx.now, { iterations: deps.passwordIterations, ip: ctx.ip });
        return ok({ user, generatedPassword: password.generated ? password.password : null });
      } catch (err) {
        // An account made for the same address between the check above and the write.
        if (isUniqueViolation(err, 'staff_users')) return invalid([{ field: 'email', code: 'emailTaken', params: { email } }]);
        throw err;
      }
    },

    /**
     * Changes name, role, language, branches and whether the account is on. A change of role, or
     * switching it off, ends its sessions. Refused ('lastAdmin', or 'lastAdminSelf' for one's own
     * account) when no other active administrator would remain.
     */
    async update(ctx: ActionContext, id: string, input: StaffFields & { active: boolean }): Promise<Result<StaffUser, NotFound | Invalid | Conflict>> {
      const current = await find(id);
      if (!current) return notFound();
      const allBranches = await branchIdsAll();
      const errors = checkFields(input, allBranches);
      if (errors.length > 0) return invalid(errors);
      const role = input.role as StaffRole;
      const active = input.active ? 1 : 0;
      const branchIds = role === 'admin' ? allBranches : input.branchIds;
      const now = ctx.now.toISOString();
      return store.transaction(async (tx): Promise<Result<StaffUser, NotFound | Conflict>> => {
        await store.lock(tx, ADMINS_LOCK);
        // Everything is read before anything is written (D1 transactions do not see their own writes).
        const before = await tx.selectFrom('staff_users').selectAll().where('id', '=', id).executeTakeFirst();
        if (!before) return notFound();
        const beforeBranches = await staffBranchIds(tx, id);
        const losesAdmin = before.role === 'admin' && before.active === 1 && (role !== 'admin' || active !== 1);
        if (losesAdmin && (await otherActiveAdmins(tx, id)) === 0) return conflict(ctx.actor.id === id ? 'lastAdminSelf' : 'lastAdmin');
        const endsSessions = before.role !== role || (before.active === 1 && active !== 1);
        const after: StaffUser = { ...before, name: input.name, role, locale: input.locale, active, updated_at: now };
        await tx.updateTable('staff_users').set({ name: after.name, role, locale: after.locale, active, updated_at: now }).where('id', '=', id).execute();
        await setStaffBranches(tx, id, branchIds);
        if (endsSessions) await endAllSessions(tx, id);
        await recordAudit(tx, {
          actor: ctx.actor,
          action: 'staff.update',
          entity: 'staff_user',
          entityId: id,
          before: { ...publicStaff(before), branchIds: beforeBranches },
          after: { ...publicStaff(after), branchIds, sessionsEnded: endsSessions },
          ip: ctx.ip,
          now,
        });
        return ok(after);
      });
    },

    /** Sets a new password (typed, or generated and returned once) and signs the account out everywhere. */
    async resetPassword(ctx: ActionContext, id: string, choice: PasswordChoice): Promise<Result<{ generatedPassword: string | null }, NotFound | Invalid>> {
      if (!(await find(id))) return notFound();
      const password = passwordOf(choice);
      if ('field' in password) return invalid([password]);
      const hash = await hashPassword(password.password, deps.passwordIterations);
      const now = ctx.now.toISOString();
      await store.transaction(async (tx) => {
        await tx.updateTable('staff_users').set({ password_hash: hash, updated_at: now }).where('id', '=', id).execute();
        // Whoever knew the old password is signed out everywhere.
        await endAllSessions(tx, id);
        await recordAudit(tx, { actor: ctx.actor, action: 'staff.password_reset', entity: 'staff_user', entityId: id, after: { generated: password.generated, sessionsEnded: true }, ip: ctx.ip, now });
      });
      return ok({ generatedPassword: password.generated ? password.password : null });
    },
  };
}

export type StaffUserService = ReturnType<typeof createStaffUserService>;
