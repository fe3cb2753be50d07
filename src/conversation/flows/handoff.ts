import type { Choice, Input, Reply, TextRef } from '../../channels/types';
import { loadComplaintBranch } from '../../complaints/branch';
import { noteCustomerMessage } from '../../complaints/customer';
import { answerExpectation, expectationText, openComplaint } from '../../complaints/open';
import { openComplaintOf } from '../../complaints/tickets';
import { isOpenAt } from '../../complaints/business-hours';
import type { FlowContext } from '../flow';
import { defineFlow, savedState, stepKit } from '../kit';

export interface HandoffState {
  acknowledged: boolean;
  requestedAt: string;
  /** The ticket this conversation is about: what the customer writes goes into its timeline. */
  complaintId?: string | null;
  /** Who the customer was told is answering (a staff id, or `token:<id>` for an integration), so it is said once. */
  staffId?: string | null;
}

type Steps = { waiting: HandoffState };
const { ask } = stepKit<Steps>();

export const HANDOFF_FLOW = 'handoff';
export const HANDOFF_STATE_VERSION = 2;

/** A handoff state as the kit saves it, for code outside the flow that puts a conversation into handoff. */
export function handoffPosition(state: HandoffState): { flow: string; step: string; state: unknown; stateVersion: number } {
  return { flow: HANDOFF_FLOW, step: 'waiting', state: savedState(state), stateVersion: HANDOFF_STATE_VERSION };
}

/** The saved handoff state, from the envelope the kit keeps it in; null when it is not one. */
export function readHandoffState(saved: unknown): HandoffState | null {
  const inner = saved && typeof saved === 'object' && 'v' in saved ? (saved as { v: unknown }).v : null;
  return inner && typeof inner === 'object' && 'requestedAt' in inner ? (inner as HandoffState) : null;
}

/** What a customer message in handoff says, for the ticket's timeline. */
function said(ctx: FlowContext, input: Input): { text?: string | null; blobKey?: string | null } | null {
  switch (input.type) {
    case 'text':
      return { text: input.text };
    case 'image':
      return input.mediaId.startsWith('blob:') ? { blobKey: input.mediaId.slice(5) } : { text: ctx.t('complaint:timeline.photoLost') };
    case 'contact':
      return { text: input.phone };
    case 'location':
      return { text: [input.title, input.address, `${input.latitude},${input.longitude}`].filter(Boolean).join(' · ') };
    case 'choice':
    case 'command':
      return null;
    default:
      return null;
  }
}

/**
 * "Talk to a person". One open ticket per customer carries the request: the first "human" opens one
 * (assigned to the next care staff member on duty, who is alerted), a second one while it is open only
 * says where it stands. The customer is told honestly when a person will answer: within the branch's
 * response time while it is open, or by the moment it opens again. What the customer writes from then on
 * goes into the ticket's timeline and to the staff member live; the bot acknowledges once and otherwise
 * stays quiet so it never talks over a person. Any menu word brings the automated assistant back, and so
 * do staff ("return to bot") and a long silence (see src/complaints/handoff-return.ts).
 */
export const handoffFlow = defineFlow<Steps>({
  name: HANDOFF_FLOW,
  stateVersion: HANDOFF_STATE_VERSION,
  intent: 'human',
  menuOrder: 80,
  settings: { idleTimeoutMs: null, staffHold: true },
  async start(ctx) {
    const now = ctx.clock.now;
    const requestedAt = now.toISOString();
    const open = await openComplaintOf(ctx.tx, ctx.customer.id);
    if (open) {
      const texts: TextRef[] = [{ key: 'complaint:handoff.already', params: { reference: open.reference } }];
      const branch = open.first_responded_at ? null : await loadComplaintBranch(ctx.tx, open.branch_id);
      if (branch) texts.push(expectationText(answerExpectation(branch, now.getTime(), Date.parse(open.first_response_due_at)), ctx.locale));
      return ask('waiting', { acknowledged: true, requestedAt, complaintId: open.id, staffId: null }, { type: 'text', text: texts });
    }
    const opened = await openComplaint(
      ctx.tx,
      {
        customerId: ctx.customer.id,
        source: 'handoff',
        channel: ctx.channel,
        category: null,
        priority: 'normal',
        contactMethod: 'chat',
        actor: { type: 'customer', id: ctx.customer.id, label: ctx.customer.display_name, channel: ctx.channel },
      },
      now,
    );
    if (!opened) return ask('waiting', { acknowledged: false, requestedAt }, { type: 'text', text: { key: 'handoff.requested' } });
    // The web chat has no attachment button of its own: photos for the person go through the upload page.
    const upload: Choice[] = ctx.channel === 'web' ? [{ kind: 'url', url: '/chat/photos', label: { key: 'complaint:intake.uploadPhotos' } }] : [];
    const reply: Reply = {
      type: 'text',
      ...(upload.length ? { choices: upload } : {}),
      text: [
        { key: isOpenAt(opened.branch.calendar, now.getTime()) ? 'complaint:handoff.requested' : 'complaint:handoff.closedNow', params: { reference: opened.reference } },
        expectationText(opened.expectation, ctx.locale),
        { key: 'complaint:handoff.backToMenu' },
      ],
    };
    return ask('waiting', { acknowledged: false, requestedAt, complaintId: opened.id, staffId: null }, reply);
  },
  steps: {
    async waiting(ctx, state, input) {
      const words = said(ctx, input);
      if (state.complaintId && words) {
        await noteCustomerMessage(ctx.tx, state.complaintId, { customerId: ctx.customer.id, label: ctx.customer.display_name, channel: ctx.channel, ...words }, ctx.clock.now.toISOString());
      }
      if (state.acknowledged) return ask('waiting', state);
      return ask('waiting', { ...state, acknowledged: true }, { type: 'text', text: { key: 'handoff.acknowledged' } });
    },
  },
});
