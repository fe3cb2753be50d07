import type { Kysely } from 'kysely';

/*
 * The satisfaction survey after a visit, and what it tells about the customer.
 *
 * One survey per repair order (the visit), written when the car is collected and sent a configurable delay
 * later, inside opening hours and outside quiet hours. Its answers are columns filled as they come, so a
 * survey left half done still counts what it has. CSI and the loyalty index are computed from the answers
 * when reported, never stored, so a change of formula needs no data change.
 *
 * Also here: the dealer's survey settings (one row), referrals staff record for a customer, and the last
 * category the records pointed to for each customer (so a category staff chose by hand is told apart from
 * one the records set, and left alone).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('surveys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('repair_order_id', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
    .addColumn('branch_id', 'text', (c) => c.notNull().references('branches.id'))
    .addColumn('advisor_id', 'text')
    .addColumn('service_type', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('skip_reason', 'text')
    .addColumn('collected_at', 'text', (c) => c.notNull())
    .addColumn('due_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .addColumn('expires_at', 'text')
    .addColumn('channel', 'text')
    .addColumn('locale', 'text')
    .addColumn('aspect_codes', 'text', (c) => c.notNull())
    .addColumn('satisfaction', 'integer')
    .addColumn('repurchase', 'integer')
    .addColumn('recommend', 'integer')
    .addColumn('aspects', 'text', (c) => c.notNull())
    .addColumn('comment', 'text')
    .addColumn('comment_skipped', 'integer', (c) => c.notNull())
    .addColumn('first_answer_at', 'text')
    .addColumn('completed_at', 'text')
    .addColumn('complaint_id', 'text')
    .addColumn('comment_flagged_at', 'text')
    .addColumn('review_invited_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('surveys_repair_order_uq', ['repair_order_id'])
    .execute();
  // The job reads what is due; reports read a period of visits per branch; a customer's history by customer.
  await db.schema.createIndex('surveys_status_due_idx').on('surveys').columns(['status', 'due_at']).execute();
  await db.schema.createIndex('surveys_branch_collected_idx').on('surveys').columns(['branch_id', 'collected_at']).execute();
  await db.schema.createIndex('surveys_customer_idx').on('surveys').columns(['customer_id', 'collected_at']).execute();

  await db.schema
    .createTable('survey_settings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('delay_minutes', 'integer')
    .addColumn('expiry_days', 'integer', (c) => c.notNull())
    .addColumn('aspects', 'text', (c) => c.notNull())
    .addColumn('review_invite', 'integer', (c) => c.notNull())
    .addColumn('review_url', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('customer_referrals')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
    .addColumn('note', 'text')
    .addColumn('recorded_by', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('customer_referrals_customer_idx').on('customer_referrals').columns(['customer_id']).execute();

  await db.schema
    .createTable('customer_category_derivations')
    .addColumn('customer_id', 'text', (c) => c.primaryKey())
    .addColumn('derived', 'text', (c) => c.notNull())
    .addColumn('seen', 'text', (c) => c.notNull())
    .addColumn('staff_choice', 'integer', (c) => c.notNull())
    .addColumn('facts', 'text', (c) => c.notNull())
    .addColumn('derived_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('customer_category_derivations').execute();
  await db.schema.dropTable('customer_referrals').execute();
  await db.schema.dropTable('survey_settings').execute();
  await db.schema.dropTable('surveys').execute();
}
