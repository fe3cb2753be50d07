import type { Context, Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { ZodError } from 'zod';
import { bayInputSchema, loadBranchCapacity, saveBay, saveBookingSettings, saveServiceType, serviceTypeInputSchema, type BayInfo, type BranchCapacity, type ServiceType } from '../../booking/capacity';
import { bookingSettingsSchema, type BookingSettings } from '../../domain/booking-rules';
import { SUPPORTED_LOCALES, LOCALE_NATIVE_NAMES } from '../../i18n/locales';
import { isUniqueViolation } from '../../store/errors';
import { recordAudit } from '../audit';
import { actionContext, consoleRoute, type StaffEnv } from '../guard';
import { canSeeBranch } from '../permissions';
import { FieldProblems, problemsFlash, readAdminForm, type AdminForm, type Problem } from './admin-format';
import { bt, serviceTypeName } from './appointments-format';
import { CsrfField, FoldedForm, Layout, pageOf, type ConsoleDeps, type Page } from './layout';

/*
 * A branch's booking capacity: the settings availability is computed from, its bays and its service types.
 * Everyone who works with appointments may read it (it explains why a time is not free); managers and
 * admins change it. The booking core's own schemas validate every change, and each is audited.
 */

const FLASHES = ['settingsSaved', 'bayCreated', 'baySaved', 'typeCreated', 'typeSaved'] as const;

/** The settings form's fields, in the order a manager reads them; each is a key of BookingSettings. */
const SETTING_FIELDS = [
  { field: 'slotIntervalMinutes', kind: 'number' },
  { field: 'minNoticeMinutes', kind: 'number' },
  { field: 'horizonDays', kind: 'number' },
  { field: 'bufferMinutes', kind: 'number' },
  { field: 'advisorsPerSlot', kind: 'number' },
  { field: 'dailyCap', kind: 'number' },
  { field: 'loanerCars', kind: 'number' },
  { field: 'changeCutoffHours', kind: 'number' },
  { field: 'reminderDayBeforeAt', kind: 'time' },
  { field: 'reminderHoursBefore', kind: 'optionalNumber' },
  { field: 'quietHoursStart', kind: 'time' },
  { field: 'quietHoursEnd', kind: 'time' },
] as const satisfies readonly { field: keyof BookingSettings; kind: 'number' | 'optionalNumber' | 'time' }[];

/** Which form on the page a refused post came from, with what was typed and what is wrong. */
interface Refused {
  form: string;
  values: AdminForm;
  problems: Problem[];
}

interface View {
  status?: 200 | 400 | 404 | 409;
  flash?: { text: string; error?: boolean } | null;
  refused?: Refused;
}

/** The problems of a zod error, one per field, each said in the staff member's language. */
function problemsOf(page: Page, error: ZodError, prefix: string): Problem[] {
  const out: Problem[] = [];
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? '');
    if (out.some((p) => p.field === field)) continue;
    out.push({ field, text: bt(page, `capacity.errors.${prefix}.${field}`) });
  }
  return out;
}

function settingsInput(form: AdminForm): Record<string, number | string | null> {
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
          <div>
            <label for={field}>{bt(page, `capacity.fields.${field}`)}</label>
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
            <FieldProblems problems={problems} field={field} />
          </div>
        ))}
      </div>
      <p class="muted" style="font-size:.85rem">{bt(page, 'capacity.settingsHint')}</p>
      {canWrite ? (
        <p>
          <button type="submit">{page.t('common.save')}</button>
        </p>
      ) : null}
    </form>
  );
};

const BayFields: FC<{ page: Page; capacity: BranchCapacity; form: string; bay: BayInfo | null; refused?: Refused }> = ({ page, capacity, form, bay, refused }) => {
  const problems = refused?.form === form ? refused.problems : undefined;
  const chosen = refused?.form === form ? refused.values.all('serviceTypes') : (bay?.serviceTypes ?? []);
  const id = (f: string) => `${form.replace(':', '-')}-${f}`;
  return (
    <>
      <div class="grid">
        <div>
          <label for={id('name')}>{bt(page, 'capacity.bayName')}</label>
          <input id={id('name')} type="text" name="name" required maxlength={60} value={valueOf(refused, form, 'name', bay?.name ?? '')} />
          <FieldProblems problems={problems} field="name" />
        </div>
        <div>
          <label for={id('sortOrder')}>{bt(page, 'capacity.sortOrder')}</label>
          <input id={id('sortOrder')} type="number" name="sortOrder" step={1} value={valueOf(refused, form, 'sortOrder', bay?.sortOrder ?? (capacity.bays.length + 1) * 10)} />
          <FieldProblems problems={problems} field="sortOrder" />
        </div>
      </div>
      <label>{bt(page, 'capacity.bayTakes')}</label>
      <div class="toolbar">
        {capacity.serviceTypes.map((t) => (
          <label style="margin:0;color:var(--ink)">
            <input type="checkbox" name="serviceTypes" value={t.code} checked={chosen.includes(t.code)} /> {serviceTypeName(page, t.names, t.code)}
          </label>
        ))}
      </div>
      <FieldProblems problems={problems} field="serviceTypes" />
      <label style="color:var(--ink)">
        <input type="checkbox" name="active" value="1" checked={checkedOf(refused, form, 'active', bay?.active ?? true)} /> {bt(page, 'capacity.active')}
      </label>
    </>
  );
};

const TypeFields: FC<{ page: Page; form: string; type: ServiceType | null; refused?: Refused; nextSort: number }> = ({ page, form, type, refused, nextSort }) => {
  const problems = refused?.form === form ? refused.problems : undefined;
  const id = (f: string) => `${form.replace(':', '-')}-${f}`;
  return (
    <>
      <div class="grid">
        <div>
          <label for={id('code')}>{bt(page, 'capacity.code')}</label>
          <input id={id('code')} type="text" name="code" required maxlength={40} pattern="[a-z][a-z0-9_]*" value={valueOf(refused, form, 'code', type?.code ?? '')} style="font-family:ui-monospace,Menlo,Consolas,monospace" />
          <FieldProblems problems={problems} field="code" />
        </div>
        <div>
          <label for={id('durationMinutes')}>{bt(page, 'capacity.duration')}</label>
          <input id={id('durationMinutes')} type="number" name="durationMinutes" required min={5} step={5} value={valueOf(refused, form, 'durationMinutes', type?.durationMinutes ?? 60)} />
          <FieldProblems problems={problems} field="durationMinutes" />
        </div>
        <div>
          <label for={id('sortOrder')}>{bt(page, 'capacity.sortOrder')}</label>
          <input id={id('sortOrder')} type="number" name="sortOrder" step={1} value={valueOf(refused, form, 'sortOrder', type?.sortOrder ?? nextSort)} />
          <FieldProblems problems={problems} field="sortOrder" />
        </div>
      </div>
      <div class="grid">
        {SUPPORTED_LOCALES.map((l) => (
          <div>
            <label for={id(`name-${l}`)}>
              {bt(page, 'capacity.nameIn', { language: LOCALE_NATIVE_NAMES[l] })}
            </label>
            <input id={id(`name-${l}`)} type="text" name={`name_${l}`} maxlength={60} value={valueOf(refused, form, `name_${l}`, type?.names[l] ?? '')} />
          </div>
        ))}
      </div>
      <FieldProblems problems={problems} field="names" />
      <label style="color:var(--ink)">
        <input type="checkbox" name="active" value="1" checked={checkedOf(refused, form, 'active', type?.active ?? true)} /> {bt(page, 'capacity.activeType')}
      </label>
    </>
  );
};

async function render(c: Context<StaffEnv>, deps: ConsoleDeps, capacity: BranchCapacity, view: View = {}): Promise<Response> {
  const page = pageOf(c, deps);
  const canWrite = page.can('branches.capacity');
  const base = `/console/branches/${capacity.branchId}/capacity`;
  const flashKey = c.req.query('flash');
  const flash = view.flash ?? (view.refused ? problemsFlash(page, view.refused.problems) : flashKey && (FLASHES as readonly string[]).includes(flashKey) ? { text: bt(page, `capacity.flash.${flashKey}`) } : null);
  const r = view.refused;
  const nextSort = (capacity.serviceTypes.length + 1) * 10;
  const typeName = (code: string) => {
    const t = capacity.serviceTypes.find((x) => x.code === code);
    return t ? serviceTypeName(page, t.names, t.code) : code;
  };
  return c.html(
    <Layout page={page} title={`${bt(page, 'capacity.title')} · ${capacity.branchName}`} flash={flash}>
      <h1>
        {bt(page, 'capacity.title')} · {capacity.branchName}
      </h1>
      <div class="toolbar">
        <a class="button secondary" href={`/console/appointments?branch=${encodeURIComponent(capacity.branchId)}`}>
          {bt(page, 'list.title')}
        </a>
        <a class="button secondary" href={`/console/branches/${capacity.branchId}`}>
          {bt(page, 'capacity.hours')}
        </a>
        {page.can('audit.read') ? (
          <a class="button secondary" href={`/console/audit?entity=branch_settings&entityId=${encodeURIComponent(capacity.branchId)}`}>
            {bt(page, 'detail.audit')}
          </a>
        ) : null}
      </div>
      {!canWrite ? <p class="muted">{bt(page, 'capacity.readOnly')}</p> : null}
      <SettingsForm page={page} capacity={capacity} refused={r} canWrite={canWrite} />

      <div class="card">
        <h2 style="margin-top:0">{bt(page, 'capacity.bays')}</h2>
        <div style="overflow-x:auto">
          <table>
            <thead>
              <tr>
                <th>{bt(page, 'capacity.bayName')}</th>
                <th>{bt(page, 'capacity.bayTakes')}</th>
                <th>{bt(page, 'capacity.active')}</th>
              </tr>
            </thead>
            <tbody>
              {capacity.bays.map((b) => (
                <>
                  <tr>
                    <td>
                      <strong>{b.name}</strong>
                    </td>
                    <td>{b.serviceTypes.map(typeName).join(', ') || '—'}</td>
                    <td>{b.active ? page.t('common.yes') : <span class="badge warn">{page.t('common.no')}</span>}</td>
                  </tr>
                  {canWrite ? (
                    <tr>
                      <td colspan={3}>
                        <FoldedForm page={page} open={r?.form === `bay:${b.id}`} summary={bt(page, 'capacity.edit', { name: b.name })} action={`${base}/bays/${b.id}`} submit={page.t('common.save')}>
                          <BayFields page={page} capacity={capacity} form={`bay:${b.id}`} bay={b} refused={r} />
                        </FoldedForm>
                      </td>
                    </tr>
                  ) : null}
                </>
              ))}
            </tbody>
          </table>
        </div>
        {canWrite ? (
          <FoldedForm page={page} open={r?.form === 'bay:new'} summary={bt(page, 'capacity.addBay')} action={`${base}/bays`} submit={bt(page, 'capacity.addBay')}>
            <BayFields page={page} capacity={capacity} form="bay:new" bay={null} refused={r} />
          </FoldedForm>
        ) : null}
      </div>

      <div class="card">
        <h2 style="margin-top:0">{bt(page, 'capacity.serviceTypes')}</h2>
        <div style="overflow-x:auto">
          <table>
            <thead>
              <tr>
                <th>{bt(page, 'capacity.code')}</th>
                <th>{bt(page, 'capacity.name')}</th>
                <th>{bt(page, 'capacity.duration')}</th>
                <th>{bt(page, 'capacity.activeType')}</th>
              </tr>
            </thead>
            <tbody>
              {capacity.serviceTypes.map((t) => (
                <>
                  <tr>
                    <td>
                      <code>{t.code}</code>
                    </td>
                    <td>{serviceTypeName(page, t.names, t.code)}</td>
                    <td>{bt(page, 'capacity.minutes', { n: t.durationMinutes })}</td>
                    <td>{t.active ? page.t('common.yes') : <span class="badge warn">{page.t('common.no')}</span>}</td>
                  </tr>
                  {canWrite ? (
                    <tr>
                      <td colspan={4}>
                        <FoldedForm page={page} open={r?.form === `type:${t.id}`} summary={bt(page, 'capacity.edit', { name: serviceTypeName(page, t.names, t.code) })} action={`${base}/service-types/${t.id}`} submit={page.t('common.save')}>
                          <TypeFields page={page} form={`type:${t.id}`} type={t} refused={r} nextSort={nextSort} />
                          <p class="muted" style="font-size:.85rem">
                            {bt(page, 'capacity.typeHint')}
                          </p>
                        </FoldedForm>
                      </td>
                    </tr>
                  ) : null}
                </>
              ))}
            </tbody>
          </table>
        </div>
        {canWrite ? (
          <FoldedForm page={page} open={r?.form === 'type:new'} summary={bt(page, 'capacity.addType')} action={`${base}/service-types`} submit={bt(page, 'capacity.addType')}>
            <TypeFields page={page} form="type:new" type={null} refused={r} nextSort={nextSort} />
          </FoldedForm>
        ) : null}
      </div>
    </Layout>,
    view.status ?? 200,
  );
}

function notFound(c: Context<StaffEnv>, deps: ConsoleDeps): Response | Promise<Response> {
  const page = pageOf(c, deps);
  return c.html(
    <Layout page={page} title={bt(page, 'capacity.title')} flash={{ text: bt(page, 'capacity.notFound'), error: true }}>
      <p>
        <a href="/console/appointments">{bt(page, 'list.title')}</a>
      </p>
    </Layout>,
    404,
  );
}

/** The branch's capacity if the staff member may see the branch, else null. */
async function visibleCapacity(c: Context<StaffEnv>, deps: ConsoleDeps): Promise<BranchCapacity | null> {
  const id = c.req.param('id') ?? '';
  if (!canSeeBranch(c.get('principal'), id)) return null;
  return loadBranchCapacity(deps.store.db, id);
}

function bayForAudit(b: { name: string; serviceTypes: string[]; active: boolean; sortOrder: number }) {
  return { name: b.name, serviceTypes: b.serviceTypes, active: b.active, sortOrder: b.sortOrder };
}

function typeForAudit(t: { code: string; durationMinutes: number; names: Record<string, string>; active: boolean; sortOrder: number }) {
  return { code: t.code, durationMinutes: t.durationMinutes, names: t.names, active: t.active, sortOrder: t.sortOrder };
}

/** The capacity page of a branch and its five posts (settings, add/edit a bay, add/edit a service type). */
export function registerCapacityPages(app: Hono<StaffEnv>, deps: ConsoleDeps): void {
  const { registry, store } = deps;

  consoleRoute(app, registry, deps, 'GET', '/console/branches/:id/capacity', 'appointments.read', async (c) => {
    const capacity = await visibleCapacity(c, deps);
    return capacity ? render(c, deps, capacity) : notFound(c, deps);
  });

  consoleRoute(app, registry, deps, 'POST', '/console/branches/:id/capacity/settings', 'branches.capacity', async (c) => {
    const capacity = await visibleCapacity(c, deps);
    if (!capacity) return notFound(c, deps);
    const page = pageOf(c, deps);
    const form = await readAdminForm(c);
    const parsed = bookingSettingsSchema.safeParse(settingsInput(form));
    if (!parsed.success) return render(c, deps, capacity, { status: 400, refused: { form: 'settings', values: form, problems: problemsOf(page, parsed.error, 'settings') } });
    const { actor, ip, now } = actionContext(c, deps.clock);
    const nowIso = now.toISOString();
    await store.transaction(async (tx) => {
      const before = await loadBranchCapacity(tx, capacity.branchId);
      await saveBookingSettings(tx, capacity.branchId, parsed.data, nowIso);
      await recordAudit(tx, { actor, action: 'capacity.settings', entity: 'branch_settings', entityId: capacity.branchId, before: before?.rules.settings, after: parsed.data, ip, now: nowIso });
    });
    return c.redirect(`/console/branches/${capacity.branchId}/capacity?flash=settingsSaved`, 303);
  });

  /** A bay post: validated by the core's schema, service types limited to this branch's codes. */
  async function saveBayPost(c: Context<StaffEnv>, bayId: string | null): Promise<Response> {
    const capacity = await visibleCapacity(c, deps);
    if (!capacity) return notFound(c, deps);
    const before = bayId ? capacity.bays.find((b) => b.id === bayId) : null;
    if (bayId && !before) return notFound(c, deps);
    const page = pageOf(c, deps);
    const form = await readAdminForm(c);
    const codes = new Set(capacity.serviceTypes.map((t) => t.code));
    const input = { name: form.get('name'), serviceTypes: form.all('serviceTypes').filter((code) => codes.has(code)), active: form.get('active') === '1', sortOrder: intOr(form.get('sortOrder'), 0) };
    const formName = bayId ? `bay:${bayId}` : 'bay:new';
    const parsed = bayInputSchema.safeParse(input);
    if (!parsed.success) return render(c, deps, capacity, { status: 400, refused: { form: formName, values: form, problems: problemsOf(page, parsed.error, 'bay') } });
    const { actor, ip, now } = actionContext(c, deps.clock);
    const nowIso = now.toISOString();
    await store.transaction(async (tx) => {
      const saved = await saveBay(tx, capacity.branchId, parsed.data, nowIso, bayId);
      await recordAudit(tx, { actor, action: bayId ? 'bay.update' : 'bay.create', entity: 'bay', entityId: saved, before: before ? bayForAudit(before) : undefined, after: { branchId: capacity.branchId, ...bayForAudit(parsed.data) }, ip, now: nowIso });
    });
    return c.redirect(`/console/branches/${capacity.branchId}/capacity?flash=${bayId ? 'baySaved' : 'bayCreated'}`, 303);
  }

  consoleRoute(app, registry, deps, 'POST', '/console/branches/:id/capacity/bays', 'branches.capacity', (c) => saveBayPost(c, null));
  consoleRoute(app, registry, deps, 'POST', '/console/branches/:id/capacity/bays/:bayId', 'branches.capacity', (c) => saveBayPost(c, c.req.param('bayId') ?? ''));

  /**
   * A service type post. A new code is rewritten in the bays that take the type, in the same transaction,
   * since bays name the types they take by code.
   */
  async function saveTypePost(c: Context<StaffEnv>, typeId: string | null): Promise<Response> {
    const capacity = await visibleCapacity(c, deps);
    if (!capacity) return notFound(c, deps);
    const before = typeId ? capacity.serviceTypes.find((t) => t.id === typeId) : null;
    if (typeId && !before) return notFound(c, deps);
    const page = pageOf(c, deps);
    const form = await readAdminForm(c);
    const names: Record<string, string> = {};
    for (const l of SUPPORTED_LOCALES) {
      const name = form.get(`name_${l}`).slice(0, 60);
      if (name) names[l] = name;
    }
    const input = { code: form.get('code'), durationMinutes: intOr(form.get('durationMinutes'), Number.NaN), names, active: form.get('active') === '1', sortOrder: intOr(form.get('sortOrder'), 0) };
    const formName = typeId ? `type:${typeId}` : 'type:new';
    const parsed = serviceTypeInputSchema.safeParse(input);
    const refuse = (status: 400 | 409, problems: Problem[]) => render(c, deps, capacity, { status, refused: { form: formName, values: form, problems } });
    if (!parsed.success) return refuse(400, problemsOf(page, parsed.error, 'type'));
    const taken = (code: string) => capacity.serviceTypes.some((t) => t.code === code && t.id !== typeId);
    const duplicate = [{ field: 'code', text: bt(page, 'capacity.errors.type.codeTaken') }];
    if (taken(parsed.data.code)) return refuse(409, duplicate);
    const { actor, ip, now } = actionContext(c, deps.clock);
    const nowIso = now.toISOString();
    try {
      await store.transaction(async (tx) => {
        const bays = before && before.code !== parsed.data.code ? await tx.selectFrom('bays').select(['id', 'service_types']).where('branch_id', '=', capacity.branchId).execute() : [];
        const saved = await saveServiceType(tx, capacity.branchId, parsed.data, nowIso, typeId);
        const renamedIn: string[] = [];
        for (const bay of bays) {
          const codes = JSON.parse(bay.service_types) as string[];
          if (!codes.includes(before!.code)) continue;
          await tx
            .updateTable('bays')
            .set({ service_types: JSON.stringify(codes.map((code) => (code === before!.code ? parsed.data.code : code))), updated_at: nowIso })
            .where('id', '=', bay.id)
            .execute();
          renamedIn.push(bay.id);
        }
        await recordAudit(tx, {
          actor,
          action: typeId ? 'service_type.update' : 'service_type.create',
          entity: 'service_type',
          entityId: saved,
          before: before ? typeForAudit(before) : undefined,
          after: { branchId: capacity.branchId, ...typeForAudit(parsed.data), ...(renamedIn.length > 0 ? { baysUpdated: renamedIn } : {}) },
          ip,
          now: nowIso,
        });
      });
    } catch (err) {
      // Another manager took the same code a moment ago.
      if (isUniqueViolation(err, 'service_types')) return refuse(409, duplicate);
      throw err;
    }
    return c.redirect(`/console/branches/${capacity.branchId}/capacity?flash=${typeId ? 'typeSaved' : 'typeCreated'}`, 303);
  }

  consoleRoute(app, registry, deps, 'POST', '/console/branches/:id/capacity/service-types', 'branches.capacity', (c) => saveTypePost(c, null));
  consoleRoute(app, registry, deps, 'POST', '/console/branches/:id/capacity/service-types/:typeId', 'branches.capacity', (c) => saveTypePost(c, c.req.param('typeId') ?? ''));
}
