import type { Database } from '../../store/schema';

/** Every table whose rows belong to one customer through a `customer_id` column. */
export type CustomerOwnedTable = { [K in keyof Database]: Database[K] extends { customer_id: string } ? K : never }[keyof Database];

/**
 * The tables whose rows follow the person when two profiles are merged. The conversation is the one
 * exception (a customer has one; the kept profile's stays), handled by the merge itself.
 *
 * A new table with a `customer_id` column is one line here; until it is added, the check below fails
 * the type check, so nobody can forget to decide what a merge does with it.
 */
export const MOVED_ON_MERGE = ['channel_identities', 'vehicles', 'messages', 'outbox', 'appointments', 'repair_orders', 'repair_order_notices', 'complaints', 'surveys', 'customer_referrals'] as const satisfies readonly CustomerOwnedTable[];

// The category derivation is a cache keyed by the customer: the kept profile's is recomputed on its next data.
type Unhandled = Exclude<CustomerOwnedTable, (typeof MOVED_ON_MERGE)[number] | 'conversations' | 'customer_category_derivations'>;
/** Fails to compile while some customer-owned table is neither moved on merge nor the conversation. */
export const EVERY_CUSTOMER_TABLE_HANDLED: [Unhandled] extends [never] ? true : { unhandled: Unhandled } = true;
