import type { Hono } from 'hono';
import type { Slot } from '../../domain/availability';
import { isLocalDate, localDateOf } from '../../domain/local-time';
import type { BookingChannel } from '../../store/schema';
import { maskPhoneNumber } from '../customers/normalize';
import type { FieldError } from '../customers/result';
import { staffRequest } from './appointments';
import { bt, formatLocalDate, refusalMessage, serviceTypeName, SlotChoices } from './appointments-format';
import { customerProblems, fieldErrorText } from './customer-format';
import type { ConsoleContext } from './deps';
import { Card, CheckboxField, consoleRoutes, CsrfField, CustomerPicker, customerName, FieldErrors, FormField, readForm, SubmitButton, type ConsoleEnv, type Flash, type Page } from './kit';

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
  flash?: Flash | null;
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

/** The new-booking page and its two posts: register a caller, and book. */
export function registerNewBookingPages(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  const { appointments, customers } = ctx.services;
  const pages = consoleRoutes(app, ctx);

  async function render(page: Page, state: State, view: View = {}): Promise<Response> {
    const title = bt(page, 'newBooking.title');
    const branches = await appointments.branches(page.principal);
    const branch = branches.find((b) => b.id === state.branchId) ?? branches[0];
    if (!branch) {
      return page.render(
        { title },
        <>
          <h1>{title}</h1>
          <p class="muted">{bt(page, 'noBranches')}</p>
        </>,
      );
    }
    state = { ...state, branchId: branch.id };
    const found = state.customerId && (await customers.canSee(page.principal, state.customerId)) ? await customers.withVehicles(state.customerId) : null;
    const customer = found?.ok ? found.value.customer : null;
    const vehicles = found?.ok ? found.value.vehicles : [];
    const capacity = await appointments.capacity(branch.id);
    const types = capacity?.serviceTypes.filter((t) => t.active) ?? [];
    const today = localDateOf(ctx.clock.now(), branch.time_zone);
    const vehicle = state.vehicle || (vehicles.length === 1 ? vehicles[0]!.id : vehicles.length === 0 ? NEW_VEHICLE : '');
    const ready = customer && state.serviceType && isLocalDate(state.date);
    const free = ready && !view.alternatives ? await appointments.availability(page.principal, branch.id, { serviceTypeCode: state.serviceType, date: state.date, loaner: state.loaner }) : null;
    const results = !customer && state.q ? (await customers.search({ q: state.q, pageSize: 10, visibleTo: page.principal })).items : null;
    const loanerCars = capacity?.rules.settings.loanerCars ?? 0;
    const slots = view.alternatives ?? (free?.ok ? free.day.slots : []);
    const newCustomerProblems = customerProblems(page, view.newCustomer?.errors ?? []);

    return page.render(
      { title, flash: view.flash ?? (found && !found.ok ? { text: bt(page, 'newBooking.customerGone'), error: true } : null), status: view.status },
      <>
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

        <Card title={`1. ${bt(page, 'newBooking.customer')}`}>
          {customer ? (
            <p>
              <strong>{customerName(page, customer.display_name)}</strong> {customer.phone ? <span class="muted">{maskPhoneNumber(customer.phone)}</span> : null}{' '}
              <a href={hrefOf({ branchId: branch.id })}>{bt(page, 'newBooking.changeCustomer')}</a>
            </p>
          ) : (
            <div class="grid">
              <div>
                <CustomerPicker
                  page={page}
                  search={{ action: '/console/appointments/new', name: 'q', value: state.q, hidden: { branch: branch.id }, label: bt(page, 'newBooking.find'), button: page.t('common.search'), autofocus: true }}
                  results={results}
                  empty={bt(page, 'newBooking.noMatch')}
                  choose={(r) => (
                    <a class="button secondary" href={hrefOf({ branchId: branch.id, customerId: r.id })}>
                      {bt(page, 'newBooking.choose')}
                    </a>
                  )}
                />
              </div>
              <form method="post" action="/console/appointments/new/customer">
                <CsrfField page={page} />
                <input type="hidden" name="branch" value={branch.id} />
                <div class="muted">{bt(page, 'newBooking.orRegister')}</div>
                <FormField label={bt(page, 'newBooking.name')} id="displayName" problems={newCustomerProblems}>
                  <input id="displayName" type="text" name="displayName" required maxlength={100} value={view.newCustomer?.displayName ?? ''} />
                </FormField>
                <FormField label={bt(page, 'newBooking.phone')} id="phone" problems={newCustomerProblems}>
                  <input id="phone" type="text" name="phone" inputmode="tel" maxlength={40} value={view.newCustomer?.phone ?? ''} />
                </FormField>
                <SubmitButton label={bt(page, 'newBooking.register')} variant="secondary" />
              </form>
            </div>
          )}
        </Card>

        {customer ? (
          <Card title={`2. ${bt(page, 'newBooking.what')}`}>
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
              <FieldErrors problems={customerProblems(page, view.plateErrors ?? [])} field="plate" />
              <div class="grid">
                <FormField label={bt(page, 'columns.service')} id="serviceType">
                  <select id="serviceType" name="serviceType" required>
                    <option value="">—</option>
                    {types.map((t) => (
                      <option value={t.code} selected={t.code === state.serviceType}>
                        {serviceTypeName(page, t.names, t.code)} ({bt(page, 'capacity.minutes', { n: t.durationMinutes })})
                      </option>
                    ))}
                  </select>
                </FormField>
                <FormField label={bt(page, 'list.date')} id="date">
                  <input id="date" type="date" name="date" required min={today} value={isLocalDate(state.date) ? state.date : today} />
                </FormField>
              </div>
              {loanerCars > 0 ? <CheckboxField name="loaner" checked={state.loaner} label={bt(page, 'newBooking.loaner')} /> : null}
              <SubmitButton label={bt(page, 'newBooking.showTimes')} variant="secondary" />
            </form>
          </Card>
        ) : null}

        {customer && (ready || view.alternatives) ? (
          <Card title={`3. ${bt(page, 'newBooking.when')}`}>
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
                  <FormField label={bt(page, 'newBooking.channel')} id="channel">
                    <select id="channel" name="channel">
                      {STAFF_CHANNELS.map((ch) => (
                        <option value={ch} selected={ch === state.channel}>
                          {bt(page, `channel.${ch}`)}
                        </option>
                      ))}
                    </select>
                  </FormField>
                  <FormField label={bt(page, 'detail.note')} id="note">
                    <textarea id="note" name="note" maxlength={MAX_NOTE_CHARS} style="min-height:40px">
                      {state.note}
                    </textarea>
                  </FormField>
                </div>
                <SubmitButton label={bt(page, 'newBooking.book')} />
              </form>
            )}
          </Card>
        ) : null}
      </>,
    );
  }

  pages.get('/console/appointments/new', 'appointments.write', (page, c) => render(page, stateFrom((n) => c.req.query(n))));

  pages.post('/console/appointments/new/customer', 'appointments.write', async (page, c) => {
    const form = await readForm(c);
    const state = stateFrom((n) => form.raw(n));
    const input = { displayName: form.raw('displayName'), phone: form.get('phone') || null };
    const created = await customers.create(page.action, input);
    if (!created.ok) return render(page, state, { status: 400, newCustomer: { displayName: input.displayName, phone: form.raw('phone'), errors: created.reason === 'invalid' ? created.errors : [] } });
    return c.redirect(hrefOf({ branchId: state.branchId, customerId: created.value.id }), 303);
  });

  pages.post('/console/appointments/new', 'appointments.write', async (page, c) => {
    const form = await readForm(c);
    const state = stateFrom((n) => (form.has(n) ? form.raw(n) : undefined));
    const refuse = (status: 400 | 404 | 409, key: string, view: View = {}, next = state) => render(page, next, { ...view, status, flash: { text: bt(page, key), error: true } });
    const result = await appointments.bookFor(
      { ...staffRequest(page), channel: state.channel },
      {
        branchId: state.branchId,
        customerId: state.customerId,
        vehicle: state.vehicle === NEW_VEHICLE ? { newPlate: state.plate } : state.vehicle ? { id: state.vehicle } : null,
        serviceTypeCode: state.serviceType,
        startsAt: state.startsAt,
        loaner: state.loaner,
        note: state.note || null,
        advisorId: null,
      },
    );
    if (result.ok) return c.redirect(`/console/appointments/${result.appointment.id}?flash=booked`, 303);
    switch (result.reason) {
      case 'no_branch':
        return refuse(404, 'newBooking.noSuchBranch');
      case 'customer':
        return refuse(404, 'newBooking.customerGone', {}, { ...state, customerId: '' });
      case 'bad_start':
        return refuse(400, 'refused.pickTime');
      case 'vehicle': {
        const errors = result.failure.reason === 'invalid' ? result.failure.errors : [];
        return render(page, state, { status: 400, plateErrors: errors, flash: { text: errors.map((e) => fieldErrorText(page, e)).join(' ') || bt(page, 'newBooking.customerGone'), error: true } });
      }
      case 'unknown_advisor':
        return refuse(400, 'refused.unknown_advisor');
    }
    // From here on the new car is one of the customer's, so a second try does not add it again.
    const next = { ...state, vehicle: result.vehicleId ?? '', plate: result.vehicleId && state.vehicle === NEW_VEHICLE ? '' : state.plate };
    if (result.reason === 'not_found') return refuse(400, 'newBooking.vehicleGone', {}, next);
    const message = refusalMessage(page, result, 'book');
    return render(page, next, { status: message.status, flash: { text: message.text, error: true }, alternatives: 'alternatives' in result ? result.alternatives : undefined });
  });
}
