import type { Store } from '../../store/store';
import { recordAudit } from '../audit';
import type { Principal } from '../permissions';
import { findStaffByEmail } from '../staff-users/records';
import { claimLoginAttempt, clearLoginFailures, recordLoginFailure } from './login-limit';
import { verifyPassword } from './password';
import { createSession, endSession, principalFromSession } from './sessions';

/** A password check of similar cost runs for unknown emails, so response time does not reveal which accounts exist. */
const DUMMY_HASH = 'pbkdf2-sha256$600000$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

export type SignInResult =
  | { ok: true; token: string; sessionId: string }
  /** Too many failures for this account or address: try again in `waitMs`. */
  | { ok: false; reason: 'blocked'; waitMs: number }
  /** Unknown email, wrong password or an account switched off: the same answer for each. */
  | { ok: false; reason: 'failed' };

/** Signing staff in and out of the console, with the limits on guessing and the audit entries. */
export function createSessionService(deps: { store: Store }) {
  const { store } = deps;
  return {
    /** The signed-in staff member behind a session cookie, or null. */
    principal: (token: string | undefined, now: Date): Promise<Principal | null> => principalFromSession(store.db, token, now),

    async signIn(args: { email: string; password: string; ip: string | null; userAgent: string | null; now: Date }): Promise<SignInResult> {
      const { email, ip, now } = args;
      // Counted before the slow hash, so parallel guesses cannot all slip under the limit.
      const attempt = await claimLoginAttempt(store, email, ip, now);
      if (!attempt.ok) return { ok: false, reason: 'blocked', waitMs: attempt.waitMs };
      const staff = await findStaffByEmail(store.db, email);
      const matches = await verifyPassword(args.password, staff?.password_hash ?? DUMMY_HASH);
      if (!staff || !matches || staff.active !== 1) {
        await recordLoginFailure(store.db, now);
        return { ok: false, reason: 'failed' };
      }
      await clearLoginFailures(store.db, email, attempt.claim);
      const session = await store.transaction(async (tx) => {
        const created = await createSession(tx, staff.id, { ip, userAgent: args.userAgent, now });
        await tx.updateTable('staff_users').set({ last_login_at: now.toISOString() }).where('id', '=', staff.id).execute();
        const actor: Principal = { kind: 'staff', id: staff.id, email: staff.email, name: staff.name, role: staff.role, locale: staff.locale, branchIds: [], sessionId: created.sessionId };
        await recordAudit(tx, { actor, action: 'login', entity: 'staff_session', entityId: created.sessionId, ip, now: now.toISOString() });
        return created;
      });
      return { ok: true, token: session.token, sessionId: session.sessionId };
    },

    /** Ends this session (not the staff member's others). */
    async signOut(principal: Principal, ip: string | null, now: Date): Promise<void> {
      if (principal.kind !== 'staff') return;
      await store.transaction(async (tx) => {
        await endSession(tx, principal.sessionId);
        await recordAudit(tx, { actor: principal, action: 'logout', entity: 'staff_session', entityId: principal.sessionId, ip, now: now.toISOString() });
      });
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
