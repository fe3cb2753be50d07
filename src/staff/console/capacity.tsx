import type { Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { BayInfo, BranchCapacity, ServiceType } from '../../booking/capacity';
import type { BookingSettings } from '../../domain/booking-rules';
import { LOCALE_NATIVE_NAMES, SUPPORTED_LOCALES } from '../../i18n/locales';
import type { Conflict, FieldError, Invalid, NotFound, Result } from '../result';
import { bt, serviceTypeName } from './appointments-format';
import type { ConsoleContext } from './deps';
import { ButtonLink, Card, CheckboxField, consoleRoutes, CsrfField, EditableTable, FieldErrors, flashNote, FormField, notFoundPage, problemsFlash, problemsOf, readForm, RecordToolbar, SubmitButton, type ConsoleEnv, type Flash, type FormValues, type Page, type Problem } from './kit';

/*
 * A branch's booking capacity: the settings availability is computed from, its bays and its service types.
 * Everyone who works with appointments may read it (it explains why a time is not free); managers and
 * admins change it through the capacity service.
 */

const FLASHES = ['settingsSaved', 'bayCreated', 'baySaved', 'typeCreated', 'typeSaved'] as const;

/** How each booking setting is typed, in the order a manager reads them; a new setting fails the type check until it is here. */
const SETTING_KINDS: Record<keyof BookingSettings, 'number' | 'optionalNumber' | 'time'> = {
  slotIntervalMinutes: 'number', minNoticeMinutes: 'number', horizonDays: 'number', bufferMinutes: 'number',
  advisorsPerSlot: 'number', dailyCap: 'number', loanerCars: 'number', changeCutoffHours: 'number',
  reminderDayBeforeAt: 'time', reminderHoursBefore: 'optionalNumber', quietHoursStart: 'time', quietHoursEnd: 'time',
};
const SETTING_FIELDS = (Object.keys(SETTING_KINDS) as (keyof BookingSettings)[]).map((field) => ({ field, kind: SETTING_KINDS[field] }));

/** Which form on the page a refused post came from, with what was typed and what is wrong. */
interface Refused {
  form: string;
  values: FormValues;
  problems: Problem[];
}

interface View {
  status?: 200 | 400 | 404 | 409;
  flash?: Flash | null;
  refused?: Refused;
}

function settingsInput(form: FormValues): Record<string, number | string | null> {
  const out: Record<string, number | string | null> = {};
  for (const { field, kind } of SETTING_FIELDS) {
    const raw = form.get(field);
    if (kind === 'number') out[field] = raw === '' ? Number.NaN : Number(raw);
    else if (kind === 'optionalNumber') out[field] = raw === '' ? null : Number(raw);
    else out[field] = raw === '' ? null : raw;
  }
  return out;
}

function intOr(raw: string, fallback: number): number {
  return raw === '' ? fallback : Number(raw);
}

/** Value of a field as typed in a refused form, else as stored. */
function valueOf(refused: Refused | undefined, form: string, field: string, stored: string | number | null): string {
  if (refused?.form === form) return refused.values.get(field);
  return stored === null ? '' : String(stored);
}

function checkedOf(refused: Refused | undefined, form: string, field: string, stored: boolean): boolean {
  return refused?.form === form ? refused.values.get(field) === '1' : stored;
}

const SettingsForm: FC<{ page: Page; capacity: BranchCapacity; refused?: Refused; canWrite: boolean }> = ({ page, capacity, refused, canWrite }) => {
  const s = capacity.rules.settings;
  const problems = refused?.form === 'settings' ? refused.problems : undefined;
  return (
    <form method="post" action={`/console/branches/${capacity.branchId}/capacity/settings`} class="card">
      <CsrfField page={page} />
      <h2 style="margin-top:0">{bt(page, 'capacity.settings')}</h2>
      <div class="grid">
        {SETTING_FIELDS.map(({ field, kind }) => (
          <FormField label={bt(page, `capacity.fields.${field}`)} id={field} problems={problems}>
            <input
              id={field}
              name={field}
              type={kind === 'time' ? 'time' : 'number'}
              required={kind === 'number'}
              min={kind === 'time' ? undefined : 0}
              step={kind === 'time' ? 300 : 1}
              disabled={!canWrite}
              value={valueOf(refused, 'settings', field, s[field])}
            />
          </FormField>
        ))}
      </div>
      <p class="muted" style="font-size:.85rem">{bt(page, 'capacity.settingsHint')}</p>
      {canWrite ? (
        <SubmitButton label={page.t('common.save')} />
      ) : null}
    </form>
  );
};

const SortOrderField: FC<{ page: Page; id: string; value: string; problems?: Problem[] }> = ({ page, id, value, problems }) => (
  <FormField label={bt(page, 'capacity.sortOrder')} id={id} field="sortOrder" problems={problems}>
    <input id={id} type="number" name="sortOrder" step={1} value={value} />
  </FormField>
);

const BayFields: FC<{ page: Page; capacity: BranchCapacity; form: string; bay: BayInfo | null; refused?: Refused }> = ({ page, capacity, form, bay, refused }) => {
  const problems = refused?.form === form ? refused.problems : undefined;
  const chosen = refused?.form === form ? refused.values.all('serviceTypes') : (bay?.serviceTypes ?? []);
  const id = (f: string) => `${form.replace(':', '-')}-${f}`;
  return (
    <>
      <div class="grid">
        <FormField label={bt(page, 'capacity.bayName')} id={id('name')} field="name" problems={problems}>
          <input id={id('name')} type="text" name="name" required maxlength={60} value={valueOf(refused, form, 'name', bay?.name ?? '')} />
        </FormField>
        <SortOrderField page={page} id={id('sortOrder')} problems={problems} value={valueOf(refused, form, 'sortOrder', bay?.sortOrder ?? (capacity.bays.length + 1) * 10)} />
      </div>
      <label>{bt(page, 'capacity.bayTakes')}</label>
      <div class="toolbar">
        {capacity.serviceTypes.map((t) => (
          <label style="margin:0;color:var(--ink)">
            <input type="checkbox" name="serviceTypes" value={t.code} checked={chosen.includes(t.code)} /> {serviceTypeName(page, t.names, t.code)}
          </label>
        ))}
      </div>
      <FieldErrors problems={problems} field="serviceTypes" />
      <CheckboxField name="active" checked={checkedOf(refused, form, 'active', bay?.active ?? true)} label={bt(page, 'capacity.active')} />
    </>
  );
};

const TypeFields: FC<{ page: Page; form: string; type: ServiceType | null; refused?: Refused; nextSort: number }> = ({ page, form, type, refused, nextSort }) => {
  const problems = refused?.form === form ? refused.problems : undefined;
  const id = (f: string) => `${form.replace(':', '-')}-${f}`;
  return (
    <>
      <div class="grid">
        <FormField label={bt(page, 'capacity.code')} id={id('code')} field="code" problems={problems}>
          <input id={id('code')} type="text" name="code" required maxlength={40} pattern="[a-z][a-z0-9_]*" value={valueOf(refused, form, 'code', type?.code ?? '')} style="font-family:ui-monospace,Menlo,Consolas,monospace" />
        </FormField>
        <FormField label={bt(page, 'capacity.duration')} id={id('durationMinutes')} field="durationMinutes" problems={problems}>
          <input id={id('durationMinutes')} type="number" name="durationMinutes" required min={5} step={5} value={valueOf(refused, form, 'durationMinutes', type?.durationMinutes ?? 60)} />
        </FormField>
        <SortOrderField page={page} id={id('sortOrder')} problems={problems} value={valueOf(refused, form, 'sortOrder', type?.sortOrder ?? nextSort)} />
      </div>
      <div class="grid">
        {SUPPORTED_LOCALES.map((l) => (
          <FormField label={bt(page, 'capacity.nameIn', { language: LOCALE_NATIVE_NAMES[l] })} id={id(`name-${l}`)}>
            <input id={id(`name-${l}`)} type="text" name={`name_${l}`} maxlength={60} value={valueOf(refused, form, `name_${l}`, type?.names[l] ?? '')} />
          </FormField>
        ))}
      </div>
      <FieldErrors problems={problems} field="names" />
      <CheckboxField name="active" checked={checkedOf(refused, form, 'active', type?.active ?? true)} label={bt(page, 'capacity.activeType')} />
    </>
  );
};

const YesNo: FC<{ page: Page; on: boolean }> = ({ page, on }) => (on ? <>{page.t('common.yes')}</> : <span class="badge warn">{page.t('common.no')}</span>);

function render(page: Page, capacity: BranchCapacity, view: View = {}): Response | Promise<Response> {
  const canWrite = page.can('branches.capacity');
  const base = `/console/branches/${capacity.branchId}/capacity`;
  const flash = view.flash ?? (view.refused ? problemsFlash(page, view.refused.problems) : flashNote(page, FLASHES, (word) => `console-booking:capacity.flash.${word}`));
  const r = view.refused;
  const nextSort = (capacity.serviceTypes.length + 1) * 10;
  const typeName = (code: string) => {
    const t = capacity.serviceTypes.find((x) => x.code === code);
    return t ? serviceTypeName(page, t.names, t.code) : code;
  };
  return page.render(
    { title: `${bt(page, 'capacity.title')} · ${capacity.branchName}`, flash, status: view.status },
    <>
      <h1>
        {bt(page, 'capacity.title')} · {capacity.branchName}
      </h1>
      <RecordToolbar
        page={page}
        back={{ href: `/console/appointments?branch=${encodeURIComponent(capacity.branchId)}`, label: bt(page, 'list.title') }}
        audit={{ entity: 'branch_settings', id: capacity.branchId, label: bt(page, 'detail.audit') }}
      >
        <ButtonLink secondary href={`/console/branches/${capacity.branchId}`}>
          {bt(page, 'capacity.hours')}
        </ButtonLink>
      </RecordToolbar>
      {!canWrite ? <p class="muted">{bt(page, 'capacity.readOnly')}</p> : null}
      <SettingsForm page={page} capacity={capacity} refused={r} canWrite={canWrite} />

      <Card title={bt(page, 'capacity.bays')}>
        <EditableTable
          page={page}
          rows={capacity.bays}
          columns={[
            { label: bt(page, 'capacity.bayName'), cell: (b) => <strong>{b.name}</strong> },
            { label: bt(page, 'capacity.bayTakes'), cell: (b) => b.serviceTypes.map(typeName).join(', ') || '—' },
            { label: bt(page, 'capacity.active'), cell: (b) => <YesNo page={page} on={b.active} /> },
          ]}
          edit={canWrite ? (b) => ({ open: r?.form === `bay:${b.id}`, summary: bt(page, 'capacity.edit', { name: b.name }), action: `${base}/bays/${b.id}`, fields: <BayFields page={page} capacity={capacity} form={`bay:${b.id}`} bay={b} refused={r} /> }) : null}
          add={canWrite ? { open: r?.form === 'bay:new', summary: bt(page, 'capacity.addBay'), action: `${base}/bays`, fields: <BayFields page={page} capacity={capacity} form="bay:new" bay={null} refused={r} /> } : null}
        />
      </Card>

      <Card title={bt(page, 'capacity.serviceTypes')}>
        <EditableTable
          page={page}
          rows={capacity.serviceTypes}
          columns={[
            { label: bt(page, 'capacity.code'), cell: (t) => <code>{t.code}</code> },
            { label: bt(page, 'capacity.name'), cell: (t) => serviceTypeName(page, t.names, t.code) },
            { label: bt(page, 'capacity.duration'), cell: (t) => bt(page, 'capacity.minutes', { n: t.durationMinutes }) },
            { label: bt(page, 'capacity.activeType'), cell: (t) => <YesNo page={page} on={t.active} /> },
          ]}
          edit={
            canWrite
              ? (t) => ({
                  open: r?.form === `type:${t.id}`,
                  summary: bt(page, 'capacity.edit', { name: serviceTypeName(page, t.names, t.code) }),
                  action: `${base}/service-types/${t.id}`,
                  fields: (
                    <>
                      <TypeFields page={page} form={`type:${t.id}`} type={t} refused={r} nextSort={nextSort} />
                      <p class="muted" style="font-size:.85rem">
                        {bt(page, 'capacity.typeHint')}
                      </p>
                    </>
                  ),
                })
              : null
          }
          add={canWrite ? { open: r?.form === 'type:new', summary: bt(page, 'capacity.addType'), action: `${base}/service-types`, fields: <TypeFields page={page} form="type:new" type={null} refused={r} nextSort={nextSort} /> } : null}
        />
      </Card>
    </>,
  );
}

/** The capacity page of a branch and its five posts (settings, add/edit a bay, add/edit a service type). */
export function registerCapacityPages(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  const { capacity: service } = ctx.services;
  const pages = consoleRoutes(app, ctx);
  const notFound = (page: Page) => notFoundPage(page, { title: bt(page, 'capacity.title'), text: bt(page, 'capacity.notFound'), back: { href: '/console/appointments', label: bt(page, 'list.title') } });

  /**
   * A post of one of the page's forms: `save` reads the form and calls the service; a refusal shows the
   * page again with that form open, as typed, and its problems; success goes back with `flash`.
   */
  function post(path: string, form: (page: Page) => string, flash: (page: Page) => string, save: (page: Page, branchId: string, values: FormValues) => Promise<Result<unknown, NotFound | Invalid | Conflict>>) {
    pages.post(`/console/branches/:id/capacity${path}`, 'branches.capacity', async (page, c) => {
      const branchId = page.param('id');
      const values = await readForm(c);
      const saved = await save(page, branchId, values);
      if (saved.ok) return c.redirect(`/console/branches/${branchId}/capacity?flash=${flash(page)}`, 303);
      if (saved.reason === 'not_found') return notFound(page);
      const capacity = await service.find(page.principal, branchId);
      if (!capacity) return notFound(page);
      const errors: FieldError[] = saved.reason === 'invalid' ? saved.errors : [{ field: 'code', code: `type.${saved.code}` }];
      const problems = problemsOf(page, errors, (e) => `console-booking:capacity.errors.${e.code}`);
      return render(page, capacity, { status: saved.reason === 'invalid' ? 400 : 409, refused: { form: form(page), values, problems } });
    });
  }

  pages.get('/console/branches/:id/capacity', 'appointments.read', async (page) => {
    const capacity = await service.find(page.principal, page.param('id'));
    return capacity ? render(page, capacity) : notFound(page);
  });

  post('/settings', () => 'settings', () => 'settingsSaved', (page, branchId, form) => service.saveSettings(page.action, branchId, settingsInput(form)));

  const bay = (form: FormValues) => ({ name: form.get('name'), serviceTypes: form.all('serviceTypes'), active: form.get('active') === '1', sortOrder: intOr(form.get('sortOrder'), 0) });
  post('/bays', () => 'bay:new', () => 'bayCreated', (page, branchId, form) => service.saveBay(page.action, branchId, null, bay(form)));
  post('/bays/:bayId', (page) => `bay:${page.param('bayId')}`, () => 'baySaved', (page, branchId, form) => service.saveBay(page.action, branchId, page.param('bayId'), bay(form)));

  const type = (form: FormValues) => {
    const names: Record<string, string> = {};
    for (const l of SUPPORTED_LOCALES) {
      const name = form.get(`name_${l}`).slice(0, 60);
      if (name) names[l] = name;
    }
    return { code: form.get('code'), durationMinutes: intOr(form.get('durationMinutes'), Number.NaN), names, active: form.get('active') === '1', sortOrder: intOr(form.get('sortOrder'), 0) };
  };
  post('/service-types', () => 'type:new', () => 'typeCreated', (page, branchId, form) => service.saveServiceType(page.action, branchId, null, type(form)));
  post('/service-types/:typeId', (page) => `type:${page.param('typeId')}`, () => 'typeSaved', (page, branchId, form) => service.saveServiceType(page.action, branchId, page.param('typeId'), type(form)));
}
