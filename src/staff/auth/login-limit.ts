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
/** Null when the address is not known: unknown callers are never pooled into one counter (they would lock each other out). */
const addressKey = (ip: string | null) => (ip ? `ip:${ip}` : null);

/** The counters an attempt from this account and address is counted in, with each one's limit. */
function countersOf(email: string, ip: string | null): [string, number][] {
  const address = addressKey(ip);
  return [[accountKey(email), MAX_FAILURES_PER_ACCOUNT], ...(address ? ([[address, MAX_FAILURES_PER_ADDRESS]] as [string, number][]) : [])];
}

/** Milliseconds until sign-in may be tried again for this account/address, or 0 when it may now. */
export async function loginBlockedFor(db: Kysely<Database>, email: string, ip: string | null, now: Date): Promise<number> {
  const since = new Date(now.getTime() - LOGIN_WINDOW_MS).toISOString();
  let wait = 0;
  for (const [key, max] of countersOf(email, ip)) {
    const rows = await db.selectFrom('login_attempts').select('at').where('key', '=', key).where('at', '>', since).orderBy('at', 'desc').limit(max).execute();
    if (rows.length >= max) {
      const oldestCounted = Date.parse(rows[rows.length - 1]!.at);
      wait = Math.max(wait, oldestCounted + LOGIN_WINDOW_MS - now.getTime());
    }
  }
  return Math.max(0, wait);
}

/** The rows one attempt wrote, so a refused or successful attempt can take them back. */
export type AttemptClaim = number[];

/**
 * Counts an attempt before the password is checked, so attempts in parallel cannot all pass the limit while
 * each waits for its hash: the attempt is written first, then the attempts in the window are counted with it.
 * The n-th attempt always sees at least n, so no more than the limit ever go on to the password check.
 * Returns the wait when this attempt is over a limit (its rows are then taken back: a refused attempt does
 * not lengthen the wait), or the claim to settle once the password was checked.
 */
export async function claimLoginAttempt(db: Kysely<Database>, email: string, ip: string | null, now: Date): Promise<{ ok: true; claim: AttemptClaim } | { ok: false; waitMs: number }> {
  const at = now.toISOString();
  const since = new Date(now.getTime() - LOGIN_WINDOW_MS).toISOString();
  const counters = countersOf(email, ip);
  const claim: AttemptClaim = [];
  for (const [key] of counters) {
    const row = await db.insertInto('login_attempts').values({ key, at }).returning('id').executeTakeFirstOrThrow();
    claim.push(Number(row.id));
  }
  let over = false;
  for (const [key, max] of counters) {
    // Attempts written before this one (a lower id) or at the same moment count; this one is the last of them.
    const counted = await db.selectFrom('login_attempts').select((eb) => eb.fn.countAll<string | number>().as('n')).where('key', '=', key).where('at', '>', since).executeTakeFirstOrThrow();
    if (Number(counted.n) > max) over = true;
  }
  if (!over) return { ok: true, claim };
  await db.deleteFrom('login_attempts').where('id', 'in', claim).execute();
  return { ok: false, waitMs: Math.max(1000, await loginBlockedFor(db, email, ip, now)) };
}

/** A wrong password: the claimed attempt stays counted; attempts older than the window are dropped. */
export async function recordLoginFailure(db: Kysely<Database>, now: Date): Promise<void> {
  // Old attempts are worth nothing; keep the table small.
  await db.deleteFrom('login_attempts').where('at', '<', new Date(now.getTime() - LOGIN_WINDOW_MS).toISOString()).execute();
}

/** A right password: the account's failures are forgotten, and this attempt is not counted against the address. */
export async function clearLoginFailures(db: Kysely<Database>, email: string, claim: AttemptClaim): Promise<void> {
  await db.deleteFrom('login_attempts').where('key', '=', accountKey(email)).execute();
  if (claim.length) await db.deleteFrom('login_attempts').where('id', 'in', claim).execute();
}
