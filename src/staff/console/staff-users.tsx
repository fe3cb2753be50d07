import type { Hono } from 'hono';
import type { FC } from 'hono/jsx';
import { LOCALE_NATIVE_NAMES, SUPPORTED_LOCALES } from '../../i18n/locales';
import type { StaffUser } from '../../store/staff-schema';
import { STAFF_ROLES } from '../permissions';
import type { PasswordChoice } from '../staff-users';
import { adminFlash, adminProblems, at, languageName, ShownOnce } from './admin-format';
import type { ConsoleContext } from './deps';
import { ButtonLink, Card, consoleRoutes, CsrfField, DataTable, FieldErrors, formatTime, FormField, notFoundPage, problemsFlash, readForm, RecordToolbar, SubmitButton, Toolbar, type ConsoleEnv, type Flash, type FormValues, type Page, type Problem } from './kit';

/*
 * Staff accounts (admin only): the list, creating an account (with a password typed or generated and shown
 * once), editing one, and resetting its password. The rules (the last administrator, sessions ended on a
 * change of role) are the staff service's.
 */

const FLASHES = ['created', 'saved', 'passwordReset'] as const;

type BranchOption = { id: string; name: string };

interface StaffFormValues {
  email: string;
  name: string;
  role: string;
  locale: string;
  branchIds: string[];
  active: boolean;
  passwordMode: 'generate' | 'set';
}

function valuesFrom(form: FormValues): StaffFormValues {
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

function passwordChoice(form: FormValues): PasswordChoice {
  return form.get('passwordMode') === 'set' ? { mode: 'set', password: form.get('password') } : { mode: 'generate' };
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
    <FormField label={at(page, 'staff.name')} id="name" problems={problems}>
      <input id="name" type="text" name="name" required maxlength={100} value={values.name} />
    </FormField>
    <FormField label={at(page, 'staff.role')} id="role" problems={problems}>
      <RoleSelect page={page} value={values.role} />
    </FormField>
    <FormField label={at(page, 'staff.language')} id="locale" problems={problems}>
      <LocaleSelect value={values.locale} />
    </FormField>
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
    <FieldErrors problems={problems} field="branches" />
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
    <FieldErrors problems={problems} field="password" />
  </fieldset>
);

const ActiveBadge: FC<{ page: Page; user: StaffUser }> = ({ page, user }) =>
  user.active === 1 ? <span class="badge ok">{at(page, 'staff.active')}</span> : <span class="badge bad">{at(page, 'staff.inactive')}</span>;

/** The staff pages: list, create, edit, password reset. */
export function registerStaffPages(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  const { staff, branches } = ctx.services;
  const pages = consoleRoutes(app, ctx);

  const notFound = (page: Page) => notFoundPage(page, { title: at(page, 'staff.title'), text: at(page, 'staff.notFound'), back: { href: '/console/staff', label: at(page, 'staff.backToList') } });

  /** The page after an account was created or its password reset with a generated password: shown this once. */
  const passwordOncePage = (page: Page, c: { header(name: string, value: string): void }, user: { id: string; email: string }, password: string, heading: string) => {
    c.header('Cache-Control', 'no-store');
    return page.render(
      { title: heading, flash: { text: heading } },
      <>
        <h1>{user.email}</h1>
        <Card>
          <p style="margin-top:0">{at(page, 'staff.passwordOnce')}</p>
          <ShownOnce page={page} id="generated-password" value={password} />
          <p class="muted">{at(page, 'staff.passwordOnceHint')}</p>
        </Card>
        <p class="toolbar">
          <ButtonLink href={`/console/staff/${user.id}`}>{at(page, 'staff.openAccount')}</ButtonLink>
          <ButtonLink secondary href="/console/staff">
            {at(page, 'staff.backToList')}
          </ButtonLink>
        </p>
      </>,
    );
  };

  pages.get('/console/staff', 'staff.manage', async (page) => {
    const users = await staff.list();
    return page.render(
      { title: at(page, 'staff.title'), flash: adminFlash(page, FLASHES) },
      <>
        <h1>{at(page, 'staff.title')}</h1>
        <Toolbar>
          <ButtonLink href="/console/staff/new">{at(page, 'staff.new')}</ButtonLink>
        </Toolbar>
        <DataTable
          rows={users}
          columns={[
            { label: at(page, 'staff.name'), cell: ({ user }) => <a href={`/console/staff/${user.id}`}>{user.name}</a> },
            { label: at(page, 'staff.email'), cell: ({ user }) => user.email },
            { label: at(page, 'staff.role'), cell: ({ user }) => page.t(`roles.${user.role}`) },
            { label: at(page, 'staff.branches'), cell: ({ user, branchNames }) => (user.role === 'admin' ? at(page, 'staff.allBranches') : branchNames.join(', ') || '—') },
            { label: at(page, 'staff.language'), cell: ({ user }) => languageName(user.locale) },
            { label: at(page, 'staff.status'), cell: ({ user }) => <ActiveBadge page={page} user={user} /> },
            { label: at(page, 'staff.lastLogin'), cell: ({ user }) => (user.last_login_at ? formatTime(page, user.last_login_at) : <span class="muted">{at(page, 'staff.never')}</span>) },
          ]}
        />
      </>,
    );
  });

  const renderNew = async (page: Page, view: { status?: 200 | 400; values?: StaffFormValues; problems?: Problem[] } = {}) => {
    const choices = await branches.choices();
    const v: StaffFormValues = view.values ?? { email: '', name: '', role: 'advisor', locale: ctx.config.dealer.defaultLocale, branchIds: choices.length === 1 ? [choices[0]!.id] : [], active: true, passwordMode: 'generate' };
    return page.render(
      { title: at(page, 'staff.new'), flash: view.problems && view.problems.length > 0 ? problemsFlash(page, view.problems) : null, status: view.status },
      <>
        <h1>{at(page, 'staff.new')}</h1>
        <form method="post" action="/console/staff/new" class="card">
          <CsrfField page={page} />
          <div class="grid">
            <FormField label={at(page, 'staff.email')} id="email" problems={view.problems}>
              <input id="email" type="email" name="email" required maxlength={320} autocomplete="off" value={v.email} />
            </FormField>
            <ProfileFields page={page} values={v} problems={view.problems} />
          </div>
          <BranchChecks page={page} branches={choices} checked={v.branchIds} problems={view.problems} />
          <PasswordChoice page={page} mode={v.passwordMode} problems={view.problems} />
          <SubmitButton label={at(page, 'staff.create')} cancel={{ href: '/console/staff', label: page.t('common.cancel') }} />
        </form>
      </>,
    );
  };

  pages.get('/console/staff/new', 'staff.manage', (page) => renderNew(page));

  pages.post('/console/staff/new', 'staff.manage', async (page, c) => {
    const form = await readForm(c);
    const values = valuesFrom(form);
    const created = await staff.create(page.action, { ...values, password: passwordChoice(form) });
    if (!created.ok) return renderNew(page, { status: 400, values, problems: adminProblems(page, 'staff', created.errors) });
    const { user, generatedPassword } = created.value;
    if (generatedPassword) return passwordOncePage(page, c, user, generatedPassword, at(page, 'flash.created'));
    return c.redirect(`/console/staff/${user.id}?flash=created`, 303);
  });

  const renderEdit = async (page: Page, id: string, view: { status?: 200 | 400 | 409; values?: StaffFormValues; problems?: Problem[]; passwordProblems?: Problem[]; flash?: Flash | null } = {}) => {
    const found = await staff.find(id);
    if (!found) return notFound(page);
    const { user } = found;
    const choices = await branches.choices();
    const v: StaffFormValues = view.values ?? { email: user.email, name: user.name, role: user.role, locale: user.locale, branchIds: found.branchIds, active: user.active === 1, passwordMode: 'generate' };
    const flash = view.flash ?? (view.problems && view.problems.length > 0 ? problemsFlash(page, view.problems) : adminFlash(page, FLASHES));
    const self = user.id === page.principal.id;
    return page.render(
      { title: user.name, flash, status: view.status },
      <>
        <h1>
          {user.name} <ActiveBadge page={page} user={user} />
        </h1>
        <RecordToolbar page={page} back={{ href: '/console/staff', label: at(page, 'staff.backToList') }} audit={{ entity: 'staff_user', id: user.id, label: at(page, 'audit.history') }} />
        <p class="muted">
          {user.email} · {at(page, 'staff.createdAt', { time: formatTime(page, user.created_at) })} · {at(page, 'staff.lastLogin')}: {user.last_login_at ? formatTime(page, user.last_login_at) : at(page, 'staff.never')}
        </p>
        <form method="post" action={`/console/staff/${user.id}`} class="card">
          <CsrfField page={page} />
          <div class="grid">
            <ProfileFields page={page} values={v} problems={view.problems} />
          </div>
          <BranchChecks page={page} branches={choices} checked={v.branchIds} problems={view.problems} />
          <label style="color:inherit;margin-top:12px">
            <input type="checkbox" name="active" value="1" checked={v.active} /> {at(page, 'staff.activeLabel')}
          </label>
          <div class="muted" style="font-size:.85rem">{at(page, self ? 'staff.selfHint' : 'staff.sessionsHint')}</div>
          <FieldErrors problems={view.problems} field="active" />
          <SubmitButton label={page.t('common.save')} />
        </form>
        <form method="post" action={`/console/staff/${user.id}/password`} class="card">
          <CsrfField page={page} />
          <h2 style="margin-top:0">{at(page, 'staff.resetPassword')}</h2>
          <PasswordChoice page={page} mode={v.passwordMode} problems={view.passwordProblems} />
          <SubmitButton label={at(page, 'staff.resetPasswordSubmit')} variant="danger" />
        </form>
      </>,
    );
  };

  pages.get('/console/staff/:id', 'staff.manage', (page) => renderEdit(page, page.param('id')));

  pages.post('/console/staff/:id', 'staff.manage', async (page, c) => {
    const id = page.param('id');
    const values = valuesFrom(await readForm(c));
    const saved = await staff.update(page.action, id, values);
    if (saved.ok) return c.redirect(`/console/staff/${id}?flash=saved`, 303);
    if (saved.reason === 'not_found') return notFound(page);
    const current = await staff.find(id);
    const shown = { ...values, email: current?.user.email ?? values.email };
    if (saved.reason === 'invalid') return renderEdit(page, id, { status: 400, values: shown, problems: adminProblems(page, 'staff', saved.errors) });
    const text = at(page, `staff.errors.${saved.code}`);
    return renderEdit(page, id, { status: 409, values: shown, problems: [{ field: 'active', text }], flash: { text, error: true } });
  });

  pages.post('/console/staff/:id/password', 'staff.manage', async (page, c) => {
    const id = page.param('id');
    const reset = await staff.resetPassword(page.action, id, passwordChoice(await readForm(c)));
    if (!reset.ok) {
      if (reset.reason === 'not_found') return notFound(page);
      const problems = adminProblems(page, 'staff', reset.errors);
      return renderEdit(page, id, { status: 400, passwordProblems: problems, flash: problemsFlash(page, problems) });
    }
    const found = await staff.find(id);
    if (reset.value.generatedPassword && found) return passwordOncePage(page, c, found.user, reset.value.generatedPassword, at(page, 'flash.passwordReset'));
    return c.redirect(`/console/staff/${id}?flash=passwordReset`, 303);
  });
}
