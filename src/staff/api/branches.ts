import { z } from '@hono/zod-openapi';
import { formatDayHours, WEEK_FROM_MONDAY, type BranchChange } from '../branches';
import { actionContext } from '../guard';
import { apiRoutes, jsonResponse, NOT_FOUND, type ApiApp, type ApiContext } from './route';
import { BranchSchema, IdParams, OpeningHoursSchema, toApiBranch } from './schemas';

const BranchListSchema = z.object({ items: z.array(BranchSchema) }).openapi('BranchList');

const BranchUpdateSchema = z
  .object({
    name: z.string().optional(),
    address: z.string().nullable().optional(),
    phone: z.string().nullable().optional(),
    mapUrl: z.string().nullable().optional().openapi({ description: 'An https address.' }),
    timeZone: z.string().optional().openapi({ description: 'An IANA time zone.', example: 'Asia/Taipei' }),
    openingHours: OpeningHoursSchema.partial().optional().openapi({ description: 'The weekdays given replace those days’ hours; an empty list closes the day.' }),
    holidays: z.array(z.string()).optional().openapi({ description: 'Replaces the list of closed dates (YYYY-MM-DD).' }),
  })
  .openapi('BranchUpdate');
type BranchUpdate = z.infer<typeof BranchUpdateSchema>;

/** The change as the branch form's text: the form's rules then decide what is valid, as in the console. */
function formChange(change: BranchUpdate): BranchChange {
  const hours: BranchChange['hours'] = {};
  for (const day of WEEK_FROM_MONDAY) {
    const intervals = change.openingHours?.[day];
    if (intervals) hours[day] = formatDayHours(intervals);
  }
  return {
    name: change.name,
    address: change.address === undefined ? undefined : (change.address ?? ''),
    phone: change.phone === undefined ? undefined : (change.phone ?? ''),
    mapUrl: change.mapUrl === undefined ? undefined : (change.mapUrl ?? ''),
    timeZone: change.timeZone,
    hours,
    holidays: change.holidays?.join('\n'),
  };
}

/**
 * Branches, limited to the token's branches: one outside them is not found, as if it did not exist.
 * Changing a branch is the admin's, and tokens cannot be admin, so integrations read branches only; the
 * change is still declared here so every API route follows the same permission model.
 */
export function registerBranchRoutes(app: ApiApp, deps: ApiContext): void {
  const route = apiRoutes(app, deps, 'Branches');
  const { translator } = deps;
  const { branches } = deps.services;

  route(
    'branches.read',
    { method: 'get', path: '/api/branches', summary: 'List the token’s branches', responses: { 200: jsonResponse(BranchListSchema, 'The branches the token may see, by name.') } },
    async (c) => {
      return c.json({ items: (await branches.list(c.get('principal'))).map(toApiBranch) }, 200);
    },
  );

  route(
    'branches.read',
    { method: 'get', path: '/api/branches/{id}', summary: 'Read one branch', request: { params: IdParams }, responses: { 200: jsonResponse(BranchSchema, 'The branch.'), 404: NOT_FOUND } },
    async (c) => {
      const branch = await branches.find(c.get('principal'), c.req.valid('param').id);
      return branch ? c.json(toApiBranch(branch), 200) : c.json({ error: 'no such branch' }, 404);
    },
  );

  route(
    'branches.write',
    {
      method: 'patch',
      path: '/api/branches/{id}',
      summary: 'Change a branch (administrators only)',
      description: 'API tokens cannot have the administrator role, so a token is refused (403): branches are edited in the console. Fields left out stay as they are.',
      request: { params: IdParams, body: { required: true, content: { 'application/json': { schema: BranchUpdateSchema } } } },
      responses: { 200: jsonResponse(BranchSchema, 'The branch as it is now.'), 404: NOT_FOUND },
    },
    async (c) => {
      const saved = await branches.update(actionContext(c, deps.clock), c.req.valid('param').id, formChange(c.req.valid('json')));
      if (saved.ok) return c.json(toApiBranch(saved.value), 200);
      if (saved.reason === 'invalid') {
        const details = saved.errors.map((e) => ({ field: e.field.replace(/^hours_/, 'openingHours.'), message: translator.t('en', `console-admin:branches.errors.${e.code}`, e.params) }));
        return c.json({ error: 'invalid request', details }, 400);
      }
      return c.json({ error: 'no such branch' }, 404);
    },
  );
}
