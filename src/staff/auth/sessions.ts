import type { Kysely } from 'kysely';
import { newId } from '../../ids';
import type { Database } from '../../store/schema';
import type { Principal } from '../permissions';
import { isStaffRole } from '../permissions';
import { randomToken, sha256Hex } from './crypto';

export const SESSION_COOKIE = 'dealer_staff_session';
/** Signed out after this long without activity… */
export const SESSION_IDLE_MS = 12 * 3600_000;
/** …and after this long in any case. */
export const SESSION_MAX_MS = 7 * 24 * 3600_000;
/** Activity is written back at most this often, so reading pages does not write on every request. */
const TOUCH_EVERY_MS = 5 * 60_000;

export async function createSession(
  db: Kysely<Database>,
  staffId: string,
  meta: { ip: string | null; userAgent: string | null; now: Date },
): Promise<{ token: string; sessionId: string; expiresAt: string }> {
  const token = randomToken(32);
  const sessionId = newId();
  const nowIso = meta.now.toISOString();
  const expiresAt = new Date(meta.now.getTime() + SESSION_IDLE_MS).toISOString();
  await db
    .insertInto('staff_sessions')
    .values({ id: sessionId, token_hash: await sha256Hex(token), staff_id: staffId, created_at: nowIso, last_seen_at: nowIso, expires_at: expiresAt, ip: meta.ip, user_agent: meta.userAgent?.slice(0, 300) ?? null })
    .execute();
  return { token, sessionId, expiresAt };
}

/** The staff member behind a session cookie, or null when it is unknown, expired or the account is off. */
export async function principalFromSession(db: Kysely<Database>, token: string | undefined, now: Date): Promise<Principal | null> {
  if (!token || token.length > 100) return null;
  const row = await db
    .selectFrom('staff_sessions')
    .innerJoin('staff_users', 'staff_users.id', 'staff_sessions.staff_id')
    .select([
      'staff_sessions.id as session_id',
      'staff_sessions.created_at',
      'staff_sessions.last_seen_at',
      'staff_sessions.expires_at',
      'staff_users.id',
      'staff_users.email',
      'staff_users.name',
      'staff_users.role',
      'staff_users.locale',
      'staff_users.active',
    ])
    .where('staff_sessions.token_hash', '=', await sha256Hex(token))
    .executeTakeFirst();
  if (!row || row.active !== 1 || !isStaffRole(row.role)) return null;
  const nowMs = now.getTime();
  if (Date.parse(row.expires_at) <= nowMs || Date.parse(row.created_at) + SESSION_MAX_MS <= nowMs) {
    await db.deleteFrom('staff_sessions').where('id', '=', row.session_id).execute();
    return null;
  }
  if (nowMs - Date.parse(row.last_seen_at) > TOUCH_EVERY_MS) {
    await db
      .updateTable('staff_sessions')
      .set({ last_seen_at: now.toISOString(), expires_at: new Date(nowMs + SESSION_IDLE_MS).toISOString() })
      .where('id', '=', row.session_id)
      .execute();
  }
  return {
    kind: 'staff',
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    locale: row.locale,
    branchIds: row.role === 'admin' ? 'all' : await staffBranchIds(db, row.id),
    sessionId: row.session_id,
  };
}

export async function staffBranchIds(db: Kysely<Database>, staffId: string): Promise<string[]> {
  const rows = await db.selectFrom('staff_branches').select('branch_id').where('staff_id', '=', staffId).execute();
  return rows.map((r) => r.branch_id);
}

export async function endSession(db: Kysely<Database>, sessionId: string): Promise<void> {
  await db.deleteFrom('staff_sessions').where('id', '=', sessionId).execute();
}

/** Signs a staff member out everywhere (password change, account switched off). */
export async function endAllSessions(db: Kysely<Database>, staffId: string): Promise<void> {
  await db.deleteFrom('staff_sessions').where('staff_id', '=', staffId).execute();
}
