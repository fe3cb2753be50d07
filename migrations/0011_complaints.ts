import type { Kysely } from 'kysely';
import { withSerialId } from './helpers';

/*
 * Complaints and the people who answer them.
 *
 * A complaint (a ticket) is what a customer said went wrong, with the visit it is about, its branch, who is
 * answering it and by when (first response and resolution, counted in the branch's business hours). Its
 * timeline keeps every customer and staff message, note, assignment and escalation in order.
 *
 * Two staff changing one ticket from the same view must not both win, and D1 reports no row counts inside
 * a transaction, so a change writes its timeline entry with the ticket's new version under a unique key:
 * the second of two racing changes fails as a whole (as appointment_changes does for bookings).
 *
 * Also here: which care staff are on duty (and when each was last given a ticket, for round-robin), each
 * branch's response times and staff group chats, the console's live notices to staff, and the queue of
 * notices for staff Telegram/LINE groups.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('complaints')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('branch_id', 'text', (c) => c.notNull().references('branches.id'))
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('channel', 'text')
    .addColumn('category', 'text')
    .addColumn('appointment_id', 'text')
    .addColumn('repair_order_id', 'text')
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('contact_method', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('assignee_id', 'text')
    .addColumn('assigned_at', 'text')
    .addColumn('first_response_due_at', 'text', (c) => c.notNull())
    .addColumn('first_responded_at', 'text')
    .addColumn('first_response_escalated_at', 'text')
    .addColumn('resolution_due_at', 'text', (c) => c.notNull())
    .addColumn('resolution_escalated_at', 'text')
    .addColumn('resolved_at', 'text')
    .addColumn('resolution', 'text')
    .addColumn('customer_confirmed', 'text')
    .addColumn('rating', 'integer')
    .addColumn('closed_at', 'text')
    .addColumn('reopened_count', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('complaints_reference_uq', ['reference'])
    .execute();
  await db.schema.createIndex('complaints_branch_status_idx').on('complaints').columns(['branch_id', 'status', 'created_at']).execute();
  await db.schema.createIndex('complaints_customer_idx').on('complaints').columns(['customer_id', 'status']).execute();
  await db.schema.createIndex('complaints_assignee_idx').on('complaints').columns(['assignee_id', 'status']).execute();
  // The SLA pass reads only what is due: open tickets by their deadlines.
  await db.schema.createIndex('complaints_first_due_idx').on('complaints').columns(['first_response_due_at']).execute();
  await db.schema.createIndex('complaints_resolution_due_idx').on('complaints').columns(['resolution_due_at']).execute();

  await withSerialId(db, db.schema.createTable('complaint_events'))
    .addColumn('complaint_id', 'text', (c) => c.notNull().references('complaints.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('actor_label', 'text')
    .addColumn('channel', 'text')
    .addColumn('text', 'text')
    .addColumn('blob_key', 'text')
    .addColumn('details', 'text')
    // The ticket's version this entry made, for entries that changed the ticket; null for the others.
    .addColumn('version', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('complaint_events_complaint_idx').on('complaint_events').columns(['complaint_id', 'id']).execute();
  await db.schema.createIndex('complaint_events_version_uq').on('complaint_events').columns(['complaint_id', 'version']).unique().where('version', 'is not', null).execute();

  await db.schema
    .createTable('staff_duty')
    .addColumn('staff_id', 'text', (c) => c.primaryKey().references('staff_users.id'))
    .addColumn('on_duty', 'integer', (c) => c.notNull())
    .addColumn('last_assigned_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('complaint_settings')
    .addColumn('branch_id', 'text', (c) => c.primaryKey().references('branches.id'))
    .addColumn('first_response_minutes', 'integer', (c) => c.notNull())
    .addColumn('resolution_minutes', 'integer', (c) => c.notNull())
    .addColumn('telegram_chat_id', 'text')
    .addColumn('line_group_id', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await withSerialId(db, db.schema.createTable('staff_notifications'))
    .addColumn('staff_id', 'text', (c) => c.notNull())
    .addColumn('complaint_id', 'text', (c) => c.notNull().references('complaints.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('read_at', 'text')
    .execute();
  await db.schema.createIndex('staff_notifications_staff_idx').on('staff_notifications').columns(['staff_id', 'read_at', 'id']).execute();

  await withSerialId(db, db.schema.createTable('complaint_alerts'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('complaint_id', 'text', (c) => c.notNull().references('complaints.id'))
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('lease_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .addUniqueConstraint('complaint_alerts_key_uq', ['key'])
    .execute();
  await db.schema.createIndex('complaint_alerts_due_idx').on('complaint_alerts').columns(['status', 'next_attempt_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('complaint_alerts').execute();
  await db.schema.dropTable('staff_notifications').execute();
  await db.schema.dropTable('complaint_settings').execute();
  await db.schema.dropTable('staff_duty').execute();
  await db.schema.dropTable('complaint_events').execute();
  await db.schema.dropTable('complaints').execute();
}
