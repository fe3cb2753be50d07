import type { Choice, Reply } from '../channels/types';
import { HANDOFF_FLOW, readHandoffState } from '../conversation/flows/handoff';
import type { Clock } from '../ops/clock';
import type { Logger } from '../ops/logger';
import { enqueueReplies } from '../outbox/outbox';
import { ConversationConflict, saveConversation } from '../store/conversations';
import type { Store } from '../store/store';
import { replyTargets } from '../staff/customers/profile';
import { isOpenStatus } from './model';
import { findComplaint, insertEvents } from './tickets';

/*
 * A handoff nobody speaks in ends by itself: after `idleMs` without a word from the customer or from staff,
 * the bot takes the conversation back and says so, with the menu. The ticket stays open (the customer is
 * told its reference), and a staff reply later takes the conversation over again.
 */

export interface HandoffReturnDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Silence after which the bot takes the conversation back (HANDOFF_IDLE_MINUTES). */
  idleMs: number;
  menuChoices: () => Choice[];
  onOutbox?: () => void;
}

const PER_PASS = 100;

export function createHandoffReturn(deps: HandoffReturnDeps) {
  const log = deps.logger.child({ component: 'handoff-return' });
  const db = deps.store.db;

  async function handBack(candidate: { customer_id: string; version: number }, now: Date, cutoff: string): Promise<boolean> {
    const nowIso = now.toISOString();
    try {
      return await deps.store.transaction(async (tx) => {
        const conversation = await tx.selectFrom('conversations').selectAll().where('customer_id', '=', candidate.customer_id).executeTakeFirst();
        if (!conversation || conversation.flow !== HANDOFF_FLOW || conversation.version !== candidate.version || conversation.updated_at >= cutoff) return false;
        // A staff message still on its way, or sent within the silence, is staff speaking.
        const staff = await tx
          .selectFrom('outbox')
          .select('created_at')
          .where('customer_id', '=', candidate.customer_id)
          .where('source', '=', 'staff')
          .orderBy('id', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (staff && staff.created_at >= cutoff) return false;
        const state = readHandoffState(JSON.parse(conversation.state) as unknown);
        const complaint = state?.complaintId ? await findComplaint(tx, state.complaintId) : null;
        const open = complaint && isOpenStatus(complaint.status) ? complaint : null;
        const identities = await tx.selectFrom('channel_identities').selectAll().where('customer_id', '=', candidate.customer_id).execute();
        const target = replyTargets(identities)[0];
        await saveConversation(tx, candidate.customer_id, conversation, { flow: null, step: null, state: null, stateVersion: 0 }, nowIso);
        if (target) {
          const reply: Reply = { type: 'text', text: open ? { key: 'complaint:handoff.idle', params: { reference: open.reference } } : { key: 'complaint:handoff.idleNoTicket' }, choices: deps.menuChoices() };
          await enqueueReplies(tx, { customerId: candidate.customer_id, channel: target.channel, externalId: target.external_id, replies: [reply], source: 'system', flow: null, step: null, now: nowIso });
        }
        if (open) await insertEvents(tx, open.id, [{ kind: 'handoff_ended', actor: { type: 'system' }, details: { reason: 'silence' } }], nowIso);
        return true;
      });
    } catch (err) {
      // The customer wrote at this very moment: their conversation is theirs again, nothing to do.
      if (err instanceof ConversationConflict) return false;
      throw err;
    }
  }

  return {
    async runOnce(): Promise<number> {
      const now = deps.clock.now();
      const cutoff = new Date(now.getTime() - deps.idleMs).toISOString();
      const candidates = await db
        .selectFrom('conversations')
        .select(['customer_id', 'version'])
        .where('flow', '=', HANDOFF_FLOW)
        .where('updated_at', '<', cutoff)
        .orderBy('updated_at', 'asc')
        .limit(PER_PASS)
        .execute();
      let returned = 0;
      for (const candidate of candidates) if (await handBack(candidate, now, cutoff)) returned += 1;
      if (returned > 0) {
        log.info({ returned }, 'silent handoffs returned to the bot');
        deps.onOutbox?.();
      }
      return returned;
    },
  };
}
