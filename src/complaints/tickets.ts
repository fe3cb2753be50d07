import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../store/errors';
import type { ChannelName, ComplaintEventKind, ComplaintEventRow, ComplaintRow, ComplaintsTable, Database } from '../store/schema';
import { OPEN_STATUSES } from './model';

/*
 * Complaint tickets and their timelines in the store. Everything runs on a Kysely instance or a
 * transaction the caller owns, reads before it writes and never reads back what it wrote (D1).
 */

/** Who did something to a ticket, as its timeline names them. */
export type ComplaintActor =
  | { type: 'customer'; id: string; label: string | null; channel: ChannelName | null }
  | { type: 'staff'; id: string; label: string }
  | { type: 'api_token'; id: string; label: string }
  | { type: 'system'; label?: string };

export interface EventInput {
  kind: ComplaintEventKind;
  actor: ComplaintActor;
  text?: string | null;
  blobKey?: string | null;
  details?: Record<string, unknown> | null;
}

function eventRow(complaintId: string, event: EventInput, now: string, version: number | null) {
  const { actor } = event;
  return {
    complaint_id: complaintId,
    kind: event.kind,
    actor_type: actor.type,
    actor_id: actor.type === 'system' ? null : actor.id,
    actor_label: actor.type === 'system' ? (actor.label ?? null) : actor.label,
    channel: actor.type === 'customer' ? actor.channel : null,
    text: event.text ?? null,
    blob_key: event.blobKey ?? null,
    details: event.details ? JSON.stringify(event.details) : null,
    version,
    created_at: now,
  };
}

/**
 * Adds entries to a ticket's timeline. `firstVersion` is the ticket version the first entry made, when it
 * changed the ticket (see changeComplaint); the others leave it as it was (a message, a note).
 */
export async function insertEvents(db: Kysely<Database>, complaintId: string, events: readonly EventInput[], now: string, firstVersion: number | null = null): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('complaint_events')
    .values(events.map((e, i) => eventRow(complaintId, e, now, i === 0 ? firstVersion : null)))
    .execute();
}

/**
 * Changes a ticket read at `current.version` and writes what changed it into its timeline, under the new
 * version's unique key: when two changes race from the same version, the second fails as a whole
 * (`isComplaintConflict`), on every database including D1, where no row count can tell.
 */
export async function changeComplaint(
  db: Kysely<Database>,
  current: ComplaintRow,
  changes: Partial<Omit<ComplaintsTable, 'id' | 'version' | 'created_at' | 'updated_at'>>,
  event: EventInput,
  now: string,
  more: readonly EventInput[] = [],
): Promise<ComplaintRow> {
  const version = current.version + 1;
  await db
    .updateTable('complaints')
    .set({ ...changes, version, updated_at: now })
    .where('id', '=', current.id)
    .execute();
  await insertEvents(db, current.id, [event, ...more], now, version);
  return { ...current, ...changes, version, updated_at: now };
}

/** Another change of the same ticket committed first; the caller reads again (staff see "changed meanwhile"). */
export function isComplaintConflict(err: unknown): boolean {
  return isUniqueViolation(err, 'complaint_events');
}

export async function findComplaint(db: Kysely<Database>, id: string): Promise<ComplaintRow | null> {
  return (await db.selectFrom('complaints').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
}

export async function findComplaintByReference(db: Kysely<Database>, reference: string): Promise<ComplaintRow | null> {
  return (await db.selectFrom('complaints').selectAll().where('reference', '=', reference).executeTakeFirst()) ?? null;
}

/** The customer's most recent ticket someone still owes an answer, or null. */
export async function openComplaintOf(db: Kysely<Database>, customerId: string): Promise<ComplaintRow | null> {
  return (
    (await db
      .selectFrom('complaints')
      .selectAll()
      .where('customer_id', '=', customerId)
      .where('status', 'in', OPEN_STATUSES)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst()) ?? null
  );
}

/** A ticket's timeline, oldest first; `afterId` for what a live page has not seen yet. */
export async function complaintEvents(db: Kysely<Database>, complaintId: string, afterId = 0, limit = 500): Promise<ComplaintEventRow[]> {
  return db.selectFrom('complaint_events').selectAll().where('complaint_id', '=', complaintId).where('id', '>', afterId).orderBy('id', 'asc').limit(limit).execute();
}
