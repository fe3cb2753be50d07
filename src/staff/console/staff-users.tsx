import type { Context, Hono } from 'hono';
import type { FC } from 'hono/jsx';
import { sql } from 'kysely';
import { isLocale, LOCALE_NATIVE_NAMES, SUPPORTED_LOCALES } from '../../i18n/locales';
import type { StaffRole, StaffUser } from '../../store/staff-schema';
import { AccountError, createStaffAccount } from '../accounts';
import { recordAudit } from '../audit';
import { hashPassword, passwordProblem } from '../auth/password';
import { endAllSessions, staffBranchIds } from '../auth/sessions';
import { actionContext, consoleRoute, type StaffEnv } from '../guard';
import { isStaffRole, STAFF_ROLES } from '../permissions';
import { findStaffByEmail, normalizeEmail, publicStaff, setStaffBranches } from '../staff-users';
import { adminFlash, at, FieldProblems, formatTime, generatePassword, languageName, problemsFlash, readAdminForm, ShownOnce, type AdminForm, type Problem } from './admin-format';
import { CsrfField, Layout, pageOf, type ConsoleDeps, type Page } from './layout';

/*
 * Staff accounts (admin only). Customers belong to the dealership, not to an advisor: switching an account
 * off ends its sessions at once and keeps everything it did. The last active administrator cannot be
 * switched off or demoted, or nobody could manage the console any more.
 */

const FLASHES = ['created', 'saved', 'passwordReset'] as const;
/** Taken by one transaction at a time, so two admins cannot each demote the other and leave none. */
const ADMINS_LOCK = 'staff:admins';

type BranchOption = { id: string; name: string };

async function allBranches(deps: ConsoleDeps): Promise<BranchOption[]> {
  return deps.store.db.selectFrom('branches').select(['id', 'name']).orderBy('name').orderBy('id').execute();
}

interface StaffFormValues {
  email: string;
  name: string;
  role: string;
  locale: string;
  branchIds: string[];
  active: boolean;
  passwordMode: 'generate' | 'set';
}

function valuesFrom(form: AdminForm): StaffFormValues {
  return {
    email: form.get('email'),
    name: form.get('name'),
    role: form.get('role'),
    locale: form.get('locale'),
    branchIds: form.all('branches'),
    active: form.get('active') === '1',
    passwordMode: form.get('passwordMode') === 'set' ? 'set' : 'generate',
  };
}

/** Name, role, language and branches: the part of the form that creating and editing share. */
function checkCommon(page: Page, values: StaffFormValues, branches: BranchOption[]): Problem[] {
  const problems: Problem[] = [];
  if (!values.name) problems.push({ field: 'name', text: at(page, 'staff.errors.nameRequired') });
  else if ([...values.name].length > 100) problems.push({ field: 'name', text: at(page, 'staff.errors.nameTooLong', { max: 100 }) });
  if (!isStaffRole(values.role)) problems.push({ field: 'role', text: at(page, 'staff.errors.role') });
  if (!isLocale(values.locale)) problems.push({ field: 'locale', text: at(page, 'staff.errors.locale') });
  if (values.branchIds.some((id) => !branches.some((b) => b.id === id))) problems.push({ field: 'branches', text: at(page, 'staff.errors.unknownBranch') });
  else if (values.role !== 'admin' && values.branchIds.length === 0) problems.push({ field: 'branches', text: at(page, 'staff.errors.branchesRequired') });
  return problems;
}

function checkPassword(page: Page, mode: 'generate' | 'set', typed: string): { password: string; generated: boolean } | Problem {
  if (mode === 'generate') return { password: generatePassword(), generated: true };
  if (passwordProblem(typed)) return { field: 'password', text: at(page, 'staff.errors.password') };
  return { password: typed, generated: false };
}

const RoleSelect: FC<{ page: Page; value: string }> = ({ page, value }) => (
  <select id="role" name="role">
    {STAFF_ROLES.map((r) => (
      <option value={r} selected={r === value}>
        {page.t(`roles.${r}`)}
      </option>
    ))}
  </select>
);

const LocaleSelect: FC<{ value: string }> = ({ value }) => (
  <select id="locale" name="locale">
    {SUPPORTED_LOCALES.map((l) => (
      <option value={l} selected={l === value}>
        {LOCALE_NATIVE_NAMES[l]}
      </option>
    ))}
  </select>
);

/** Name, role and language: the part of a staff member's form that creating and editing share. */
const ProfileFields: FC<{ page: Page; values: { name: string; role: string; locale: string }; problems?: Problem[] }> = ({ page, values, problems }) => (
  <>
    <div>
      <label for="name">{at(page, 'staff.name')}</label>
      <input id="name" type="text" name="name" required maxlength={100} value={values.name} />
      <FieldProblems problems={problems} field="name" />
    </div>
    <div>
      <label for="role">{at(page, 'staff.role')}</label>
      <RoleSelect page={page} value={values.role} />
      <FieldProblems problems={problems} field="role" />
    </div>
    <div>
      <label for="locale">{at(page, 'staff.language')}</label>
      <LocaleSelect value={values.locale} />
      <FieldProblems problems={problems} field="locale" />
    </div>
  </>
);

const BranchChecks: FC<{ page: Page; branches: BranchOption[]; checked: string[]; problems?: Problem[] }> = ({ page, branches, checked, problems }) => (
  <fieldset style="border:0;padding:0;margin:10px 0 0">
    <legend class="muted" style="font-size:.9rem">
      {at(page, 'staff.branches')}
    </legend>
    {branches.map((b) => (
      <label style="color:inherit;margin:4px 0">
        <input type="checkbox" name="branches" value={b.id} checked={checked.includes(b.id)} /> {b.name}
      </label>
    ))}
    <div class="muted" style="font-size:.85rem">{at(page, 'staff.branchesHint')}</div>
    <FieldProblems problems={problems} field="branches" />
  </fieldset>
);

const PasswordChoice: FC<{ page: Page; mode: 'generate' | 'set'; problems?: Problem[] }> = ({ page, mode, problems }) => (
  <fieldset style="border:0;padding:0;margin:10px 0 0">
    <legend class="muted" style="font-size:.9rem">
      {at(page, 'staff.password')}
    </legend>
    <label style="color:inherit;margin:4px 0">
      <input type="radio" name="passwordMode" value="generate" checked={mode === 'generate'} /> {at(page, 'staff.passwordGenerate')}
    </label>
    <label style="color:inherit;margin:4px 0">
      <input type="radio" name="passwordMode" value="set" checked={mode === 'set'} /> {at(page, 'staff.passwordSet')}
    </label>
    <input type="password" name="password" autocomplete="new-password" minlength={12} maxlength={200} aria-label={at(page, 'staff.passwordSet')} />
    <div class="muted" style="font-size:.85rem">{at(page, 'staff.passwordHint')}</div>
    <FieldProblems problems={problems} field="password" />
  </fieldset>
);

/** The page after an account was created or its password reset with a generated password: shown this once. */
function passwordOncePage(c: Context<StaffEnv>, deps: ConsoleDeps, user: { id: string; email: string }, password: string, heading: string): Response | Promise<Response> {
  const page = pageOf(c, deps);
  c.header('Cache-Control', 'no-store');
  return c.html(
    <Layout page={page} title={heading} flash={{ text: heading }}>
      <h1>{user.email}</h1>
      <div class="card">
        <p style="margin-top:0">{at(page, 'staff.passwordOnce')}</p>
        <ShownOnce page={page} id="generated-password" value={password} />
        <p class="muted">{at(page, 'staff.passwordOnceHint')}</p>
      </div>
      <p class="toolbar">
        <a class="button" href={`/console/staff/${user.id}`}>
          {at(page, 'staff.openAccount')}
        </a>
        <a class="button secondary" href="/console/staff">
          {at(page, 'staff.backToList')}
        </a>
      </p>
    </Layout>,
  );
}

function notFound(c: Context<StaffEnv>, deps: ConsoleDeps): Response | Promise<Response> {
  const page = pageOf(c, deps);
  return c.html(
    <Layout page={page} title={at(page, 'staff.title')} flash={{ text: at(page, 'staff.notFound'), error: true }}>
      <p>
        <a href="/console/staff">{at(page, 'staff.backToList')}</a>
      </p>
    </Layout>,
    404,
  );
}

/** How many other accounts could still run the console if this one stopped being an active admin. */
async function otherActiveAdmins(db: ConsoleDeps['store']['db'], staffId: string): Promise<number> {
  const row = await db.selectFrom('staff_users').select(sql<number>`count(*)`.as('n')).where('role', '=', 'admin').where('active', '=', 1).where('id', '!=', staffId).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The staff pages: list, create, edit, password reset. */
export function registerStaffPages(app: Hono<StaffEnv>, deps: ConsoleDeps): void {
  const { registry, store } = deps;

  consoleRoute(app, registry, deps, 'GET', '/console/staff', 'staff.manage', async (c) => {
    const page = pageOf(c, deps);
    const users = await store.db.selectFrom('staff_users').selectAll().orderBy('active', 'desc').orderBy('name').orderBy('email').execute();
    const links = await store.db.selectFrom('staff_branches').innerJoin('branches', 'branches.id', 'staff_branches.branch_id').select(['staff_branches.staff_id', 'branches.name']).orderBy('branches.name').execute();
    const branchesOf = (u: StaffUser) => (u.role === 'admin' ? at(page, 'staff.allBranches') : links.filter((l) => l.staff_id === u.id).map((l) => l.name).join(', ') || '—');
    return c.html(
      <Layout page={page} title={at(page, 'staff.title')} flash={adminFlash(page, c.req.query('flash'), FLASHES)}>
        <h1>{at(page, 'staff.title')}</h1>
        <div class="toolbar">
          <a class="button" href="/console/staff/new">
            {at(page, 'staff.new')}
          </a>
        </div>
        <div style="overflow-x:auto">
          <table>
            <thead>
              <tr>
                <th>{at(page, 'staff.name')}</th>
                <th>{at(page, 'staff.email')}</th>
                <th>{at(page, 'staff.role')}</th>
                <th>{at(page, 'staff.branches')}</th>
                <th>{at(page, 'staff.language')}</th>
                <th>{at(page, 'staff.status')}</th>
                <th>{at(page, 'staff.lastLogin')}</th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr>
                  <td>
                    <a href={`/console/staff/${u.id}`}>{u.name}</a>
                  </td>
                  <td>{u.email}</td>
                  <td>{page.t(`roles.${u.role}`)}</td>
                  <td>{branchesOf(u)}</td>
                  <td>{languageName(u.locale)}</td>
                  <td>{u.active === 1 ? <span class="badge ok">{at(page, 'staff.active')}</span> : <span class="badge bad">{at(page, 'staff.inactive')}</span>}</td>
                  <td>{u.last_login_at ? formatTime(page, deps, u.last_login_at) : <span class="muted">{at(page, 'staff.never')}</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Layout>,
    );
  });

  const renderNew = async (c: Context<StaffEnv>, view: { status?: 200 | 400; values?: StaffFormValues; problems?: Problem[] } = {}) => {
    const page = pageOf(c, deps);
    const branches = await allBranches(deps);
    const v: StaffFormValues = view.values ?? { email: '', name: '', role: 'advisor', locale: deps.config.dealer.defaultLocale, branchIds: branches.length === 1 ? [branches[0]!.id] : [], active: true, passwordMode: 'generate' };
    return c.html(
      <Layout page={page} title={at(page, 'staff.new')} flash={view.problems && view.problems.length > 0 ? problemsFlash(page, view.problems) : null}>
        <h1>{at(page, 'staff.new')}</h1>
        <form method="post" action="/console/staff/new" class="card">
          <CsrfField page={page} />
          <div class="grid">
            <div>
              <label for="email">{at(page, 'staff.email')}</label>
              <input id="email" type="email" name="email" required maxlength={320} autocomplete="off" value={v.email} />
              <FieldProblems problems={view.problems} field="email" />
            </div>
            <ProfileFields page={page} values={v} problems={view.problems} />
          </div>
          <BranchChecks page={page} branches={branches} checked={v.branchIds} problems={view.problems} />
          <PasswordChoice page={page} mode={v.passwordMode} problems={view.problems} />
          <p class="toolbar" style="margin-top:16px">
            <button type="submit">{at(page, 'staff.create')}</button>
            <a class="button secondary" href="/console/staff">
              {page.t('common.cancel')}
            </a>
          </p>
        </form>
      </Layout>,
      view.status ?? 200,
    );
  };

  consoleRoute(app, registry, deps, 'GET', '/console/staff/new', 'staff.manage', (c) => renderNew(c));

  consoleRoute(app, registry, deps, 'POST', '/console/staff/new', 'staff.manage', async (c) => {
    const page = pageOf(c, deps);
    const form = await readAdminForm(c);
    const values = valuesFrom(form);
    const branches = await allBranches(deps);
    const problems: Problem[] = [];
    const email = normalizeEmail(values.email);
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 320) problems.push({ field: 'email', text: at(page, 'staff.errors.email') });
    else if (await findStaffByEmail(store.db, email)) problems.push({ field: 'email', text: at(page, 'staff.errors.emailTaken', { email }) });
    problems.push(...checkCommon(page, values, branches));
    const password = checkPassword(page, values.passwordMode, form.get('password'));
    if ('field' in password) problems.push(password);
    if (problems.length > 0 || 'field' in password) return renderNew(c, { status: 400, values, problems });

    const { actor, now } = actionContext(c, deps.clock);
    let created: Awaited<ReturnType<typeof createStaffAccount>>;
    try {
      created = await createStaffAccount(
        store,
        { email, name: values.name, role: values.role, locale: values.locale, password: password.password, branches: values.role === 'admin' ? 'all' : values.branchIds },
        actor,
        now,
        { defaultLocale: deps.config.dealer.defaultLocale, iterations: deps.passwordIterations },
      );
    } catch (err) {
      // Only what changed between the check above and the write (an account made meanwhile) lands here.
      if (err instanceof AccountError) return renderNew(c, { status: 400, values, problems: [{ field: 'email', text: err.message }] });
      throw err;
    }
    if (password.generated) return passwordOncePage(c, deps, created.user, password.password, at(page, 'flash.created'));
    return c.redirect(`/console/staff/${created.user.id}?flash=created`, 303);
  });

  const renderEdit = async (c: Context<StaffEnv>, user: StaffUser, view: { status?: 200 | 400 | 409; values?: StaffFormValues; problems?: Problem[]; passwordProblems?: Problem[]; flash?: { text: string; error?: boolean } | null } = {}) => {
    const page = pageOf(c, deps);
    const branches = await allBranches(deps);
    const v: StaffFormValues = view.values ?? { email: user.email, name: user.name, role: user.role, locale: user.locale, branchIds: await staffBranchIds(store.db, user.id), active: user.active === 1, passwordMode: 'generate' };
    const flash = view.flash ?? (view.problems && view.problems.length > 0 ? problemsFlash(page, view.problems) : adminFlash(page, c.req.query('flash'), FLASHES));
    const self = user.id === page.principal.id;
    return c.html(
      <Layout page={page} title={user.name} flash={flash}>
        <h1>
          {user.name} {user.active === 1 ? <span class="badge ok">{at(page, 'staff.active')}</span> : <span class="badge bad">{at(page, 'staff.inactive')}</span>}
        </h1>
        <div class="toolbar">
          <a class="button secondary" href="/console/staff">
            {at(page, 'staff.backToList')}
          </a>
          <a class="button secondary" href={`/console/audit?entity=staff_user&entityId=${encodeURIComponent(user.id)}`}>
            {at(page, 'audit.history')}
          </a>
        </div>
        <p class="muted">
          {user.email} · {at(page, 'staff.createdAt', { time: formatTime(page, deps, user.created_at) })} · {at(page, 'staff.lastLogin')}: {user.last_login_at ? formatTime(page, deps, user.last_login_at) : at(page, 'staff.never')}
        </p>
        <form method="post" action={`/console/staff/${user.id}`} class="card">
          <CsrfField page={page} />
          <div class="grid">
            <ProfileFields page={page} values={v} problems={view.problems} />
          </div>
          <BranchChecks page={page} branches={branches} checked={v.branchIds} problems={view.problems} />
          <label style="color:inherit;margin-top:12px">
            <input type="checkbox" name="active" value="1" checked={v.active} /> {at(page, 'staff.activeLabel')}
          </label>
          <div class="muted" style="font-size:.85rem">{at(page, self ? 'staff.selfHint' : 'staff.sessionsHint')}</div>
          <FieldProblems problems={view.problems} field="active" />
          <p class="toolbar" style="margin-top:16px">
            <button type="submit">{page.t('common.save')}</button>
          </p>
        </form>
        <form method="post" action={`/console/staff/${user.id}/password`} class="card">
          <CsrfField page={page} />
          <h2 style="margin-top:0">{at(page, 'staff.resetPassword')}</h2>
          <PasswordChoice page={page} mode={v.passwordMode} problems={view.passwordProblems} />
          <p class="toolbar" style="margin-top:16px">
            <button type="submit" class="danger">
              {at(page, 'staff.resetPasswordSubmit')}
            </button>
          </p>
        </form>
      </Layout>,
      view.status ?? 200,
    );
  };

  const findUser = async (c: Context<StaffEnv>) => (await store.db.selectFrom('staff_users').selectAll().where('id', '=', c.req.param('id') ?? '').executeTakeFirst()) ?? null;

  consoleRoute(app, registry, deps, 'GET', '/console/staff/:id', 'staff.manage', async (c) => {
    const user = await findUser(c);
    return user ? renderEdit(c, user) : notFound(c, deps);
  });

  consoleRoute(app, registry, deps, 'POST', '/console/staff/:id', 'staff.manage', async (c) => {
    const page = pageOf(c, deps);
    const user = await findUser(c);
    if (!user) return notFound(c, deps);
    const values = { ...valuesFrom(await readAdminForm(c)), email: user.email };
    const branches = await allBranches(deps);
    const problems = checkCommon(page, values, branches);
    if (problems.length > 0) return renderEdit(c, user, { status: 400, values, problems });

    const role = values.role as StaffRole;
    const active = values.active ? 1 : 0;
    const branchIds = role === 'admin' ? branches.map((b) => b.id) : values.branchIds;
    const { actor, ip, now } = actionContext(c, deps.clock);
    const nowIso = now.toISOString();
    const outcome = await store.transaction(async (tx) => {
      await store.lock(tx, ADMINS_LOCK);
      // Everything is read before anything is written (D1 transactions do not see their own writes).
      const before = await tx.selectFrom('staff_users').selectAll().where('id', '=', user.id).executeTakeFirst();
      if (!before) return 'gone' as const;
      const beforeBranches = await staffBranchIds(tx, user.id);
      const losesAdmin = before.role === 'admin' && before.active === 1 && (role !== 'admin' || active !== 1);
      if (losesAdmin && (await otherActiveAdmins(tx, user.id)) === 0) return 'last_admin' as const;
      const endsSessions = before.role !== role || (before.active === 1 && active !== 1);
      await tx.updateTable('staff_users').set({ name: values.name, role, locale: values.locale, active, updated_at: nowIso }).where('id', '=', user.id).execute();
      await setStaffBranches(tx, user.id, branchIds);
      if (endsSessions) await endAllSessions(tx, user.id);
      await recordAudit(tx, {
        actor,
        action: 'staff.update',
        entity: 'staff_user',
        entityId: user.id,
        before: { ...publicStaff(before), branchIds: beforeBranches },
        after: { ...publicStaff({ ...before, name: values.name, role, locale: values.locale, active, updated_at: nowIso }), branchIds, sessionsEnded: endsSessions },
        ip,
        now: nowIso,
      });
      return 'saved' as const;
    });
    if (outcome === 'gone') return notFound(c, deps);
    if (outcome === 'last_admin') {
      const text = at(page, user.id === page.principal.id ? 'staff.errors.lastAdminSelf' : 'staff.errors.lastAdmin');
      return renderEdit(c, user, { status: 409, values, problems: [{ field: 'active', text }], flash: { text, error: true } });
    }
    return c.redirect(`/console/staff/${user.id}?flash=saved`, 303);
  });

  consoleRoute(app, registry, deps, 'POST', '/console/staff/:id/password', 'staff.manage', async (c) => {
    const page = pageOf(c, deps);
    const user = await findUser(c);
    if (!user) return notFound(c, deps);
    const form = await readAdminForm(c);
    const mode = form.get('passwordMode') === 'set' ? 'set' : 'generate';
    const password = checkPassword(page, mode, form.get('password'));
    if ('field' in password) return renderEdit(c, user, { status: 400, passwordProblems: [password], flash: problemsFlash(page, [password]) });
    const hash = await hashPassword(password.password, deps.passwordIterations);
    const { actor, ip, now } = actionContext(c, deps.clock);
    const nowIso = now.toISOString();
    await store.transaction(async (tx) => {
      await tx.updateTable('staff_users').set({ password_hash: hash, updated_at: nowIso }).where('id', '=', user.id).execute();
      // Whoever knew the old password is signed out everywhere.
      await endAllSessions(tx, user.id);
      await recordAudit(tx, { actor, action: 'staff.password_reset', entity: 'staff_user', entityId: user.id, after: { generated: password.generated, sessionsEnded: true }, ip, now: nowIso });
    });
    if (password.generated) return passwordOncePage(c, deps, user, password.password, at(page, 'flash.passwordReset'));
    return c.redirect(`/console/staff/${user.id}?flash=passwordReset`, 303);
  });
}
