import type { Kysely } from 'kysely';

/*
 * The reminder pass (src/booking/reminders.ts) looks every minute for booked visits starting in the next two
 * days: `status = 'booked' and starts_at > ? and starts_at <= ?`, once for the visits and once for the
 * reminders already sent for them. The existing indexes lead with the branch or the customer, so without
 * this one every pass reads every appointment ever booked. Status first (equality), then the start (range):
 * the pass reads only the visits in its window, on SQLite, D1 and Postgres alike.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('appointments_status_start_idx').on('appointments').columns(['status', 'starts_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('appointments_status_start_idx').execute();
}
