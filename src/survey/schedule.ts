import type { Kysely } from 'kysely';
import { nextOpenAt, type BusinessCalendar } from '../complaints/business-hours';
import { afterQuietHours } from '../domain/reminder-times';
import { EVENT_TYPES, type Subscriber } from '../events/events';
import { newId } from '../ids';
import { loadBranchView } from '../repair-orders/subject';
import type { Database } from '../store/schema';
import { recomputeCategory } from './categories';
import { loadSurveySettings } from './settings';

/*
 * When a car is collected, its survey is written: due SURVEY_DELAY_MINUTES later (or the console's delay),
 * moved into the branch's opening hours and out of its quiet hours, so nobody is asked about their visit
 * at night or while the dealership could not answer a complaint. One per visit (the repair order is a
 * unique key); a customer who opted out gets none (a skipped row keeps the visit in the response rate's
 * reckoning honest: it was never sent, so it is not counted as unanswered).
 */

const MINUTE_MS = 60_000;

export interface QuietHours {
  start: string | null;
  end: string | null;
}

/**
 * The first instant at or after `collectedAt + delay` when the branch is open and it is not quiet hours.
 * A branch with no opening hours at all is taken as always open (the delay and quiet hours still hold).
 */
export function surveyDueAt(calendar: BusinessCalendar, quiet: QuietHours, collectedAt: number, delayMinutes: number): number {
  let at = collectedAt + delayMinutes * MINUTE_MS;
  for (let i = 0; i < 50; i++) {
    const open = nextOpenAt(calendar, at) ?? at;
    const quietOver = afterQuietHours(open, calendar.timeZone, quiet.start, quiet.end);
    if (quietOver === open) return open;
    at = quietOver;
  }
  return at;
}

/** Writes the survey of a collected visit in the caller's transaction; returns its status, or null when there is none to write. */
export async function scheduleSurvey(db: Kysely<Database>, repairOrderId: string, defaultDelayMinutes: number, now: string): Promise<'scheduled' | 'skipped' | null> {
  const order = await db.selectFrom('repair_orders').selectAll().where('id', '=', repairOrderId).executeTakeFirst();
  if (!order || order.status !== 'collected') return null;
  const existing = await db.selectFrom('surveys').select('id').where('repair_order_id', '=', repairOrderId).executeTakeFirst();
  if (existing) return null;
  const [customer, branch, settings, serviceType] = await Promise.all([
    db.selectFrom('customers').select(['opted_out_at', 'erased_at']).where('id', '=', order.customer_id).executeTakeFirst(),
    loadBranchView(db, order.branch_id),
    loadSurveySettings(db),
    order.appointment_id
      ? db.selectFrom('appointments as a').innerJoin('service_types as st', 'st.id', 'a.service_type_id').select('st.code').where('a.id', '=', order.appointment_id).executeTakeFirst()
      : Promise.resolve(undefined),
  ]);
  if (!customer || !branch) return null;
  const collectedAt = order.collected_at ?? now;
  const skip = !settings.enabled ? 'disabled' : customer.erased_at ? 'erased' : customer.opted_out_at ? 'opted_out' : null;
  const due = surveyDueAt(branch, { start: branch.quietHoursStart, end: branch.quietHoursEnd }, Date.parse(collectedAt), settings.delayMinutes ?? defaultDelayMinutes);
  await db
    .insertInto('surveys')
    .values({
      id: newId(),
      repair_order_id: order.id,
      customer_id: order.customer_id,
      branch_id: order.branch_id,
      advisor_id: order.advisor_id,
      service_type: serviceType?.code ?? null,
      status: skip ? 'skipped' : 'scheduled',
      skip_reason: skip,
      collected_at: collectedAt,
      due_at: new Date(due).toISOString(),
      sent_at: null,
      expires_at: null,
      channel: null,
      locale: null,
      aspect_codes: JSON.stringify(settings.aspects),
      satisfaction: null,
      repurchase: null,
      recommend: null,
      aspects: '{}',
      comment: null,
      comment_skipped: 0,
      first_answer_at: null,
      completed_at: null,
      complaint_id: null,
      comment_flagged_at: null,
      review_invited_at: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return skip ? 'skipped' : 'scheduled';
}

/** Schedules the survey of each collected visit, and brings the customer's category up to date with the visit. */
export function surveyScheduler(deps: { defaultDelayMinutes: number; now: () => Date }): Subscriber {
  return {
    name: 'survey-schedule',
    types: [EVENT_TYPES.repairOrderCollected],
    async handle(tx, event) {
      const now = deps.now().toISOString();
      await scheduleSurvey(tx, event.aggregateId, deps.defaultDelayMinutes, now);
      const customerId = typeof event.payload.customerId === 'string' ? event.payload.customerId : null;
      if (customerId) await recomputeCategory(tx, customerId, now);
    },
  };
}
