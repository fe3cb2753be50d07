import type { Kysely } from 'kysely';
import type { ChannelName, Database } from './schema';

/**
 * Records that a platform event is being handled. False when it was handled before (a redelivery):
 * the row is written in the same transaction as the event's effects, so "handled" and "effects saved"
 * are one fact.
 */
export async function claimEvent(db: Kysely<Database>, channel: ChannelName, eventId: string, now: string): Promise<boolean> {
  const result = await db
    .insertInto('processed_events')
    .values({ channel, event_id: eventId, received_at: now })
    .onConflict((oc) => oc.columns(['channel', 'event_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

/** Forgets events older than `before`; platforms stop redelivering long before (LINE and Telegram: hours). */
export async function pruneProcessedEvents(db: Kysely<Database>, before: string): Promise<number> {
  const result = await db.deleteFrom('processed_events').where('received_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
