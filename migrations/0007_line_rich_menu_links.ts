import type { Kysely } from 'kysely';

/*
 * Which rich menu each LINE customer has linked, and for which of their languages: the menu job
 * (src/channels/line/rich-menu-links.ts) links a customer whose language no longer matches what was linked,
 * or whose menu was replaced by a later `npm run line:setup`, and writes down what it linked. Null until the
 * first link; other channels leave them null.
 *
 * Between its occasional full passes the job looks only at customers changed since its last pass (a new
 * follower is a new customer; a change of language touches `updated_at`), through this index rather than
 * by reading every LINE customer after every message. The staff API's `updatedSince` reads it too.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('channel_identities').addColumn('rich_menu_id', 'text').execute();
  await db.schema.alterTable('channel_identities').addColumn('rich_menu_locale', 'text').execute();
  await db.schema.alterTable('channel_identities').addColumn('rich_menu_linked_at', 'text').execute();
  await db.schema.createIndex('customers_updated_idx').on('customers').column('updated_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('customers_updated_idx').execute();
  await db.schema.alterTable('channel_identities').dropColumn('rich_menu_linked_at').execute();
  await db.schema.alterTable('channel_identities').dropColumn('rich_menu_locale').execute();
  await db.schema.alterTable('channel_identities').dropColumn('rich_menu_id').execute();
}
