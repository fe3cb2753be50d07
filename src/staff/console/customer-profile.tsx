import type { Context } from 'hono';
import type { FC } from 'hono/jsx';
import { CUSTOMER_CATEGORIES } from '../../domain/customer-category';
import { LOCALE_NATIVE_NAMES, SUPPORTED_LOCALES } from '../../i18n/locales';
import type { Vehicle } from '../../store/schema';
import { erasureCode } from '../customers/erase';
import type { CustomerFailure, FieldError } from '../customers/result';
import type { CustomerService } from '../customers/service';
import { ct, customerProblems, failureMessage, shortExternalId } from './customer-format';
import {
  ButtonLink,
  Card,
  ChannelBadge,
  CsrfField,
  CustomerPicker,
  DataTable,
  FactsTable,
  FieldErrors,
  EditableTable,
  formatTime,
  FormField,
  notFoundPage,
  PostButton,
  Toolbar,
  customerName,
  shortId,
  SubmitButton,
  type ConsoleEnv,
  type Flash,
  type Page,
} from './kit';

/*
 * A customer's profile page: details, chat channels, vehicles, and (by role) editing, merging with another
 * profile of the same person, export and erasure.
 */

/** What a refused post sends back: the form it came from, as typed, with its problems. */
export type Typed = Record<string, string>;

export interface ProfileView {
  status?: 200 | 400 | 404 | 409;
  flash?: Flash | null;
  edit?: { values: Typed; errors: FieldError[] };
  newVehicle?: { values: Typed; errors: FieldError[] };
  vehicleEdit?: { id: string; values: Typed; errors: FieldError[] };
  eraseErrors?: FieldError[];
  mergeQuery?: string;
}

export const VEHICLE_FIELDS = ['plate', 'make', 'model', 'year', 'vin', 'mileageKm'] as const;

const VehicleFields: FC<{ page: Page; values?: Typed; errors?: FieldError[]; vehicle?: Vehicle }> = ({ page, values, errors, vehicle }) => {
  const idOf = (field: string) => `${vehicle ? `vehicle-${vehicle.id.slice(0, 8)}` : 'new-vehicle'}-${field}`;
  const v = (field: string, fromVehicle: string | number | null | undefined) => values?.[field] ?? (fromVehicle === null || fromVehicle === undefined ? '' : String(fromVehicle));
  const problems = customerProblems(page, errors ?? []);
  const maxYear = new Date().getUTCFullYear() + 1;
  return (
    <div class="grid">
      <FormField label={ct(page, 'vehicles.plate')} id={idOf('plate')} field="plate" problems={problems}>
        <input id={idOf('plate')} type="text" name="plate" required maxlength={20} value={v('plate', vehicle?.plate)} />
      </FormField>
      <FormField label={ct(page, 'vehicles.make')} id={idOf('make')} field="make" problems={problems}>
        <input id={idOf('make')} type="text" name="make" maxlength={60} value={v('make', vehicle?.make)} />
      </FormField>
      <FormField label={ct(page, 'vehicles.model')} id={idOf('model')} field="model" problems={problems}>
        <input id={idOf('model')} type="text" name="model" maxlength={60} value={v('model', vehicle?.model)} />
      </FormField>
      <FormField label={ct(page, 'vehicles.year')} id={idOf('year')} field="year" problems={problems}>
        <input id={idOf('year')} type="number" name="year" min={1950} max={maxYear} value={v('year', vehicle?.year)} />
      </FormField>
      <FormField label={ct(page, 'vehicles.vin')} id={idOf('vin')} field="vin" problems={problems}>
        <input id={idOf('vin')} type="text" name="vin" maxlength={20} value={v('vin', vehicle?.vin)} style="text-transform:uppercase" />
      </FormField>
      <FormField label={ct(page, 'vehicles.mileage')} id={idOf('mileageKm')} field="mileageKm" problems={problems}>
        <input id={idOf('mileageKm')} type="number" name="mileageKm" min={0} value={v('mileageKm', vehicle?.mileage_km)} />
      </FormField>
    </div>
  );
};

/** The profile page of `id` (a merged profile leads to the kept one). */
export async function renderProfile(page: Page, c: Context<ConsoleEnv>, customers: CustomerService, id: string, view: ProfileView = {}): Promise<Response> {
  const loaded = await customers.profile(id);
  if (!loaded.ok) {
    if (loaded.reason === 'merged') return c.redirect(`/console/customers/${loaded.mergedInto}`, 302);
    return notFoundPage(page, { title: ct(page, 'list.title'), text: ct(page, 'conflict.notFound'), back: { href: '/console/customers', label: ct(page, 'profile.backToList') } });
  }
  const profile = loaded.value;
  const { customer } = profile;
  const erased = customer.erased_at !== null;
  const base = `/console/customers/${customer.id}`;
  const name = customerName(page, customer.display_name);
  const canWrite = page.can('customers.write') && !erased;
  const editValues = view.edit?.values;
  const editProblems = customerProblems(page, view.edit?.errors ?? []);
  const editValue = (field: string, stored: string | null) => editValues?.[field] ?? stored ?? '';
  const checked = (field: string, stored: string | null) => (editValues ? editValues[field] === '1' : stored !== null);
  const canMerge = page.can('customers.merge') && !erased;
  const mergeResults = view.mergeQuery && canMerge ? (await customers.search({ q: view.mergeQuery, pageSize: 10, excludeId: customer.id, visibleTo: page.principal })).items : null;

  return page.render(
    { title: name, flash: view.flash ?? null, status: view.status },
    <>
      <h1>
        {name} <span class="muted">#{shortId(customer.id)}</span> {erased ? <span class="badge bad">{ct(page, 'profile.erasedBadge')}</span> : null}
      </h1>
      <Toolbar>
        <ButtonLink secondary href="/console/customers">
          {ct(page, 'profile.backToList')}
        </ButtonLink>
        {page.can('conversations.read') ? <ButtonLink href={`${base}/conversation`}>{ct(page, 'profile.openConversation')}</ButtonLink> : null}
        {page.can('customers.export') ? (
          <ButtonLink secondary href={`${base}/export`}>
            {ct(page, 'profile.export')}
          </ButtonLink>
        ) : null}
      </Toolbar>
      {erased ? <div class="flash error">{ct(page, 'profile.erased', { time: formatTime(page, customer.erased_at) })}</div> : null}
      {profile.mergedFrom.length > 0 ? <p class="muted">{ct(page, 'profile.mergedFrom', { names: profile.mergedFrom.map((m) => `${customerName(page, m.displayName)} #${shortId(m.id)}`).join(', ') })}</p> : null}

      <div class="grid">
        <Card title={ct(page, 'profile.details')}>
          <FactsTable
            facts={[
              [ct(page, 'profile.phone'), customer.phone ?? '—'],
              [ct(page, 'profile.language'), (LOCALE_NATIVE_NAMES as Record<string, string>)[customer.locale] ?? customer.locale],
              [
                ct(page, 'profile.category'),
                <>
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
                </>,
              ],
              [ct(page, 'profile.consent'), customer.consent_at ? ct(page, 'profile.since', { time: formatTime(page, customer.consent_at) }) : page.t('common.no')],
              [ct(page, 'profile.optedOut'), customer.opted_out_at ? <span class="badge warn">{ct(page, 'profile.since', { time: formatTime(page, customer.opted_out_at) })}</span> : page.t('common.no')],
              [ct(page, 'profile.notes'), <span style="white-space:pre-wrap">{customer.notes ?? '—'}</span>],
              [ct(page, 'profile.created'), formatTime(page, customer.created_at)],
              [ct(page, 'profile.updated'), formatTime(page, customer.updated_at)],
            ]}
          />
        </Card>

        <Card title={ct(page, 'channels.title')}>
          <DataTable
            scroll={false}
            rows={profile.identities}
            empty={ct(page, 'channels.none')}
            columns={[
              { label: ct(page, 'channels.channel'), cell: (i) => <ChannelBadge page={page} channel={i.channel} reachable={i.reachable === 1} /> },
              {
                label: ct(page, 'channels.externalId'),
                cell: (i) => (
                  <>
                    <code title={i.external_id}>{shortExternalId(i.external_id)}</code>
                    {i.display_name ? <div class="muted">{i.display_name}</div> : null}
                  </>
                ),
              },
              { label: ct(page, 'channels.lastSeen'), cell: (i) => formatTime(page, i.last_seen_at) },
            ]}
          />
        </Card>
      </div>

      <Card title={ct(page, 'vehicles.title')}>
        <EditableTable
          page={page}
          rows={profile.vehicles}
          empty={ct(page, 'vehicles.none')}
          columns={[
            { label: ct(page, 'vehicles.plate'), cell: (v) => <strong>{v.plate || '—'}</strong> },
            { label: ct(page, 'vehicles.make'), cell: (v) => v.make ?? '' },
            { label: ct(page, 'vehicles.model'), cell: (v) => v.model ?? '' },
            { label: ct(page, 'vehicles.year'), cell: (v) => v.year ?? '' },
            { label: ct(page, 'vehicles.vin'), cell: (v) => <code>{v.vin ?? ''}</code> },
            { label: ct(page, 'vehicles.mileage'), cell: (v) => (v.mileage_km === null ? '' : v.mileage_km.toLocaleString(page.locale)) },
          ]}
          edit={
            canWrite
              ? (v) => {
                  const editing = view.vehicleEdit?.id === v.id ? view.vehicleEdit : undefined;
                  return { open: Boolean(editing), summary: ct(page, 'vehicles.edit', { plate: v.plate }), action: `${base}/vehicles/${v.id}`, fields: <VehicleFields page={page} vehicle={v} values={editing?.values} errors={editing?.errors} /> };
                }
              : null
          }
          add={canWrite ? { open: Boolean(view.newVehicle), summary: ct(page, 'vehicles.add'), action: `${base}/vehicles`, fields: <VehicleFields page={page} values={view.newVehicle?.values} errors={view.newVehicle?.errors} /> } : null}
        />
      </Card>

      {canWrite ? (
        <Card>
          <details open={Boolean(view.edit)}>
            <summary>
              <strong>{ct(page, 'profile.edit')}</strong>
            </summary>
            <form method="post" action={base}>
              <CsrfField page={page} />
              <FormField label={ct(page, 'profile.name')} id="displayName" problems={editProblems}>
                <input id="displayName" type="text" name="displayName" maxlength={100} value={editValue('displayName', customer.display_name)} />
              </FormField>
              <FormField label={ct(page, 'profile.phone')} id="phone" problems={editProblems}>
                <input id="phone" type="text" name="phone" inputmode="tel" value={editValue('phone', customer.phone)} />
              </FormField>
              <FormField label={ct(page, 'profile.language')} id="locale" problems={editProblems}>
                <select id="locale" name="locale">
                  {SUPPORTED_LOCALES.map((l) => (
                    <option value={l} selected={editValue('locale', customer.locale) === l}>
                      {LOCALE_NATIVE_NAMES[l]}
                    </option>
                  ))}
                </select>
              </FormField>
              <FormField label={ct(page, 'profile.category')} id="category" hint={ct(page, 'profile.categoryHelp')} problems={editProblems}>
                <select id="category" name="category">
                  {CUSTOMER_CATEGORIES.map((cat) => (
                    <option value={cat} selected={editValue('category', customer.category) === cat}>
                      {ct(page, `category.${cat}`)}
                      {cat === profile.suggestedCategory ? ` (${ct(page, 'profile.suggestedShort')})` : ''}
                    </option>
                  ))}
                </select>
              </FormField>
              <label>
                <input type="checkbox" name="consent" value="1" checked={checked('consent', customer.consent_at)} /> {ct(page, 'profile.consent')}
              </label>
              <label>
                <input type="checkbox" name="optedOut" value="1" checked={checked('optedOut', customer.opted_out_at)} /> {ct(page, 'profile.optedOut')}
              </label>
              <FormField label={ct(page, 'profile.notes')} id="notes" problems={editProblems}>
                <textarea id="notes" name="notes" maxlength={4000}>
                  {editValue('notes', customer.notes)}
                </textarea>
              </FormField>
              <SubmitButton label={page.t('common.save')} />
            </form>
          </details>
        </Card>
      ) : null}

      {canMerge ? (
        <Card title={ct(page, 'merge.title')}>
          <p class="muted">{ct(page, 'merge.help')}</p>
          <CustomerPicker
            page={page}
            search={{ action: base, name: 'mergeQ', value: view.mergeQuery ?? '', button: ct(page, 'merge.find'), secondary: true }}
            results={mergeResults}
            empty={ct(page, 'merge.none')}
            linkProfiles
            choose={(other) => (
              <>
                <PostButton page={page} action={`${base}/merge`} hidden={{ into: other.id }} confirm={ct(page, 'merge.confirm')} label={ct(page, 'merge.keepOther')} />{' '}
                <PostButton page={page} action={`/console/customers/${other.id}/merge`} hidden={{ into: customer.id }} confirm={ct(page, 'merge.confirm')} label={ct(page, 'merge.keepThis')} />
              </>
            )}
          />
        </Card>
      ) : null}

      {page.can('customers.erase') && !erased ? (
        <Card title={ct(page, 'erase.title')}>
          <p class="muted">{ct(page, 'erase.help')}</p>
          <form method="post" action={`${base}/erase`}>
            <CsrfField page={page} />
            <label for="confirmation">{ct(page, 'erase.confirmLabel', { code: erasureCode(customer.id) })}</label>
            <input id="confirmation" type="text" name="confirmation" autocomplete="off" required />
            <FieldErrors problems={customerProblems(page, view.eraseErrors ?? [])} field="confirmation" />
            <SubmitButton label={ct(page, 'erase.button')} variant="danger" />
          </form>
        </Card>
      ) : null}
    </>,
  );
}

/** A refused post: merged profiles lead to the kept one; anything else shows the profile with the reason. */
export function refusedProfile(page: Page, c: Context<ConsoleEnv>, customers: CustomerService, id: string, failure: CustomerFailure, view: ProfileView = {}): Promise<Response> | Response {
  if (failure.reason === 'merged') return c.redirect(`/console/customers/${failure.mergedInto}`, 303);
  const { text, status } = failureMessage(page, failure);
  return renderProfile(page, c, customers, id, { ...view, status, flash: { text, error: true } });
}
