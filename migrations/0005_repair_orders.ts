import type { Kysely } from 'kysely';

/*
 * Repair orders: the workshop's job for one visit, opened when the customer checks in. The progress flow
 * moves it through the workshop's statuses; this migration makes the first piece.
 *
 * Numbers are what staff and customers quote ('RO-000123'): one sequence for the whole dealership, taken
 * as the highest so far plus one. Two check-ins racing for the same number both insert it and the unique
 * key lets only one commit; the other runs again on fresh reads. That holds on SQLite, Postgres and D1
 * alike, and needs no counter row a transaction would have to read back after writing.
 */

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('repair_orders')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('number', 'text', (c) => c.notNull())
    // One repair order per appointment; walk-ins have none (several nulls are allowed by a unique key).
    .addColumn('appointment_id', 'text', (c) => c.references('appointments.id'))
    .addColumn('branch_id', 'text', (c) => c.notNull().references('branches.id'))
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
    .addColumn('vehicle_id', 'text', (c) => c.references('vehicles.id'))
    .addColumn('advisor_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('mileage_in', 'integer')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('repair_orders_seq_uq', ['seq'])
    .addUniqueConstraint('repair_orders_number_uq', ['number'])
    .addUniqueConstraint('repair_orders_appointment_uq', ['appointment_id'])
    .execute();
  await db.schema.createIndex('repair_orders_branch_status_idx').on('repair_orders').columns(['branch_id', 'status', 'created_at']).execute();
  await db.schema.createIndex('repair_orders_customer_idx').on('repair_orders').columns(['customer_id', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('repair_orders').execute();
}
