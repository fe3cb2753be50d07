import type { Kysely } from 'kysely';
import type { Customer, Database } from '../../store/schema';
import type { Principal } from '../permissions';

/**
 * One field a staff member or an integration got wrong. `code` names the problem (a key under `errors.`
 * in the console-customers locale files), so the console shows it in the staff member's language and the
 * API returns it as is.
 */
export interface FieldError {
  field: string;
  code: string;
  params?: Record<string, string | number>;
}

/**
 * Expected outcomes of a customer operation that is not carried out. The console and the API map each
 * to a page or a status; none of them is an exception.
 */
export type CustomerFailure =
  | { ok: false; reason: 'not_found' }
  /** The profile was merged; `mergedInto` is the one that is the customer now. */
  | { ok: false; reason: 'merged'; mergedInto: string }
  | { ok: false; reason: 'erased' }
  | { ok: false; reason: 'invalid'; errors: FieldError[] }
  /** The request is well-formed but the records do not allow it now (`code` says why). */
  | { ok: false; reason: 'conflict'; code: string };

export type CustomerResult<T> = { ok: true; value: T } | CustomerFailure;

/** Who acts, from where and when: what every change's audit entry records. */
export interface ActionContext {
  actor: Principal;
  ip: string | null;
  now: Date;
}

export const ok = <T>(value: T): CustomerResult<T> => ({ ok: true, value });
export const invalid = (errors: FieldError[]): CustomerFailure => ({ ok: false, reason: 'invalid', errors });
export const conflict = (code: string): CustomerFailure => ({ ok: false, reason: 'conflict', code });

/** Merges can chain (A into B, later B into C); more hops than this would mean a cycle, which merge refuses. */
const MAX_MERGE_HOPS = 20;

/** The profile that is the customer now: `id` itself, or where its merges lead. Null when `id` is unknown. */
export async function currentProfileId(db: Kysely<Database>, id: string): Promise<string | null> {
  let current = id;
  for (let hop = 0; hop < MAX_MERGE_HOPS; hop++) {
    const row = await db.selectFrom('customers').select(['id', 'merged_into_id']).where('id', '=', current).executeTakeFirst();
    if (!row) return hop === 0 ? null : current;
    if (!row.merged_into_id) return row.id;
    current = row.merged_into_id;
  }
  return current;
}

/**
 * A profile staff may change: it exists, was not merged away and was not erased. A merged profile names
 * the profile that took its place.
 */
export async function liveCustomer(db: Kysely<Database>, id: string): Promise<CustomerResult<Customer>> {
  const customer = await db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirst();
  if (!customer) return { ok: false, reason: 'not_found' };
  if (customer.merged_into_id) return { ok: false, reason: 'merged', mergedInto: (await currentProfileId(db, customer.merged_into_id)) ?? customer.merged_into_id };
  if (customer.erased_at) return { ok: false, reason: 'erased' };
  return ok(customer);
}
