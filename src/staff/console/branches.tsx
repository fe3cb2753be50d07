import type { Context, Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { Weekday } from '../../domain/local-time';
import { newId } from '../../ids';
import type { Branch } from '../../store/schema';
import { recordAudit } from '../audit';
import { actionContext, consoleRoute, type StaffEnv } from '../guard';
import { canSeeBranch } from '../permissions';
import { COMMON_TIME_ZONES, formatDayHours, hoursFormText, parseBranchForm, readHolidays, readOpeningHours, WEEK_FROM_MONDAY, type BranchFormInput, type BranchProblem } from './admin-branch-form';
import { adminFlash, at, FieldProblems, problemsFlash, readAdminForm, type AdminForm, type Problem } from './admin-format';
import { CsrfField, Layout, pageOf, type ConsoleDeps, type Page } from './layout';

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

function problemText(page: Page, problem: BranchProblem): string {
  const params = { ...problem.params };
  if (typeof params['day'] === 'string') params['day'] = weekdayName(page, params['day'] as Weekday);
  return at(page, problem.key, params);
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

/** What the audit log keeps of a branch: everything staff can edit, with hours and holidays as values. */
function branchForAudit(b: Branch) {
  return {
    name: b.name,
    address: b.address,
    phone: b.phone,
    map_url: b.map_url,
    time_zone: b.time_zone,
    opening_hours: readOpeningHours(b.opening_hours) ?? b.opening_hours,
    holidays: readHolidays(b.holidays),
    is_demo: b.is_demo,
  };
}

interface FormText extends BranchFormInput {
  clearDemo: boolean;
}

function formTextOf(branch: Branch | null): FormText {
  return {
    name: branch?.name ?? '',
    address: branch?.address ?? '',
    phone: branch?.phone ?? '',
    mapUrl: branch?.map_url ?? '',
    timeZone: branch?.time_zone ?? '',
    hours: branch ? hoursFormText(branch.opening_hours) : ({ mon: '09:00–18:00', tue: '09:00–18:00', wed: '09:00–18:00', thu: '09:00–18:00', fri: '09:00–18:00', sat: '', sun: '' } as Record<Weekday, string>),
    holidays: branch ? readHolidays(branch.holidays).join('\n') : '',
    clearDemo: true,
  };
}

function formTextFrom(form: AdminForm): FormText {
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
      <div>
        <label for="name">{at(page, 'branches.name')}</label>
        <input id="name" type="text" name="name" required maxlength={100} value={values.name} />
        <FieldProblems problems={problems} field="name" />
      </div>
      <div>
        <label for="phone">{at(page, 'branches.phone')}</label>
        <input id="phone" type="text" name="phone" maxlength={40} inputmode="tel" value={values.phone} />
        <FieldProblems problems={problems} field="phone" />
      </div>
    </div>
    <label for="address">{at(page, 'branches.address')}</label>
    <input id="address" type="text" name="address" maxlength={300} value={values.address} />
    <FieldProblems problems={problems} field="address" />
    <label for="mapUrl">{at(page, 'branches.mapUrl')}</label>
    <input id="mapUrl" type="text" name="mapUrl" inputmode="url" placeholder="https://maps.google.com/…" value={values.mapUrl} />
    <FieldProblems problems={problems} field="mapUrl" />
    <label for="timeZone">{at(page, 'branches.timeZone')}</label>
    <input id="timeZone" type="text" name="timeZone" required list="time-zones" autocomplete="off" value={values.timeZone} />
    <datalist id="time-zones">
      {COMMON_TIME_ZONES.map((z) => (
        <option value={z} />
      ))}
    </datalist>
    <div class="muted" style="font-size:.85rem">{at(page, 'branches.timeZoneHint')}</div>
    <FieldProblems problems={problems} field="timeZone" />

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
              <FieldProblems problems={problems} field={`hours_${d}`} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>

    <label for="holidays">{at(page, 'branches.holidays')}</label>
    <textarea id="holidays" name="holidays" rows={5} placeholder="2026-01-01" style="max-width:240px;font-family:ui-monospace,Menlo,Consolas,monospace">
      {values.holidays}
    </textarea>
    <div class="muted" style="font-size:.85rem">{at(page, 'branches.holidaysHint')}</div>
    <FieldProblems problems={problems} field="holidays" />
    <p class="toolbar" style="margin-top:16px">
      <button type="submit">{page.t('common.save')}</button>
      <a class="button secondary" href="/console/branches">
        {page.t('common.cancel')}
      </a>
    </p>
  </form>
);

/** What a staff member without branches.write sees: the branch as they tell customers about it. */
const BranchDetails: FC<{ page: Page; branch: Branch }> = ({ page, branch }) => {
  const hours = readOpeningHours(branch.opening_hours);
  const holidays = readHolidays(branch.holidays);
  return (
    <div class="card">
      <table>
        <tbody>
          <tr>
            <th style="width:12rem">{at(page, 'branches.address')}</th>
            <td>{branch.address ?? '—'}</td>
          </tr>
          <tr>
            <th>{at(page, 'branches.phone')}</th>
            <td>{branch.phone ?? '—'}</td>
          </tr>
          <tr>
            <th>{at(page, 'branches.mapUrl')}</th>
            <td>
              {branch.map_url ? (
                <a href={branch.map_url} target="_blank" rel="noopener noreferrer">
                  {at(page, 'branches.openMap')}
                </a>
              ) : (
                '—'
              )}
            </td>
          </tr>
          <tr>
            <th>{at(page, 'branches.timeZone')}</th>
            <td>{branch.time_zone}</td>
          </tr>
          {WEEK_FROM_MONDAY.map((d) => (
            <tr>
              <th>{weekdayName(page, d)}</th>
              <td>{!hours ? at(page, 'branches.unreadableHours') : hours[d].length > 0 ? formatDayHours(hours[d]) : <span class="muted">{at(page, 'branches.closed')}</span>}</td>
            </tr>
          ))}
          <tr>
            <th>{at(page, 'branches.holidays')}</th>
            <td>{holidays.length > 0 ? holidays.join(', ') : '—'}</td>
          </tr>
        </tbody>
      </table>
    </div>
  );
};

function DemoBadge({ page, branch }: { page: Page; branch: Branch }) {
  return branch.is_demo === 1 ? <span class="badge warn">{at(page, 'branches.demo')}</span> : null;
}

async function renderBranch(
  c: Context<StaffEnv>,
  deps: ConsoleDeps,
  branch: Branch,
  view: { status?: 200 | 400 | 409; values?: FormText; problems?: Problem[]; flash?: { text: string; error?: boolean } | null } = {},
): Promise<Response> {
  const page = pageOf(c, deps);
  const canWrite = page.can('branches.write');
  return c.html(
    <Layout page={page} title={branch.name} flash={view.flash ?? adminFlash(page, c.req.query('flash'), FLASHES)}>
      <h1>
        {branch.name} <DemoBadge page={page} branch={branch} />
      </h1>
      <div class="toolbar">
        <a class="button secondary" href="/console/branches">
          {at(page, 'branches.backToList')}
        </a>
        {page.can('audit.read') ? (
          <a class="button secondary" href={`/console/audit?entity=branch&entityId=${encodeURIComponent(branch.id)}`}>
            {at(page, 'audit.history')}
          </a>
        ) : null}
      </div>
      {canWrite ? <BranchForm page={page} action={`/console/branches/${branch.id}`} values={view.values ?? formTextOf(branch)} problems={view.problems} branch={branch} /> : <BranchDetails page={page} branch={branch} />}
    </Layout>,
    view.status ?? 200,
  );
}

function notFound(c: Context<StaffEnv>, deps: ConsoleDeps): Response | Promise<Response> {
  const page = pageOf(c, deps);
  return c.html(
    <Layout page={page} title={at(page, 'branches.title')} flash={{ text: at(page, 'branches.notFound'), error: true }}>
      <p>
        <a href="/console/branches">{at(page, 'branches.backToList')}</a>
      </p>
    </Layout>,
    404,
  );
}

async function findBranch(c: Context<StaffEnv>, deps: ConsoleDeps): Promise<Branch | null> {
  const id = c.req.param('id') ?? '';
  const branch = await deps.store.db.selectFrom('branches').selectAll().where('id', '=', id).executeTakeFirst();
  return branch && canSeeBranch(c.get('principal'), branch.id) ? branch : null;
}

/** The branch pages: list, create, and one page per branch (a form for the admin, details for everyone else). */
export function registerBranchPages(app: Hono<StaffEnv>, deps: ConsoleDeps): void {
  const { registry, store } = deps;

  consoleRoute(app, registry, deps, 'GET', '/console/branches', 'branches.read', async (c) => {
    const page = pageOf(c, deps);
    const principal = c.get('principal');
    const branches = (await store.db.selectFrom('branches').selectAll().orderBy('name').orderBy('id').execute()).filter((b) => canSeeBranch(principal, b.id));
    return c.html(
      <Layout page={page} title={at(page, 'branches.title')} flash={adminFlash(page, c.req.query('flash'), FLASHES)}>
        <h1>{at(page, 'branches.title')}</h1>
        {page.can('branches.write') ? (
          <div class="toolbar">
            <a class="button" href="/console/branches/new">
              {at(page, 'branches.new')}
            </a>
          </div>
        ) : null}
        {branches.length === 0 ? (
          <p class="muted">{page.t('common.none')}</p>
        ) : (
          <div style="overflow-x:auto">
            <table>
              <thead>
                <tr>
                  <th>{at(page, 'branches.name')}</th>
                  <th>{at(page, 'branches.address')}</th>
                  <th>{at(page, 'branches.timeZone')}</th>
                  <th>{at(page, 'branches.openDays')}</th>
                </tr>
              </thead>
              <tbody>
                {branches.map((b) => (
                  <tr>
                    <td>
                      <a href={`/console/branches/${b.id}`}>{b.name}</a> <DemoBadge page={page} branch={b} />
                    </td>
                    <td>{b.address ?? '—'}</td>
                    <td>{b.time_zone}</td>
                    <td>{openDaysSummary(page, b.opening_hours)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Layout>,
    );
  });

  const renderNew = (c: Context<StaffEnv>, view: { status?: 200 | 400; values?: FormText; problems?: Problem[] } = {}) => {
    const page = pageOf(c, deps);
    const values = view.values ?? { ...formTextOf(null), timeZone: deps.config.dealer.timeZone };
    return c.html(
      <Layout page={page} title={at(page, 'branches.new')} flash={view.problems && view.problems.length > 0 ? problemsFlash(page, view.problems) : null}>
        <h1>{at(page, 'branches.new')}</h1>
        <BranchForm page={page} action="/console/branches/new" values={values} problems={view.problems} branch={null} />
      </Layout>,
      view.status ?? 200,
    );
  };

  consoleRoute(app, registry, deps, 'GET', '/console/branches/new', 'branches.write', (c) => renderNew(c));

  consoleRoute(app, registry, deps, 'POST', '/console/branches/new', 'branches.write', async (c) => {
    const page = pageOf(c, deps);
    const values = formTextFrom(await readAdminForm(c));
    const parsed = parseBranchForm(values);
    if (!parsed.ok) {
      const problems = parsed.problems.map((p) => ({ field: p.field, text: problemText(page, p) }));
      return renderNew(c, { status: 400, values, problems });
    }
    const { actor, ip, now } = actionContext(c, deps.clock);
    const nowIso = now.toISOString();
    const v = parsed.value;
    const row: Branch = {
      id: newId(),
      name: v.name,
      address: v.address,
      phone: v.phone,
      map_url: v.mapUrl,
      time_zone: v.timeZone,
      opening_hours: JSON.stringify(v.openingHours),
      holidays: JSON.stringify(v.holidays),
      is_demo: 0,
      created_at: nowIso,
      updated_at: nowIso,
    };
    await store.transaction(async (tx) => {
      await tx.insertInto('branches').values(row).execute();
      await recordAudit(tx, { actor, action: 'branch.create', entity: 'branch', entityId: row.id, after: branchForAudit(row), ip, now: nowIso });
    });
    return c.redirect(`/console/branches/${row.id}?flash=created`, 303);
  });

  consoleRoute(app, registry, deps, 'GET', '/console/branches/:id', 'branches.read', async (c) => {
    const branch = await findBranch(c, deps);
    return branch ? renderBranch(c, deps, branch) : notFound(c, deps);
  });

  consoleRoute(app, registry, deps, 'POST', '/console/branches/:id', 'branches.write', async (c) => {
    const page = pageOf(c, deps);
    const branch = await findBranch(c, deps);
    if (!branch) return notFound(c, deps);
    const form = await readAdminForm(c);
    const values = formTextFrom(form);
    const parsed = parseBranchForm(values);
    if (!parsed.ok) {
      const problems = parsed.problems.map((p) => ({ field: p.field, text: problemText(page, p) }));
      return renderBranch(c, deps, branch, { status: 400, values, problems, flash: problemsFlash(page, problems) });
    }
    const { actor, ip, now } = actionContext(c, deps.clock);
    const nowIso = now.toISOString();
    const v = parsed.value;
    const expected = form.get('updatedAt');
    const outcome = await store.transaction(async (tx) => {
      // Two admins saving the same branch: the second is told, instead of silently undoing the first.
      await store.lock(tx, `branch:${branch.id}`);
      const before = await tx.selectFrom('branches').selectAll().where('id', '=', branch.id).executeTakeFirst();
      if (!before) return 'gone' as const;
      if (expected && expected !== before.updated_at) return 'conflict' as const;
      const after: Branch = {
        ...before,
        name: v.name,
        address: v.address,
        phone: v.phone,
        map_url: v.mapUrl,
        time_zone: v.timeZone,
        opening_hours: JSON.stringify(v.openingHours),
        holidays: JSON.stringify(v.holidays),
        is_demo: before.is_demo === 1 && values.clearDemo ? 0 : before.is_demo,
        updated_at: nowIso,
      };
      const { id: _id, created_at: _created, ...changes } = after;
      await tx.updateTable('branches').set(changes).where('id', '=', before.id).execute();
      await recordAudit(tx, { actor, action: 'branch.update', entity: 'branch', entityId: before.id, before: branchForAudit(before), after: branchForAudit(after), ip, now: nowIso });
      return 'saved' as const;
    });
    if (outcome === 'gone') return notFound(c, deps);
    if (outcome === 'conflict') {
      const fresh = await findBranch(c, deps);
      if (!fresh) return notFound(c, deps);
      return renderBranch(c, deps, fresh, { status: 409, flash: { text: at(page, 'branches.conflict'), error: true } });
    }
    return c.redirect(`/console/branches/${branch.id}?flash=saved`, 303);
  });
}
