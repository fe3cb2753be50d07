import type { Hono } from 'hono';
import { maskPhoneNumber } from '../customers/normalize';
import { registerConversationPages } from './conversation';
import { ct, customerFlash } from './customer-format';
import { refusedProfile, renderProfile, VEHICLE_FIELDS, type Typed } from './customer-profile';
import type { ConsoleContext } from './deps';
import { ChannelBadge, consoleRoutes, customerName, DataTable, formatTime, Pager, readForm, SearchForm, shortId, type ConsoleEnv, type FormValues } from './kit';
import { registerOutboxPages } from './outbox';

/** The fields of a form as typed, for showing a refused form again. */
function typed(form: FormValues, fields: readonly string[]): Typed {
  return Object.fromEntries(fields.filter((f) => form.has(f)).map((f) => [f, form.raw(f)]));
}

/**
 * The customer pages: the list with search, the profile with its edit, vehicle, merge, export and erase
 * actions, and (registered from here so the console lists them together) the conversation and outbox pages.
 */
export function registerCustomerPages(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  const { customers } = ctx.services;
  const pages = consoleRoutes(app, ctx);

  pages.get('/console/customers', 'customers.read', async (page) => {
    const q = page.query('q', 1000);
    const result = await customers.search({ q, page: Number(page.query('page') || '1'), visibleTo: page.principal });
    const base = q ? `/console/customers?q=${encodeURIComponent(q)}` : '/console/customers';
    return page.render(
      { title: ct(page, 'list.title'), flash: customerFlash(page) },
      <>
        <h1>{ct(page, 'list.title')}</h1>
        <SearchForm action="/console/customers" name="q" value={q} placeholder={ct(page, 'list.searchPlaceholder')} button={page.t('common.search')} autofocus clear={q ? { href: '/console/customers', label: ct(page, 'list.clear') } : null} />
        <DataTable
          rows={result.items}
          empty={q ? ct(page, 'list.noMatch', { q }) : ct(page, 'list.empty')}
          columns={[
            { label: ct(page, 'columns.name'), cell: (item) => <a href={`/console/customers/${item.id}`}>{customerName(page, item.displayName)}</a> },
            { label: ct(page, 'columns.phone'), cell: (item) => (item.phone ? <span style="font-variant-numeric:tabular-nums">{maskPhoneNumber(item.phone)}</span> : '') },
            {
              label: ct(page, 'columns.channels'),
              cell: (item) =>
                item.channels.map((ch) => (
                  <>
                    <ChannelBadge page={page} channel={ch.channel} reachable={ch.reachable} />{' '}
                  </>
                )),
            },
            { label: ct(page, 'columns.plates'), cell: (item) => item.plates.join(', ') },
            { label: ct(page, 'columns.category'), cell: (item) => ct(page, `category.${item.category}`) },
            { label: ct(page, 'columns.lastMessage'), class: 'muted', cell: (item) => formatTime(page, item.lastMessageAt) },
          ]}
        />
        <Pager page={page} base={base} current={result.page} hasNext={result.hasNext} />
      </>,
    );
  });

  pages.get('/console/customers/:id', 'customers.read', (page, c) => renderProfile(page, c, customers, page.param('id'), { flash: customerFlash(page), mergeQuery: page.query('mergeQ', 1000) || undefined }));

  pages.post('/console/customers/:id', 'customers.write', async (page, c) => {
    const id = page.param('id');
    const form = await readForm(c);
    // A checkbox that is not ticked is not sent at all: unticked means "no".
    const consent = form.raw('consent') === '1';
    const optedOut = form.raw('optedOut') === '1';
    const fields = typed(form, ['displayName', 'phone', 'locale', 'category', 'notes']);
    const result = await customers.update(page.action, id, { ...fields, consent, optedOut });
    if (!result.ok) {
      const values = { ...fields, consent: consent ? '1' : '', optedOut: optedOut ? '1' : '' };
      return refusedProfile(page, c, customers, id, result, result.reason === 'invalid' ? { edit: { values, errors: result.errors } } : {});
    }
    return c.redirect(`/console/customers/${id}?flash=saved`, 303);
  });

  pages.post('/console/customers/:id/vehicles', 'customers.write', async (page, c) => {
    const id = page.param('id');
    const form = await readForm(c);
    const values = typed(form, VEHICLE_FIELDS);
    const result = await customers.addVehicle(page.action, id, values);
    if (!result.ok) return refusedProfile(page, c, customers, id, result, result.reason === 'invalid' ? { newVehicle: { values, errors: result.errors } } : {});
    return c.redirect(`/console/customers/${id}?flash=vehicleAdded`, 303);
  });

  pages.post('/console/customers/:id/vehicles/:vehicleId', 'customers.write', async (page, c) => {
    const id = page.param('id');
    const vehicleId = page.param('vehicleId');
    const values = typed(await readForm(c), VEHICLE_FIELDS);
    const result = await customers.updateVehicle(page.action, id, vehicleId, values);
    if (!result.ok) return refusedProfile(page, c, customers, id, result, result.reason === 'invalid' ? { vehicleEdit: { id: vehicleId, values, errors: result.errors } } : {});
    return c.redirect(`/console/customers/${id}?flash=vehicleSaved`, 303);
  });

  pages.post('/console/customers/:id/merge', 'customers.merge', async (page, c) => {
    const id = page.param('id');
    const result = await customers.merge(page.action, { mergeId: id, keepId: (await readForm(c)).get('into') });
    if (!result.ok) return refusedProfile(page, c, customers, id, result);
    return c.redirect(`/console/customers/${result.value.keptId}?flash=merged`, 303);
  });

  pages.get('/console/customers/:id/export', 'customers.export', async (page, c) => {
    const id = page.param('id');
    const result = await customers.export(page.action, id);
    if (!result.ok) {
      if (result.reason === 'merged') return c.redirect(`/console/customers/${result.mergedInto}/export`, 302);
      return refusedProfile(page, c, customers, id, result);
    }
    const day = result.value.exportedAt.slice(0, 10);
    return c.body(JSON.stringify(result.value, null, 2), 200, {
      'content-type': 'application/json; charset=utf-8',
      'content-disposition': `attachment; filename="customer-${shortId(id)}-${day}.json"`,
      'cache-control': 'no-store',
    });
  });

  pages.post('/console/customers/:id/erase', 'customers.erase', async (page, c) => {
    const id = page.param('id');
    const result = await customers.erase(page.action, id, { confirmation: (await readForm(c)).raw('confirmation') });
    if (!result.ok) return refusedProfile(page, c, customers, id, result, result.reason === 'invalid' ? { eraseErrors: result.errors } : {});
    return c.redirect(`/console/customers/${id}?flash=erased`, 303);
  });

  registerConversationPages(app, ctx);
  registerOutboxPages(app, ctx);
}
