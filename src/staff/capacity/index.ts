import type { ZodError } from 'zod';
import { bayInputSchema, loadBranchCapacity, renameServiceTypeInBays, saveBay, saveBookingSettings, saveServiceType, serviceTypeInputSchema, type BayInfo, type BranchCapacity, type ServiceType } from '../../booking/capacity';
import { bookingSettingsSchema, type BookingSettings } from '../../domain/booking-rules';
import { isUniqueViolation } from '../../store/errors';
import type { Store } from '../../store/store';
import { recordAudit } from '../audit';
import { canSeeBranch, type Principal } from '../permissions';
import { conflict, invalid, notFound, ok, type ActionContext, type Conflict, type FieldError, type Invalid, type NotFound, type Result } from '../result';

/*
 * A branch's booking capacity: the settings availability is computed from, its bays (and the service
 * types each can take) and its service types; opening hours and holidays are the branch's own. Everyone
 * who works with appointments reads it (it explains why a time is not free); managers and admins change
 * it. The booking core's schemas validate every change, and each is audited. Problem codes are keys under
 * `capacity.errors.` of the console-booking texts: `settings.<field>`, `bay.<field>`, `type.<field>`.
 */

/** One problem per field, named `<form>.<field>`. */
function errorsOf(error: ZodError, form: 'settings' | 'bay' | 'type'): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? '');
    if (!out.some((e) => e.field === field)) out.push({ field, code: `${form}.${field}` });
  }
  return out;
}

function bayForAudit(b: { name: string; serviceTypes: string[]; active: boolean; sortOrder: number }) {
  return { name: b.name, serviceTypes: b.serviceTypes, active: b.active, sortOrder: b.sortOrder };
}

function typeForAudit(t: { code: string; durationMinutes: number; names: Record<string, string>; active: boolean; sortOrder: number }) {
  return { code: t.code, durationMinutes: t.durationMinutes, names: t.names, active: t.active, sortOrder: t.sortOrder };
}

export interface BayRequest {
  name: string;
  /** Codes of the branch's service types; others are left out. */
  serviceTypes: string[];
  active: boolean;
  sortOrder: number;
}

export interface ServiceTypeRequest {
  code: string;
  durationMinutes: number;
  names: Record<string, string>;
  active: boolean;
  sortOrder: number;
}

export function createCapacityService(deps: { store: Store }) {
  const { store } = deps;

  /** The branch's capacity if `principal` may see the branch; otherwise null, as if it did not exist. */
  async function visible(principal: Principal, branchId: string): Promise<BranchCapacity | null> {
    return canSeeBranch(principal, branchId) ? loadBranchCapacity(store.db, branchId) : null;
  }

  return {
    find: visible,

    /** Replaces the branch's booking settings. */
    async saveSettings(ctx: ActionContext, branchId: string, input: Record<string, unknown>): Promise<Result<BookingSettings, NotFound | Invalid>> {
      const capacity = await visible(ctx.actor, branchId);
      if (!capacity) return notFound();
      const parsed = bookingSettingsSchema.safeParse(input);
      if (!parsed.success) return invalid(errorsOf(parsed.error, 'settings'));
      const now = ctx.now.toISOString();
      await store.transaction(async (tx) => {
        const before = await loadBranchCapacity(tx, branchId);
        await saveBookingSettings(tx, branchId, parsed.data, now);
        await recordAudit(tx, { actor: ctx.actor, action: 'capacity.settings', entity: 'branch_settings', entityId: branchId, before: before?.rules.settings, after: parsed.data, ip: ctx.ip, now });
      });
      return ok(parsed.data);
    },

    /** Adds a bay (`bayId` null) or changes one of the branch's; returns its id. */
    async saveBay(ctx: ActionContext, branchId: string, bayId: string | null, input: BayRequest): Promise<Result<string, NotFound | Invalid>> {
      const capacity = await visible(ctx.actor, branchId);
      if (!capacity) return notFound();
      const before: BayInfo | null = bayId ? (capacity.bays.find((b) => b.id === bayId) ?? null) : null;
      if (bayId && !before) return notFound();
      const codes = new Set(capacity.serviceTypes.map((t) => t.code));
      const parsed = bayInputSchema.safeParse({ ...input, serviceTypes: input.serviceTypes.filter((code) => codes.has(code)) });
      if (!parsed.success) return invalid(errorsOf(parsed.error, 'bay'));
      const now = ctx.now.toISOString();
      const saved = await store.transaction(async (tx) => {
        const id = await saveBay(tx, branchId, parsed.data, now, bayId);
        await recordAudit(tx, { actor: ctx.actor, action: bayId ? 'bay.update' : 'bay.create', entity: 'bay', entityId: id, before: before ? bayForAudit(before) : undefined, after: { branchId, ...bayForAudit(parsed.data) }, ip: ctx.ip, now });
        return id;
      });
      return ok(saved);
    },

    /**
     * Adds a service type (`typeId` null) or changes one of the branch's; returns its id. A code another
     * type of the branch has is refused ('codeTaken'); a new code is rewritten in the bays that take the
     * type, in the same transaction.
     */
    async saveServiceType(ctx: ActionContext, branchId: string, typeId: string | null, input: ServiceTypeRequest): Promise<Result<string, NotFound | Invalid | Conflict>> {
      const capacity = await visible(ctx.actor, branchId);
      if (!capacity) return notFound();
      const before: ServiceType | null = typeId ? (capacity.serviceTypes.find((t) => t.id === typeId) ?? null) : null;
      if (typeId && !before) return notFound();
      const parsed = serviceTypeInputSchema.safeParse(input);
      if (!parsed.success) return invalid(errorsOf(parsed.error, 'type'));
      const type = parsed.data;
      if (capacity.serviceTypes.some((t) => t.code === type.code && t.id !== typeId)) return conflict('codeTaken');
      const now = ctx.now.toISOString();
      try {
        const saved = await store.transaction(async (tx) => {
          const renamedIn = before ? await renameServiceTypeInBays(tx, branchId, before.code, type.code, now) : [];
          const id = await saveServiceType(tx, branchId, type, now, typeId);
          await recordAudit(tx, {
            actor: ctx.actor,
            action: typeId ? 'service_type.update' : 'service_type.create',
            entity: 'service_type',
            entityId: id,
            before: before ? typeForAudit(before) : undefined,
            after: { branchId, ...typeForAudit(type), ...(renamedIn.length > 0 ? { baysUpdated: renamedIn } : {}) },
            ip: ctx.ip,
            now,
          });
          return id;
        });
        return ok(saved);
      } catch (err) {
        // Another manager took the same code a moment ago.
        if (isUniqueViolation(err, 'service_types')) return conflict('codeTaken');
        throw err;
      }
    },
  };
}

export type CapacityService = ReturnType<typeof createCapacityService>;
