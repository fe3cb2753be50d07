import type { Kysely } from 'kysely';
import type { ChannelName, Database } from './schema';

/** True when this platform event was already handled (a redelivery). */
export async function isEventProcessed(db: Kysely<Database>, channel: ChannelName, eventId: string): Promise<boolean> {
  const row = await db.selectFrom('processed_events').select('event_id').where('channel', '=', channel).where('event_id', '=', eventId).executeTakeFirst();
  return row !== undefined;
}

/**
 * Records that a platform event is handled, in the same transaction as its effects, so "handled" and
 * "effects saved" are one fact. A second claim of the same event fails on the primary key (see
 * isUniqueViolation(err, 'processed_events')) and takes the whole transaction with it.
 */
export async function claimEvent(db: Kysely<Database>, channel: ChannelName, eventId: string, now: string): Promise<void> {
  await db.insertInto('processed_events').values({ channel, event_id: eventId, received_at: now }).execute();
}

/**
 * claimEvent for several events in one statement (SQLite and Postgres: it returns rows). Returns the
 * `channel:eventId` of those claimed now; one handled before is left out, for the caller to skip.
 */
export async function claimEvents(db: Kysely<Database>, events: readonly { channel: ChannelName; eventId: string }[], now: string): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const rows = await db
    .insertInto('processed_events')
    .values(events.map((e) => ({ channel: e.channel, event_id: e.eventId, received_at: now })))
    .onConflict((oc) => oc.columns(['channel', 'event_id']).doNothing())
    .returning(['channel', 'event_id'])
    .execute();
  return new Set(rows.map((r) => `${r.channel}:${r.event_id}`));
}

/** Forgets events older than `before`; platforms stop redelivering long before (LINE and Telegram: hours). */
export async function pruneProcessedEvents(db: Kysely<Database>, before: string): Promise<number> {
  const result = await db.deleteFrom('processed_events').where('received_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
