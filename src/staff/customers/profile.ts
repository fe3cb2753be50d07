import type { Kysely } from 'kysely';
import { suggestCategory } from '../../domain/customer-category';
import type { ChannelIdentity, Conversation, Customer, CustomerCategory, Database, Vehicle } from '../../store/schema';
import { currentProfileId, ok, type CustomerResult } from './result';

export interface CustomerProfile {
  customer: Customer;
  /** Most recently seen first: the first reachable one is where a staff message goes by default. */
  identities: ChannelIdentity[];
  vehicles: Vehicle[];
  conversation: Conversation | null;
  /** What the records point to: the visit and survey history's category once there is one (src/survey/categories.ts), else suggestCategory. */
  suggestedCategory: CustomerCategory;
  /** Profiles that were merged into this one. */
  mergedFrom: { id: string; displayName: string | null }[];
}

/**
 * One customer with everything the profile page shows. An erased profile is still found (staff can see
 * that the request was carried out); a merged one answers with the profile that replaced it.
 */
export async function loadCustomerProfile(db: Kysely<Database>, id: string): Promise<CustomerResult<CustomerProfile>> {
  const customer = await db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirst();
  if (!customer) return { ok: false, reason: 'not_found' };
  if (customer.merged_into_id) return { ok: false, reason: 'merged', mergedInto: (await currentProfileId(db, customer.merged_into_id)) ?? customer.merged_into_id };
  const [identities, vehicles, conversation, mergedFrom, derivation] = await Promise.all([
    db.selectFrom('channel_identities').selectAll().where('customer_id', '=', id).orderBy('last_seen_at', 'desc').execute(),
    db.selectFrom('vehicles').selectAll().where('customer_id', '=', id).orderBy('created_at').orderBy('id').execute(),
    db.selectFrom('conversations').selectAll().where('customer_id', '=', id).executeTakeFirst(),
    db.selectFrom('customers').select(['id', 'display_name']).where('merged_into_id', '=', id).orderBy('updated_at').execute(),
    db.selectFrom('customer_category_derivations').select('derived').where('customer_id', '=', id).executeTakeFirst(),
  ]);
  return ok({
    customer,
    identities,
    vehicles,
    conversation: conversation ?? null,
    suggestedCategory: derivation?.derived ?? suggestCategory(customer.category, { registeredVehicles: vehicles.filter((v) => v.plate_normalized !== '').length }),
    mergedFrom: mergedFrom.map((m) => ({ id: m.id, displayName: m.display_name })),
  });
}

/** Where a staff message goes when staff do not pick: the reachable identity the customer used last. */
export function replyTargets(identities: ChannelIdentity[]): ChannelIdentity[] {
  return identities.filter((i) => i.reachable === 1).sort((a, b) => (a.last_seen_at < b.last_seen_at ? 1 : a.last_seen_at > b.last_seen_at ? -1 : 0));
}
