import type { Kysely } from 'kysely';

/*
 * Repair progress: the order's timeline, added items and the customer's answers, the notices the customer
 * is sent (with their delivery), what advisors must do by hand, per-branch settings, domain events with
 * their subscribers' handling, and the signed webhooks to the dealership's DMS.
 *
 * Every guarantee is a key: a staff change carries the order's next version (one of two racing changes
 * commits), an item is answered once (the decision's key is the item), a notice of a kind is sent once
 * (its dedupe key), an event is handled once per subscriber, and a webhook is queued once per event. They
 * hold on SQLite, Postgres and D1 alike, where a transaction cannot read its own writes.
 */

const REPAIR_ORDER_COLUMNS: [string, 'text' | 'integer'][] = [
  ['dms_number', 'text'],
  ['promised_at', 'text'],
  ['estimated_amount', 'integer'],
  ['final_amount', 'integer'],
  ['work_summary', 'text'],
  ['status_changed_at', 'text'],
  ['ready_at', 'text'],
  ['collected_at', 'text'],
  ['pickup_planned_at', 'text'],
];

export async function up(db: Kysely<any>): Promise<void> {
  // One column a statement: SQLite (and D1) add only one at a time.
  for (const [name, type] of REPAIR_ORDER_COLUMNS) await db.schema.alterTable('repair_orders').addColumn(name, type).execute();
  // Unique, and several orders without a DMS number are allowed (nulls are distinct in a unique index).
  await db.schema.createIndex('repair_orders_dms_number_uq').on('repair_orders').column('dms_number').unique().execute();
  // The pickup reminders read the orders that are ready, by when they became so.
  await db.schema.createIndex('repair_orders_status_ready_idx').on('repair_orders').columns(['status', 'ready_at']).execute();

  await db.schema
    .createTable('repair_order_changes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('repair_order_id', 'text', (c) => c.notNull().references('repair_orders.id'))
    .addColumn('version', 'integer')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text')
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('actor_label', 'text')
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('details', 'text')
    .addColumn('note', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('repair_order_changes_version_uq').on('repair_order_changes').columns(['repair_order_id', 'version']).unique().execute();
  await db.schema.createIndex('repair_order_changes_order_idx').on('repair_order_changes').columns(['repair_order_id', 'created_at']).execute();

  await db.schema
    .createTable('repair_order_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('repair_order_id', 'text', (c) => c.notNull().references('repair_orders.id'))
    .addColumn('request_key', 'text')
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_label', 'text')
    .addColumn('sent_at', 'text')
    .addColumn('reminded_at', 'text')
    .addColumn('flagged_at', 'text')
    .addColumn('closed_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('repair_order_requests_key_uq').on('repair_order_requests').columns(['repair_order_id', 'request_key']).unique().execute();
  // The reminder job reads the open requests only.
  await db.schema.createIndex('repair_order_requests_open_idx').on('repair_order_requests').columns(['closed_at', 'sent_at']).execute();

  await db.schema
    .createTable('repair_order_items')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('repair_order_id', 'text', (c) => c.notNull().references('repair_orders.id'))
    .addColumn('request_id', 'text', (c) => c.notNull().references('repair_order_requests.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('price', 'integer', (c) => c.notNull())
    .addColumn('urgency', 'text', (c) => c.notNull())
    .addColumn('photo_url', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('repair_order_items_position_uq', ['repair_order_id', 'position'])
    .execute();
  await db.schema.createIndex('repair_order_items_request_idx').on('repair_order_items').column('request_id').execute();

  await db.schema
    .createTable('repair_order_decisions')
    .addColumn('item_id', 'text', (c) => c.primaryKey().references('repair_order_items.id'))
    .addColumn('repair_order_id', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('decision', 'text', (c) => c.notNull())
    .addColumn('decided_at', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('actor_label', 'text')
    .addColumn('shown_text', 'text')
    .addColumn('note', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('repair_order_decisions_order_idx').on('repair_order_decisions').column('repair_order_id').execute();
  await db.schema.createIndex('repair_order_decisions_request_idx').on('repair_order_decisions').column('request_id').execute();

  await db.schema
    .createTable('repair_order_notices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('repair_order_id', 'text', (c) => c.notNull().references('repair_orders.id'))
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text')
    .addColumn('request_id', 'text')
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('urgent', 'integer', (c) => c.notNull())
    .addColumn('channel', 'text')
    .addColumn('external_id', 'text')
    .addColumn('rows', 'integer', (c) => c.notNull())
    .addColumn('due_at', 'text', (c) => c.notNull())
    .addColumn('params', 'text')
    .addColumn('error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('queued_at', 'text')
    .addColumn('settled_at', 'text')
    .execute();
  // The notice jobs read what is scheduled and due, and what is queued and not yet settled.
  await db.schema.createIndex('repair_order_notices_state_idx').on('repair_order_notices').columns(['state', 'due_at']).execute();
  await db.schema.createIndex('repair_order_notices_order_idx').on('repair_order_notices').columns(['repair_order_id', 'created_at']).execute();

  await db.schema
    .createTable('repair_order_alerts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('repair_order_id', 'text', (c) => c.notNull().references('repair_orders.id'))
    .addColumn('branch_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('dedupe_key', 'text', (c) => c.unique())
    .addColumn('details', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('resolved_at', 'text')
    .addColumn('resolved_by', 'text')
    .execute();
  await db.schema.createIndex('repair_order_alerts_order_idx').on('repair_order_alerts').columns(['repair_order_id', 'resolved_at']).execute();

  await db.schema
    .createTable('repair_order_settings')
    .addColumn('branch_id', 'text', (c) => c.primaryKey().references('branches.id'))
    .addColumn('notify_statuses', 'text', (c) => c.notNull())
    .addColumn('notify_delay', 'integer', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('consent_reminder_minutes', 'integer', (c) => c.notNull())
    .addColumn('consent_flag_minutes', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('domain_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('aggregate_id', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('domain_events_type_idx').on('domain_events').columns(['type', 'occurred_at', 'id']).execute();

  await db.schema
    .createTable('event_handlings')
    .addColumn('subscriber', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('handled_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('event_handlings_pk', ['subscriber', 'event_id'])
    .execute();

  await db.schema
    .createTable('event_failures')
    .addColumn('subscriber', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('retry_at', 'text', (c) => c.notNull())
    .addColumn('given_up', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('event_failures_pk', ['subscriber', 'event_id'])
    .execute();

  await db.schema
    .createTable('dms_webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('lease_until', 'text')
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .execute();
  await db.schema.createIndex('dms_webhook_deliveries_due_idx').on('dms_webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'dms_webhook_deliveries',
    'event_failures',
    'event_handlings',
    'domain_events',
    'repair_order_settings',
    'repair_order_alerts',
    'repair_order_notices',
    'repair_order_decisions',
    'repair_order_items',
    'repair_order_requests',
    'repair_order_changes',
  ]) {
    await db.schema.dropTable(table).execute();
  }
  await db.schema.dropIndex('repair_orders_status_ready_idx').execute();
  await db.schema.dropIndex('repair_orders_dms_number_uq').execute();
  for (const [name] of [...REPAIR_ORDER_COLUMNS].reverse()) await db.schema.alterTable('repair_orders').dropColumn(name).execute();
}
