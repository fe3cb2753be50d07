import { z } from '@hono/zod-openapi';
import { customerCreateSchema } from '../customers/create';
import { customerUpdateSchema } from '../customers/validation';
import { actionContext } from '../guard';
import { decodeCursor, encodeCursor } from './cursor';
import { apiRoutes, documented, failureBody, failureResponse, invalidField, jsonResponse, NOT_FOUND, type ApiApp, type ApiContext } from './route';
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
export function registerCustomerRoutes(app: ApiApp, deps: ApiContext): void {
  const route = apiRoutes(app, deps, 'Customers');
  const { translator } = deps;
  const { customers } = deps.services;

  route(
    'customers.read',
    {
      method: 'get',
      path: '/api/customers',
      summary: 'List and search customers',
      description:
      'Oldest first, in pages that stay stable while customers are added: follow `nextCursor` until it is null. Merged and erased profiles are left out (a merged one lives on in the profile it was merged into).',
      request: { query: ListQuery },
      responses: { 200: jsonResponse(CustomerPageSchema, 'One page of customers.') },
    },
    async (c) => {
      const { q, category, updatedSince, limit, cursor } = c.req.valid('query');
      const after = cursor ? decodeCursor(cursor) : null;
      if (cursor && !after) return c.json(invalidField('cursor', 'Not a cursor this API returned; start again without one.'), 400);
      const page = await customers.listAfter({ q, category, updatedSince: updatedSince && new Date(updatedSince).toISOString(), after, limit, visibleTo: c.get('principal') });
      return c.json({ items: page.items.map(toApiCustomer), nextCursor: page.next ? encodeCursor(page.next) : null }, 200);
    },
  );

  route(
    'customers.read',
    {
      method: 'get',
      path: '/api/customers/{id}',
      summary: 'Read one customer with channels and vehicles',
      description: 'A merged profile answers 404 with `mergedInto`, the profile that is the person now; an erased one answers 404 with `erased: true`.',
      request: { params: IdParams },
      responses: { 200: jsonResponse(CustomerDetailSchema, 'The customer.'), 404: NOT_FOUND },
    },
    async (c) => {
      const found = await customers.profile(c.req.valid('param').id);
      // The profile loader shows staff an erased profile; to an integration it is gone.
      if (!found.ok || found.value.customer.erased_at) return failureResponse(c, translator, found.ok ? { ok: false, reason: 'erased' } : found);
      const profile = found.value;
      return c.json(
        { ...toApiCustomer(profile.customer), identities: profile.identities.map(toApiIdentity), vehicles: profile.vehicles.map(toApiVehicle), suggestedCategory: profile.suggestedCategory },
        200,
      );
    },
  );

  route(
    'customers.write',
    {
      method: 'post',
      path: '/api/customers',
      summary: 'Register a customer who phoned or walked in',
      description:
      'The profile has no chat channel; when the person later writes on LINE, Telegram or the web chat, staff merge that profile into this one. `locale` defaults to the dealership’s language, `category` to prospect.',
      request: { body: { required: true, content: { 'application/json': { schema: documented(customerCreateSchema, 'CustomerCreate') } } } },
      responses: { 201: jsonResponse(CustomerSchema, 'The new customer; `Location` is its address.') },
    },
    async (c) => {
      const created = await customers.create(actionContext(c, deps.clock), c.req.valid('json'));
      // Creating can only be refused for its input.
      if (!created.ok) return c.json(failureBody(translator, created).body, 400);
      c.header('Location', `/api/customers/${created.value.id}`);
      return c.json(toApiCustomer(created.value), 201);
    },
  );

  route(
    'customers.write',
    {
      method: 'patch',
      path: '/api/customers/{id}',
      summary: 'Change a customer’s details',
      description:
      'Fields left out stay as they are; `null` or an empty string clears a text field. `consent: true` keeps the time consent was first given; `optedOut` likewise. A merged profile answers 404 with `mergedInto`.',
      request: { params: IdParams, body: { required: true, content: { 'application/json': { schema: documented(customerUpdateSchema, 'CustomerUpdate') } } } },
      responses: { 200: jsonResponse(CustomerSchema, 'The customer as it is now.'), 404: NOT_FOUND },
    },
    async (c) => {
      const updated = await customers.update(actionContext(c, deps.clock), c.req.valid('param').id, c.req.valid('json'));
      if (!updated.ok) return failureResponse(c, translator, updated);
      return c.json(toApiCustomer(updated.value), 200);
    },
  );
}
