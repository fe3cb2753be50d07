import type { Flow } from '../flow';

interface HandoffState {
  acknowledged: boolean;
  requestedAt: string;
}

/**
 * "Talk to a person": the conversation waits for staff. What the customer writes goes into the
 * transcript staff read; the bot acknowledges once and otherwise stays quiet so it never talks over
 * a person. Any menu word brings the automated assistant back.
 */
export const handoffFlow: Flow = {
  name: 'handoff',
  stateVersion: 1,
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
