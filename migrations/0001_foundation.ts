import { sql, type Kysely } from 'kysely';
import { isPostgres, withSerialId } from './helpers';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('customers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('display_name', 'text')
    .addColumn('phone', 'text')
    .addColumn('locale', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull().defaultTo('prospect'))
    .addColumn('notes', 'text')
    .addColumn('consent_at', 'text')
    .addColumn('opted_out_at', 'text')
    .addColumn('erased_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('customers_phone_idx').on('customers').column('phone').execute();

  await db.schema
    .createTable('channel_identities')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text')
    .addColumn('reachable', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('unreachable_since', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('channel_identities_channel_external_uq', ['channel', 'external_id'])
    .execute();
  await db.schema.createIndex('channel_identities_customer_idx').on('channel_identities').column('customer_id').execute();

  await db.schema
    .createTable('vehicles')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
    .addColumn('plate', 'text', (c) => c.notNull())
    .addColumn('plate_normalized', 'text', (c) => c.notNull())
    .addColumn('make', 'text')
    .addColumn('model', 'text')
    .addColumn('year', 'integer')
    .addColumn('vin', 'text')
    .addColumn('mileage_km', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('vehicles_plate_idx').on('vehicles').column('plate_normalized').execute();
  await db.schema.createIndex('vehicles_customer_idx').on('vehicles').column('customer_id').execute();

  await db.schema
    .createTable('conversations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'text', (c) => c.notNull().unique().references('customers.id'))
    .addColumn('flow', 'text')
    .addColumn('step', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('state_version', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  // A save must move the version on by exactly one from what the writer read; anything else means another
  // writer got there first. Enforced here rather than in a WHERE clause so it also holds for writes that
  // are applied as one batch without reading affected-row counts (D1).
  if (isPostgres(db)) {
    await sql`create function conversations_version_guard() returns trigger language plpgsql as $$
      begin
        if new.version <> old.version + 1 then
          raise exception 'conversation version conflict' using errcode = '40001';
        end if;
        return new;
      end $$`.execute(db);
    await sql`create trigger conversations_version_guard before update of version on conversations
      for each row execute function conversations_version_guard()`.execute(db);
  } else {
    await sql`create trigger conversations_version_guard before update of version on conversations
      when new.version <> old.version + 1
      begin select raise(abort, 'conversation version conflict'); end`.execute(db);
  }

  // Events are written here when a webhook arrives and answered 200 only after that; the engine works
  // through them afterwards, oldest first per customer. The unique key drops platform redeliveries.
  await withSerialId(db, db.schema.createTable('inbound_events'))
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('processed_at', 'text')
    .addUniqueConstraint('inbound_events_channel_event_uq', ['channel', 'event_id'])
    .execute();
  await db.schema.createIndex('inbound_events_pending_idx').on('inbound_events').columns(['status', 'channel', 'external_id', 'id']).execute();
  await db.schema.createIndex('inbound_events_received_idx').on('inbound_events').column('received_at').execute();

  await db.schema
    .createTable('processed_events')
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('processed_events_pk', ['channel', 'event_id'])
    .execute();
  await db.schema.createIndex('processed_events_received_idx').on('processed_events').column('received_at').execute();

  await withSerialId(db, db.schema.createTable('outbox'))
    .addColumn('key', 'text', (c) => c.notNull().unique())
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('reply_token', 'text')
    .addColumn('reply_token_expires_at', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('lease_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('staff_user_id', 'text')
    .addColumn('flow', 'text')
    .addColumn('step', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .execute();
  await db.schema.createIndex('outbox_status_due_idx').on('outbox').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('outbox_customer_idx').on('outbox').columns(['customer_id', 'id']).execute();

  await withSerialId(db, db.schema.createTable('messages'))
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('sender', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('text', 'text')
    .addColumn('payload', 'text')
    .addColumn('flow', 'text')
    .addColumn('step', 'text')
    .addColumn('event_id', 'text')
    .addColumn('outbox_id', 'integer')
    .addColumn('staff_user_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('messages_customer_idx').on('messages').columns(['customer_id', 'id']).execute();

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('branches')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('address', 'text')
    .addColumn('phone', 'text')
    .addColumn('map_url', 'text')
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('opening_hours', 'text', (c) => c.notNull())
    .addColumn('holidays', 'text', (c) => c.notNull())
    .addColumn('is_demo', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    await sql`drop trigger conversations_version_guard on conversations`.execute(db);
    await sql`drop function conversations_version_guard()`.execute(db);
  }
  for (const table of ['branches', 'settings', 'messages', 'outbox', 'processed_events', 'inbound_events', 'conversations', 'vehicles', 'channel_identities', 'customers']) {
    await db.schema.dropTable(table).execute();
  }
}
