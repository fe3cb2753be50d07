import { sql } from 'kysely';
import type { Customer, CustomerCategory } from '../../store/schema';
import type { Store } from '../../store/store';
import { recordAudit } from '../audit';
import { conflict, liveCustomer, ok, type ActionContext, type CustomerResult } from './result';
import { MOVED_ON_MERGE } from './tables';

/** Filled on the kept profile when it has none and the merged one has one. */
const FILLED_FIELDS = ['display_name', 'phone', 'notes', 'consent_at', 'opted_out_at'] as const;

/** A category is a statement staff or the records made about the person; a merge keeps the stronger one. */
const CATEGORY_RANK: Record<CustomerCategory, number> = { prospect: 0, at_risk: 1, base: 2, key_influencer: 3 };

export interface MergeOutcome {
  keptId: string;
  mergedId: string;
  /** Rows moved to the kept profile, per table. */
  moved: Record<string, number>;
  filled: string[];
}

/**
 * Merges two profiles of one person (typically one who wrote on LINE and on the web chat): the channel
 * identities, vehicles, transcript, outbox rows and bookings of `mergeId` move to `keepId`, the kept
 * profile's empty details are filled from the other, the kept profile's conversation stays (the other's
 * is deleted) and the other profile is marked as merged, so its address leads to the kept one.
 *
 * The channel identities of both are locked first, as the engine locks them, so no message of either is
 * being processed halfway through the move. Reads come before writes (D1 transactions do not see their
 * own writes); one transaction with its audit entry.
 */
export async function mergeCustomers(store: Store, ctx: ActionContext, args: { mergeId: string; keepId: string }): Promise<CustomerResult<MergeOutcome>> {
  const { mergeId, keepId } = args;
  if (!keepId) return { ok: false, reason: 'invalid', errors: [{ field: 'into', code: 'mergeTargetRequired' }] };
  if (mergeId === keepId) return conflict('mergeSameProfile');
  const now = ctx.now.toISOString();
  return store.transaction(async (tx) => {
    const merged = await liveCustomer(tx, mergeId);
    if (!merged.ok) return merged;
    const kept = await liveCustomer(tx, keepId);
    if (!kept.ok) return kept.reason === 'not_found' ? { ok: false, reason: 'invalid', errors: [{ field: 'into', code: 'mergeTargetMissing' }] } : conflict(kept.reason === 'merged' ? 'mergeTargetMerged' : 'mergeTargetErased');

    const identities = await tx.selectFrom('channel_identities').select(['channel', 'external_id']).where('customer_id', 'in', [mergeId, keepId]).execute();
    for (const key of identities.map((i) => `${i.channel}:${i.external_id}`).sort()) await store.lock(tx, key);

    const moved: Record<string, number> = {};
    for (const table of MOVED_ON_MERGE) {
      const row = await tx.selectFrom(table).select(sql<number>`count(*)`.as('n')).where('customer_id', '=', mergeId).executeTakeFirstOrThrow();
      moved[table] = Number(row.n);
    }

    const fill: Partial<Customer> = {};
    for (const field of FILLED_FIELDS) if (kept.value[field] === null && merged.value[field] !== null) fill[field] = merged.value[field];
    if (CATEGORY_RANK[merged.value.category] > CATEGORY_RANK[kept.value.category]) fill.category = merged.value.category;

    await tx.deleteFrom('conversations').where('customer_id', '=', mergeId).execute();
    for (const table of MOVED_ON_MERGE) {
      // Each listed table has a customer_id column (checked in tables.ts); Kysely cannot see that through the union.
      await tx
        .updateTable(table as 'messages')
        .set({ customer_id: keepId })
        .where('customer_id', '=', mergeId)
        .execute();
    }
    await tx.updateTable('customers').set({ ...fill, updated_at: now }).where('id', '=', keepId).execute();
    await tx.updateTable('customers').set({ merged_into_id: keepId, updated_at: now }).where('id', '=', mergeId).execute();

    const outcome: MergeOutcome = { keptId: keepId, mergedId: mergeId, moved, filled: Object.keys(fill) };
    await recordAudit(tx, {
      actor: ctx.actor,
      action: 'customer.merge',
      entity: 'customer',
      entityId: keepId,
      before: { keptId: keepId, mergedId: mergeId },
      after: outcome,
      ip: ctx.ip,
      now,
    });
    return ok(outcome);
  });
}
