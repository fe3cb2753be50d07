import type { Flow } from '../flow';

export interface HandoffState {
  acknowledged: boolean;
  requestedAt: string;
}

export const HANDOFF_FLOW = 'handoff';
export const HANDOFF_STATE_VERSION = 1;

/**
 * Where a conversation stands once a person has taken it over (staff wrote to the customer): waiting
 * for a person, already acknowledged, so the bot neither answers nor announces anything.
 */
export function takenOverByStaff(now: string): { flow: string; step: string; state: HandoffState; stateVersion: number } {
  return { flow: HANDOFF_FLOW, step: 'waiting', state: { acknowledged: true, requestedAt: now }, stateVersion: HANDOFF_STATE_VERSION };
}

/**
 * "Talk to a person": the conversation waits for staff. What the customer writes goes into the
 * transcript staff read; the bot acknowledges once and otherwise stays quiet so it never talks over
 * a person. Any menu word brings the automated assistant back.
 */
export const handoffFlow: Flow = {
  name: HANDOFF_FLOW,
  stateVersion: HANDOFF_STATE_VERSION,
  intent: 'human',
  menuOrder: 80,
  async start(ctx) {
    const state: HandoffState = { acknowledged: false, requestedAt: ctx.now.toISOString() };
    return { replies: [{ type: 'text', text: { key: 'handoff.requested' } }], next: { step: 'waiting', state } };
  },
  async step(_ctx, _step, raw) {
    const state = raw as HandoffState;
    if (state.acknowledged) return { replies: [], next: { step: 'waiting', state } };
    return { replies: [{ type: 'text', text: { key: 'handoff.acknowledged' } }], next: { step: 'waiting', state: { ...state, acknowledged: true } } };
  },
};
