import type { Context, Hono } from 'hono';
import type { Slot } from '../../domain/availability';
import { isLocalDate, localDateOf } from '../../domain/local-time';
import type { BookingChannel, Customer } from '../../store/schema';
import { createCustomer } from '../api/create-customer';
import { actionContext, consoleRoute, type StaffEnv } from '../guard';
import { canSeeBranch } from '../permissions';
import { maskPhoneNumber } from '../customers/normalize';
import type { FieldError } from '../customers/result';
import { liveCustomer } from '../customers/result';
import { searchCustomers } from '../customers/search';
import { addVehicle } from '../customers/update';
import type { BookingPageDeps } from './appointments';
import { bt, formatLocalDate, refusalMessage, serviceTypeName, SlotChoices, visibleBranches } from './appointments-format';
import { customerName, fieldErrorText } from './customer-format';
import { CsrfField, Layout, pageOf, type ConsoleDeps, type Page } from './layout';

/*
 * Booking for a customer on the phone or at the counter, in three steps on one page that work without
 * scripts: find (or register) the customer, choose the car, the service and the day, then pick one of the
 * day's free times. Staff bookings skip the minimum notice; a time someone else took meanwhile comes back
 * with the nearest free times to choose from.
 */

const STAFF_CHANNELS = ['phone', 'walk_in'] as const satisfies readonly BookingChannel[];
type StaffChannel = (typeof STAFF_CHANNELS)[number];
const MAX_NOTE_CHARS = 500;
/** A new vehicle is chosen with this value instead of a vehicle id. */
const NEW_VEHICLE = 'new';

interface State {
  branchId: string;
  customerId: string;
  q: string;
  vehicle: string;
  plate: string;
  serviceType: string;
  date: string;
  loaner: boolean;
  channel: StaffChannel;
  note: string;
  startsAt: string;
}

function stateFrom(get: (name: string) => string | undefined): State {
  const s = (name: string, max = 100) => (get(name) ?? '').trim().slice(0, max);
  const channel = s('channel');
  return {
    branchId: s('branch'),
    customerId: s('customer'),
    q: s('q'),
    vehicle: s('vehicle'),
    plate: s('plate', 20),
    serviceType: s('serviceType', 40),
    date: s('date', 10),
    loaner: s('loaner') === '1',
    channel: (STAFF_CHANNELS as readonly string[]).includes(channel) ? (channel as StaffChannel) : 'phone',
    note: (get('note') ?? '').trim().slice(0, MAX_NOTE_CHARS),
    startsAt: s('startsAt', 40),
  };
}

function hrefOf(state: Partial<State>): string {
  const params = new URLSearchParams();
  if (state.branchId) params.set('branch', state.branchId);
  if (state.customerId) params.set('customer', state.customerId);
  if (state.q) params.set('q', state.q);
  if (state.vehicle) params.set('vehicle', state.vehicle);
  if (state.serviceType) params.set('serviceType', state.serviceType);
  if (state.date) params.set('date', state.date);
  const query = params.toString();
  return query ? `/console/appointments/new?${query}` : '/console/appointments/new';
}

interface View {
  status?: 200 | 400 | 404 | 409;
  flash?: { text: string; error?: boolean } | null;
  newCustomer?: { displayName: string; phone: string; errors: FieldError[] };
  plateErrors?: FieldError[];
  /** Offered instead of the day's free times after a refused booking. */
  alternatives?: Slot[];
}

const Hidden = ({ state, keys }: { state: State; keys: (keyof State)[] }) => (
  <>
    {keys.map((k) => {
      const v = state[k];
      if (typeof v === 'boolean') return v ? <input type="hidden" name={k} value="1" /> : null;
      return v ? <input type="hidden" name={k === 'branchId' ? 'branch' : k === 'customerId' ? 'customer' : k} value={v} /> : null;
    })}
  </>
);

const Problems = ({ page, errors, field }: { page: Page; errors?: FieldError[]; field: string }) => {
  const mine = errors?.filter((e) => e.field === field) ?? [];
  return mine.length > 0 ? <div style="color:var(--bad);font-size:.85rem;margin-top:2px">{mine.map((e) => fieldErrorText(page, e)).join(' ')}</div> : null;
};

async function render(c: Context<StaffEnv>, ctx: BookingPageDeps, state: State, view: View = {}): Promise<Response> {
  const { deps, booking } = ctx;
  const page = pageOf(c, deps);
  const branches = await visibleBranches(deps, c.get('principal'));
  const branch = branches.find((b) => b.id === state.branchId) ?? branches[0];
  if (!branch) {
    return c.html(
      <Layout page={page} title={bt(page, 'newBooking.title')}>
        <h1>{bt(page, 'newBooking.title')}</h1>
        <p class="muted">{bt(page, 'noBranches')}</p>
      </Layout>,
    );
  }
  state = { ...state, branchId: branch.id };
  const db = deps.store.db;
  const found = state.customerId ? await liveCustomer(db, state.customerId) : null;
  const customer: Customer | null = found?.ok ? found.value : null;
  const vehicles = customer ? await db.selectFrom('vehicles').selectAll().where('customer_id', '=', customer.id).where('plate', '<>', '').orderBy('created_at').execute() : [];
  const capacity = await booking.capacity(branch.id);
  const types = capacity?.serviceTypes.filter((t) => t.active) ?? [];
  const today = localDateOf(deps.clock.now(), branch.time_zone);
  const vehicle = state.vehicle || (vehicles.length === 1 ? vehicles[0]!.id : vehicles.length === 0 ? NEW_VEHICLE : '');
  const ready = customer && state.serviceType && isLocalDate(state.date);
  const free = ready && !view.alternatives ? await booking.availability(branch.id, { serviceTypeCode: state.serviceType, date: state.date, loaner: state.loaner, ignoreNotice: true }) : null;
  const results = !customer && state.q ? await searchCustomers(db, { q: state.q, pageSize: 10 }) : null;
  const loanerCars = capacity?.rules.settings.loanerCars ?? 0;
  const title = bt(page, 'newBooking.title');
  const slots = view.alternatives ?? (free?.ok ? free.day.slots : []);

  return c.html(
    <Layout page={page} title={title} flash={view.flash ?? (found && !found.ok ? { text: bt(page, 'newBooking.customerGone'), error: true } : null)}>
      <h1>{title}</h1>
      <form class="toolbar" method="get" action="/console/appointments/new">
        <label for="branch" style="margin:0">
          {bt(page, 'list.branch')}
        </label>
        <select id="branch" name="branch" style="max-width:260px">
          {branches.map((b) => (
            <option value={b.id} selected={b.id === branch.id}>
              {b.name}
            </option>
          ))}
        </select>
        {customer ? <input type="hidden" name="customer" value={customer.id} /> : null}
        <button type="submit" class="secondary">
          {bt(page, 'newBooking.switchBranch')}
        </button>
      </form>

      <div class="card">
        <h2 style="margin-top:0">1. {bt(page, 'newBooking.customer')}</h2>
        {customer ? (
          <p>
            <strong>{customerName(page, customer.display_name)}</strong> {customer.phone ? <span class="muted">{maskPhoneNumber(customer.phone)}</span> : null}{' '}
            <a href={hrefOf({ branchId: branch.id })}>{bt(page, 'newBooking.changeCustomer')}</a>
          </p>
        ) : (
          <div class="grid">
            <div>
              <form method="get" action="/console/appointments/new" role="search">
                <input type="hidden" name="branch" value={branch.id} />
                <label for="q">{bt(page, 'newBooking.find')}</label>
                <div class="toolbar">
                  <input id="q" type="search" name="q" value={state.q} placeholder={bt(page, 'newBooking.findPlaceholder')} autofocus />
                  <button type="submit">{page.t('common.search')}</button>
                </div>
              </form>
              {results ? (
                results.items.length === 0 ? (
                  <p class="muted">{bt(page, 'newBooking.noMatch')}</p>
                ) : (
                  <table>
                    <tbody>
                      {results.items.map((r) => (
                        <tr>
                          <td>
                            {customerName(page, r.displayName)}
                            <div class="muted" style="font-size:.85rem">
                              {[r.phone ? maskPhoneNumber(r.phone) : '', r.plates.join(', ')].filter(Boolean).join(' · ')}
                            </div>
                          </td>
                          <td>
                            <a class="button secondary" href={hrefOf({ branchId: branch.id, customerId: r.id })}>
                              {bt(page, 'newBooking.choose')}
                            </a>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )
              ) : null}
            </div>
            <form method="post" action="/console/appointments/new/customer">
              <CsrfField page={page} />
              <input type="hidden" name="branch" value={branch.id} />
              <div class="muted">{bt(page, 'newBooking.orRegister')}</div>
              <label for="displayName">{bt(page, 'newBooking.name')}</label>
              <input id="displayName" type="text" name="displayName" required maxlength={100} value={view.newCustomer?.displayName ?? ''} />
              <Problems page={page} errors={view.newCustomer?.errors} field="displayName" />
              <label for="phone">{bt(page, 'newBooking.phone')}</label>
              <input id="phone" type="text" name="phone" inputmode="tel" maxlength={40} value={view.newCustomer?.phone ?? ''} />
              <Problems page={page} errors={view.newCustomer?.errors} field="phone" />
              <p>
                <button type="submit" class="secondary">
                  {bt(page, 'newBooking.register')}
                </button>
              </p>
            </form>
          </div>
        )}
      </div>

      {customer ? (
        <div class="card">
          <h2 style="margin-top:0">2. {bt(page, 'newBooking.what')}</h2>
          <form method="get" action="/console/appointments/new">
            <Hidden state={state} keys={['branchId', 'customerId']} />
            <label>{bt(page, 'newBooking.vehicle')}</label>
            <div class="toolbar">
              {vehicles.map((v) => (
                <label style="margin:0;color:var(--ink)">
                  <input type="radio" name="vehicle" value={v.id} checked={vehicle === v.id} /> {v.plate}
                  {v.make || v.model ? <span class="muted"> {[v.make, v.model].filter(Boolean).join(' ')}</span> : null}
                </label>
              ))}
              <label style="margin:0;color:var(--ink)">
                <input type="radio" name="vehicle" value={NEW_VEHICLE} checked={vehicle === NEW_VEHICLE} /> {bt(page, 'newBooking.newPlate')}
              </label>
              <input type="text" name="plate" value={state.plate} maxlength={20} placeholder="ABC-1234" aria-label={bt(page, 'newBooking.newPlate')} style="max-width:160px" />
            </div>
            <Problems page={page} errors={view.plateErrors} field="plate" />
            <div class="grid">
              <div>
                <label for="serviceType">{bt(page, 'columns.service')}</label>
                <select id="serviceType" name="serviceType" required>
                  <option value="">—</option>
                  {types.map((t) => (
                    <option value={t.code} selected={t.code === state.serviceType}>
                      {serviceTypeName(page, t.names, t.code)} ({bt(page, 'capacity.minutes', { n: t.durationMinutes })})
                    </option>
                  ))}
                </select>
              </div>
              <div>
                <label for="date">{bt(page, 'list.date')}</label>
                <input id="date" type="date" name="date" required min={today} value={isLocalDate(state.date) ? state.date : today} />
              </div>
            </div>
            {loanerCars > 0 ? (
              <label style="color:var(--ink)">
                <input type="checkbox" name="loaner" value="1" checked={state.loaner} /> {bt(page, 'newBooking.loaner')}
              </label>
            ) : null}
            <p>
              <button type="submit" class="secondary">
                {bt(page, 'newBooking.showTimes')}
              </button>
            </p>
          </form>
        </div>
      ) : null}

      {customer && (ready || view.alternatives) ? (
        <div class="card">
          <h2 style="margin-top:0">3. {bt(page, 'newBooking.when')}</h2>
          {free && !free.ok ? (
            <p class="muted">{bt(page, 'refused.unknown_service_type')}</p>
          ) : slots.length === 0 ? (
            <p class="muted">{free?.ok && free.day.closed ? bt(page, `closed.${free.day.closed}`) : bt(page, 'newBooking.noTimes')}</p>
          ) : (
            <form method="post" action="/console/appointments/new">
              <CsrfField page={page} />
              <Hidden state={{ ...state, vehicle }} keys={['branchId', 'customerId', 'vehicle', 'plate', 'serviceType', 'date', 'loaner']} />
              <p class="muted" style="margin:0">
                {view.alternatives ? bt(page, 'newBooking.alternatives') : formatLocalDate(page, state.date, 'long')}
              </p>
              <SlotChoices slots={slots} selected={view.alternatives ? undefined : state.startsAt} showDate={Boolean(view.alternatives)} page={page} />
              <div class="grid">
                <div>
                  <label for="channel">{bt(page, 'newBooking.channel')}</label>
                  <select id="channel" name="channel">
                    {STAFF_CHANNELS.map((ch) => (
                      <option value={ch} selected={ch === state.channel}>
                        {bt(page, `channel.${ch}`)}
                      </option>
                    ))}
                  </select>
                </div>
                <div>
                  <label for="note">{bt(page, 'detail.note')}</label>
                  <textarea id="note" name="note" maxlength={MAX_NOTE_CHARS} style="min-height:40px">
                    {state.note}
                  </textarea>
                </div>
              </div>
              <p>
                <button type="submit">{bt(page, 'newBooking.book')}</button>
              </p>
            </form>
          )}
        </div>
      ) : null}
    </Layout>,
    view.status ?? 200,
  );
}

/** The new-booking page and its two posts: register a caller, and book. */
export function registerNewBookingPages(app: Hono<StaffEnv>, deps: ConsoleDeps, ctx: BookingPageDeps): void {
  const { registry, store } = deps;

  consoleRoute(app, registry, deps, 'GET', '/console/appointments/new', 'appointments.write', (c) => render(c, ctx, stateFrom((n) => c.req.query(n))));

  consoleRoute(app, registry, deps, 'POST', '/console/appointments/new/customer', 'appointments.write', async (c) => {
    const body = await c.req.parseBody();
    const text = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : '');
    const state = stateFrom((n) => text(n));
    const input = { displayName: text('displayName'), phone: text('phone').trim() || null };
    const created = await createCustomer(store, actionContext(c, deps.clock), input, { locale: deps.config.dealer.defaultLocale });
    if (!created.ok) {
      const errors = created.reason === 'invalid' ? created.errors : [];
      return render(c, ctx, state, { status: 400, newCustomer: { displayName: input.displayName, phone: text('phone'), errors } });
    }
    return c.redirect(hrefOf({ branchId: state.branchId, customerId: created.value.id }), 303);
  });

  consoleRoute(app, registry, deps, 'POST', '/console/appointments/new', 'appointments.write', async (c) => {
    const page = pageOf(c, deps);
    const body = await c.req.parseBody();
    const state = stateFrom((n) => (typeof body[n] === 'string' ? (body[n] as string) : undefined));
    const principal = c.get('principal');
    if (!canSeeBranch(principal, state.branchId) || !(await store.db.selectFrom('branches').select('id').where('id', '=', state.branchId).executeTakeFirst())) {
      return render(c, ctx, state, { status: 404, flash: { text: bt(page, 'newBooking.noSuchBranch'), error: true } });
    }
    const customer = await liveCustomer(store.db, state.customerId);
    if (!customer.ok) return render(c, ctx, { ...state, customerId: '' }, { status: 404, flash: { text: bt(page, 'newBooking.customerGone'), error: true } });
    if (Number.isNaN(Date.parse(state.startsAt))) return render(c, ctx, state, { status: 400, flash: { text: bt(page, 'refused.pickTime'), error: true } });

    let vehicleId: string | null = null;
    if (state.vehicle === NEW_VEHICLE) {
      // Added first, in its own audited step: the car is real whether or not this time is still free.
      const added = await addVehicle(store, actionContext(c, deps.clock), customer.value.id, { plate: state.plate });
      if (!added.ok) {
        const errors = added.reason === 'invalid' ? added.errors : [];
        return render(c, ctx, state, { status: 400, plateErrors: errors, flash: { text: errors.map((e) => fieldErrorText(page, e)).join(' ') || bt(page, 'newBooking.customerGone'), error: true } });
      }
      vehicleId = added.value.id;
    } else if (state.vehicle) {
      vehicleId = state.vehicle;
    }
    const { actor, ip } = actionContext(c, deps.clock);
    const result = await ctx.staffBooking.book(
      { actor, ip, channel: state.channel },
      { branchId: state.branchId, customerId: customer.value.id, vehicleId, serviceTypeCode: state.serviceType, startsAt: new Date(state.startsAt).toISOString(), loaner: state.loaner, note: state.note || null, advisorId: null },
    );
    // From here on the new car is one of the customer's, so a second try does not add it again.
    const next = { ...state, vehicle: vehicleId ?? '', plate: vehicleId && state.vehicle === NEW_VEHICLE ? '' : state.plate };
    if (!result.ok) {
      const message = refusalMessage(page, result, 'book');
      if (result.reason === 'not_found') return render(c, ctx, next, { status: 400, flash: { text: bt(page, 'newBooking.vehicleGone'), error: true } });
      const alternatives = 'alternatives' in result ? result.alternatives : undefined;
      return render(c, ctx, next, { status: message.status, flash: { text: message.text, error: true }, alternatives });
    }
    return c.redirect(`/console/appointments/${result.appointment.id}?flash=booked`, 303);
  });
}
