import type { Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { Weekday } from '../../domain/local-time';
import type { Branch } from '../../store/schema';
import { branchFormOf, COMMON_TIME_ZONES, formatDayHours, readHolidays, readOpeningHours, WEEK_FROM_MONDAY, type BranchFormInput } from '../branches';
import type { FieldError } from '../result';
import { adminFlash, at } from './admin-format';
import type { ConsoleContext } from './deps';
import { ButtonLink, Card, consoleRoutes, CsrfField, DataTable, FactsTable, FieldErrors, FormField, notFoundPage, problemsFlash, readForm, RecordToolbar, SubmitButton, Toolbar, type ConsoleEnv, type Flash, type FormValues, type Page, type Problem } from './kit';

/*
 * Branches: where customers bring their cars. Everyone may read a branch they belong to (its hours and
 * address are what they tell customers); only the admin changes them, since availability is built on them.
 */

const FLASHES = ['created', 'saved'] as const;

/** A weekday's name in the staff member's language (1 Jan 2024 was a Monday). */
function weekdayName(page: Page, day: Weekday, width: 'long' | 'short' = 'long'): string {
  const index = WEEK_FROM_MONDAY.indexOf(day);
  return new Intl.DateTimeFormat(page.locale, { weekday: width, timeZone: 'UTC' }).format(new Date(Date.UTC(2024, 0, 1 + index)));
}

/** The form's problems in the staff member's language, weekdays by their names. */
function problemsOf(page: Page, errors: readonly FieldError[]): Problem[] {
  return errors.map((e) => {
    const params = { ...e.params };
    if (typeof params['day'] === 'string') params['day'] = weekdayName(page, params['day'] as Weekday);
    return { field: e.field, text: at(page, `branches.errors.${e.code}`, params) };
  });
}

/** "Mon–Fri, Sun": runs of three or more days shortened, so a usual week reads at a glance. */
function openDaysSummary(page: Page, openingHoursJson: string): string {
  const hours = readOpeningHours(openingHoursJson);
  if (!hours) return at(page, 'branches.unreadableHours');
  const open = WEEK_FROM_MONDAY.map((d) => hours[d].length > 0);
  const parts: string[] = [];
  for (let i = 0; i < 7; i++) {
    if (!open[i]) continue;
    let j = i;
    while (j + 1 < 7 && open[j + 1]) j++;
    const first = weekdayName(page, WEEK_FROM_MONDAY[i]!, 'short');
    const last = weekdayName(page, WEEK_FROM_MONDAY[j]!, 'short');
    if (j - i >= 2) parts.push(`${first}–${last}`);
    else for (let k = i; k <= j; k++) parts.push(weekdayName(page, WEEK_FROM_MONDAY[k]!, 'short'));
    i = j;
  }
  return parts.length > 0 ? parts.join(', ') : at(page, 'branches.closedAllWeek');
}

interface FormText extends BranchFormInput {
  clearDemo: boolean;
}

function formTextFrom(form: FormValues): FormText {
  return {
    name: form.get('name'),
    address: form.get('address'),
    phone: form.get('phone'),
    mapUrl: form.get('mapUrl'),
    timeZone: form.get('timeZone'),
    hours: Object.fromEntries(WEEK_FROM_MONDAY.map((d) => [d, form.get(`hours_${d}`)])) as Record<Weekday, string>,
    holidays: form.get('holidays'),
    clearDemo: form.get('clearDemo') === '1',
  };
}

const BranchForm: FC<{ page: Page; action: string; values: FormText; problems?: Problem[]; branch: Branch | null }> = ({ page, action, values, problems, branch }) => (
  <form method="post" action={action} class="card">
    <CsrfField page={page} />
    {branch ? <input type="hidden" name="updatedAt" value={branch.updated_at} /> : null}
    {branch?.is_demo === 1 ? (
      <div class="flash" style="background:#fff4e5;color:var(--warn)">
        <p style="margin:0 0 6px">{at(page, 'branches.demoNote')}</p>
        <label style="color:inherit;margin:0">
          <input type="checkbox" name="clearDemo" value="1" checked={values.clearDemo} /> {at(page, 'branches.clearDemo')}
        </label>
      </div>
    ) : null}
    <div class="grid">
      <FormField label={at(page, 'branches.name')} id="name" problems={problems}>
        <input id="name" type="text" name="name" required maxlength={100} value={values.name} />
      </FormField>
      <FormField label={at(page, 'branches.phone')} id="phone" problems={problems}>
        <input id="phone" type="text" name="phone" maxlength={40} inputmode="tel" value={values.phone} />
      </FormField>
    </div>
    <FormField label={at(page, 'branches.address')} id="address" problems={problems}>
      <input id="address" type="text" name="address" maxlength={300} value={values.address} />
    </FormField>
    <FormField label={at(page, 'branches.mapUrl')} id="mapUrl" problems={problems}>
      <input id="mapUrl" type="text" name="mapUrl" inputmode="url" placeholder="https://maps.google.com/…" value={values.mapUrl} />
    </FormField>
    <FormField label={at(page, 'branches.timeZone')} id="timeZone" hint={at(page, 'branches.timeZoneHint')} problems={problems}>
      <input id="timeZone" type="text" name="timeZone" required list="time-zones" autocomplete="off" value={values.timeZone} />
      <datalist id="time-zones">
        {COMMON_TIME_ZONES.map((z) => (
          <option value={z} />
        ))}
      </datalist>
    </FormField>

    <h2>{at(page, 'branches.openingHours')}</h2>
    <p class="muted" style="margin-top:0">{at(page, 'branches.openingHoursHint')}</p>
    <table>
      <tbody>
        {WEEK_FROM_MONDAY.map((d) => (
          <tr>
            <th style="width:9rem">
              <label for={`hours_${d}`} style="margin:0;color:inherit">
                {weekdayName(page, d)}
              </label>
            </th>
            <td>
              <input id={`hours_${d}`} type="text" name={`hours_${d}`} placeholder={at(page, 'branches.closed')} value={values.hours[d]} />
              <FieldErrors problems={problems} field={`hours_${d}`} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>

    <FormField label={at(page, 'branches.holidays')} id="holidays" hint={at(page, 'branches.holidaysHint')} problems={problems}>
      <textarea id="holidays" name="holidays" rows={5} placeholder="2026-01-01" style="max-width:240px;font-family:ui-monospace,Menlo,Consolas,monospace">
        {values.holidays}
      </textarea>
    </FormField>
    <SubmitButton label={page.t('common.save')} cancel={{ href: '/console/branches', label: page.t('common.cancel') }} />
  </form>
);

/** What a staff member without branches.write sees: the branch as they tell customers about it. */
const BranchDetails: FC<{ page: Page; branch: Branch }> = ({ page, branch }) => {
  const hours = readOpeningHours(branch.opening_hours);
  const holidays = readHolidays(branch.holidays);
  const map = branch.map_url ? (
    <a href={branch.map_url} target="_blank" rel="noopener noreferrer">
      {at(page, 'branches.openMap')}
    </a>
  ) : (
    '—'
  );
  return (
    <Card>
      <FactsTable
        labelWidth="12rem"
        facts={[
          [at(page, 'branches.address'), branch.address ?? '—'],
          [at(page, 'branches.phone'), branch.phone ?? '—'],
          [at(page, 'branches.mapUrl'), map],
          [at(page, 'branches.timeZone'), branch.time_zone],
          ...WEEK_FROM_MONDAY.map((d) => [weekdayName(page, d), !hours ? at(page, 'branches.unreadableHours') : hours[d].length > 0 ? formatDayHours(hours[d]) : <span class="muted">{at(page, 'branches.closed')}</span>] as const),
          [at(page, 'branches.holidays'), holidays.length > 0 ? holidays.join(', ') : '—'],
        ]}
      />
    </Card>
  );
};

function DemoBadge({ page, branch }: { page: Page; branch: Branch }) {
  return branch.is_demo === 1 ? <span class="badge warn">{at(page, 'branches.demo')}</span> : null;
}

/** The branch pages: list, create, and one page per branch (a form for the admin, details for everyone else). */
export function registerBranchPages(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  const { branches } = ctx.services;
  const pages = consoleRoutes(app, ctx);

  const notFound = (page: Page) => notFoundPage(page, { title: at(page, 'branches.title'), text: at(page, 'branches.notFound'), back: { href: '/console/branches', label: at(page, 'branches.backToList') } });

  const renderBranch = (page: Page, branch: Branch, view: { status?: 200 | 400 | 409; values?: FormText; problems?: Problem[]; flash?: Flash | null } = {}) =>
    page.render(
      { title: branch.name, flash: view.flash ?? adminFlash(page, FLASHES), status: view.status },
      <>
        <h1>
          {branch.name} <DemoBadge page={page} branch={branch} />
        </h1>
        <RecordToolbar page={page} back={{ href: '/console/branches', label: at(page, 'branches.backToList') }} audit={{ entity: 'branch', id: branch.id, label: at(page, 'audit.history') }} />
        {page.can('branches.write') ? (
          <BranchForm page={page} action={`/console/branches/${branch.id}`} values={view.values ?? { ...branchFormOf(branch), clearDemo: true }} problems={view.problems} branch={branch} />
        ) : (
          <BranchDetails page={page} branch={branch} />
        )}
      </>,
    );

  const renderNew = (page: Page, view: { status?: 200 | 400; values?: FormText; problems?: Problem[] } = {}) =>
    page.render(
      { title: at(page, 'branches.new'), flash: view.problems && view.problems.length > 0 ? problemsFlash(page, view.problems) : null, status: view.status },
      <>
        <h1>{at(page, 'branches.new')}</h1>
        <BranchForm page={page} action="/console/branches/new" values={view.values ?? { ...branchFormOf(null, ctx.config.dealer.timeZone), clearDemo: true }} problems={view.problems} branch={null} />
      </>,
    );

  pages.get('/console/branches', 'branches.read', async (page) => {
    const rows = await branches.list(page.principal);
    return page.render(
      { title: at(page, 'branches.title'), flash: adminFlash(page, FLASHES) },
      <>
        <h1>{at(page, 'branches.title')}</h1>
        {page.can('branches.write') ? (
          <Toolbar>
            <ButtonLink href="/console/branches/new">{at(page, 'branches.new')}</ButtonLink>
          </Toolbar>
        ) : null}
        <DataTable
          rows={rows}
          empty={page.t('common.none')}
          columns={[
            {
              label: at(page, 'branches.name'),
              cell: (b) => (
                <>
                  <a href={`/console/branches/${b.id}`}>{b.name}</a> <DemoBadge page={page} branch={b} />
                </>
              ),
            },
            { label: at(page, 'branches.address'), cell: (b) => b.address ?? '—' },
            { label: at(page, 'branches.timeZone'), cell: (b) => b.time_zone },
            { label: at(page, 'branches.openDays'), cell: (b) => openDaysSummary(page, b.opening_hours) },
          ]}
        />
      </>,
    );
  });

  pages.get('/console/branches/new', 'branches.write', (page) => renderNew(page));

  pages.post('/console/branches/new', 'branches.write', async (page, c) => {
    const values = formTextFrom(await readForm(c));
    const created = await branches.create(page.action, values);
    if (!created.ok) return renderNew(page, { status: 400, values, problems: problemsOf(page, created.errors) });
    return c.redirect(`/console/branches/${created.value.id}?flash=created`, 303);
  });

  pages.get('/console/branches/:id', 'branches.read', async (page) => {
    const branch = await branches.find(page.principal, page.param('id'));
    return branch ? renderBranch(page, branch) : notFound(page);
  });

  pages.post('/console/branches/:id', 'branches.write', async (page, c) => {
    const id = page.param('id');
    const form = await readForm(c);
    const values = formTextFrom(form);
    const saved = await branches.update(page.action, id, values, { expectedUpdatedAt: form.get('updatedAt'), clearDemo: values.clearDemo });
    if (saved.ok) return c.redirect(`/console/branches/${id}?flash=saved`, 303);
    const branch = await branches.find(page.principal, id);
    if (!branch || saved.reason === 'not_found') return notFound(page);
    if (saved.reason === 'invalid') {
      const problems = problemsOf(page, saved.errors);
      return renderBranch(page, branch, { status: 400, values, problems, flash: problemsFlash(page, problems) });
    }
    // Saved by someone else since this form was opened: shown as it is now.
    return renderBranch(page, branch, { status: 409, flash: { text: at(page, 'branches.conflict'), error: true } });
  });
}
