import type { Kysely } from 'kysely';
import type { Reply, TextRef } from '../channels/types';
import { newId } from '../ids';
import type { Locale } from '../i18n/locales';
import type { ChannelName, ComplaintCategory, ComplaintPriority, ComplaintRow, ComplaintSource, Database } from '../store/schema';
import { branchOfCustomer, loadComplaintBranch, type ComplaintBranch } from './branch';
import { addBusinessMinutes, isOpenAt } from './business-hours';
import { newComplaintReference } from './model';
import { notifyStaff, queueGroupAlerts, staffOfBranch, takeNextAssignee, type StaffRef } from './staffing';
import { insertEvents, type ComplaintActor, type EventInput } from './tickets';

/*
 * Opening a ticket, from wherever a customer's complaint comes: the intake flow, "talk to a person", a low
 * survey score, or staff. One transaction (the caller's) writes the ticket, its first timeline entries, the
 * assignment to the next care staff member on duty, their console notice and the staff group alerts.
 */

export interface OpenComplaintInput {
  customerId: string;
  /** The branch; by default the branch of the customer's latest visit (or of the visit the complaint is about). */
  branchId?: string | null;
  source: ComplaintSource;
  channel: ChannelName | null;
  category: ComplaintCategory | null;
  appointmentId?: string | null;
  repairOrderId?: string | null;
  /** The customer's words, one entry per message they sent (each is kept in the timeline as written). */
  messages?: readonly string[];
  /** Photos already in the blob store. */
  photoKeys?: readonly string[];
  priority: ComplaintPriority;
  contactMethod: 'chat' | 'phone';
  /** Who opened it, as the timeline names them (the customer, or staff opening it for them). */
  actor: ComplaintActor;
}

export interface OpenedComplaint {
  id: string;
  reference: string;
  branch: ComplaintBranch;
  assignee: StaffRef | null;
  /** UTC ISO. */
  firstResponseDueAt: string;
  /** What the customer can honestly be told about when a person answers. */
  expectation: AnswerExpectation;
  /** The ticket as written (it cannot be read back within the transaction on D1). */
  row: ComplaintRow;
}

/**
 * When a person will answer, said honestly: within the branch's response time while it is open and that
 * time ends before it closes, otherwise by the moment the business-hours deadline falls on (tomorrow
 * morning, Monday at 09:30).
 */
export type AnswerExpectation = { kind: 'within'; minutes: number } | { kind: 'by'; at: string; timeZone: string };

export function answerExpectation(branch: ComplaintBranch, now: number, dueAt: number): AnswerExpectation {
  const minutes = branch.settings.firstResponseMinutes;
  if (isOpenAt(branch.calendar, now) && dueAt - now <= minutes * 60_000 + 1000) return { kind: 'within', minutes };
  return { kind: 'by', at: new Date(dueAt).toISOString(), timeZone: branch.calendar.timeZone };
}

/** The expectation as words for the customer: a key of the complaint texts with its parameters. */
export function expectationText(expectation: AnswerExpectation, locale: Locale): TextRef {
  if (expectation.kind === 'within') return { key: 'complaint:expect.within', params: { minutes: expectation.minutes } };
  const when = new Intl.DateTimeFormat(locale, { timeZone: expectation.timeZone, weekday: 'long', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(expectation.at));
  return { key: 'complaint:expect.by', params: { when } };
}

/** Joins what the customer wrote into the ticket's description, as they wrote it. */
export function joinedDescription(messages: readonly string[]): string {
  return messages.map((m) => m.trim()).filter(Boolean).join('\n\n');
}

/** Opens a ticket; see the file comment. Null only when the dealership has no branch at all. */
export async function openComplaint(db: Kysely<Database>, input: OpenComplaintInput, now: Date): Promise<OpenedComplaint | null> {
  const nowIso = now.toISOString();
  const branchId = input.branchId ?? (await branchOfVisit(db, input)) ?? (await branchOfCustomer(db, input.customerId));
  const branch = branchId ? await loadComplaintBranch(db, branchId) : null;
  if (!branch) return null;
  const firstDue = addBusinessMinutes(branch.calendar, now.getTime(), branch.settings.firstResponseMinutes);
  const resolutionDue = addBusinessMinutes(branch.calendar, now.getTime(), branch.settings.resolutionMinutes);
  const assignee = await takeNextAssignee(db, branch.id, nowIso);
  const careStaff = assignee ? [] : await staffOfBranch(db, branch.id, 'care');

  const messages = input.messages ?? [];
  const row: ComplaintRow = {
    id: newId(),
    reference: newComplaintReference(),
    branch_id: branch.id,
    customer_id: input.customerId,
    source: input.source,
    channel: input.channel,
    category: input.category,
    appointment_id: input.appointmentId ?? null,
    repair_order_id: input.repairOrderId ?? null,
    description: joinedDescription(messages),
    priority: input.priority,
    contact_method: input.contactMethod,
    status: assignee ? 'assigned' : 'new',
    assignee_id: assignee?.id ?? null,
    assigned_at: assignee ? nowIso : null,
    first_response_due_at: new Date(firstDue).toISOString(),
    first_responded_at: null,
    first_response_escalated_at: null,
    resolution_due_at: new Date(resolutionDue).toISOString(),
    resolution_escalated_at: null,
    resolved_at: null,
    resolution: null,
    customer_confirmed: null,
    rating: null,
    closed_at: null,
    reopened_count: 0,
    version: 1,
    created_at: nowIso,
    updated_at: nowIso,
  };
  await db.insertInto('complaints').values(row).execute();

  const customer: ComplaintActor = input.actor.type === 'customer' ? input.actor : { type: 'customer', id: input.customerId, label: null, channel: input.channel };
  const events: EventInput[] = [
    { kind: 'opened', actor: input.actor, details: { source: input.source, category: input.category, priority: input.priority, contactMethod: input.contactMethod } },
    ...messages.filter((m) => m.trim()).map((text): EventInput => ({ kind: 'customer_message', actor: customer, text })),
    ...(input.photoKeys ?? []).map((key): EventInput => ({ kind: 'customer_photo', actor: customer, blobKey: key })),
    ...(assignee ? [{ kind: 'assigned' as const, actor: { type: 'system' as const }, details: { to: assignee.id, toName: assignee.name, how: 'round_robin' } }] : []),
  ];
  // The first entry carries the ticket's version, like every later change.
  await insertEvents(db, row.id, events, nowIso, 1);

  if (assignee) await notifyStaff(db, [assignee.id], row.id, 'assigned', nowIso);
  else await notifyStaff(db, careStaff.map((s) => s.id), row.id, 'new', nowIso);
  await queueGroupAlerts(db, branch.settings, row.id, 'new', nowIso);

  return { id: row.id, reference: row.reference, branch, assignee, firstResponseDueAt: row.first_response_due_at, expectation: answerExpectation(branch, now.getTime(), firstDue), row };
}

/** The branch of the visit the complaint is about, when it names one. */
async function branchOfVisit(db: Kysely<Database>, input: OpenComplaintInput): Promise<string | null> {
  if (input.repairOrderId) {
    const order = await db.selectFrom('repair_orders').select('branch_id').where('id', '=', input.repairOrderId).executeTakeFirst();
    if (order) return order.branch_id;
  }
  if (input.appointmentId) {
    const appointment = await db.selectFrom('appointments').select('branch_id').where('id', '=', input.appointmentId).executeTakeFirst();
    if (appointment) return appointment.branch_id;
  }
  return null;
}

export interface SurveyComplaintInput {
  customerId: string;
  /** The overall satisfaction the customer gave, 1 (very dissatisfied) to 5. */
  score: number;
  /** What they wrote with it, if anything. */
  comment: string | null;
  appointmentId?: string | null;
  repairOrderId?: string | null;
  channel: ChannelName | null;
  locale: Locale;
}

/** Scores at or below this open a complaint: "dissatisfied" and "very dissatisfied". */
export const SURVEY_COMPLAINT_MAX_SCORE = 2;

/**
 * For the CSI survey: a low satisfaction score becomes a complaint a person follows up. Call it from the
 * survey's step with the step's transaction (`ctx.tx`) and clock; it opens a ticket (source `survey`,
 * high priority for "very dissatisfied"), assigns and alerts as any complaint, and returns the replies to
 * send the customer (an apology, the reference and when a person will be in touch). Returns null for a
 * score above SURVEY_COMPLAINT_MAX_SCORE, or when there is no branch.
 */
export async function openComplaintFromSurvey(db: Kysely<Database>, input: SurveyComplaintInput, now: Date): Promise<{ complaint: OpenedComplaint; replies: Reply[] } | null> {
  if (!Number.isInteger(input.score) || input.score > SURVEY_COMPLAINT_MAX_SCORE) return null;
  const complaint = await openComplaint(
    db,
    {
      customerId: input.customerId,
      source: 'survey',
      channel: input.channel,
      category: 'service_quality',
      appointmentId: input.appointmentId ?? null,
      repairOrderId: input.repairOrderId ?? null,
      messages: input.comment ? [input.comment] : [],
      priority: input.score <= 1 ? 'high' : 'normal',
      contactMethod: 'chat',
      actor: { type: 'customer', id: input.customerId, label: null, channel: input.channel },
    },
    now,
  );
  if (!complaint) return null;
  return {
    complaint,
    replies: [{ type: 'text', text: [{ key: 'complaint:survey.opened', params: { reference: complaint.reference } }, expectationText(complaint.expectation, input.locale)] }],
  };
}
