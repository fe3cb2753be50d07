import type { Kysely } from 'kysely';
import { newId } from '../ids';
import type { ChannelIdentity, ChannelName, Customer, Database } from './schema';

const LAST_SEEN_RESOLUTION_MS = 60_000;

export interface ResolvedCustomer {
  customer: Customer;
  identity: ChannelIdentity;
  isNew: boolean;
}

/**
 * Finds the customer behind a channel identity, creating both on first contact. Runs inside the caller's
 * transaction, which already holds the per-identity lock, so two first messages cannot create two customers.
 */
export async function resolveCustomer(
  db: Kysely<Database>,
  args: { channel: ChannelName; externalId: string; displayName: string | null; locale: string; now: string },
): Promise<ResolvedCustomer> {
  const identity = await db
    .selectFrom('channel_identities')
    .selectAll()
    .where('channel', '=', args.channel)
    .where('external_id', '=', args.externalId)
    .executeTakeFirst();
  if (identity) {
    const customer = await db.selectFrom('customers').selectAll().where('id', '=', identity.customer_id).executeTakeFirstOrThrow();
    // "Last seen" is for staff to read; to the minute is plenty, and skipping the write saves every busy chat a row update.
    if (Date.parse(args.now) - Date.parse(identity.last_seen_at) < LAST_SEEN_RESOLUTION_MS) return { customer, identity, isNew: false };
    await db.updateTable('channel_identities').set({ last_seen_at: args.now }).where('id', '=', identity.id).execute();
    return { customer, identity: { ...identity, last_seen_at: args.now }, isNew: false };
  }
  const customer: Customer = {
    id: newId(),
    display_name: args.displayName,
    phone: null,
    locale: args.locale,
    category: 'prospect',
    notes: null,
    consent_at: null,
    opted_out_at: null,
    erased_at: null,
    merged_into_id: null,
    created_at: args.now,
    updated_at: args.now,
  };
  const created: ChannelIdentity = {
    id: newId(),
    customer_id: customer.id,
    channel: args.channel,
    external_id: args.externalId,
    display_name: args.displayName,
    reachable: 1,
    unreachable_since: null,
    created_at: args.now,
    last_seen_at: args.now,
    rich_menu_id: null,
    rich_menu_locale: null,
    rich_menu_linked_at: null,
  };
  await db.insertInto('customers').values(customer).execute();
  await db.insertInto('channel_identities').values(created).execute();
  return { customer, identity: created, isNew: true };
}

/**
 * resolveCustomer for many identities of one channel at once, in the caller's transaction (which holds
 * their locks): two reads for all of them, one insert each for the customers and identities met for the
 * first time, and the "last seen" writes that are due. Keyed by external id.
 */
export async function resolveCustomers(
  db: Kysely<Database>,
  channel: ChannelName,
  wanted: readonly { externalId: string; displayName: string | null; locale: string }[],
  now: string,
): Promise<Map<string, ResolvedCustomer>> {
  const resolved = new Map<string, ResolvedCustomer>();
  if (wanted.length === 0) return resolved;
  const identities = await db
    .selectFrom('channel_identities')
    .selectAll()
    .where('channel', '=', channel)
    .where('external_id', 'in', wanted.map((w) => w.externalId))
    .execute();
  const customers = identities.length
    ? await db
        .selectFrom('customers')
        .selectAll()
        .where('id', 'in', [...new Set(identities.map((i) => i.customer_id))])
        .execute()
    : [];
  const customerById = new Map(customers.map((c) => [c.id, c]));
  const stale: ChannelIdentity[] = [];
  for (const identity of identities) {
    const customer = customerById.get(identity.customer_id);
    if (!customer) throw new Error(`channel identity ${identity.id} has no customer`);
    const seen = Date.parse(now) - Date.parse(identity.last_seen_at) >= LAST_SEEN_RESOLUTION_MS;
    if (seen) stale.push(identity);
    resolved.set(identity.external_id, { customer, identity: seen ? { ...identity, last_seen_at: now } : identity, isNew: false });
  }
  if (stale.length) await db.updateTable('channel_identities').set({ last_seen_at: now }).where('id', 'in', stale.map((i) => i.id)).execute();
  const fresh = wanted.filter((w, i) => !resolved.has(w.externalId) && wanted.findIndex((o) => o.externalId === w.externalId) === i);
  if (fresh.length) {
    const made = fresh.map((w) => {
      const customer: Customer = {
        id: newId(),
        display_name: w.displayName,
        phone: null,
        locale: w.locale,
        category: 'prospect',
        notes: null,
        consent_at: null,
        opted_out_at: null,
        erased_at: null,
        merged_into_id: null,
        created_at: now,
        updated_at: now,
      };
      const identity: ChannelIdentity = {
        id: newId(),
        customer_id: customer.id,
        channel,
        external_id: w.externalId,
        display_name: w.displayName,
        reachable: 1,
        unreachable_since: null,
        created_at: now,
        last_seen_at: now,
        rich_menu_id: null,
        rich_menu_locale: null,
        rich_menu_linked_at: null,
      };
      resolved.set(w.externalId, { customer, identity, isNew: true });
      return { customer, identity };
    });
    await db.insertInto('customers').values(made.map((m) => m.customer)).execute();
    await db.insertInto('channel_identities').values(made.map((m) => m.identity)).execute();
  }
  return resolved;
}

/** The columns that say whether a channel identity can be written to, and since when it cannot. */
function reachability(reachable: boolean, now: string) {
  return { reachable: reachable ? 1 : 0, unreachable_since: reachable ? null : now } as const;
}

export async function setIdentityReachable(db: Kysely<Database>, identityId: string, reachable: boolean, now: string): Promise<void> {
  await db.updateTable('channel_identities').set(reachability(reachable, now)).where('id', '=', identityId).execute();
}

/**
 * Marks the person behind a platform's user id as not reachable there (they blocked the account or left
 * the chat): the one place that writes it, for whatever learns it (a send the platform refused, an event).
 */
export async function markUnreachable(db: Kysely<Database>, channel: ChannelName, externalId: string, now: string): Promise<void> {
  await db.updateTable('channel_identities').set(reachability(false, now)).where('channel', '=', channel).where('external_id', '=', externalId).execute();
}

export async function updateCustomer(db: Kysely<Database>, id: string, changes: Partial<Pick<Customer, 'locale' | 'phone' | 'display_name'>>, now: string): Promise<void> {
  await db.updateTable('customers').set({ ...changes, updated_at: now }).where('id', '=', id).execute();
}
