import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // One row per reminder sent, keyed by the appointment's start: a moved booking is reminded again for its
  // new time, and no reminder can go out twice for the same time (the key refuses the second).
  await db.schema
    .createTable('appointment_reminders')
    .addColumn('appointment_id', 'text', (c) => c.notNull().references('appointments.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('starts_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('appointment_reminders_pk', ['appointment_id', 'kind', 'starts_at'])
    .execute();
  // "I'll be there", pressed on a reminder: the advisor sees who has confirmed.
  await db.schema.alterTable('appointments').addColumn('customer_confirmed_at', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('appointments').dropColumn('customer_confirmed_at').execute();
  await db.schema.dropTable('appointment_reminders').execute();
}
