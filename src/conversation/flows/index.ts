import type { Flow } from '../flow';
import { bookingFlow } from './booking';
import { complaintFlow } from './complaint';
import { handoffFlow } from './handoff';
import { infoFlow } from './info';
import { languageFlow } from './language';
import { myBookingsFlow } from './my-bookings';
import { progressFlow } from './progress';
import { surveyFlow } from './survey';

/** Every flow the customer can reach, in one list; a new flow is one line here. */
export const FLOWS: Flow[] = [bookingFlow, myBookingsFlow, progressFlow, infoFlow, complaintFlow, handoffFlow, languageFlow, surveyFlow];

/** The flows in which staff hold the conversation (the console lists those customers as waiting for a person). */
export const STAFF_HELD_FLOWS: readonly string[] = FLOWS.filter((f) => f.settings.staffHold).map((f) => f.name);

/** True while staff hold a conversation in this flow (waiting for a person, or a person answering). */
export function isHeldByStaff(flow: string | null | undefined): boolean {
  return flow !== null && flow !== undefined && STAFF_HELD_FLOWS.includes(flow);
}
