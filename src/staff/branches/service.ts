import type { Weekday } from '../../domain/local-time';
import { newId } from '../../ids';
import type { Branch } from '../../store/schema';
import type { Store } from '../../store/store';
import { recordAudit } from '../audit';
import { canSeeBranch, type Principal } from '../permissions';
import { conflict, invalid, notFound, ok, type ActionContext, type Conflict, type Invalid, type NotFound, type Result } from '../result';
import { branchFormOf, parseBranchForm, readHolidays, readOpeningHours, type BranchFormInput, type BranchValues } from './form';

/** A change to a branch's form: the fields given replace the current ones, the weekdays given replace those days. */
export type BranchChange = Partial<Omit<BranchFormInput, 'hours'>> & { hours?: Partial<Record<Weekday, string>> };

/** What the audit log keeps of a branch: everything staff can edit, with hours and holidays as values. */
function branchForAudit(b: Branch) {
  return {
    name: b.name,
    address: b.address,
    phone: b.phone,
    map_url: b.map_url,
    time_zone: b.time_zone,
    opening_hours: readOpeningHours(b.opening_hours) ?? b.opening_hours,
    holidays: readHolidays(b.holidays),
    is_demo: b.is_demo,
  };
}

function columnsOf(v: BranchValues) {
  return { name: v.name, address: v.address, phone: v.phone, map_url: v.mapUrl, time_zone: v.timeZone, opening_hours: JSON.stringify(v.openingHours), holidays: JSON.stringify(v.holidays) };
}

/**
 * Branches: where customers bring their cars. Everyone reads the branches they belong to; the admin
 * creates and changes them (availability is built on their hours), from the console or the API alike.
 */
export function createBranchService(deps: { store: Store }) {
  const { store } = deps;
  const all = () => store.db.selectFrom('branches').selectAll().orderBy('name').orderBy('id').execute();

  async function find(principal: Principal, id: string): Promise<Branch | null> {
    const branch = await store.db.selectFrom('branches').selectAll().where('id', '=', id).executeTakeFirst();
    return branch && canSeeBranch(principal, branch.id) ? branch : null;
  }

  return {
    /** The branches `principal` may see, by name. */
    async list(principal: Principal): Promise<Branch[]> {
      return (await all()).filter((b) => canSeeBranch(principal, b.id));
    },

    /** Every branch by name: the choices of the staff and token forms, which only the admin fills in. */
    async choices(): Promise<{ id: string; name: string }[]> {
      return (await all()).map((b) => ({ id: b.id, name: b.name }));
    },

    /** The branch if `principal` may see it; otherwise null, as if it did not exist. */
    find,

    /** Adds a branch from its form; every problem of the form is reported at once. */
    async create(ctx: ActionContext, input: BranchFormInput): Promise<Result<Branch, Invalid>> {
      const parsed = parseBranchForm(input);
      if (!parsed.ok) return invalid(parsed.problems);
      const now = ctx.now.toISOString();
      const row: Branch = { id: newId(), ...columnsOf(parsed.value), is_demo: 0, created_at: now, updated_at: now };
      await store.transaction(async (tx) => {
        await tx.insertInto('branches').values(row).execute();
        await recordAudit(tx, { actor: ctx.actor, action: 'branch.create', entity: 'branch', entityId: row.id, after: branchForAudit(row), ip: ctx.ip, now });
      });
      return ok(row);
    },

    /**
     * Changes a branch: the change is applied to its form as it reads now, and the form's rules decide
     * what is valid. `expectedUpdatedAt` (what the editor was shown) refuses a save over someone else's
     * ('changed'), instead of silently undoing it; `clearDemo` makes the demo branch a real one.
     */
    async update(ctx: ActionContext, id: string, change: BranchChange, opts: { expectedUpdatedAt?: string | null; clearDemo?: boolean } = {}): Promise<Result<Branch, NotFound | Invalid | Conflict>> {
      const current = await find(ctx.actor, id);
      if (!current) return notFound();
      const form = branchFormOf(current);
      const given = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
      const parsed = parseBranchForm({ ...form, ...given(change), hours: { ...form.hours, ...given(change.hours ?? {}) } });
      if (!parsed.ok) return invalid(parsed.problems);
      const now = ctx.now.toISOString();
      return store.transaction(async (tx): Promise<Result<Branch, NotFound | Conflict>> => {
        // Two admins saving the same branch: the second is told, instead of silently undoing the first.
        await store.lock(tx, `branch:${id}`);
        const before = await tx.selectFrom('branches').selectAll().where('id', '=', id).executeTakeFirst();
        if (!before) return notFound();
        if (opts.expectedUpdatedAt && opts.expectedUpdatedAt !== before.updated_at) return conflict('changed');
        const after: Branch = { ...before, ...columnsOf(parsed.value), is_demo: before.is_demo === 1 && opts.clearDemo ? 0 : before.is_demo, updated_at: now };
        const { id: _id, created_at: _created, ...changes } = after;
        await tx.updateTable('branches').set(changes).where('id', '=', id).execute();
        await recordAudit(tx, { actor: ctx.actor, action: 'branch.update', entity: 'branch', entityId: id, before: branchForAudit(before), after: branchForAudit(after), ip: ctx.ip, now });
        return ok(after);
      });
    },
  };
}

export type BranchService = ReturnType<typeof createBranchService>;
