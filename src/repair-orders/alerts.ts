import type { Kysely } from 'kysely';
import { newId } from '../ids';
import type { AlertKind, Database } from '../store/schema';

/*
 * What an advisor must do by hand: phone a customer the chat cannot reach, who asked to be called, who
 * has not answered about added items, or who needs more time to collect. Alerts show on the board and the
 * order's page until someone marks them done.
 */

export interface RaiseAlert {
  orderId: string;
  branchId: string;
  kind: AlertKind;
  details?: Record<string, unknown>;
  /** Raised once ever under this key (a request flagged once); without one, once while an alert of the kind is open. */
  dedupeKey?: string;
}

/** Raises an alert in the caller's transaction, unless the same one is already there. Returns whether it did. */
export async function raiseAlert(db: Kysely<Database>, alert: RaiseAlert, now: string): Promise<boolean> {
  let existing;
  if (alert.dedupeKey) {
    existing = await db.selectFrom('repair_order_alerts').select('id').where('dedupe_key', '=', alert.dedupeKey).executeTakeFirst();
  } else {
    existing = await db
      .selectFrom('repair_order_alerts')
      .select('id')
      .where('repair_order_id', '=', alert.orderId)
      .where('kind', '=', alert.kind)
      .where('resolved_at', 'is', null)
      .executeTakeFirst();
  }
  if (existing) return false;
  await db
    .insertInto('repair_order_alerts')
    .values({
      id: newId(),
      repair_order_id: alert.orderId,
      branch_id: alert.branchId,
      kind: alert.kind,
      dedupe_key: alert.dedupeKey ?? null,
      details: alert.details ? JSON.stringify(alert.details) : null,
      created_at: now,
      resolved_at: null,
      resolved_by: null,
    })
    .execute();
  return true;
}
