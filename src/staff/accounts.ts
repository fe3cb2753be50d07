import type { Store } from '../store/store';
import type { StaffRole } from '../store/staff-schema';
import { isLocale } from '../i18n/locales';
import { issueApiToken } from './api-tokens';
import { passwordProblem } from './auth/password';
import type { AuditActor } from './audit';
import { isStaffRole } from './permissions';
import { findStaffByEmail, openStaffAccount, publicStaff } from './staff-users';

export class AccountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountError';
  }
}

/** Branch ids from the words an operator typed: 'all', or ids/names of existing branches. */
async function resolveBranches(store: Store, wanted: string[] | 'all'): Promise<string[]> {
  const branches = await store.db.selectFrom('branches').select(['id', 'name']).execute();
  if (wanted === 'all') return branches.map((b) => b.id);
  return wanted.map((w) => {
    const found = branches.find((b) => b.id === w || b.name === w);
    if (!found) throw new AccountError(`no branch "${w}"; branches: ${branches.map((b) => `${b.name} (${b.id})`).join(', ')}`);
    return found.id;
  });
}

/*
 * Accounts made from the server's terminal (`npm run staff:create`, `npm run token:create`): the words an
 * operator typed are checked here, in English, and the accounts are made as the console makes them.
 */

/** Creates a staff account with its audit entry. There is no default password: the operator supplies one. */
export async function createStaffAccount(
  store: Store,
  args: { email: string; name?: string; role: string; locale?: string; password: string; branches: string[] | 'all' },
  actor: AuditActor,
  now: Date,
  opts: { defaultLocale: string; iterations?: number },
) {
  const email = args.email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new AccountError(`"${args.email}" is not an email address`);
  if (!isStaffRole(args.role)) throw new AccountError(`role must be advisor, care, manager or admin (got "${args.role}")`);
  const locale = args.locale ?? opts.defaultLocale;
  if (!isLocale(locale)) throw new AccountError(`locale must be zh-TW, zh-CN, en, ja or th (got "${locale}")`);
  const problem = passwordProblem(args.password);
  if (problem) throw new AccountError(`the password needs ${problem}`);
  if (await findStaffByEmail(store.db, email)) throw new AccountError(`${email} already has an account`);
  const branchIds = await resolveBranches(store, args.role === 'admin' && args.branches !== 'all' && args.branches.length === 0 ? 'all' : args.branches);
  const user = await openStaffAccount(store, { email, name: args.name?.trim() || email.split('@')[0]!, role: args.role as StaffRole, locale, password: args.password, branchIds }, actor, now, { iterations: opts.iterations });
  return { user: publicStaff(user), branchIds };
}

/** Creates an API token for an integration, with its audit entry; the token text is returned once. */
export async function createApiTokenAccount(
  store: Store,
  args: { name: string; role: string; branches: string[] | 'all' },
  actor: AuditActor,
  now: Date,
) {
  if (!args.name.trim()) throw new AccountError('the token needs a name (what uses it, e.g. "DMS")');
  if (!isStaffRole(args.role) || args.role === 'admin') throw new AccountError(`an API token's role must be advisor, care or manager (got "${args.role}")`);
  const branchIds = args.branches === 'all' ? 'all' : await resolveBranches(store, args.branches);
  return issueApiToken(store, { name: args.name.trim(), role: args.role as StaffRole, branchIds }, actor, now);
}
