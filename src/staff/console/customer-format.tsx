import { isHeldByStaff } from '../../conversation/flows';
import type { CustomerFailure, FieldError } from '../customers/result';
import { flashNote, problemsOf, textsOf, type Flash, type Page, type Problem } from './kit';

/*
 * Small pieces the customer, conversation and outbox pages share: their texts, the messages for refused
 * actions, and where a conversation stands.
 */

export const NS = 'console-customers';

/** A text of the customer pages, in the staff member's language. */
export const ct = textsOf(NS);

/** A platform's user id is long and opaque; its two ends are enough for staff to tell two apart. */
export function shortExternalId(id: string): string {
  return id.length <= 14 ? id : `${id.slice(0, 6)}…${id.slice(-4)}`;
}

export function fieldErrorText(page: Page, error: FieldError): string {
  return ct(page, `errors.${error.code}`, error.params);
}

/** The customer rules' field errors (codes under `errors.`) in the staff member's language. */
export function customerProblems(page: Page, errors: readonly FieldError[]): Problem[] {
  return problemsOf(page, errors, (e) => `${NS}:errors.${e.code}`);
}

/** The page's message for an action that was refused, and the status it is answered with. */
export function failureMessage(page: Page, failure: CustomerFailure): { text: string; status: 400 | 404 | 409 } {
  switch (failure.reason) {
    case 'invalid':
      return { text: failure.errors.map((e) => fieldErrorText(page, e)).join(' '), status: 400 };
    case 'not_found':
      return { text: ct(page, 'conflict.notFound'), status: 404 };
    case 'erased':
      return { text: ct(page, 'conflict.erased'), status: 409 };
    case 'merged':
      return { text: ct(page, 'conflict.merged'), status: 409 };
    case 'conflict':
      return { text: ct(page, `conflict.${failure.code}`), status: 409 };
  }
}

const FLASHES = ['saved', 'vehicleAdded', 'vehicleSaved', 'merged', 'erased', 'sent', 'handedBack', 'handedBackSilent', 'retried'];

/** The note a page shows after a successful post redirected to it (`?flash=…`); unknown words show nothing. */
export function customerFlash(page: Page): Flash | null {
  return flashNote(page, FLASHES, (word) => `${NS}:flash.${word}`);
}

/**
 * A flow's name in the staff member's language. Every flow has one (tests/staff/console-conversation.test.ts);
 * a flow added without its name reads as the generic "in a conversation" rather than an internal code.
 */
export function flowLabel(page: Page, flow: string): string {
  return page.has(`${NS}:flows.${flow}`) ? ct(page, `flows.${flow}`) : ct(page, 'conversation.status.idle');
}

/** A step's name ("choosing a day"); null when the console has no name for it (then only the flow is said). */
export function stepLabel(page: Page, flow: string, step: string | null | undefined): string | null {
  if (!step) return null;
  return page.has(`${NS}:steps.${flow}.${step}`) ? ct(page, `steps.${flow}.${step}`) : null;
}

/** "Service booking · choosing a day": where a message was said, or where the conversation stands. */
export function whereInFlow(page: Page, flow: string | null | undefined, step: string | null | undefined): string {
  if (!flow) return '';
  const stepName = stepLabel(page, flow, step);
  return stepName ? `${flowLabel(page, flow)} · ${stepName}` : flowLabel(page, flow);
}

/**
 * Where the conversation stands, as staff need to know it: "waiting for a person" until someone answers,
 * then who is answering.
 */
export function conversationStatus(page: Page, flow: string | null | undefined, step: string | null | undefined, answeredBy?: string | null): string {
  if (!flow) return ct(page, 'conversation.status.idle');
  if (isHeldByStaff(flow)) return answeredBy ? ct(page, 'conversation.status.answering', { name: answeredBy }) : ct(page, 'conversation.status.handoff');
  const stepName = stepLabel(page, flow, step);
  return stepName ? ct(page, 'conversation.status.inFlow', { flow: flowLabel(page, flow), step: stepName }) : flowLabel(page, flow);
}
