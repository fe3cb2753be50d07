import type { Context, Hono } from 'hono';
import { CUSTOMER_CATEGORIES } from '../../domain/customer-category';
import { LOCALE_NATIVE_NAMES, SUPPORTED_LOCALES } from '../../i18n/locales';
import type { Vehicle } from '../../store/schema';
import { actionContext, consoleRoute, type StaffEnv } from '../guard';
import { erasureCode, eraseCustomer } from '../customers/erase';
import { exportCustomer } from '../customers/export';
import { mergeCustomers } from '../customers/merge';
import { maskPhoneNumber } from '../customers/normalize';
import { loadCustomerProfile, type CustomerProfile } from '../customers/profile';
import type { CustomerFailure, FieldError } from '../customers/result';
import { searchCustomers } from '../customers/search';
import { addVehicle, updateCustomerProfile, updateVehicle } from '../customers/update';
import { registerConversationPages } from './conversation';
import { ChannelBadge, ct, customerName, failureMessage, fieldErrorText, flashFrom, formatTime, formOf, pathParam, shortExternalId, shortId, type CustomerPagesDeps, type Form } from './customer-format';
import { CsrfField, FoldedForm, Layout, Pager, pageOf, type Page } from './layout';
import { registerOutboxPages } from './outbox';

const FieldProblem = ({ page, errors, field }: { page: Page; errors?: FieldError[]; field: string }) => {
  const error = errors?.find((e) => e.field === field);
  return error ? <div style="color:var(--bad);font-size:.85rem;margin-top:2px">{fieldErrorText(page, error)}</div> : null;
};

// ---------------------------------------------------------------------------------------------------------
// Profile page

interface ProfileView {
  status?: 200 | 400 | 404 | 409;
  flash?: { text: string; error?: boolean } | null;
  edit?: { values: Form; errors: FieldError[] };
  newVehicle?: { values: Form; errors: FieldError[] };
  vehicleEdit?: { id: string; values: Form; errors: FieldError[] };
  eraseErrors?: FieldError[];
  mergeQuery?: string;
}

const VehicleFields = ({ page, values, errors, vehicle }: { page: Page; values?: Form; errors?: FieldError[]; vehicle?: Vehicle }) => {
  const idOf = (field: string) => `${vehicle ? `vehicle-${vehicle.id.slice(0, 8)}` : 'new-vehicle'}-${field}`;
  const v = (field: string, fromVehicle: string | number | null | undefined) => values?.[field] ?? (fromVehicle === null || fromVehicle === undefined ? '' : String(fromVehicle));
  const maxYear = new Date().getUTCFullYear() + 1;
  return (
    <div class="grid">
      <div>
        <label for={idOf('plate')}>{ct(page, 'vehicles.plate')}</label>
        <input id={idOf('plate')} type="text" name="plate" required maxlength={20} value={v('plate', vehicle?.plate)} />
        <FieldProblem page={page} errors={errors} field="plate" />
      </div>
      <div>
        <label for={idOf('make')}>{ct(page, 'vehicles.make')}</label>
        <input id={idOf('make')} type="text" name="make" maxlength={60} value={v('make', vehicle?.make)} />
        <FieldProblem page={page} errors={errors} field="make" />
      </div>
      <div>
        <label for={idOf('model')}>{ct(page, 'vehicles.model')}</label>
        <input id={idOf('model')} type="text" name="model" maxlength={60} value={v('model', vehicle?.model)} />
        <FieldProblem page={page} errors={errors} field="model" />
      </div>
      <div>
        <label for={idOf('year')}>{ct(page, 'vehicles.year')}</label>
        <input id={idOf('year')} type="number" name="year" min={1950} max={maxYear} value={v('year', vehicle?.year)} />
        <FieldProblem page={page} errors={errors} field="year" />
      </div>
      <div>
        <label for={idOf('vin')}>{ct(page, 'vehicles.vin')}</label>
        <input id={idOf('vin')} type="text" name="vin" maxlength={20} value={v('vin', vehicle?.vin)} style="text-transform:uppercase" />
        <FieldProblem page={page} errors={errors} field="vin" />
      </div>
      <div>
        <label for={idOf('mileageKm')}>{ct(page, 'vehicles.mileage')}</label>
        <input id={idOf('mileageKm')} type="number" name="mileageKm" min={0} value={v('mileageKm', vehicle?.mileage_km)} />
        <FieldProblem page={page} errors={errors} field="mileageKm" />
      </div>
    </div>
  );
};

async function renderProfile(c: Context<StaffEnv>, deps: CustomerPagesDeps, id: string, view: ProfileView = {}): Promise<Response> {
  const page = pageOf(c, deps);
  const loaded = await loadCustomerProfile(deps.store.db, id);
  if (!loaded.ok) {
    if (loaded.reason === 'merged') return c.redirect(`/console/customers/${loaded.mergedInto}`, 302);
    return c.html(
      <Layout page={page} title={ct(page, 'list.title')} flash={{ text: ct(page, 'conflict.notFound'), error: true }}>
        <p>
          <a href="/console/customers">{ct(page, 'profile.backToList')}</a>
        </p>
      </Layout>,
      404,
    );
  }
  const profile: CustomerProfile = loaded.value;
  const { customer } = profile;
  const erased = customer.erased_at !== null;
  const base = `/console/customers/${customer.id}`;
  const name = customerName(page, customer.display_name);
  const canWrite = page.can('customers.write') && !erased;
  const editValues = view.edit?.values;
  const editValue = (field: string, stored: string | null) => editValues?.[field] ?? stored ?? '';
  const checked = (field: string, stored: string | null) => (editValues ? editValues[field] === '1' : stored !== null);
  const mergeResults = view.mergeQuery && page.can('customers.merge') && !erased ? await searchCustomers(deps.store.db, { q: view.mergeQuery, pageSize: 10, excludeId: customer.id }) : null;

  return c.html(
    <Layout page={page} title={name} flash={view.flash ?? null}>
      <h1>
        {name} <span class="muted">#{shortId(customer.id)}</span> {erased ? <span class="badge bad">{ct(page, 'profile.erasedBadge')}</span> : null}
      </h1>
      <div class="toolbar">
        <a class="button secondary" href="/console/customers">
          {ct(page, 'profile.backToList')}
        </a>
        {page.can('conversations.read') ? (
          <a class="button" href={`${base}/conversation`}>
            {ct(page, 'profile.openConversation')}
          </a>
        ) : null}
        {page.can('customers.export') ? (
          <a class="button secondary" href={`${base}/export`}>
            {ct(page, 'profile.export')}
          </a>
        ) : null}
      </div>
      {erased ? <div class="flash error">{ct(page, 'profile.erased', { time: formatTime(page, deps, customer.erased_at) })}</div> : null}
      {profile.mergedFrom.length > 0 ? <p class="muted">{ct(page, 'profile.mergedFrom', { names: profile.mergedFrom.map((m) => `${customerName(page, m.displayName)} #${shortId(m.id)}`).join(', ') })}</p> : null}

      <div class="grid">
        <div class="card">
          <h2 style="margin-top:0">{ct(page, 'profile.details')}</h2>
          <table>
            <tbody>
              <tr>
                <th>{ct(page, 'profile.phone')}</th>
                <td>{customer.phone ?? '—'}</td>
              </tr>
              <tr>
                <th>{ct(page, 'profile.language')}</th>
                <td>{(LOCALE_NATIVE_NAMES as Record<string, string>)[customer.locale] ?? customer.locale}</td>
              </tr>
              <tr>
                <th>{ct(page, 'profile.category')}</th>
                <td>
                  {ct(page, `category.${customer.category}`)}
                  {profile.suggestedCategory !== customer.category ? (
                    <div>
                      <span class="badge warn">{ct(page, 'profile.suggested', { category: ct(page, `category.${profile.suggestedCategory}`) })}</span>
                    </div>
                  ) : (
                    <div class="muted" style="font-size:.85rem">
                      {ct(page, 'profile.suggestionAgrees')}
                    </div>
                  )}
                </td>
              </tr>
              <tr>
                <th>{ct(page, 'profile.consent')}</th>
                <td>{customer.consent_at ? ct(page, 'profile.since', { time: formatTime(page, deps, customer.consent_at) }) : page.t('common.no')}</td>
              </tr>
              <tr>
                <th>{ct(page, 'profile.optedOut')}</th>
                <td>{customer.opted_out_at ? <span class="badge warn">{ct(page, 'profile.since', { time: formatTime(page, deps, customer.opted_out_at) })}</span> : page.t('common.no')}</td>
              </tr>
              <tr>
                <th>{ct(page, 'profile.notes')}</th>
                <td style="white-space:pre-wrap">{customer.notes ?? '—'}</td>
              </tr>
              <tr>
                <th>{ct(page, 'profile.created')}</th>
                <td>{formatTime(page, deps, customer.created_at)}</td>
              </tr>
              <tr>
                <th>{ct(page, 'profile.updated')}</th>
                <td>{formatTime(page, deps, customer.updated_at)}</td>
              </tr>
            </tbody>
          </table>
        </div>

        <div class="card">
          <h2 style="margin-top:0">{ct(page, 'channels.title')}</h2>
          {profile.identities.length === 0 ? (
            <p class="muted">{ct(page, 'channels.none')}</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th>{ct(page, 'channels.channel')}</th>
                  <th>{ct(page, 'channels.externalId')}</th>
                  <th>{ct(page, 'channels.lastSeen')}</th>
                </tr>
              </thead>
              <tbody>
                {profile.identities.map((i) => (
                  <tr>
                    <td>
                      <ChannelBadge page={page} channel={i.channel} reachable={i.reachable === 1} />
                    </td>
                    <td>
                      <code title={i.external_id}>{shortExternalId(i.external_id)}</code>
                      {i.display_name ? <div class="muted">{i.display_name}</div> : null}
                    </td>
                    <td>{formatTime(page, deps, i.last_seen_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </div>

      <div class="card">
        <h2 style="margin-top:0">{ct(page, 'vehicles.title')}</h2>
        {profile.vehicles.length === 0 ? (
          <p class="muted">{ct(page, 'vehicles.none')}</p>
        ) : (
          <div style="overflow-x:auto">
            <table>
              <thead>
                <tr>
                  <th>{ct(page, 'vehicles.plate')}</th>
                  <th>{ct(page, 'vehicles.make')}</th>
                  <th>{ct(page, 'vehicles.model')}</th>
                  <th>{ct(page, 'vehicles.year')}</th>
                  <th>{ct(page, 'vehicles.vin')}</th>
                  <th>{ct(page, 'vehicles.mileage')}</th>
                </tr>
              </thead>
              <tbody>
                {profile.vehicles.map((v) => {
                  const editing = view.vehicleEdit?.id === v.id ? view.vehicleEdit : undefined;
                  return (
                    <>
                      <tr>
                        <td>
                          <strong>{v.plate || '—'}</strong>
                        </td>
                        <td>{v.make ?? ''}</td>
                        <td>{v.model ?? ''}</td>
                        <td>{v.year ?? ''}</td>
                        <td>
                          <code>{v.vin ?? ''}</code>
                        </td>
                        <td>{v.mileage_km === null ? '' : v.mileage_km.toLocaleString(page.locale)}</td>
                      </tr>
                      {canWrite ? (
                        <tr>
                          <td colspan={6} style="border-bottom:1px solid var(--line)">
                            <FoldedForm page={page} open={Boolean(editing)} summary={ct(page, 'vehicles.edit', { plate: v.plate })} action={`${base}/vehicles/${v.id}`} submit={page.t('common.save')}>
                              <VehicleFields page={page} vehicle={v} values={editing?.values} errors={editing?.errors} />
                            </FoldedForm>
                          </td>
                        </tr>
                      ) : null}
                    </>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        {canWrite ? (
          <FoldedForm page={page} open={Boolean(view.newVehicle)} summary={ct(page, 'vehicles.add')} action={`${base}/vehicles`} submit={ct(page, 'vehicles.add')}>
            <VehicleFields page={page} values={view.newVehicle?.values} errors={view.newVehicle?.errors} />
          </FoldedForm>
        ) : null}
      </div>

      {canWrite ? (
        <div class="card">
          <details open={Boolean(view.edit)}>
            <summary>
              <strong>{ct(page, 'profile.edit')}</strong>
            </summary>
            <form method="post" action={base}>
              <CsrfField page={page} />
              <label for="displayName">{ct(page, 'profile.name')}</label>
              <input id="displayName" type="text" name="displayName" maxlength={100} value={editValue('displayName', customer.display_name)} />
              <FieldProblem page={page} errors={view.edit?.errors} field="displayName" />
              <label for="phone">{ct(page, 'profile.phone')}</label>
              <input id="phone" type="text" name="phone" inputmode="tel" value={editValue('phone', customer.phone)} />
              <FieldProblem page={page} errors={view.edit?.errors} field="phone" />
              <label for="locale">{ct(page, 'profile.language')}</label>
              <select id="locale" name="locale">
                {SUPPORTED_LOCALES.map((l) => (
                  <option value={l} selected={editValue('locale', customer.locale) === l}>
                    {LOCALE_NATIVE_NAMES[l]}
                  </option>
                ))}
              </select>
              <FieldProblem page={page} errors={view.edit?.errors} field="locale" />
              <label for="category">{ct(page, 'profile.category')}</label>
              <select id="category" name="category">
                {CUSTOMER_CATEGORIES.map((cat) => (
                  <option value={cat} selected={editValue('category', customer.category) === cat}>
                    {ct(page, `category.${cat}`)}
                    {cat === profile.suggestedCategory ? ` (${ct(page, 'profile.suggestedShort')})` : ''}
                  </option>
                ))}
              </select>
              <div class="muted" style="font-size:.85rem">
                {ct(page, 'profile.categoryHelp')}
              </div>
              <FieldProblem page={page} errors={view.edit?.errors} field="category" />
              <label>
                <input type="checkbox" name="consent" value="1" checked={checked('consent', customer.consent_at)} /> {ct(page, 'profile.consent')}
              </label>
              <label>
                <input type="checkbox" name="optedOut" value="1" checked={checked('optedOut', customer.opted_out_at)} /> {ct(page, 'profile.optedOut')}
              </label>
              <label for="notes">{ct(page, 'profile.notes')}</label>
              <textarea id="notes" name="notes" maxlength={4000}>
                {editValue('notes', customer.notes)}
              </textarea>
              <FieldProblem page={page} errors={view.edit?.errors} field="notes" />
              <p>
                <button type="submit">{page.t('common.save')}</button>
              </p>
            </form>
          </details>
        </div>
      ) : null}

      {page.can('customers.merge') && !erased ? (
        <div class="card">
          <h2 style="margin-top:0">{ct(page, 'merge.title')}</h2>
          <p class="muted">{ct(page, 'merge.help')}</p>
          <form class="toolbar" method="get" action={base}>
            <input type="search" name="mergeQ" value={view.mergeQuery ?? ''} placeholder={ct(page, 'list.searchPlaceholder')} />
            <button class="secondary" type="submit">
              {ct(page, 'merge.find')}
            </button>
          </form>
          {mergeResults ? (
            mergeResults.items.length === 0 ? (
              <p class="muted">{ct(page, 'merge.none')}</p>
            ) : (
              <table>
                <tbody>
                  {mergeResults.items.map((other) => (
                    <tr>
                      <td>
                        <a href={`/console/customers/${other.id}`}>{customerName(page, other.displayName)}</a> <span class="muted">#{shortId(other.id)}</span>
                        <div>
                          {other.channels.map((ch) => (
                            <ChannelBadge page={page} channel={ch.channel} reachable={ch.reachable} />
                          ))}{' '}
                          {other.plates.join(', ')}
                        </div>
                      </td>
                      <td>
                        <form class="inline" method="post" action={`${base}/merge`} onsubmit={`return confirm(${JSON.stringify(ct(page, 'merge.confirm'))})`}>
                          <CsrfField page={page} />
                          <input type="hidden" name="into" value={other.id} />
                          <button class="secondary" type="submit">
                            {ct(page, 'merge.keepOther')}
                          </button>
                        </form>{' '}
                        <form class="inline" method="post" action={`/console/customers/${other.id}/merge`} onsubmit={`return confirm(${JSON.stringify(ct(page, 'merge.confirm'))})`}>
                          <CsrfField page={page} />
                          <input type="hidden" name="into" value={customer.id} />
                          <button class="secondary" type="submit">
                            {ct(page, 'merge.keepThis')}
                          </button>
                        </form>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          ) : null}
        </div>
      ) : null}

      {page.can('customers.erase') && !erased ? (
        <div class="card">
          <h2 style="margin-top:0">{ct(page, 'erase.title')}</h2>
          <p class="muted">{ct(page, 'erase.help')}</p>
          <form method="post" action={`${base}/erase`}>
            <CsrfField page={page} />
            <label for="confirmation">{ct(page, 'erase.confirmLabel', { code: erasureCode(customer.id) })}</label>
            <input id="confirmation" type="text" name="confirmation" autocomplete="off" required />
            <FieldProblem page={page} errors={view.eraseErrors} field="confirmation" />
            <p>
              <button class="danger" type="submit">
                {ct(page, 'erase.button')}
              </button>
            </p>
          </form>
        </div>
      ) : null}
    </Layout>,
    view.status ?? 200,
  );
}

/** A refused post: merged profiles lead to the kept one; anything else shows the profile with the reason. */
function refused(c: Context<StaffEnv>, deps: CustomerPagesDeps, id: string, failure: CustomerFailure, view: ProfileView = {}): Promise<Response> | Response {
  if (failure.reason === 'merged') return c.redirect(`/console/customers/${failure.mergedInto}`, 303);
  const { text, status } = failureMessage(pageOf(c, deps), failure);
  return renderProfile(c, deps, id, { ...view, status, flash: { text, error: true } });
}

/**
 * The customer pages: the list with search, the profile with its edit, vehicle, merge, export and erase
 * actions, and (registered from here so the console lists them together) the conversation and outbox pages.
 */
export function registerCustomerPages(app: Hono<StaffEnv>, deps: CustomerPagesDeps): void {
  const { registry } = deps;

  consoleRoute(app, registry, deps, 'GET', '/console/customers', 'customers.read', async (c) => {
    const page = pageOf(c, deps);
    const q = (c.req.query('q') ?? '').trim();
    const current = Number(c.req.query('page') ?? '1');
    const result = await searchCustomers(deps.store.db, { q, page: current });
    const base = q ? `/console/customers?q=${encodeURIComponent(q)}` : '/console/customers';
    return c.html(
      <Layout page={page} title={ct(page, 'list.title')} flash={flashFrom(page, c.req.query('flash'))}>
        <h1>{ct(page, 'list.title')}</h1>
        <form class="toolbar" method="get" action="/console/customers" role="search">
          <input type="search" name="q" value={q} placeholder={ct(page, 'list.searchPlaceholder')} aria-label={ct(page, 'list.searchPlaceholder')} autofocus />
          <button type="submit">{page.t('common.search')}</button>
          {q ? (
            <a class="button secondary" href="/console/customers">
              {ct(page, 'list.clear')}
            </a>
          ) : null}
        </form>
        {result.items.length === 0 ? (
          <p class="muted">{q ? ct(page, 'list.noMatch', { q }) : ct(page, 'list.empty')}</p>
        ) : (
          <div style="overflow-x:auto">
            <table>
              <thead>
                <tr>
                  <th>{ct(page, 'columns.name')}</th>
                  <th>{ct(page, 'columns.phone')}</th>
                  <th>{ct(page, 'columns.channels')}</th>
                  <th>{ct(page, 'columns.plates')}</th>
                  <th>{ct(page, 'columns.category')}</th>
                  <th>{ct(page, 'columns.lastMessage')}</th>
                </tr>
              </thead>
              <tbody>
                {result.items.map((item) => (
                  <tr>
                    <td>
                      <a href={`/console/customers/${item.id}`}>{customerName(page, item.displayName)}</a>
                    </td>
                    <td>{item.phone ? <span style="font-variant-numeric:tabular-nums">{maskPhoneNumber(item.phone)}</span> : ''}</td>
                    <td>
                      {item.channels.map((ch) => (
                        <>
                          <ChannelBadge page={page} channel={ch.channel} reachable={ch.reachable} />{' '}
                        </>
                      ))}
                    </td>
                    <td>{item.plates.join(', ')}</td>
                    <td>{ct(page, `category.${item.category}`)}</td>
                    <td class="muted">{formatTime(page, deps, item.lastMessageAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager page={page} base={base} current={result.page} hasNext={result.hasNext} />
      </Layout>,
    );
  });

  consoleRoute(app, registry, deps, 'GET', '/console/customers/:id', 'customers.read', async (c) => {
    const page = pageOf(c, deps);
    return renderProfile(c, deps, pathParam(c, 'id'), { flash: flashFrom(page, c.req.query('flash')), mergeQuery: c.req.query('mergeQ')?.trim() || undefined });
  });

  consoleRoute(app, registry, deps, 'POST', '/console/customers/:id', 'customers.write', async (c) => {
    const id = pathParam(c, 'id');
    const form = await formOf(c);
    // A checkbox that is not ticked is not sent at all: unticked means "no".
    const input = { displayName: form.displayName, phone: form.phone, locale: form.locale, category: form.category, notes: form.notes, consent: form.consent === '1', optedOut: form.optedOut === '1' };
    const result = await updateCustomerProfile(deps.store, actionContext(c, deps.clock), id, input);
    if (!result.ok) return refused(c, deps, id, result, result.reason === 'invalid' ? { edit: { values: { ...form, consent: input.consent ? '1' : '', optedOut: input.optedOut ? '1' : '' }, errors: result.errors } } : {});
    return c.redirect(`/console/customers/${id}?flash=saved`, 303);
  });

  consoleRoute(app, registry, deps, 'POST', '/console/customers/:id/vehicles', 'customers.write', async (c) => {
    const id = pathParam(c, 'id');
    const form = await formOf(c);
    const result = await addVehicle(deps.store, actionContext(c, deps.clock), id, { plate: form.plate, make: form.make, model: form.model, year: form.year, vin: form.vin, mileageKm: form.mileageKm });
    if (!result.ok) return refused(c, deps, id, result, result.reason === 'invalid' ? { newVehicle: { values: form, errors: result.errors } } : {});
    return c.redirect(`/console/customers/${id}?flash=vehicleAdded`, 303);
  });

  consoleRoute(app, registry, deps, 'POST', '/console/customers/:id/vehicles/:vehicleId', 'customers.write', async (c) => {
    const id = pathParam(c, 'id');
    const vehicleId = pathParam(c, 'vehicleId');
    const form = await formOf(c);
    const result = await updateVehicle(deps.store, actionContext(c, deps.clock), id, vehicleId, { plate: form.plate, make: form.make, model: form.model, year: form.year, vin: form.vin, mileageKm: form.mileageKm });
    if (!result.ok) return refused(c, deps, id, result, result.reason === 'invalid' ? { vehicleEdit: { id: vehicleId, values: form, errors: result.errors } } : {});
    return c.redirect(`/console/customers/${id}?flash=vehicleSaved`, 303);
  });

  consoleRoute(app, registry, deps, 'POST', '/console/customers/:id/merge', 'customers.merge', async (c) => {
    const id = pathParam(c, 'id');
    const form = await formOf(c);
    const result = await mergeCustomers(deps.store, actionContext(c, deps.clock), { mergeId: id, keepId: (form.into ?? '').trim() });
    if (!result.ok) return refused(c, deps, id, result);
    return c.redirect(`/console/customers/${result.value.keptId}?flash=merged`, 303);
  });

  consoleRoute(app, registry, deps, 'GET', '/console/customers/:id/export', 'customers.export', async (c) => {
    const id = pathParam(c, 'id');
    const result = await exportCustomer(deps.store, actionContext(c, deps.clock), id);
    if (!result.ok) {
      if (result.reason === 'merged') return c.redirect(`/console/customers/${result.mergedInto}/export`, 302);
      return refused(c, deps, id, result);
    }
    const day = result.value.exportedAt.slice(0, 10);
    return c.body(JSON.stringify(result.value, null, 2), 200, {
      'content-type': 'application/json; charset=utf-8',
      'content-disposition': `attachment; filename="customer-${shortId(id)}-${day}.json"`,
      'cache-control': 'no-store',
    });
  });

  consoleRoute(app, registry, deps, 'POST', '/console/customers/:id/erase', 'customers.erase', async (c) => {
    const id = pathParam(c, 'id');
    const form = await formOf(c);
    const result = await eraseCustomer(deps.store, actionContext(c, deps.clock), id, { confirmation: form.confirmation ?? '' });
    if (!result.ok) return refused(c, deps, id, result, result.reason === 'invalid' ? { eraseErrors: result.errors } : {});
    return c.redirect(`/console/customers/${id}?flash=erased`, 303);
  });

  registerConversationPages(app, deps);
  registerOutboxPages(app, deps);
}
