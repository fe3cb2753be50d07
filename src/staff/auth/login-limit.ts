import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema';
import type { Store } from '../../store/store';

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

/** What one attempt wrote (its time and the address counter), so a successful attempt can take it back. */
export interface AttemptClaim {
  at: string;
  addressKey: string | null;
}

/**
 * Counts an attempt before the password is checked, so attempts in parallel cannot all pass the limit while
 * each waits for its hash. In one transaction holding the account's and the address's locks (Postgres
 * advisory locks; SQLite runs one write transaction at a time), the attempts in the window are counted and,
 * when under the limits, this one is written: no two attempts can count the same free place. A refused
 * attempt writes nothing, so it does not lengthen the wait. Returns the wait when over a limit, or the claim
 * to settle once the password was checked.
 */
export async function claimLoginAttempt(store: Store, email: string, ip: string | null, now: Date): Promise<{ ok: true; claim: AttemptClaim } | { ok: false; waitMs: number }> {
  const at = now.toISOString();
  const counters = countersOf(email, ip);
  return store.transaction(async (tx) => {
    // Always the account first, then the address: every attempt takes them in the same order.
    for (const [key] of counters) await store.lock(tx, `login:${key}`);
    const wait = await loginBlockedFor(tx, email, ip, now);
    if (wait > 0) return { ok: false as const, waitMs: wait };
    // No RETURNING: D1 applies a transaction's writes at commit.
    await tx.insertInto('login_attempts').values(counters.map(([key]) => ({ key, at }))).execute();
    return { ok: true as const, claim: { at, addressKey: addressKey(ip) } };
  });
}

/** A wrong password: the claimed attempt stays counted; attempts older than the window are dropped. */
export async function recordLoginFailure(db: Kysely<Database>, now: Date): Promise<void> {
  // Old attempts are worth nothing; keep the table small.
  await db.deleteFrom('login_attempts').where('at', '<', new Date(now.getTime() - LOGIN_WINDOW_MS).toISOString()).execute();
}

/** A right password: the account's failures are forgotten, and this attempt is not counted against the address. */
export async function clearLoginFailures(db: Kysely<Database>, email: string, claim: AttemptClaim): Promise<void> {
  await db.deleteFrom('login_attempts').where('key', '=', accountKey(email)).execute();
  if (claim.addressKey) await db.deleteFrom('login_attempts').where('key', '=', claim.addressKey).where('at', '=', claim.at).execute();
}
