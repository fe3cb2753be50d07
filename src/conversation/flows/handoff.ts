import { defineFlow, savedState, stepKit } from '../kit';

export interface HandoffState {
  acknowledged: boolean;
  requestedAt: string;
}

type Steps = { waiting: HandoffState };
const { ask } = stepKit<Steps>();

export const HANDOFF_FLOW = 'handoff';
export const HANDOFF_STATE_VERSION = 2;

/**
 * Where a conversation stands once a person has taken it over (staff wrote to the customer): waiting
 * for a person, already acknowledged, so the bot neither answers nor announces anything.
 */
export function takenOverByStaff(now: string): { flow: string; step: string; state: unknown; stateVersion: number } {
  const state: HandoffState = { acknowledged: true, requestedAt: now };
  return { flow: HANDOFF_FLOW, step: 'waiting', state: savedState(state), stateVersion: HANDOFF_STATE_VERSION };
}

/**
 * "Talk to a person": the conversation waits for staff. What the customer writes goes into the
 * transcript staff read; the bot acknowledges once and otherwise stays quiet so it never talks over
 * a person. Any menu word brings the automated assistant back.
 */
export const handoffFlow = defineFlow<Steps>({
  name: HANDOFF_FLOW,
  stateVersion: HANDOFF_STATE_VERSION,
  intent: 'human',
  menuOrder: 80,
  settings: { idleTimeoutMs: null, staffHold: true },
  start(ctx) {
    return ask('waiting', { acknowledged: false, requestedAt: ctx.clock.now.toISOString() }, { type: 'text', text: { key: 'handoff.requested' } });
  },
  steps: {
    waiting(_ctx, state) {
      if (state.acknowledged) return ask('waiting', state);
      return ask('waiting', { ...state, acknowledged: true }, { type: 'text', text: { key: 'handoff.acknowledged' } });
    },
  },
});
