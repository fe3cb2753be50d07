import { sql, type Kysely } from 'kysely';
import type { InboundEvent } from '../channels/types';
import type { ChannelName, Database, InboundEventRow } from './schema';

/** Events per insert: D1 binds at most 100 parameters a statement, and each event binds six. */
export const EVENTS_PER_INSERT = 16;

/**
 * Keeps events that arrived on webhooks, in the order given; for each, false when the platform had
 * already delivered it (same channel and event id, earlier or in this same call). Runs outside any
 * transaction, so the answer is known before the webhook is acknowledged. Events are written several
 * to a statement, which is most of what keeping a busy stream of webhooks costs.
 */
export async function acceptEvents(db: Kysely<Database>, events: readonly InboundEvent[], now: string): Promise<boolean[]> {
  const keys = events.map((e) => `${e.channel}\u0000${e.eventId}`);
  // A repeat within the call is a repeat: only each key's first event is offered to the database.
  const first = keys.map((k, i) => keys.indexOf(k) === i);
  const distinct = events.filter((_, i) => first[i]);
  const inserted = new Set<string>();
  for (let i = 0; i < distinct.length; i += EVENTS_PER_INSERT) {
    const rows = await db
      .insertInto('inbound_events')
      .values(
        distinct.slice(i, i + EVENTS_PER_INSERT).map((event) => ({
          channel: event.channel,
          event_id: event.eventId,
          external_id: event.externalId,
          payload: JSON.stringify(event),
          status: sql.lit('pending'),
          attempts: sql.lit(0),
          next_attempt_at: now,
          last_error: sql.lit(null),
          received_at: now,
          processed_at: sql.lit(null),
        })),
      )
      .onConflict((oc) => oc.columns(['channel', 'event_id']).doNothing())
      .returning(['channel', 'event_id'])
      .execute();
    for (const row of rows) inserted.add(`${row.channel}\u0000${row.event_id}`);
  }
  return keys.map((k, i) => first[i]! && inserted.has(k));
}

/** The oldest event of one customer still waiting, or undefined when their queue is empty. */
export async function headOfQueue(db: Kysely<Database>, channel: ChannelName, externalId: string): Promise<InboundEventRow | undefined> {
  return db
    .selectFrom('inbound_events')
    .selectAll()
    .where('status', '=', 'pending')
    .where('channel', '=', channel)
    .where('external_id', '=', externalId)
    .orderBy('id', 'asc')
    .limit(1)
    .executeTakeFirst();
}

/**
 * The oldest events still waiting, oldest first, whether due or not: a customer whose first waiting event
 * is not due yet (a retry later) must not have later ones processed before it.
 */
export async function oldestPending(db: Kysely<Database>, limit: number): Promise<InboundEventRow[]> {
  return db.selectFrom('inbound_events').selectAll().where('status', '=', 'pending').orderBy('id', 'asc').limit(limit).execute();
}

/**
 * Marks waiting events done in the caller's transaction and returns the ids it marked: an event another
 * instance took (done, or locked by its transaction until it commits) is not among them.
 */
export async function takePending(db: Kysely<Database>, ids: readonly number[], now: string): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .updateTable('inbound_events')
    .set({ status: 'done', processed_at: now, last_error: null })
    .where('id', 'in', [...ids])
    .where('status', '=', 'pending')
    .returning('id')
    .execute();
  return new Set(rows.map((r) => Number(r.id)));
}

/** Customers with events waiting and due, longest-waiting first. */
export async function customersWithPendingEvents(db: Kysely<Database>, now: string, limit: number): Promise<{ channel: ChannelName; external_id: string }[]> {
  return db
    .selectFrom('inbound_events')
    .select(['channel', 'external_id', sql<number>`min(id)`.as('first')])
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .groupBy(['channel', 'external_id'])
    .orderBy('first', 'asc')
    .limit(limit)
    .execute();
}

export async function markEventDone(db: Kysely<Database>, id: number, now: string): Promise<void> {
  await db.updateTable('inbound_events').set({ status: 'done', processed_at: now, last_error: null }).where('id', '=', id).execute();
}

/**
 * Records a failed attempt (the store itself failing: a step's own bug is answered with an apology and
 * counts as done). After `maxAttempts` the event is kept as failed for staff rather than retried forever.
 */
export async function markEventAttemptFailed(db: Kysely<Database>, row: InboundEventRow, error: string, retryAt: string, maxAttempts: number): Promise<void> {
  const attempts = row.attempts + 1;
  await db
    .updateTable('inbound_events')
    .set({ attempts, last_error: error.slice(0, 1000), next_attempt_at: retryAt, status: attempts >= maxAttempts ? 'failed' : 'pending' })
    .where('id', '=', row.id)
    .execute();
}

/** Depth and age of what is waiting, for /metrics. */
export async function inboxStats(db: Kysely<Database>): Promise<{ channel: ChannelName; count: number; oldest: string | null }[]> {
  const rows = await db
    .selectFrom('inbound_events')
    .select(['channel', sql<number>`count(*)`.as('count'), sql<string | null>`min(received_at)`.as('oldest')])
    .where('status', '=', 'pending')
    .groupBy('channel')
    .execute();
  return rows.map((r) => ({ channel: r.channel, count: Number(r.count), oldest: r.oldest }));
}

/** Forgets handled events older than `before`; platforms stop redelivering within hours. */
export async function pruneInbox(db: Kysely<Database>, before: string): Promise<number> {
  const result = await db.deleteFrom('inbound_events').where('status', '=', 'done').where('received_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
