import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { ChannelName, Customer, CustomerCategory, Database } from '../../store/schema';
import type { Principal } from '../permissions';
import { escapeLike, normalizePlate, phoneSearchDigits } from './normalize';
import { visibleCustomers } from './scope';
import { pageNumber } from '../result';

export const CUSTOMER_PAGE_SIZE = 25;
const MAX_QUERY_CHARS = 100;

export interface CustomerListItem {
  id: string;
  displayName: string | null;
  phone: string | null;
  category: CustomerCategory;
  locale: string;
  createdAt: string;
  lastMessageAt: string | null;
  channels: { channel: ChannelName; reachable: boolean; lastSeenAt: string }[];
  plates: string[];
}

export interface CustomerSearch {
  items: CustomerListItem[];
  page: number;
  pageSize: number;
  hasNext: boolean;
}

/**
 * A profile matches a search when part of its name (or a chat app's name for it), its phone digits or one
 * of its plates contains what was typed: used by the console's customer search and the DMS API alike.
 */
export function matchesCustomerQuery(q: string) {
  const name = `%${escapeLike(q.toLowerCase())}%`;
  const digits = phoneSearchDigits(q);
  const plate = normalizePlate(q);
  return (eb: ExpressionBuilder<Database, 'customers'>) =>
    eb.or([
      sql<boolean>`lower(customers.display_name) like ${name} escape '\\'`,
      eb.exists(
        eb
          .selectFrom('channel_identities')
          .select(sql`1`.as('one'))
          .whereRef('channel_identities.customer_id', '=', 'customers.id')
          .where(sql<boolean>`lower(channel_identities.display_name) like ${name} escape '\\'`),
      ),
      // Stored numbers are digits with an optional +, but numbers a chat app shared may still carry separators.
      ...(digits ? [sql<boolean>`replace(replace(replace(replace(replace(customers.phone, '-', ''), ' ', ''), '(', ''), ')', ''), '.', '') like ${`%${digits}%`}`] : []),
      ...(plate.length >= 2
        ? [
            eb.exists(
              eb
                .selectFrom('vehicles')
                .select(sql`1`.as('one'))
                .whereRef('vehicles.customer_id', '=', 'customers.id')
                .where(sql<boolean>`vehicles.plate_normalized like ${`%${escapeLike(plate)}%`} escape '\\'`),
            ),
          ]
        : []),
    ]);
}

/**
 * Finds customers the way staff ask for them: part of a name (the profile's or a chat app's), part of a
 * phone number however it is typed, or part of a plate however it is spaced. Merged and erased profiles
 * are left out (the merged one lives on in the kept profile; an erased one is nobody). Most recently
 * active first, so the person who just wrote is at the top.
 */
export async function searchCustomers(
  db: Kysely<Database>,
  args: { q?: string | null; page?: number; pageSize?: number; excludeId?: string; visibleTo?: Principal },
): Promise<CustomerSearch> {
  const pageSize = args.pageSize ?? CUSTOMER_PAGE_SIZE;
  const page = pageNumber(args.page);
  const q = (args.q ?? '').trim().slice(0, MAX_QUERY_CHARS);

  let query = db
    .selectFrom('customers')
    .select([
      'customers.id',
      'customers.display_name',
      'customers.phone',
      'customers.category',
      'customers.locale',
      'customers.created_at',
      (eb) => eb.selectFrom('messages').select('messages.created_at').whereRef('messages.customer_id', '=', 'customers.id').orderBy('messages.id', 'desc').limit(1).as('last_message_at'),
    ])
    .where('customers.merged_into_id', 'is', null)
    .where('customers.erased_at', 'is', null);
  if (args.excludeId) query = query.where('customers.id', '<>', args.excludeId);
  if (args.visibleTo) query = query.where(visibleCustomers(args.visibleTo));

  if (q) query = query.where(matchesCustomerQuery(q));

  const rows = await query
    .orderBy(sql`coalesce((select max(m.id) from messages m where m.customer_id = customers.id), 0)`, 'desc')
    .orderBy('customers.created_at', 'desc')
    .orderBy('customers.id')
    .limit(pageSize + 1)
    .offset((page - 1) * pageSize)
    .execute();
  const hasNext = rows.length > pageSize;
  const pageRows = rows.slice(0, pageSize);
  const ids = pageRows.map((r) => r.id);

  const identities = ids.length
    ? await db.selectFrom('channel_identities').select(['customer_id', 'channel', 'reachable', 'last_seen_at']).where('customer_id', 'in', ids).orderBy('last_seen_at', 'desc').execute()
    : [];
  const vehicles = ids.length
    ? await db.selectFrom('vehicles').select(['customer_id', 'plate']).where('customer_id', 'in', ids).where('plate', '<>', '').orderBy('created_at').execute()
    : [];

  return {
    page,
    pageSize,
    hasNext,
    items: pageRows.map((r) => ({
      id: r.id,
      displayName: r.display_name,
      phone: r.phone,
      category: r.category,
      locale: r.locale,
      createdAt: r.created_at,
      lastMessageAt: r.last_message_at ?? null,
      channels: identities.filter((i) => i.customer_id === r.id).map((i) => ({ channel: i.channel, reachable: i.reachable === 1, lastSeenAt: i.last_seen_at })),
      plates: vehicles.filter((v) => v.customer_id === r.id).map((v) => v.plate),
    })),
  };
}

/** Where a page of the oldest-first list ends: the next page starts strictly after it. */
export interface CustomerPosition {
  createdAt: string;
  id: string;
}

/**
 * Live customers oldest first, in pages that neither repeat nor skip a profile while others are added
 * (new profiles sort after every existing one): the list an integration walks to keep a copy in step.
 */
export async function listCustomersAfter(
  db: Kysely<Database>,
  args: { q?: string; category?: CustomerCategory; updatedSince?: string; after: CustomerPosition | null; limit: number; visibleTo?: Principal },
): Promise<{ items: Customer[]; next: CustomerPosition | null }> {
  let query = db.selectFrom('customers').selectAll().where('merged_into_id', 'is', null).where('erased_at', 'is', null);
  if (args.visibleTo) query = query.where(visibleCustomers(args.visibleTo));
  if (args.category) query = query.where('category', '=', args.category);
  if (args.updatedSince) query = query.where('updated_at', '>=', args.updatedSince);
  const text = args.q?.trim();
  if (text) query = query.where(matchesCustomerQuery(text));
  const after = args.after;
  if (after) query = query.where((eb) => eb.or([eb('created_at', '>', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)])]));
  const rows = await query.orderBy('created_at').orderBy('id').limit(args.limit + 1).execute();
  const items = rows.slice(0, args.limit);
  const last = items[items.length - 1];
  return { items, next: rows.length > args.limit && last ? { createdAt: last.created_at, id: last.id } : null };
}
