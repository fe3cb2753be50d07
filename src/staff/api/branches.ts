import { z } from '@hono/zod-openapi';
import type { Branch } from '../../store/schema';
import { recordAudit } from '../audit';
import { formatDayHours, hoursFormText, parseBranchForm, readHolidays, readOpeningHours, WEEK_FROM_MONDAY, type BranchFormInput } from '../console/admin-branch-form';
import { canSeeBranch, type Principal } from '../permissions';
import { apiRoute, jsonResponse, NOT_FOUND, type ApiApp, type ApiDeps } from './route';
import { actionContext } from '../guard';
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

/** The branch form as it reads now, with the change applied: the console's form rules then decide what is valid. */
function formWithChanges(branch: Branch, change: BranchUpdate): BranchFormInput {
  const hours = hoursFormText(branch.opening_hours);
  for (const day of WEEK_FROM_MONDAY) {
    const intervals = change.openingHours?.[day];
    if (intervals) hours[day] = formatDayHours(intervals);
  }
  return {
    name: change.name ?? branch.name,
    address: change.address === undefined ? (branch.address ?? '') : (change.address ?? ''),
    phone: change.phone === undefined ? (branch.phone ?? '') : (change.phone ?? ''),
    mapUrl: change.mapUrl === undefined ? (branch.map_url ?? '') : (change.mapUrl ?? ''),
    timeZone: change.timeZone ?? branch.time_zone,
    hours,
    holidays: (change.holidays ?? readHolidays(branch.holidays)).join('\n'),
  };
}

function branchForAudit(b: Branch) {
  return { name: b.name, address: b.address, phone: b.phone, map_url: b.map_url, time_zone: b.time_zone, opening_hours: readOpeningHours(b.opening_hours) ?? b.opening_hours, holidays: readHolidays(b.holidays) };
}

/**
 * Branches, limited to the token's branches: one outside them is not found, as if it did not exist.
 * Changing a branch is the admin's, and tokens cannot be admin, so integrations read branches only; the
 * change is still declared here so every API route follows the same permission model.
 */
export function registerBranchRoutes(app: ApiApp, deps: ApiDeps): void {
  const { store, translator } = deps;
  const visible = async (principal: Principal, id: string) => {
    const branch = await store.db.selectFrom('branches').selectAll().where('id', '=', id).executeTakeFirst();
    return branch && canSeeBranch(principal, branch.id) ? branch : null;
  };

  apiRoute(
    app,
    deps,
    'branches.read',
    {
      method: 'get',
      path: '/api/branches',
      tags: ['Branches'],
      summary: 'List the token’s branches',
      responses: { 200: jsonResponse(BranchListSchema, 'The branches the token may see, by name.') },
    },
    async (c) => {
      const principal = c.get('principal');
      const rows = await store.db.selectFrom('branches').selectAll().orderBy('name').orderBy('id').execute();
      return c.json({ items: rows.filter((b) => canSeeBranch(principal, b.id)).map(toApiBranch) }, 200);
    },
  );

  apiRoute(
    app,
    deps,
    'branches.read',
    {
      method: 'get',
      path: '/api/branches/{id}',
      tags: ['Branches'],
      summary: 'Read one branch',
      request: { params: IdParams },
      responses: { 200: jsonResponse(BranchSchema, 'The branch.'), 404: NOT_FOUND },
    },
    async (c) => {
      const branch = await visible(c.get('principal'), c.req.valid('param').id);
      return branch ? c.json(toApiBranch(branch), 200) : c.json({ error: 'no such branch' }, 404);
    },
  );

  apiRoute(
    app,
    deps,
    'branches.write',
    {
      method: 'patch',
      path: '/api/branches/{id}',
      tags: ['Branches'],
      summary: 'Change a branch (administrators only)',
      description: 'API tokens cannot have the administrator role, so a token is refused (403): branches are edited in the console. Fields left out stay as they are.',
      request: { params: IdParams, body: { required: true, content: { 'application/json': { schema: BranchUpdateSchema } } } },
      responses: { 200: jsonResponse(BranchSchema, 'The branch as it is now.'), 404: NOT_FOUND },
    },
    async (c) => {
      const id = c.req.valid('param').id;
      const ctx = actionContext(c, deps.clock);
      const current = await visible(ctx.actor, id);
      if (!current) return c.json({ error: 'no such branch' }, 404);
      const parsed = parseBranchForm(formWithChanges(current, c.req.valid('json')));
      if (!parsed.ok) {
        const details = parsed.problems.map((p) => ({ field: p.field.replace(/^hours_/, 'openingHours.'), message: translator.t('en', `console-admin:${p.key}`, p.params) }));
        return c.json({ error: 'invalid request', details }, 400);
      }
      const v = parsed.value;
      const now = ctx.now.toISOString();
      const saved = await store.transaction(async (tx) => {
        await store.lock(tx, `branch:${id}`);
        const before = await tx.selectFrom('branches').selectAll().where('id', '=', id).executeTakeFirst();
        if (!before) return null;
        const after: Branch = { ...before, name: v.name, address: v.address, phone: v.phone, map_url: v.mapUrl, time_zone: v.timeZone, opening_hours: JSON.stringify(v.openingHours), holidays: JSON.stringify(v.holidays), updated_at: now };
        const { id: _id, created_at: _created, ...changes } = after;
        await tx.updateTable('branches').set(changes).where('id', '=', id).execute();
        await recordAudit(tx, { actor: ctx.actor, action: 'branch.update', entity: 'branch', entityId: id, before: branchForAudit(before), after: branchForAudit(after), ip: ctx.ip, now });
        return after;
      });
      return saved ? c.json(toApiBranch(saved), 200) : c.json({ error: 'no such branch' }, 404);
    },
  );
}
