import type { Context, Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { Appointment } from '../../booking/appointments';
import { createBookingService, type BookingService } from '../../booking/service';
import { addDays, isLocalDate, localDateOf, weekdayOf, WEEKDAYS } from '../../domain/local-time';
import type { AppointmentStatus } from '../../store/schema';
import { actionContext, consoleRoute, type StaffEnv } from '../guard';
import { canSeeBranch } from '../permissions';
import { registerNewBookingPages } from './appointments-new';
import { APPOINTMENT_STATUSES, bt, Check, formatLocalDate, queryParam, refusalMessage, safeBack, serviceTypeName, SlotChoices, StatusBadge, visibleBranches } from './appointments-format';
import { appointmentExtras, appointmentExtrasOf, branchAdvisors, createStaffBooking, type AppointmentExtras, type StaffBooking, type StaffRequest } from './appointments-operations';
import { registerCapacityPages } from './capacity';
import { customerName, formatTime } from './customer-format';
import { CsrfField, Layout, pageOf, type ConsoleDeps, type Page } from './layout';

/*
 * The workshop's day: a branch's appointments by day or week, and what staff do with them — check the
 * customer in (which opens the repair order), mark a no-show, cancel, move, give to an advisor. Times are
 * the branch's own local times, since that is the clock the workshop and the customer go by.
 */

const FLASHES = ['booked', 'checkedIn', 'noShow', 'cancelled', 'rescheduled', 'advisorAssigned'] as const;

interface BookingPageDeps {
  deps: ConsoleDeps;
  booking: BookingService;
  staffBooking: StaffBooking;
}

function staffRequest(c: Context<StaffEnv>, deps: ConsoleDeps): StaffRequest {
  const { actor, ip } = actionContext(c, deps.clock);
  return { actor, ip, channel: 'console' };
}

/** The Monday of the week `date` falls in: the week view runs Monday to Sunday. */
function mondayOf(date: string): string {
  const index = WEEKDAYS.indexOf(weekdayOf(date));
  return addDays(date, -((index + 6) % 7));
}

interface ListQuery {
  branchId: string;
  date: string;
  view: 'day' | 'week';
  advisor: string;
  status: AppointmentStatus | '';
}

function listHref(q: ListQuery, over: Partial<ListQuery> = {}): string {
  const v = { ...q, ...over };
  const params = new URLSearchParams({ branch: v.branchId, date: v.date, view: v.view });
  if (v.advisor) params.set('advisor', v.advisor);
  if (v.status) params.set('status', v.status);
  return `/console/appointments?${params.toString()}`;
}

const CustomerLink: FC<{ page: Page; a: Appointment; extras: AppointmentExtras | undefined }> = ({ page, a, extras }) => {
  const name = extras?.customerErased ? bt(page, 'erasedCustomer') : customerName(page, extras?.customerName);
  return page.can('customers.read') ? <a href={`/console/customers/${a.customerId}`}>{name}</a> : <span>{name}</span>;
};

/** A small post button with this page's form token and the appointment version it was decided on. */
const ActionButton: FC<{ page: Page; a: Appointment; action: string; label: string; back?: string; danger?: boolean; confirm?: string }> = ({ page, a, action, label, back, danger, confirm }) => (
  <form class="inline" method="post" action={`/console/appointments/${a.id}/${action}`} onsubmit={confirm ? `return confirm(${JSON.stringify(confirm)})` : undefined}>
    <CsrfField page={page} />
    <input type="hidden" name="version" value={String(a.version)} />
    {back ? <input type="hidden" name="back" value={back} /> : null}
    <button type="submit" class={danger ? 'danger' : 'secondary'} style="padding:3px 10px;font-size:.85rem">
      {label}
    </button>
  </form>
);

async function renderList(c: Context<StaffEnv>, ctx: BookingPageDeps): Promise<Response> {
  const { deps, booking } = ctx;
  const page = pageOf(c, deps);
  const branches = await visibleBranches(deps, c.get('principal'));
  if (branches.length === 0) {
    return c.html(
      <Layout page={page} title={bt(page, 'list.title')}>
        <h1>{bt(page, 'list.title')}</h1>
        <p class="muted">{bt(page, 'noBranches')}</p>
      </Layout>,
    );
  }
  const wanted = queryParam(c, 'branch');
  const branch = branches.find((b) => b.id === wanted) ?? branches[0]!;
  const now = deps.clock.now();
  const today = localDateOf(now, branch.time_zone);
  const dateParam = queryParam(c, 'date', 10);
  const statusParam = queryParam(c, 'status', 20);
  const q: ListQuery = {
    branchId: branch.id,
    date: isLocalDate(dateParam) ? dateParam : today,
    view: c.req.query('view') === 'week' ? 'week' : 'day',
    advisor: queryParam(c, 'advisor'),
    status: (APPOINTMENT_STATUSES as readonly string[]).includes(statusParam) ? (statusParam as AppointmentStatus) : '',
  };
  const from = q.view === 'week' ? mondayOf(q.date) : q.date;
  const to = q.view === 'week' ? addDays(from, 6) : q.date;
  const [items, extras, advisors] = await Promise.all([
    booking.listForBranch(branch.id, { from, to, advisorId: q.advisor || null, statuses: q.status ? [q.status] : undefined }),
    appointmentExtras(deps.store.db, branch.id, from, to),
    branchAdvisors(deps.store.db, branch.id),
  ]);
  const step = q.view === 'week' ? 7 : 1;
  const here = listHref(q);
  const canWrite = page.can('appointments.write');
  const flash = c.req.query('flash');
  const days = q.view === 'week' ? Array.from({ length: 7 }, (_, i) => addDays(from, i)) : [from];
  const columns = 11;

  return c.html(
    <Layout page={page} title={bt(page, 'list.title')} flash={flash && (FLASHES as readonly string[]).includes(flash) ? { text: bt(page, `flash.${flash}`, { number: '' }) } : null}>
      <h1>
        {bt(page, 'list.title')} · {branch.name}
      </h1>
      <form class="toolbar" method="get" action="/console/appointments">
        <select name="branch" aria-label={bt(page, 'list.branch')} style="max-width:220px">
          {branches.map((b) => (
            <option value={b.id} selected={b.id === branch.id}>
              {b.name}
            </option>
          ))}
        </select>
        <input type="date" name="date" value={q.date} aria-label={bt(page, 'list.date')} style="max-width:170px" />
        <select name="view" aria-label={bt(page, 'list.view')} style="max-width:130px">
          <option value="day" selected={q.view === 'day'}>
            {bt(page, 'list.day')}
          </option>
          <option value="week" selected={q.view === 'week'}>
            {bt(page, 'list.week')}
          </option>
        </select>
        <select name="advisor" aria-label={bt(page, 'list.advisor')} style="max-width:200px">
          <option value="">{bt(page, 'list.allAdvisors')}</option>
          {advisors.map((s) => (
            <option value={s.id} selected={s.id === q.advisor}>
              {s.name}
            </option>
          ))}
        </select>
        <select name="status" aria-label={bt(page, 'list.status')} style="max-width:180px">
          <option value="">{bt(page, 'list.allStatuses')}</option>
          {APPOINTMENT_STATUSES.map((s) => (
            <option value={s} selected={s === q.status}>
              {bt(page, `status.${s}`)}
            </option>
          ))}
        </select>
        <button type="submit">{bt(page, 'list.show')}</button>
      </form>
      <div class="toolbar">
        <a class="button secondary" href={listHref(q, { date: addDays(q.date, -step) })}>
          {bt(page, q.view === 'week' ? 'list.previousWeek' : 'list.previousDay')}
        </a>
        <a class="button secondary" href={listHref(q, { date: today })}>
          {bt(page, 'list.today')}
        </a>
        <a class="button secondary" href={listHref(q, { date: addDays(q.date, step) })}>
          {bt(page, q.view === 'week' ? 'list.nextWeek' : 'list.nextDay')}
        </a>
        <span class="muted">{q.view === 'week' ? `${formatLocalDate(page, from)} – ${formatLocalDate(page, to)}` : formatLocalDate(page, q.date, 'long')}</span>
        <span style="flex:1" />
        {canWrite ? (
          <a class="button" href={`/console/appointments/new?branch=${encodeURIComponent(branch.id)}`}>
            {bt(page, 'list.newBooking')}
          </a>
        ) : null}
        <a class="button secondary" href={`/console/branches/${branch.id}/capacity`}>
          {bt(page, 'capacity.title')}
        </a>
      </div>
      {items.length === 0 ? (
        <p class="muted">{bt(page, 'list.empty')}</p>
      ) : (
        <div style="overflow-x:auto">
          <table>
            <thead>
              <tr>
                <th>{bt(page, 'columns.time')}</th>
                <th>{bt(page, 'columns.reference')}</th>
                <th>{bt(page, 'columns.customer')}</th>
                <th>{bt(page, 'columns.plate')}</th>
                <th>{bt(page, 'columns.service')}</th>
                <th>{bt(page, 'columns.bay')}</th>
                <th>{bt(page, 'columns.advisor')}</th>
                <th>{bt(page, 'columns.status')}</th>
                <th>{bt(page, 'columns.loaner')}</th>
                <th>{bt(page, 'columns.confirmed')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {days.map((day) => {
                const rows = items.filter((a) => a.localDate === day);
                if (q.view === 'week' && rows.length === 0) return null;
                return (
                  <>
                    {q.view === 'week' ? (
                      <tr>
                        <th colspan={columns} style="background:#f0f3f7;color:var(--ink)">
                          {formatLocalDate(page, day, 'long')}
                        </th>
                      </tr>
                    ) : null}
                    {rows.map((a) => {
                      const x = extras.get(a.id);
                      const started = now.getTime() >= Date.parse(a.startsAt);
                      return (
                        <tr>
                          <td style="white-space:nowrap;font-variant-numeric:tabular-nums">
                            {a.localStart}–{a.localEnd}
                          </td>
                          <td>
                            <a href={`/console/appointments/${a.id}`}>
                              <code>{a.reference}</code>
                            </a>
                          </td>
                          <td>
                            <CustomerLink page={page} a={a} extras={x} />
                          </td>
                          <td>{x?.plate ?? ''}</td>
                          <td>{serviceTypeName(page, a.serviceTypeNames, a.serviceTypeCode)}</td>
                          <td>{a.bayName}</td>
                          <td>{x?.advisorName ?? <span class="muted">{bt(page, 'unassigned')}</span>}</td>
                          <td style="white-space:nowrap">
                            <StatusBadge page={page} status={a.status} />
                            {x?.repairOrderNumber ? (
                              <div>
                                <code>{x.repairOrderNumber}</code>
                              </div>
                            ) : null}
                          </td>
                          <td>
                            <Check on={a.loanerRequested} title={bt(page, 'columns.loaner')} />
                          </td>
                          <td>
                            <Check on={Boolean(x?.customerConfirmedAt)} title={x?.customerConfirmedAt ? formatTime(page, deps, x.customerConfirmedAt) : undefined} />
                          </td>
                          <td style="white-space:nowrap">
                            {canWrite && a.status === 'booked' && a.localDate <= today ? <ActionButton page={page} a={a} action="check-in" label={bt(page, 'actions.checkIn')} /> : null}{' '}
                            {canWrite && a.status === 'booked' && started ? <ActionButton page={page} a={a} action="no-show" label={bt(page, 'actions.noShow')} back={here} confirm={bt(page, 'actions.noShowConfirm')} /> : null}{' '}
                            <a href={`/console/appointments/${a.id}`}>{bt(page, 'actions.open')}</a>
                          </td>
                        </tr>
                      );
                    })}
                  </>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Layout>,
  );
}

interface DetailView {
  status?: 200 | 400 | 404 | 409;
  flash?: { text: string; error?: boolean } | null;
}

async function renderDetail(c: Context<StaffEnv>, ctx: BookingPageDeps, id: string, view: DetailView = {}): Promise<Response> {
  const { deps, booking } = ctx;
  const page = pageOf(c, deps);
  const a = await booking.find(id);
  if (!a || !canSeeBranch(c.get('principal'), a.branchId)) {
    return c.html(
      <Layout page={page} title={bt(page, 'list.title')} flash={{ text: bt(page, 'refused.notFound'), error: true }}>
        <p>
          <a href="/console/appointments">{bt(page, 'detail.backToList')}</a>
        </p>
      </Layout>,
      404,
    );
  }
  const [x, history, advisors, branch] = await Promise.all([
    appointmentExtrasOf(deps.store.db, a.id),
    booking.history(a.id),
    branchAdvisors(deps.store.db, a.branchId),
    deps.store.db.selectFrom('branches').select(['name', 'time_zone']).where('id', '=', a.branchId).executeTakeFirst(),
  ]);
  const staffNames = new Map<string, string>();
  const staffIds = [...new Set(history.filter((h) => h.actorType === 'staff' && h.actorId).map((h) => h.actorId!))];
  if (staffIds.length > 0) for (const s of await deps.store.db.selectFrom('staff_users').select(['id', 'name']).where('id', 'in', staffIds.slice(0, 90)).execute()) staffNames.set(s.id, s.name);
  const now = deps.clock.now();
  const today = localDateOf(now, a.timeZone);
  const canWrite = page.can('appointments.write');
  const booked = a.status === 'booked';
  const flashKey = c.req.query('flash');
  const flash = view.flash ?? (flashKey && (FLASHES as readonly string[]).includes(flashKey) ? { text: bt(page, `flash.${flashKey}`, { number: x?.repairOrderNumber ?? '' }) } : null);
  const rescheduleDate = queryParam(c, 'rescheduleDate', 10);
  const free = booked && canWrite && isLocalDate(rescheduleDate) ? await booking.availability(a.branchId, { serviceTypeCode: a.serviceTypeCode, date: rescheduleDate, loaner: a.loanerRequested, ignoreNotice: true }) : null;
  const back = `/console/appointments?${new URLSearchParams({ branch: a.branchId, date: a.localDate, view: 'day' }).toString()}`;
  const base = `/console/appointments/${a.id}`;

  return c.html(
    <Layout page={page} title={a.reference} flash={flash}>
      <h1>
        <code>{a.reference}</code> <StatusBadge page={page} status={a.status} />
      </h1>
      <div class="toolbar">
        <a class="button secondary" href={back}>
          {bt(page, 'detail.backToDay')}
        </a>
        {page.can('audit.read') ? (
          <a class="button secondary" href={`/console/audit?entity=appointment&entityId=${encodeURIComponent(a.id)}`}>
            {bt(page, 'detail.audit')}
          </a>
        ) : null}
      </div>
      {x?.repairOrderNumber ? (
        <div class="flash">
          {bt(page, 'detail.repairOrder')}: <strong>{x.repairOrderNumber}</strong>
        </div>
      ) : null}
      <div class="grid">
        <div class="card">
          <table>
            <tbody>
              <tr>
                <th style="width:11rem">{bt(page, 'detail.when')}</th>
                <td>
                  {formatLocalDate(page, a.localDate, 'long')} {a.localStart}–{a.localEnd}
                  {branch && branch.time_zone !== deps.config.dealer.timeZone ? <span class="muted"> ({a.timeZone})</span> : null}
                </td>
              </tr>
              <tr>
                <th>{bt(page, 'detail.branch')}</th>
                <td>{branch?.name ?? ''}</td>
              </tr>
              <tr>
                <th>{bt(page, 'columns.service')}</th>
                <td>{serviceTypeName(page, a.serviceTypeNames, a.serviceTypeCode)}</td>
              </tr>
              <tr>
                <th>{bt(page, 'columns.bay')}</th>
                <td>{a.bayName}</td>
              </tr>
              <tr>
                <th>{bt(page, 'columns.customer')}</th>
                <td>
                  <CustomerLink page={page} a={a} extras={x ?? undefined} />
                </td>
              </tr>
              <tr>
                <th>{bt(page, 'columns.plate')}</th>
                <td>{x?.plate ?? '—'}</td>
              </tr>
              <tr>
                <th>{bt(page, 'columns.advisor')}</th>
                <td>{x?.advisorName ?? <span class="muted">{bt(page, 'unassigned')}</span>}</td>
              </tr>
              <tr>
                <th>{bt(page, 'columns.loaner')}</th>
                <td>{a.loanerRequested ? page.t('common.yes') : page.t('common.no')}</td>
              </tr>
              <tr>
                <th>{bt(page, 'columns.confirmed')}</th>
                <td>{x?.customerConfirmedAt ? formatTime(page, deps, x.customerConfirmedAt) : page.t('common.no')}</td>
              </tr>
              <tr>
                <th>{bt(page, 'detail.channel')}</th>
                <td>{bt(page, `channel.${a.channel}`)}</td>
              </tr>
              <tr>
                <th>{bt(page, 'detail.note')}</th>
                <td style="white-space:pre-wrap">{a.note ?? '—'}</td>
              </tr>
            </tbody>
          </table>
        </div>

        {canWrite && (booked || a.status === 'checked_in') ? (
          <div class="card">
            {booked ? (
              <>
                <h2 style="margin-top:0">{bt(page, 'actions.checkIn')}</h2>
                {a.localDate > today ? (
                  <p class="muted">{bt(page, 'refused.checkInTooEarly')}</p>
                ) : (
                  <form method="post" action={`${base}/check-in`}>
                    <CsrfField page={page} />
                    <input type="hidden" name="version" value={String(a.version)} />
                    <label for="mileageIn">{bt(page, 'detail.mileageIn')}</label>
                    <input id="mileageIn" type="number" name="mileageIn" min={0} max={10000000} inputmode="numeric" style="max-width:200px" />
                    <p>
                      <button type="submit">{bt(page, 'actions.checkInOpen')}</button>
                    </p>
                  </form>
                )}
                <div class="toolbar">
                  {now.getTime() >= Date.parse(a.startsAt) ? (
                    <ActionButton page={page} a={a} action="no-show" label={bt(page, 'actions.noShow')} confirm={bt(page, 'actions.noShowConfirm')} />
                  ) : (
                    <span class="muted">{bt(page, 'detail.noShowAfterStart', { time: a.localStart })}</span>
                  )}
                </div>
              </>
            ) : null}
            <h2 style={booked ? undefined : 'margin-top:0'}>{bt(page, 'actions.assign')}</h2>
            <form method="post" action={`${base}/advisor`} class="toolbar">
              <CsrfField page={page} />
              <input type="hidden" name="version" value={String(a.version)} />
              <select name="advisorId" aria-label={bt(page, 'columns.advisor')} style="max-width:240px">
                <option value="">{bt(page, 'unassigned')}</option>
                {advisors.map((s) => (
                  <option value={s.id} selected={s.id === a.advisorId}>
                    {s.name}
                  </option>
                ))}
              </select>
              <button type="submit" class="secondary">
                {bt(page, 'actions.assignSave')}
              </button>
            </form>
          </div>
        ) : null}
      </div>

      {canWrite && booked ? (
        <div class="grid">
          <div class="card">
            <h2 style="margin-top:0">{bt(page, 'actions.reschedule')}</h2>
            <form method="get" action={base} class="toolbar">
              <input type="date" name="rescheduleDate" value={isLocalDate(rescheduleDate) ? rescheduleDate : a.localDate} min={today} aria-label={bt(page, 'list.date')} style="max-width:180px" />
              <button type="submit" class="secondary">
                {bt(page, 'newBooking.showTimes')}
              </button>
            </form>
            {free ? (
              free.ok ? (
                free.day.slots.length === 0 ? (
                  <p class="muted">{free.day.closed ? bt(page, `closed.${free.day.closed}`) : bt(page, 'newBooking.noTimes')}</p>
                ) : (
                  <form method="post" action={`${base}/reschedule`}>
                    <CsrfField page={page} />
                    <input type="hidden" name="version" value={String(a.version)} />
                    <SlotChoices slots={free.day.slots} />
                    <p>
                      <button type="submit">{bt(page, 'actions.rescheduleSave')}</button>
                    </p>
                  </form>
                )
              ) : (
                <p class="muted">{bt(page, 'refused.unknown_service_type')}</p>
              )
            ) : null}
          </div>
          <div class="card">
            <h2 style="margin-top:0">{bt(page, 'actions.cancel')}</h2>
            <form method="post" action={`${base}/cancel`} onsubmit={`return confirm(${JSON.stringify(bt(page, 'actions.cancelConfirm'))})`}>
              <CsrfField page={page} />
              <input type="hidden" name="version" value={String(a.version)} />
              <label for="reason">{bt(page, 'detail.cancelReason')}</label>
              <input id="reason" type="text" name="reason" maxlength={500} />
              <p>
                <button type="submit" class="danger">
                  {bt(page, 'actions.cancelSave')}
                </button>
              </p>
            </form>
          </div>
        </div>
      ) : null}

      <h2>{bt(page, 'detail.history')}</h2>
      <table>
        <tbody>
          {history.map((h) => (
            <tr>
              <td class="muted" style="white-space:nowrap">
                {formatTime(page, deps, h.at)}
              </td>
              <td>{bt(page, `history.${h.action}`)}</td>
              <td>{h.actorType === 'staff' ? (h.actorId ? (staffNames.get(h.actorId) ?? bt(page, 'history.staff')) : bt(page, 'history.integration')) : bt(page, `history.${h.actorType}`)}</td>
              <td class="muted">{h.channel ? bt(page, `channel.${h.channel}`) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>,
    view.status ?? 200,
  );
}

/** A refused change: the appointment page again, with the reason. */
async function refused(c: Context<StaffEnv>, ctx: BookingPageDeps, id: string, message: { text: string; status: 400 | 404 | 409 }): Promise<Response> {
  return renderDetail(c, ctx, id, { status: message.status, flash: { text: message.text, error: true } });
}

async function formOf(c: Context<StaffEnv>): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v.trim();
  return out;
}

function versionOf(form: Record<string, string>): number | undefined {
  const n = Number(form['version']);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * The appointment pages, the new-booking page and the capacity pages: everything staff do with bookings.
 * Registered from the console index in one line.
 */
export function registerBookingPages(app: Hono<StaffEnv>, deps: ConsoleDeps): void {
  const { registry } = deps;
  const ctx: BookingPageDeps = { deps, booking: createBookingService({ store: deps.store, clock: deps.clock }), staffBooking: createStaffBooking({ store: deps.store, clock: deps.clock }) };

  consoleRoute(app, registry, deps, 'GET', '/console/appointments', 'appointments.read', (c) => renderList(c, ctx));

  // Before '/console/appointments/:id', so 'new' is not taken for an id.
  registerNewBookingPages(app, deps, ctx);

  /** The visible appointment a post names, or the not-found page. */
  const visible = async (c: Context<StaffEnv>, id: string) => {
    const a = await ctx.booking.find(id);
    return a && canSeeBranch(c.get('principal'), a.branchId) ? a : null;
  };
  const notFound = (c: Context<StaffEnv>, id: string) => renderDetail(c, ctx, id);

  consoleRoute(app, registry, deps, 'GET', '/console/appointments/:id', 'appointments.read', (c) => renderDetail(c, ctx, c.req.param('id') ?? ''));

  consoleRoute(app, registry, deps, 'POST', '/console/appointments/:id/check-in', 'appointments.write', async (c) => {
    const id = c.req.param('id') ?? '';
    if (!(await visible(c, id))) return notFound(c, id);
    const page = pageOf(c, deps);
    const form = await formOf(c);
    const mileage = form['mileageIn'] ? Number(form['mileageIn']) : null;
    if (mileage !== null && (!Number.isInteger(mileage) || mileage < 0 || mileage > 10_000_000)) return refused(c, ctx, id, { text: bt(page, 'refused.mileage'), status: 400 });
    const result = await ctx.staffBooking.checkIn(staffRequest(c, deps), { appointmentId: id, expectedVersion: versionOf(form), mileageIn: mileage });
    if (!result.ok) return refused(c, ctx, id, refusalMessage(page, result, 'checkIn'));
    return c.redirect(`/console/appointments/${id}?flash=checkedIn`, 303);
  });

  consoleRoute(app, registry, deps, 'POST', '/console/appointments/:id/no-show', 'appointments.write', async (c) => {
    const id = c.req.param('id') ?? '';
    if (!(await visible(c, id))) return notFound(c, id);
    const form = await formOf(c);
    const result = await ctx.staffBooking.noShow(staffRequest(c, deps), { appointmentId: id, expectedVersion: versionOf(form) });
    if (!result.ok) return refused(c, ctx, id, refusalMessage(pageOf(c, deps), result, 'noShow'));
    const back = safeBack(form['back'], '/console/appointments?', '');
    return c.redirect(back ? `${back}&flash=noShow` : `/console/appointments/${id}?flash=noShow`, 303);
  });

  consoleRoute(app, registry, deps, 'POST', '/console/appointments/:id/cancel', 'appointments.write', async (c) => {
    const id = c.req.param('id') ?? '';
    if (!(await visible(c, id))) return notFound(c, id);
    const form = await formOf(c);
    const result = await ctx.staffBooking.cancel(staffRequest(c, deps), { appointmentId: id, expectedVersion: versionOf(form), reason: form['reason']?.slice(0, 500) || null });
    if (!result.ok) return refused(c, ctx, id, refusalMessage(pageOf(c, deps), result, 'cancel'));
    return c.redirect(`/console/appointments/${id}?flash=cancelled`, 303);
  });

  consoleRoute(app, registry, deps, 'POST', '/console/appointments/:id/reschedule', 'appointments.write', async (c) => {
    const id = c.req.param('id') ?? '';
    if (!(await visible(c, id))) return notFound(c, id);
    const page = pageOf(c, deps);
    const form = await formOf(c);
    const startsAt = form['startsAt'] ?? '';
    if (Number.isNaN(Date.parse(startsAt))) return refused(c, ctx, id, { text: bt(page, 'refused.pickTime'), status: 400 });
    const result = await ctx.staffBooking.reschedule(staffRequest(c, deps), { appointmentId: id, expectedVersion: versionOf(form), startsAt: new Date(startsAt).toISOString() });
    if (!result.ok) {
      const message = refusalMessage(page, result, 'reschedule');
      const alternatives = 'alternatives' in result && result.alternatives.length > 0 ? ` ${bt(page, 'refused.nearest', { times: result.alternatives.map((s) => `${formatLocalDate(page, s.localDate)} ${s.localTime}`).join(', ') })}` : '';
      return refused(c, ctx, id, { ...message, text: message.text + alternatives });
    }
    return c.redirect(`/console/appointments/${id}?flash=rescheduled`, 303);
  });

  consoleRoute(app, registry, deps, 'POST', '/console/appointments/:id/advisor', 'appointments.write', async (c) => {
    const id = c.req.param('id') ?? '';
    if (!(await visible(c, id))) return notFound(c, id);
    const form = await formOf(c);
    const result = await ctx.staffBooking.assignAdvisor(staffRequest(c, deps), { appointmentId: id, expectedVersion: versionOf(form), advisorId: form['advisorId'] || null });
    if (!result.ok) return refused(c, ctx, id, refusalMessage(pageOf(c, deps), result, 'assign'));
    return c.redirect(`/console/appointments/${id}?flash=advisorAssigned`, 303);
  });

  registerCapacityPages(app, deps);
}

export type { BookingPageDeps };
