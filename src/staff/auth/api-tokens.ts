import type { Kysely } from 'kysely';
import { newId } from '../../ids';
import type { Database } from '../../store/schema';
import type { StaffRole } from '../../store/staff-schema';
import { isStaffRole, type Principal } from '../permissions';
import { randomToken, sha256Hex } from './crypto';

/** Tokens look like `dct_<8 chars>_<secret>`; the prefix is what staff see in the console afterwards. */
const TOKEN_PATTERN = /^dct_([A-Za-z0-9_-]{8})_([A-Za-z0-9_-]{43})$/;

/**
 * Makes an API token for an integration (a DMS, a script). The token is returned once and only its hash
 * is kept, so a leaked database does not leak working tokens.
 */
export async function createApiToken(
  db: Kysely<Database>,
  args: { name: string; role: StaffRole; branchIds: string[] | 'all'; createdBy: string | null; now: Date },
): Promise<{ id: string; token: string; prefix: string }> {
  const prefix = randomToken(6).slice(0, 8);
  const token = `dct_${prefix}_${randomToken(32)}`;
  const id = newId();
  await db
    .insertInto('api_tokens')
    .values({
      id,
      name: args.name,
      token_hash: await sha256Hex(token),
      prefix,
      role: args.role,
      branch_ids: args.branchIds === 'all' ? null : JSON.stringify(args.branchIds),
      created_by: args.createdBy,
      created_at: args.now.toISOString(),
      last_used_at: null,
      revoked_at: null,
    })
    .execute();
  return { id, token, prefix };
}

/** The integration behind an `Authorization: Bearer` token, or null when unknown or revoked. */
export async function principalFromApiToken(db: Kysely<Database>, token: string | undefined, now: Date): Promise<Principal | null> {
  if (!token || !TOKEN_PATTERN.test(token)) return null;
  const row = await db.selectFrom('api_tokens').selectAll().where('token_hash', '=', await sha256Hex(token)).executeTakeFirst();
  if (!row || row.revoked_at || !isStaffRole(row.role)) return null;
  // Written at most once a minute: enough for "last used" in the console without a write per request.
  if (!row.last_used_at || now.getTime() - Date.parse(row.last_used_at) > 60_000) {
    await db.updateTable('api_tokens').set({ last_used_at: now.toISOString() }).where('id', '=', row.id).execute();
  }
  return { kind: 'api_token', id: row.id, name: row.name, role: row.role, branchIds: row.branch_ids ? (JSON.parse(row.branch_ids) as string[]) : 'all' };
}

export async function revokeApiToken(db: Kysely<Database>, id: string, now: Date): Promise<boolean> {
  const result = await db.updateTable('api_tokens').set({ revoked_at: now.toISOString() }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
