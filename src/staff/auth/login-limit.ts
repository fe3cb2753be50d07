import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema';

/**
 * Failed sign-ins are counted per account and per address in the database (so the limit holds across
 * instances): more than a handful against one account, or many from one address, and further attempts
 * are refused for a while, whatever the password.
 */
export const LOGIN_WINDOW_MS = 15 * 60_000;
export const MAX_FAILURES_PER_ACCOUNT = 5;
export const MAX_FAILURES_PER_ADDRESS = 20;

const accountKey = (email: string) => `account:${email.trim().toLowerCase()}`;
const addressKey = (ip: string | null) => `ip:${ip ?? 'unknown'}`;

/** Milliseconds until sign-in may be tried again for this account/address, or 0 when it may now. */
export async function loginBlockedFor(db: Kysely<Database>, email: string, ip: string | null, now: Date): Promise<number> {
  const since = new Date(now.getTime() - LOGIN_WINDOW_MS).toISOString();
  let wait = 0;
  for (const [key, max] of [
    [accountKey(email), MAX_FAILURES_PER_ACCOUNT],
    [addressKey(ip), MAX_FAILURES_PER_ADDRESS],
  ] as const) {
    const rows = await db.selectFrom('login_attempts').select('at').where('key', '=', key).where('at', '>', since).orderBy('at', 'desc').limit(max).execute();
    if (rows.length >= max) {
      const oldestCounted = Date.parse(rows[rows.length - 1]!.at);
      wait = Math.max(wait, oldestCounted + LOGIN_WINDOW_MS - now.getTime());
    }
  }
  return Math.max(0, wait);
}

export async function recordLoginFailure(db: Kysely<Database>, email: string, ip: string | null, now: Date): Promise<void> {
  const at = now.toISOString();
  await db
    .insertInto('login_attempts')
    .values([
      { key: accountKey(email), at },
      { key: addressKey(ip), at },
    ])
    .execute();
  // Old attempts are worth nothing; keep the table small.
  await db.deleteFrom('login_attempts').where('at', '<', new Date(now.getTime() - LOGIN_WINDOW_MS).toISOString()).execute();
}

export async function clearLoginFailures(db: Kysely<Database>, email: string): Promise<void> {
  await db.deleteFrom('login_attempts').where('key', '=', accountKey(email)).execute();
}
