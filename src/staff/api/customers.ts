import { z } from '@hono/zod-openapi';
import { matchesCustomerQuery } from '../customers/search';
import { loadCustomerProfile } from '../customers/profile';
import { updateCustomerProfile } from '../customers/update';
import { customerUpdateSchema } from '../customers/validation';
import { customerCreateSchema, createCustomer } from './create-customer';
import { decodeCursor, encodeCursor } from './cursor';
import { apiRoute, documented, failureBody, jsonResponse, NOT_FOUND, type ApiApp, type ApiDeps } from './route';
import { actionContext } from '../guard';
import { CategorySchema, CustomerDetailSchema, CustomerSchema, IdParams, toApiCustomer, toApiIdentity, toApiVehicle } from './schemas';

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;
const MAX_QUERY_CHARS = 100;

const ListQuery = z.object({
  q: z
    .string()
    .max(MAX_QUERY_CHARS)
    .optional()
    .openapi({ description: 'Part of a name (the profile’s or a chat app’s), of a phone number however it is typed (“0912-345-678” finds +886912345678), or of a plate however it is spaced.', example: '0912345678' }),
  category: CategorySchema.optional(),
  updatedSince: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: 'Only profiles changed at or after this time (ISO 8601 with Z or an offset): for keeping a copy in step.', example: '2026-03-01T00:00:00Z' }),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE).openapi({ description: `Profiles per page, 1–${MAX_PAGE_SIZE}.`, example: DEFAULT_PAGE_SIZE }),
  cursor: z.string().max(500).optional().openapi({ description: 'The `nextCursor` of the previous page; leave out for the first page.' }),
});

const CustomerPageSchema = z
  .object({
    items: z.array(CustomerSchema),
    nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
  })
  .openapi('CustomerPage');

/** Customers: find, read, register (phone or walk-in) and change profiles. */
export function registerCustomerRoutes(app: ApiApp, deps: ApiDeps): void {
  const { store, translator } = deps;

  apiRoute(
    app,
    deps,
    'customers.read',
    {
      method: 'get',
      path: '/api/customers',
      tags: ['Customers'],
      summary: 'List and search customers',
      description:
        'Oldest first, in pages that stay stable while customers are added: follow `nextCursor` until it is null. Merged and erased profiles are left out (a merged one lives on in the profile it was merged into).',
      request: { query: ListQuery },
      responses: { 200: jsonResponse(CustomerPageSchema, 'One page of customers.') },
    },
    async (c) => {
      const { q, category, updatedSince, limit, cursor } = c.req.valid('query');
      const position = cursor ? decodeCursor(cursor) : null;
      if (cursor && !position) return c.json({ error: 'invalid request', details: [{ field: 'cursor', message: 'Not a cursor this API returned; start again without one.' }] }, 400);
      let query = store.db.selectFrom('customers').selectAll().where('merged_into_id', 'is', null).where('erased_at', 'is', null);
      if (category) query = query.where('category', '=', category);
      if (updatedSince) query = query.where('updated_at', '>=', new Date(updatedSince).toISOString());
      const text = q?.trim();
      if (text) query = query.where(matchesCustomerQuery(text));
      if (position) {
        query = query.where((eb) => eb.or([eb('created_at', '>', position.createdAt), eb.and([eb('created_at', '=', position.createdAt), eb('id', '>', position.id)])]));
      }
      const rows = await query.orderBy('created_at').orderBy('id').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return c.json({ items: page.map(toApiCustomer), nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null }, 200);
    },
  );

  apiRoute(
    app,
    deps,
    'customers.read',
    {
      method: 'get',
      path: '/api/customers/{id}',
      tags: ['Customers'],
      summary: 'Read one customer with channels and vehicles',
      description: 'A merged profile answers 404 with `mergedInto`, the profile that is the person now; an erased one answers 404 with `erased: true`.',
      request: { params: IdParams },
      responses: { 200: jsonResponse(CustomerDetailSchema, 'The customer.'), 404: NOT_FOUND },
    },
    async (c) => {
      const found = await loadCustomerProfile(store.db, c.req.valid('param').id);
      // The profile loader shows staff an erased profile; to an integration it is gone.
      if (!found.ok || found.value.customer.erased_at) {
        const f = failureBody(translator, found.ok ? { ok: false, reason: 'erased' } : found);
        return f.status === 400 ? c.json(f.body, 400) : c.json(f.body, 404);
      }
      const profile = found.value;
      return c.json(
        { ...toApiCustomer(profile.customer), identities: profile.identities.map(toApiIdentity), vehicles: profile.vehicles.map(toApiVehicle), suggestedCategory: profile.suggestedCategory },
        200,
      );
    },
  );

  apiRoute(
    app,
    deps,
    'customers.write',
    {
      method: 'post',
      path: '/api/customers',
      tags: ['Customers'],
      summary: 'Register a customer who phoned or walked in',
      description:
        'The profile has no chat channel; when the person later writes on LINE, Telegram or the web chat, staff merge that profile into this one. `locale` defaults to the dealership’s language, `category` to prospect.',
      request: { body: { required: true, content: { 'application/json': { schema: documented(customerCreateSchema, 'CustomerCreate') } } } },
      responses: { 201: jsonResponse(CustomerSchema, 'The new customer; `Location` is its address.') },
    },
    async (c) => {
      const created = await createCustomer(store, actionContext(c, deps.clock), c.req.valid('json'), { locale: deps.config.dealer.defaultLocale });
      if (!created.ok) {
        const f = failureBody(translator, created);
        return c.json(f.body, 400);
      }
      c.header('Location', `/api/customers/${created.value.id}`);
      return c.json(toApiCustomer(created.value), 201);
    },
  );

  apiRoute(
    app,
    deps,
    'customers.write',
    {
      method: 'patch',
      path: '/api/customers/{id}',
      tags: ['Customers'],
      summary: 'Change a customer’s details',
      description:
        'Fields left out stay as they are; `null` or an empty string clears a text field. `consent: true` keeps the time consent was first given; `optedOut` likewise. A merged profile answers 404 with `mergedInto`.',
      request: { params: IdParams, body: { required: true, content: { 'application/json': { schema: documented(customerUpdateSchema, 'CustomerUpdate') } } } },
      responses: { 200: jsonResponse(CustomerSchema, 'The customer as it is now.'), 404: NOT_FOUND },
    },
    async (c) => {
      const updated = await updateCustomerProfile(store, actionContext(c, deps.clock), c.req.valid('param').id, c.req.valid('json'));
      if (!updated.ok) {
        const f = failureBody(translator, updated);
        return f.status === 400 ? c.json(f.body, 400) : c.json(f.body, 404);
      }
      return c.json(toApiCustomer(updated.value), 200);
    },
  );
}
