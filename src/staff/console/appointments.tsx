import type { Context, Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { Appointment } from '../../booking/appointments';
import { addDays, isLocalDate, localDateOf } from '../../domain/local-time';
import type { AppointmentExtras, AppointmentView, StaffRequest, Workshop } from '../appointments';
import { registerNewBookingPages } from './appointments-new';
import { APPOINTMENT_STATUSES, bt, Check, formatLocalDate, refusalMessage, safeBack, serviceTypeName, SlotChoices, StatusBadge } from './appointments-format';
import { registerCapacityPages } from './capacity';
import type { ConsoleContext } from './deps';
import { ButtonLink, Card, consoleRoutes, CsrfField, customerName, DataTable, FactsTable, flashNote, formatTime, notFoundPage, PostButton, readForm, RecordToolbar, SubmitButton, Toolbar, type ConsoleEnv, type Flash, type FormValues, type Page } from './kit';

/*
 * The workshop's day: a branch's appointments by day or week, and what staff do with them — check the
 * customer in (which opens the repair order), mark a no-show, cancel, move, give to an advisor. Times are
 * the branch's own local times, since that is the clock the workshop and the customer go by.
 */

const FLASHES = ['booked', 'checkedIn', 'noShow', 'cancelled', 'rescheduled', 'advisorAssigned'] as const;

/** Who acts, from where, through the console: what the appointment operations record. */
export function staffRequest(page: Page): StaffRequest {
  const { actor, ip } = page.action;
  return { actor, ip, channel: 'console' };
}

function listHref(w: Pick<Workshop, 'date' | 'view' | 'advisorId' | 'status'> & { branchId: string }): string {
  const params = new URLSearchParams({ branch: w.branchId, date: w.date, view: w.view });
  if (w.advisorId) params.set('advisor', w.advisorId);
  if (w.status) params.set('status', w.status);
  return `/console/appointments?${params.toString()}`;
}

const CustomerLink: FC<{ page: Page; a: Appointment; extras: AppointmentExtras | null }> = ({ page, a, extras }) => {
  const name = extras?.customerErased ? bt(page, 'erasedCustomer') : customerName(page, extras?.customerName);
  return page.can('customers.read') ? <a href={`/console/customers/${a.customerId}`}>{name}</a> : <span>{name}</span>;
};

/** A small post button with the appointment version it was decided on. */
const ActionButton: FC<{ page: Page; a: Appointment; action: string; label: string; back?: string; confirm?: string }> = ({ page, a, action, label, back, confirm }) => (
  <PostButton page={page} small action={`/console/appointments/${a.id}/${action}`} hidden={{ version: String(a.version), ...(back ? { back } : {}) }} label={label} confirm={confirm} />
);

const Filters: FC<{ page: Page; w: Workshop }> = ({ page, w }) => (
  <form class="toolbar" method="get" action="/console/appointments">
    <select name="branch" aria-label={bt(page, 'list.branch')} style="max-width:220px">
      {w.branches.map((b) => (
        <option value={b.id} selected={b.id === w.branch.id}>
          {b.name}
        </option>
      ))}
    </select>
    <input type="date" name="date" value={w.date} aria-label={bt(page, 'list.date')} style="max-width:170px" />
    <select name="view" aria-label={bt(page, 'list.view')} style="max-width:130px">
      <option value="day" selected={w.view === 'day'}>
        {bt(page, 'list.day')}
      </option>
      <option value="week" selected={w.view === 'week'}>
        {bt(page, 'list.week')}
      </option>
    </select>
    <select name="advisor" aria-label={bt(page, 'list.advisor')} style="max-width:200px">
      <option value="">{bt(page, 'list.allAdvisors')}</option>
      {w.advisors.map((s) => (
        <option value={s.id} selected={s.id === w.advisorId}>
          {s.name}
        </option>
      ))}
    </select>
    <select name="status" aria-label={bt(page, 'list.status')} style="max-width:180px">
      <option value="">{bt(page, 'list.allStatuses')}</option>
      {APPOINTMENT_STATUSES.map((s) => (
        <option value={s} selected={s === w.status}>
          {bt(page, `status.${s}`)}
        </option>
      ))}
    </select>
    <button type="submit">{bt(page, 'list.show')}</button>
  </form>
);

function renderWorkshop(page: Page, w: Workshop, now: Date): Response | Promise<Response> {
  const q = { branchId: w.branch.id, date: w.date, view: w.view, advisorId: w.advisorId, status: w.status };
  const step = w.view === 'week' ? 7 : 1;
  const here = listHref(q);
  const canWrite = page.can('appointments.write');
  const days = w.view === 'week' ? Array.from({ length: 7 }, (_, i) => addDays(w.from, i)) : [w.from];
  const sections = days
    .map((day) => ({ heading: w.view === 'week' ? formatLocalDate(page, day, 'long') : undefined, rows: w.items.filter((v) => v.appointment.localDate === day) }))
    .filter((s) => w.view === 'day' || s.rows.length > 0);
  return page.render(
    { title: bt(page, 'list.title'), flash: flashNote(page, FLASHES, (word) => `console-booking:flash.${word}`, { number: '' }) },
    <>
      <h1>
        {bt(page, 'list.title')} · {w.branch.name}
      </h1>
      <Filters page={page} w={w} />
      <Toolbar>
        <ButtonLink secondary href={listHref({ ...q, date: addDays(w.date, -step) })}>
          {bt(page, w.view === 'week' ? 'list.previousWeek' : 'list.previousDay')}
        </ButtonLink>
        <ButtonLink secondary href={listHref({ ...q, date: w.today })}>
          {bt(page, 'list.today')}
        </ButtonLink>
        <ButtonLink secondary href={listHref({ ...q, date: addDays(w.date, step) })}>
          {bt(page, w.view === 'week' ? 'list.nextWeek' : 'list.nextDay')}
        </ButtonLink>
        <span class="muted">{w.view === 'week' ? `${formatLocalDate(page, w.from)} – ${formatLocalDate(page, w.to)}` : formatLocalDate(page, w.date, 'long')}</span>
        <span style="flex:1" />
        {canWrite ? <ButtonLink href={`/console/appointments/new?branch=${encodeURIComponent(w.branch.id)}`}>{bt(page, 'list.newBooking')}</ButtonLink> : null}
        <ButtonLink secondary href={`/console/branches/${w.branch.id}/capacity`}>
          {bt(page, 'capacity.title')}
        </ButtonLink>
      </Toolbar>
      <DataTable
        sections={sections}
        empty={bt(page, 'list.empty')}
        columns={[
          {
            label: bt(page, 'columns.time'),
            style: 'white-space:nowrap;font-variant-numeric:tabular-nums',
            cell: ({ appointment: a }: AppointmentView) => `${a.localStart}–${a.localEnd}`,
          },
          {
            label: bt(page, 'columns.reference'),
            cell: ({ appointment: a }) => (
              <a href={`/console/appointments/${a.id}`}>
                <code>{a.reference}</code>
              </a>
            ),
          },
          { label: bt(page, 'columns.customer'), cell: ({ appointment, extras }) => <CustomerLink page={page} a={appointment} extras={extras} /> },
          { label: bt(page, 'columns.plate'), cell: ({ extras }) => extras?.plate ?? '' },
          { label: bt(page, 'columns.service'), cell: ({ appointment: a }) => serviceTypeName(page, a.serviceTypeNames, a.serviceTypeCode) },
          { label: bt(page, 'columns.bay'), cell: ({ appointment: a }) => a.bayName },
          { label: bt(page, 'columns.advisor'), cell: ({ extras }) => extras?.advisorName ?? <span class="muted">{bt(page, 'unassigned')}</span> },
          {
            label: bt(page, 'columns.status'),
            style: 'white-space:nowrap',
            cell: ({ appointment: a, extras }) => (
              <>
                <StatusBadge page={page} status={a.status} />
                {extras?.repairOrderNumber ? (
                  <div>
                    <code>{extras.repairOrderNumber}</code>
                  </div>
                ) : null}
              </>
            ),
          },
          { label: bt(page, 'columns.loaner'), cell: ({ appointment: a }) => <Check on={a.loanerRequested} title={bt(page, 'columns.loaner')} /> },
          { label: bt(page, 'columns.confirmed'), cell: ({ extras }) => <Check on={Boolean(extras?.customerConfirmedAt)} title={extras?.customerConfirmedAt ? formatTime(page, extras.customerConfirmedAt) : undefined} /> },
          {
            style: 'white-space:nowrap',
            cell: ({ appointment: a }) => (
              <>
                {canWrite && a.status === 'booked' && a.localDate <= w.today ? <ActionButton page={page} a={a} action="check-in" label={bt(page, 'actions.checkIn')} /> : null}{' '}
                {canWrite && a.status === 'booked' && now.getTime() >= Date.parse(a.startsAt) ? (
                  <ActionButton page={page} a={a} action="no-show" label={bt(page, 'actions.noShow')} back={here} confirm={bt(page, 'actions.noShowConfirm')} />
                ) : null}{' '}
                <a href={`/console/appointments/${a.id}`}>{bt(page, 'actions.open')}</a>
              </>
            ),
          },
        ]}
      />
    </>,
  );
}

function versionOf(form: FormValues): number | undefined {
  const n = Number(form.get('version'));
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * The appointment pages, the new-booking page and the capacity pages: everything staff do with bookings.
 * Registered from the console index in one line.
 */
export function registerBookingPages(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  const { appointments } = ctx.services;
  const pages = consoleRoutes(app, ctx);

  async function renderDetail(page: Page, id: string, view: { status?: 200 | 400 | 404 | 409; flash?: Flash | null } = {}): Promise<Response> {
    const detail = await appointments.detail(page.principal, id);
    if (!detail) return notFoundPage(page, { title: bt(page, 'list.title'), text: bt(page, 'refused.notFound'), back: { href: '/console/appointments', label: bt(page, 'detail.backToList') } });
    const { appointment: a, extras: x, history, advisors, branch } = detail;
    const now = ctx.clock.now();
    const today = localDateOf(now, a.timeZone);
    const canWrite = page.can('appointments.write');
    const booked = a.status === 'booked';
    const flash = view.flash ?? flashNote(page, FLASHES, (word) => `console-booking:flash.${word}`, { number: x?.repairOrderNumber ?? '' });
    const rescheduleDate = page.query('rescheduleDate', 10);
    const free = booked && canWrite && isLocalDate(rescheduleDate) ? await appointments.availability(page.principal, a.branchId, { serviceTypeCode: a.serviceTypeCode, date: rescheduleDate, loaner: a.loanerRequested }) : null;
    const back = `/console/appointments?${new URLSearchParams({ branch: a.branchId, date: a.localDate, view: 'day' }).toString()}`;
    const base = `/console/appointments/${a.id}`;
    const version = <input type="hidden" name="version" value={String(a.version)} />;

    return page.render(
      { title: a.reference, flash, status: view.status },
      <>
        <h1>
          <code>{a.reference}</code> <StatusBadge page={page} status={a.status} />
        </h1>
        <RecordToolbar page={page} back={{ href: back, label: bt(page, 'detail.backToDay') }} audit={{ entity: 'appointment', id: a.id, label: bt(page, 'detail.audit') }} />
        {x?.repairOrderNumber ? (
          <div class="flash">
            {bt(page, 'detail.repairOrder')}: <strong>{x.repairOrderNumber}</strong>
          </div>
        ) : null}
        <div class="grid">
          <Card>
            <FactsTable
              labelWidth="11rem"
              facts={[
                [
                  bt(page, 'detail.when'),
                  <>
                    {formatLocalDate(page, a.localDate, 'long')} {a.localStart}–{a.localEnd}
                    {branch && branch.time_zone !== ctx.config.dealer.timeZone ? <span class="muted"> ({a.timeZone})</span> : null}
                  </>,
                ],
                [bt(page, 'detail.branch'), branch?.name ?? ''],
                [bt(page, 'columns.service'), serviceTypeName(page, a.serviceTypeNames, a.serviceTypeCode)],
                [bt(page, 'columns.bay'), a.bayName],
                [bt(page, 'columns.customer'), <CustomerLink page={page} a={a} extras={x} />],
                [bt(page, 'columns.plate'), x?.plate ?? '—'],
                [bt(page, 'columns.advisor'), x?.advisorName ?? <span class="muted">{bt(page, 'unassigned')}</span>],
                [bt(page, 'columns.loaner'), a.loanerRequested ? page.t('common.yes') : page.t('common.no')],
                [bt(page, 'columns.confirmed'), x?.customerConfirmedAt ? formatTime(page, x.customerConfirmedAt) : page.t('common.no')],
                [bt(page, 'detail.channel'), bt(page, `channel.${a.channel}`)],
                [bt(page, 'detail.note'), <span style="white-space:pre-wrap">{a.note ?? '—'}</span>],
              ]}
            />
          </Card>

          {canWrite && (booked || a.status === 'checked_in') ? (
            <Card>
              {booked ? (
                <>
                  <h2 style="margin-top:0">{bt(page, 'actions.checkIn')}</h2>
                  {a.localDate > today ? (
                    <p class="muted">{bt(page, 'refused.checkInTooEarly')}</p>
                  ) : (
                    <form method="post" action={`${base}/check-in`}>
                      <CsrfField page={page} />
                      {version}
                      <label for="mileageIn">{bt(page, 'detail.mileageIn')}</label>
                      <input id="mileageIn" type="number" name="mileageIn" min={0} max={10000000} inputmode="numeric" style="max-width:200px" />
                      <SubmitButton label={bt(page, 'actions.checkInOpen')} />
                    </form>
                  )}
                  <Toolbar>
                    {now.getTime() >= Date.parse(a.startsAt) ? (
                      <ActionButton page={page} a={a} action="no-show" label={bt(page, 'actions.noShow')} confirm={bt(page, 'actions.noShowConfirm')} />
                    ) : (
                      <span class="muted">{bt(page, 'detail.noShowAfterStart', { time: a.localStart })}</span>
                    )}
                  </Toolbar>
                </>
              ) : null}
              <h2 style={booked ? undefined : 'margin-top:0'}>{bt(page, 'actions.assign')}</h2>
              <form method="post" action={`${base}/advisor`} class="toolbar">
                <CsrfField page={page} />
                {version}
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
            </Card>
          ) : null}
        </div>

        {canWrite && booked ? (
          <div class="grid">
            <Card title={bt(page, 'actions.reschedule')}>
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
                      {version}
                      <SlotChoices slots={free.day.slots} />
                      <SubmitButton label={bt(page, 'actions.rescheduleSave')} />
                    </form>
                  )
                ) : (
                  <p class="muted">{bt(page, 'refused.unknown_service_type')}</p>
                )
              ) : null}
            </Card>
            <Card title={bt(page, 'actions.cancel')}>
              <form method="post" action={`${base}/cancel`} onsubmit={`return confirm(${JSON.stringify(bt(page, 'actions.cancelConfirm'))})`}>
                <CsrfField page={page} />
                {version}
                <label for="reason">{bt(page, 'detail.cancelReason')}</label>
                <input id="reason" type="text" name="reason" maxlength={500} />
                <SubmitButton label={bt(page, 'actions.cancelSave')} variant="danger" />
              </form>
            </Card>
          </div>
        ) : null}

        <h2>{bt(page, 'detail.history')}</h2>
        <DataTable
          scroll={false}
          rows={history}
          columns={[
            { class: 'muted', style: 'white-space:nowrap', cell: (h) => formatTime(page, h.at) },
            { cell: (h) => bt(page, `history.${h.action}`) },
            { cell: (h) => (h.actorType === 'staff' ? (h.actorId ? (h.actorName ?? bt(page, 'history.staff')) : bt(page, 'history.integration')) : bt(page, `history.${h.actorType}`)) },
            { class: 'muted', cell: (h) => (h.channel ? bt(page, `channel.${h.channel}`) : '') },
          ]}
        />
      </>,
    );
  }

  /** A refused change: the appointment page again, with the reason. */
  const refused = (page: Page, id: string, message: { text: string; status: 400 | 404 | 409 }) => renderDetail(page, id, { status: message.status, flash: { text: message.text, error: true } });

  /**
   * A change to one appointment: unknown, or outside the staff member's branches, is the not-found page;
   * otherwise `run` reads the form and makes the change.
   */
  function change(action: string, run: (page: Page, id: string, form: FormValues, done: (flash: string) => Response, c: Context<ConsoleEnv>) => Promise<Response>) {
    pages.post(`/console/appointments/:id/${action}`, 'appointments.write', async (page, c) => {
      const id = page.param('id');
      if (!(await appointments.find(page.principal, id))) return renderDetail(page, id);
      return run(page, id, await readForm(c), (flash) => c.redirect(`/console/appointments/${id}?flash=${flash}`, 303), c);
    });
  }

  pages.get('/console/appointments', 'appointments.read', async (page) => {
    const w = await appointments.workshop(page.principal, { branchId: page.query('branch'), date: page.query('date', 10), view: page.query('view'), advisorId: page.query('advisor'), status: page.query('status', 20) });
    if (!w) {
      return page.render(
        { title: bt(page, 'list.title') },
        <>
          <h1>{bt(page, 'list.title')}</h1>
          <p class="muted">{bt(page, 'noBranches')}</p>
        </>,
      );
    }
    return renderWorkshop(page, w, ctx.clock.now());
  });

  // Before '/console/appointments/:id', so 'new' is not taken for an id.
  registerNewBookingPages(app, ctx);

  pages.get('/console/appointments/:id', 'appointments.read', (page) => renderDetail(page, page.param('id')));

  change('check-in', async (page, id, form, done) => {
    const mileage = form.get('mileageIn') ? Number(form.get('mileageIn')) : null;
    if (mileage !== null && (!Number.isInteger(mileage) || mileage < 0 || mileage > 10_000_000)) return refused(page, id, { text: bt(page, 'refused.mileage'), status: 400 });
    const result = await appointments.checkIn(staffRequest(page), { appointmentId: id, expectedVersion: versionOf(form), mileageIn: mileage });
    return result.ok ? done('checkedIn') : refused(page, id, refusalMessage(page, result, 'checkIn'));
  });

  change('no-show', async (page, id, form, done, c) => {
    const result = await appointments.noShow(staffRequest(page), { appointmentId: id, expectedVersion: versionOf(form) });
    if (!result.ok) return refused(page, id, refusalMessage(page, result, 'noShow'));
    const back = safeBack(form.get('back'), '/console/appointments?', '');
    return back ? c.redirect(`${back}&flash=noShow`, 303) : done('noShow');
  });

  change('cancel', async (page, id, form, done) => {
    const result = await appointments.cancel(staffRequest(page), { appointmentId: id, expectedVersion: versionOf(form), reason: form.get('reason').slice(0, 500) || null });
    return result.ok ? done('cancelled') : refused(page, id, refusalMessage(page, result, 'cancel'));
  });

  change('reschedule', async (page, id, form, done) => {
    const startsAt = form.get('startsAt');
    if (Number.isNaN(Date.parse(startsAt))) return refused(page, id, { text: bt(page, 'refused.pickTime'), status: 400 });
    const result = await appointments.reschedule(staffRequest(page), { appointmentId: id, expectedVersion: versionOf(form), startsAt: new Date(startsAt).toISOString() });
    if (result.ok) return done('rescheduled');
    const message = refusalMessage(page, result, 'reschedule');
    const alternatives = 'alternatives' in result && result.alternatives.length > 0 ? ` ${bt(page, 'refused.nearest', { times: result.alternatives.map((s) => `${formatLocalDate(page, s.localDate)} ${s.localTime}`).join(', ') })}` : '';
    return refused(page, id, { ...message, text: message.text + alternatives });
  });

  change('advisor', async (page, id, form, done) => {
    const result = await appointments.assignAdvisor(staffRequest(page), { appointmentId: id, expectedVersion: versionOf(form), advisorId: form.get('advisorId') || null });
    return result.ok ? done('advisorAssigned') : refused(page, id, refusalMessage(page, result, 'assign'));
  });

  registerCapacityPages(app, ctx);
}
