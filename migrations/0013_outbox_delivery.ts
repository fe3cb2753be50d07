import type { Kysely } from 'kysely';

/*
 * What the outbox needs to deliver a message once and in order when a process dies mid-send, and when
 * several instances share one database:
 *
 * - `claimed_by`: the instance that claimed a row while it is 'sending', so others can take it back as
 *   soon as that instance is known to be dead instead of waiting out the lease.
 * - `reply_attempted_at`: set when a row holding a LINE reply token is claimed, before any request, so a
 *   later attempt knows a reply may already have reached LINE (LINE gives a reply no retry key).
 * - `parts_sent`: how many platform requests of a row's delivery were accepted (a long text split into
 *   several Telegram messages, or a LINE reply followed by a push), so a retry resumes after them.
 * - `sent_via`: how the row went out ('reply', 'push', 'local', or 'reply-assumed' when LINE refused a
 *   still-valid reply token that an earlier attempt may have used), and `possible_duplicate` when it went
 *   out as a push after a reply attempt that may also have arrived.
 * - `rate_limited`: how many of `attempts` the platform answered 429; they are its pacing, not failures,
 *   and do not count toward giving up.
 * - `instances`: one row per running instance with its last heartbeat.
 * - An index on the recipient, for the check that a row has no earlier unsent row of the same recipient.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('outbox').addColumn('claimed_by', 'text').execute();
  await db.schema.alterTable('outbox').addColumn('reply_attempted_at', 'text').execute();
  await db.schema.alterTable('outbox').addColumn('parts_sent', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('outbox').addColumn('sent_via', 'text').execute();
  await db.schema.alterTable('outbox').addColumn('possible_duplicate', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('outbox').addColumn('rate_limited', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.createIndex('outbox_recipient_idx').on('outbox').columns(['channel', 'external_id', 'status', 'id']).execute();

  await db.schema
    .createTable('instances')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('heartbeat_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('instances').execute();
  await db.schema.dropIndex('outbox_recipient_idx').execute();
  for (const column of ['rate_limited', 'possible_duplicate', 'sent_via', 'parts_sent', 'reply_attempted_at', 'claimed_by']) {
    await db.schema.alterTable('outbox').dropColumn(column).execute();
  }
}
