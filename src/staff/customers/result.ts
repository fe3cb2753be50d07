import type { Kysely } from 'kysely';
import type { Customer, Database } from '../../store/schema';
import { conflict as conflictOf, invalid as invalidOf, ok as okOf, type Conflict, type FieldError, type Invalid, type NotFound } from '../result';

export type { ActionContext, FieldError } from '../result';

/**
 * Expected outcomes of a customer operation that is not carried out: the failures of every staff
 * operation, and the two a customer profile adds. The console and the API map each to a page or a status.
 */
export type CustomerFailure =
  | NotFound
  /** The profile was merged; `mergedInto` is the one that is the customer now. */
  | { ok: false; reason: 'merged'; mergedInto: string }
  | { ok: false; reason: 'erased' }
  | Invalid
  | Conflict;

export type CustomerResult<T> = { ok: true; value: T } | CustomerFailure;

export const ok = <T>(value: T): CustomerResult<T> => okOf(value);
export const invalid = (errors: FieldError[]): CustomerFailure => invalidOf(errors);
export const conflict = (code: string): CustomerFailure => conflictOf(code);

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
