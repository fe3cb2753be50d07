import type { Kysely } from 'kysely';
import type { ChannelName, ComplaintRow, Database } from '../store/schema';
import { localDateOf } from '../domain/local-time';
import { loadComplaintBranch } from './branch';
import { addBusinessMinutes } from './business-hours';
import { isOpenStatus } from './model';
import { notifyStaff, queueGroupAlerts } from './staffing';
import { changeComplaint, findComplaint, insertEvents, type ComplaintActor, type EventInput } from './tickets';

/*
 * What the customer's side of a complaint does to the ticket: the visits they can say it is about, their
 * messages and photos while a person handles it, and their answers once staff say it is resolved.
 */

export interface Visit {
  kind: 'ro' | 'bk';
  id: string;
  /** What the customer recognises: the repair order number or the booking reference. */
  reference: string;
  /** The local date of the visit, in the dealership's zone. */
  date: string;
}

const VISITS_SHOWN = 5;
const VISIT_DAYS_BACK = 180;

/**
 * The customer's recent visits, newest first: repair orders, and bookings that did not become one (a
 * booking that was checked in is its repair order). At most five, within half a year.
 */
export async function recentVisits(db: Kysely<Database>, customerId: string, now: Date, timeZone: string): Promise<Visit[]> {
  const since = new Date(now.getTime() - VISIT_DAYS_BACK * 86_400_000).toISOString();
  const [orders, appointments] = await Promise.all([
    db
      .selectFrom('repair_orders')
      .select(['id', 'number', 'appointment_id', 'created_at'])
      .where('customer_id', '=', customerId)
      .where('created_at', '>=', since)
      .orderBy('created_at', 'desc')
      .limit(VISITS_SHOWN)
      .execute(),
    db
      .selectFrom('appointments')
      .select(['id', 'reference', 'starts_at', 'local_date'])
      .where('customer_id', '=', customerId)
      .where('starts_at', '>=', since)
      .where('status', 'in', ['booked', 'checked_in', 'completed'])
      .orderBy('starts_at', 'desc')
      .limit(VISITS_SHOWN)
      .execute(),
  ]);
  const withOrder = new Set(orders.map((o) => o.appointment_id).filter((id): id is string => id !== null));
  const visits: (Visit & { at: string })[] = [
    ...orders.map((o) => ({ kind: 'ro' as const, id: o.id, reference: o.number, date: localDateOf(new Date(o.created_at), timeZone), at: o.created_at })),
    ...appointments.filter((a) => !withOrder.has(a.id)).map((a) => ({ kind: 'bk' as const, id: a.id, reference: a.reference, date: a.local_date, at: a.starts_at })),
  ];
  return visits
    .sort((a, b) => (a.at < b.at ? 1 : -1))
    .slice(0, VISITS_SHOWN)
    .map(({ at: _at, ...v }) => v);
}

export interface CustomerSaid {
  customerId: string;
  label: string | null;
  channel: ChannelName;
  /** A message as typed, or a photo in the blob store, or what could not be kept (a photo lost on the way, a sticker). */
  text?: string | null;
  blobKey?: string | null;
}

function customerActor(said: CustomerSaid): ComplaintActor {
  return { type: 'customer', id: said.customerId, label: said.label, channel: said.channel };
}

/**
 * A customer's message while a person handles their ticket: kept in its timeline, and the person told.
 * A ticket waiting for the customer goes back to its handler; a closed one is left alone (the customer is
 * talking about something else now).
 */
export async function noteCustomerMessage(db: Kysely<Database>, complaintId: string, said: CustomerSaid, now: string): Promise<void> {
  const complaint = await findComplaint(db, complaintId);
  if (!complaint || complaint.customer_id !== said.customerId || !isOpenStatus(complaint.status)) return;
  const event: EventInput = said.blobKey ? { kind: 'customer_photo', actor: customerActor(said), blobKey: said.blobKey } : { kind: 'customer_message', actor: customerActor(said), text: said.text ?? null };
  if (complaint.status === 'waiting_customer') {
    await changeComplaint(db, complaint, { status: complaint.assignee_id ? 'assigned' : 'new' }, { ...event, details: { status: { from: 'waiting_customer', to: complaint.assignee_id ? 'assigned' : 'new' } } }, now);
  } else {
    await insertEvents(db, complaint.id, [event], now);
  }
  if (complaint.assignee_id) {
    const unread = await db
      .selectFrom('staff_notifications')
      .select('id')
      .where('staff_id', '=', complaint.assignee_id)
      .where('complaint_id', '=', complaint.id)
      .where('kind', '=', 'message')
      .where('read_at', 'is', null)
      .executeTakeFirst();
    if (!unread) await notifyStaff(db, [complaint.assignee_id], complaint.id, 'message', now);
  }
}

export type ResolutionAnswer =
  | { ok: true; complaint: ComplaintRow }
  /** Not this customer's, or no longer waiting for their answer (already confirmed, closed, reopened). */
  | { ok: false; reason: 'not_found' | 'not_waiting' };

async function resolvedTicketOf(db: Kysely<Database>, complaintId: string, customerId: string, accept: (c: ComplaintRow) => boolean): Promise<ComplaintRow | ResolutionAnswer> {
  const complaint = await findComplaint(db, complaintId);
  if (!complaint || complaint.customer_id !== customerId) return { ok: false, reason: 'not_found' };
  if (!accept(complaint)) return { ok: false, reason: 'not_waiting' };
  return complaint;
}

/**
 * The customer's answer to "is it resolved?". Yes: noted, and the rating is asked next. Not yet: the
 * ticket is reopened with a fresh resolution deadline, back with its handler, who is told at once (in the
 * console and the staff groups).
 */
export async function answerResolution(db: Kysely<Database>, complaintId: string, said: CustomerSaid, resolved: boolean, now: Date): Promise<ResolutionAnswer> {
  const found = await resolvedTicketOf(db, complaintId, said.customerId, (c) => c.status === 'resolved' && c.customer_confirmed === null);
  if ('ok' in found) return found;
  const nowIso = now.toISOString();
  const actor = customerActor(said);
  if (resolved) {
    const complaint = await changeComplaint(db, found, { customer_confirmed: 'yes' }, { kind: 'confirmed', actor }, nowIso);
    return { ok: true, complaint };
  }
  const branch = await loadComplaintBranch(db, found.branch_id);
  const due = branch ? new Date(addBusinessMinutes(branch.calendar, now.getTime(), branch.settings.resolutionMinutes)).toISOString() : found.resolution_due_at;
  const complaint = await changeComplaint(
    db,
    found,
    { status: 'reopened', customer_confirmed: 'no', reopened_count: found.reopened_count + 1, resolved_at: null, resolution_due_at: due, resolution_escalated_at: null },
    { kind: 'reopened', actor, details: { status: { from: 'resolved', to: 'reopened' } } },
    nowIso,
  );
  if (found.assignee_id) await notifyStaff(db, [found.assignee_id], found.id, 'reopened', nowIso);
  if (branch) await queueGroupAlerts(db, branch.settings, found.id, 'reopened', nowIso);
  return { ok: true, complaint };
}

/** The customer's 1–5 rating of how the complaint was handled; it closes the ticket. */
export async function rateHandling(db: Kysely<Database>, complaintId: string, said: CustomerSaid, score: number, now: Date): Promise<ResolutionAnswer> {
  const found = await resolvedTicketOf(db, complaintId, said.customerId, (c) => c.status === 'resolved' && c.rating === null);
  if ('ok' in found) return found;
  const nowIso = now.toISOString();
  const complaint = await changeComplaint(
    db,
    found,
    { rating: score, status: 'closed', closed_at: nowIso, customer_confirmed: found.customer_confirmed ?? 'yes' },
    { kind: 'rated', actor: customerActor(said), details: { rating: score, status: { from: 'resolved', to: 'closed' } } },
    nowIso,
  );
  return { ok: true, complaint };
}
