import type { StaffRole } from '../../store/staff-schema';
import type { Store } from '../../store/store';
import { recordAudit, type AuditActor } from '../audit';
import { createApiToken, revokeApiToken } from '../auth/api-tokens';
import { invalid, notFound, ok, type ActionContext, type FieldError, type Invalid, type NotFound, type Result } from '../result';

/*
 * API tokens for integrations (a DMS, scripts). A token is shown once, right after it is made; only its
 * hash is kept, so anyone who loses it makes a new one and revokes the old. Problem codes are keys under
 * `tokens.errors.` of the console-admin texts.
 */

/** An integration acts as one of these; an admin token would let a leaked secret run the whole console. */
export const TOKEN_ROLES: readonly StaffRole[] = ['advisor', 'care', 'manager'];
export const MAX_TOKEN_NAME_CHARS = 100;

/** A token as the console lists it: never the secret, nor its hash. */
export interface ApiTokenListing {
  id: string;
  name: string;
  prefix: string;
  role: StaffRole;
  /** Null for every branch. */
  branchIds: string[] | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface NewTokenRequest {
  name: string;
  role: string;
  /** Every branch (also those added later), or only `branchIds`. */
  scope: 'all' | 'some';
  branchIds: string[];
}

/** Makes a token with its audit entry, in one transaction; its text is returned this once. */
export async function issueApiToken(store: Store, args: { name: string; role: StaffRole; branchIds: string[] | 'all' }, actor: AuditActor, now: Date, ip: string | null = null) {
  return store.transaction(async (tx) => {
    const created = await createApiToken(tx, { ...args, createdBy: actor.kind === 'staff' ? actor.id : null, now });
    await recordAudit(tx, { actor, action: 'token.create', entity: 'api_token', entityId: created.id, after: { name: args.name, role: args.role, prefix: created.prefix, branchIds: args.branchIds }, ip, now: now.toISOString() });
    return created;
  });
}

export function createApiTokenService(deps: { store: Store }) {
  const { store } = deps;
  const db = store.db;
  return {
    /** Every token, newest first. */
    async list(): Promise<ApiTokenListing[]> {
      const rows = await db.selectFrom('api_tokens').select(['id', 'name', 'prefix', 'role', 'branch_ids', 'created_at', 'last_used_at', 'revoked_at']).orderBy('created_at', 'desc').orderBy('id').execute();
      return rows.map((t) => ({ id: t.id, name: t.name, prefix: t.prefix, role: t.role, branchIds: t.branch_ids === null ? null : (JSON.parse(t.branch_ids) as string[]), createdAt: t.created_at, lastUsedAt: t.last_used_at, revokedAt: t.revoked_at }));
    },

    /** Makes a token for an integration; its text comes back this once. */
    async create(ctx: ActionContext, input: NewTokenRequest): Promise<Result<{ id: string; token: string; prefix: string }, Invalid>> {
      const errors: FieldError[] = [];
      const name = input.name.trim();
      if (!name) errors.push({ field: 'name', code: 'nameRequired' });
      else if ([...name].length > MAX_TOKEN_NAME_CHARS) errors.push({ field: 'name', code: 'nameTooLong', params: { max: MAX_TOKEN_NAME_CHARS } });
      if (!(TOKEN_ROLES as readonly string[]).includes(input.role)) errors.push({ field: 'role', code: 'role' });
      if (input.scope === 'some') {
        const known = (await db.selectFrom('branches').select('id').execute()).map((b) => b.id);
        if (input.branchIds.length === 0) errors.push({ field: 'branches', code: 'branchesRequired' });
        else if (input.branchIds.some((id) => !known.includes(id))) errors.push({ field: 'branches', code: 'unknownBranch' });
      }
      if (errors.length > 0) return invalid(errors);
      const created = await issueApiToken(store, { name, role: input.role as StaffRole, branchIds: input.scope === 'all' ? 'all' : input.branchIds }, ctx.actor, ctx.now, ctx.ip);
      return ok(created);
    },

    /** Revokes a token at once; a second revoke is told it was already done. */
    async revoke(ctx: ActionContext, id: string): Promise<Result<{ alreadyRevoked: boolean }, NotFound>> {
      const now = ctx.now.toISOString();
      return store.transaction(async (tx) => {
        await store.lock(tx, `api_token:${id}`);
        // Read first: on D1 the update cannot tell whether it changed a row.
        const before = await tx.selectFrom('api_tokens').select(['id', 'name', 'prefix', 'role', 'branch_ids', 'revoked_at']).where('id', '=', id).executeTakeFirst();
        if (!before) return notFound();
        if (before.revoked_at) return ok({ alreadyRevoked: true });
        await revokeApiToken(tx, id, ctx.now);
        await recordAudit(tx, { actor: ctx.actor, action: 'token.revoke', entity: 'api_token', entityId: id, before, after: { ...before, revoked_at: now }, ip: ctx.ip, now });
        return ok({ alreadyRevoked: false });
      });
    },
  };
}

export type ApiTokenService = ReturnType<typeof createApiTokenService>;
