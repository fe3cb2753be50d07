import type { Kysely } from 'kysely';

/*
 * What customers need to find and reach the dealership, and the dealership to reach them:
 *
 * - `branch_translations`: a branch's name and address per language (JSON `{ "zh-TW": "…", "en": "…" }`;
 *   a missing language shows `branches.name` / `branches.address`), so a customer reading Japanese is not
 *   shown the branch in English. Beside `branches` rather than on it, like `branch_settings`: a branch
 *   without translations still works, and the branch row stays the console's.
 * - `spent_link_codes`: the signed codes that carry a web chat customer over to LINE or Telegram are
 *   checked by their signature, and kept here once used so each works once.
 */

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('branch_translations')
    .addColumn('branch_id', 'text', (c) => c.primaryKey().references('branches.id'))
    .addColumn('names', 'text', (c) => c.notNull())
    .addColumn('addresses', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('spent_link_codes')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('spent_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('spent_link_codes').execute();
  await db.schema.dropTable('branch_translations').execute();
}
