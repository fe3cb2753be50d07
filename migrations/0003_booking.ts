import type { Kysely } from 'kysely';

/*
 * Service booking: each branch's capacity (settings, service types, bays), the appointments, and the
 * claims that make a double booking impossible on every dialect.
 *
 * A booking claims, in `capacity_claims`, every 5-minute block its bay is busy, one advisor unit at its
 * start, one unit of the day's cap and a loaner car if asked for. The primary key makes a second claim on
 * the same unit a unique violation, which fails the whole transaction; that holds on Postgres, SQLite and
 * D1 alike (where a transaction is a batch that cannot read its own writes or count affected rows).
 * Likewise `appointment_changes` is keyed by (appointment, version): two changes made from the same
 * version cannot both commit, so a cancel racing a reschedule can never leave stray claims behind.
 */

export async function up(db: Kysely<any>): Promise<void> {
  // Settings live beside `branches` rather than on it: the branch row belongs to the foundation and the
  // console, a branch without booking settings still works (defaults apply), and this stays one row.
  await db.schema
    .createTable('branch_settings')
    .addColumn('branch_id', 'text', (c) => c.primaryKey().references('branches.id'))
    .addColumn('slot_interval_minutes', 'integer', (c) => c.notNull())
    .addColumn('min_notice_minutes', 'integer', (c) => c.notNull())
    .addColumn('horizon_days', 'integer', (c) => c.notNull())
    .addColumn('buffer_minutes', 'integer', (c) => c.notNull())
    .addColumn('advisors_per_slot', 'integer', (c) => c.notNull())
    .addColumn('daily_cap', 'integer', (c) => c.notNull())
    .addColumn('loaner_cars', 'integer', (c) => c.notNull())
    .addColumn('change_cutoff_hours', 'integer', (c) => c.notNull())
    .addColumn('reminder_day_before_at', 'text')
    .addColumn('reminder_hours_before', 'integer')
    .addColumn('quiet_hours_start', 'text')
    .addColumn('quiet_hours_end', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('service_types')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('branch_id', 'text', (c) => c.notNull().references('branches.id'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('duration_minutes', 'integer', (c) => c.notNull())
    .addColumn('names', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('sort_order', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('service_types_branch_code_uq', ['branch_id', 'code'])
    .execute();

  await db.schema
    .createTable('bays')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('branch_id', 'text', (c) => c.notNull().references('branches.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('service_types', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('sort_order', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('bays_branch_idx').on('bays').column('branch_id').execute();

  await db.schema
    .createTable('appointments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('branch_id', 'text', (c) => c.notNull().references('branches.id'))
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
    .addColumn('vehicle_id', 'text', (c) => c.references('vehicles.id'))
    .addColumn('service_type_id', 'text', (c) => c.notNull().references('service_types.id'))
    .addColumn('starts_at', 'text', (c) => c.notNull())
    .addColumn('ends_at', 'text', (c) => c.notNull())
    .addColumn('busy_until', 'text', (c) => c.notNull())
    .addColumn('local_date', 'text', (c) => c.notNull())
    .addColumn('bay_id', 'text', (c) => c.notNull().references('bays.id'))
    .addColumn('advisor_unit', 'integer', (c) => c.notNull())
    .addColumn('day_unit', 'integer', (c) => c.notNull())
    .addColumn('loaner_unit', 'integer')
    .addColumn('advisor_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('loaner_requested', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_by_staff_id', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('cancelled_at', 'text')
    .addColumn('checked_in_at', 'text')
    .addUniqueConstraint('appointments_reference_uq', ['reference'])
    .execute();
  // Availability reads one branch-day (or a range of days) at a time; the index carries every column that
  // read needs, so it never touches the table rows.
  await db.schema
    .createIndex('appointments_branch_day_idx')
    .on('appointments')
    .columns(['branch_id', 'local_date', 'status', 'bay_id', 'starts_at', 'busy_until', 'advisor_unit', 'day_unit', 'loaner_unit'])
    .execute();
  await db.schema.createIndex('appointments_customer_idx').on('appointments').columns(['customer_id', 'starts_at']).execute();

  await db.schema
    .createTable('capacity_claims')
    .addColumn('branch_id', 'text', (c) => c.notNull().references('branches.id'))
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('block_start', 'text', (c) => c.notNull())
    .addColumn('appointment_id', 'text', (c) => c.notNull().references('appointments.id'))
    .addPrimaryKeyConstraint('capacity_claims_pk', ['branch_id', 'resource', 'block_start'])
    .execute();
  await db.schema.createIndex('capacity_claims_appointment_idx').on('capacity_claims').column('appointment_id').execute();

  await db.schema
    .createTable('appointment_changes')
    .addColumn('appointment_id', 'text', (c) => c.notNull().references('appointments.id'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('channel', 'text')
    .addColumn('details', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('appointment_changes_pk', ['appointment_id', 'version'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['appointment_changes', 'capacity_claims', 'appointments', 'bays', 'service_types', 'branch_settings']) {
    await db.schema.dropTable(table).execute();
  }
}
