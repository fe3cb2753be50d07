import type { Kysely } from 'kysely';
import type { ChannelName, ComplaintRow, ComplaintStatus, Database } from '../store/schema';
import type { Principal } from '../staff/permissions';
import { isOpenStatus } from './model';
import { notifyStaff, type StaffRef } from './staffing';
import { changeComplaint, insertEvents, type ComplaintActor } from './tickets';

/*
 * What staff do to a ticket, inside the caller's transaction: answer, take or assign it, write a note,
 * resolve, close or reopen it. Each change moves the ticket's version on and is written into its timeline
 * (see changeComplaint); the staff service around these checks who may do it and writes the audit entry.
 */

/** A staff member or an integration's token, as a ticket's timeline names them. */
export function complaintActorOf(principal: Principal | { kind: 'system' | 'cli'; label: string }): ComplaintActor {
  if (principal.kind === 'staff') return { type: 'staff', id: principal.id, label: principal.name };
  if (principal.kind === 'api_token') return { type: 'api_token', id: principal.id, label: principal.name };
  return { type: 'system', label: principal.label };
}

/**
 * A staff message (or photo) to the customer: its first response when it is the first, and the ticket
 * now waits for the customer. A staff member answering a ticket nobody holds takes it.
 */
export async function recordStaffReply(db: Kysely<Database>, complaint: ComplaintRow, actor: ComplaintActor, said: { text?: string; blobKey?: string; channel: ChannelName }, now: string): Promise<ComplaintRow> {
  const takes = actor.type === 'staff' && complaint.assignee_id === null;
  const status: ComplaintStatus = isOpenStatus(complaint.status) ? 'waiting_customer' : complaint.status;
  const event = said.blobKey ? { kind: 'staff_photo' as const, blobKey: said.blobKey } : { kind: 'staff_message' as const, text: said.text ?? '' };
  return changeComplaint(
    db,
    complaint,
    {
      status,
      first_responded_at: complaint.first_responded_at ?? now,
      ...(takes && actor.type === 'staff' ? { assignee_id: actor.id, assigned_at: now } : {}),
    },
    { ...event, actor, details: { channel: said.channel, ...(status !== complaint.status ? { status: { from: complaint.status, to: status } } : {}), ...(takes ? { took: true } : {}) } },
    now,
  );
}

/** Gives the ticket to `to` (taken by themselves, or assigned by someone else, who is then notified). */
export async function assignComplaint(db: Kysely<Database>, complaint: ComplaintRow, to: StaffRef, actor: ComplaintActor, now: string): Promise<ComplaintRow> {
  const status: ComplaintStatus = complaint.status === 'new' ? 'assigned' : complaint.status;
  const self = actor.type === 'staff' && actor.id === to.id;
  const changed = await changeComplaint(
    db,
    complaint,
    { assignee_id: to.id, assigned_at: now, status },
    { kind: 'assigned', actor, details: { to: to.id, toName: to.name, from: complaint.assignee_id, how: self ? 'taken' : 'assigned', ...(status !== complaint.status ? { status: { from: complaint.status, to: status } } : {}) } },
    now,
  );
  if (!self) await notifyStaff(db, [to.id], complaint.id, 'assigned', now);
  return changed;
}

/** An internal note: for staff only, never sent to the customer. */
export async function addNote(db: Kysely<Database>, complaint: ComplaintRow, actor: ComplaintActor, text: string, now: string): Promise<void> {
  await insertEvents(db, complaint.id, [{ kind: 'note', actor, text }], now);
}

/** Records how the complaint was resolved; the customer is asked next whether it is (see the staff service). */
export async function markResolved(db: Kysely<Database>, complaint: ComplaintRow, actor: ComplaintActor, resolution: string, now: string): Promise<ComplaintRow> {
  return changeComplaint(
    db,
    complaint,
    { status: 'resolved', resolution, resolved_at: now, customer_confirmed: null, rating: null },
    { kind: 'resolved', actor, text: resolution, details: { status: { from: complaint.status, to: 'resolved' } } },
    now,
  );
}

/** Closes a ticket that needs nothing more (a duplicate, a customer who said thanks by phone). */
export async function closeComplaint(db: Kysely<Database>, complaint: ComplaintRow, actor: ComplaintActor, now: string): Promise<ComplaintRow> {
  return changeComplaint(db, complaint, { status: 'closed', closed_at: now }, { kind: 'closed', actor, details: { status: { from: complaint.status, to: 'closed' } } }, now);
}

/** Opens a resolved or closed ticket again, back with its handler. */
export async function reopenComplaint(db: Kysely<Database>, complaint: ComplaintRow, actor: ComplaintActor, now: string): Promise<ComplaintRow> {
  return changeComplaint(
    db,
    complaint,
    { status: 'reopened', closed_at: null, resolved_at: null, reopened_count: complaint.reopened_count + 1 },
    { kind: 'reopened', actor, details: { status: { from: complaint.status, to: 'reopened' } } },
    now,
  );
}
