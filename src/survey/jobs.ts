import type { Transaction } from 'kysely';
import type { Reply, TextRef } from '../channels/types';
import type { Database } from '../store/schema';
import { surveyPosition } from '../conversation/flows/survey';
import type { Logger } from '../ops/logger';
import type { Clock } from '../ops/clock';
import { enqueueReplies } from '../outbox/outbox';
import { noticeTarget } from '../repair-orders/notices';
import { ConversationConflict, loadConversation, saveConversation } from '../store/conversations';
import type { Store } from '../store/store';
import { questionReply } from './questions';
import { loadSurveySettings } from './settings';

/*
 * Sends the surveys that are due: the greeting and the first question go through the outbox to the chat the
 * customer used last, and the survey stays open for the dealer's number of days. A customer who opted out
 * or whom no chat reaches any more is skipped (never chased by another channel). When the customer is not
 * in the middle of something else, the conversation waits at the question, so a typed "1" or "very
 * satisfied" answers it as well as a tap.
 */

const DAY_MS = 86_400_000;

export interface SurveyJobDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  onOutbox?: () => void;
}

/** Sends what is due; returns how many surveys were sent. */
export async function sendDueSurveys(deps: SurveyJobDeps, limit = 200): Promise<number> {
  const now = deps.clock.now();
  const nowIso = now.toISOString();
  const due = await deps.store.db.selectFrom('surveys').select('id').where('status', '=', 'scheduled').where('due_at', '<=', nowIso).orderBy('due_at').limit(limit).execute();
  if (due.length === 0) return 0;
  const settings = await loadSurveySettings(deps.store.db);
  let sent = 0;

  async function sendOne(tx: Transaction<Database>, id: string): Promise<'sent' | 'skipped' | null> {
    await deps.store.lock(tx, `survey:${id}`);
    const survey = await tx.selectFrom('surveys').selectAll().where('id', '=', id).executeTakeFirst();
    if (!survey || survey.status !== 'scheduled') return null;
    const [customer, branch, order] = await Promise.all([
      tx.selectFrom('customers').select(['opted_out_at', 'erased_at', 'locale']).where('id', '=', survey.customer_id).executeTakeFirst(),
      tx.selectFrom('branches').select('name').where('id', '=', survey.branch_id).executeTakeFirst(),
      tx.selectFrom('repair_orders as o').leftJoin('vehicles as v', 'v.id', 'o.vehicle_id').select(['v.plate']).where('o.id', '=', survey.repair_order_id).executeTakeFirst(),
    ]);
    const skip = (reason: string) => tx.updateTable('surveys').set({ status: 'skipped', skip_reason: reason, updated_at: nowIso }).where('id', '=', id).execute();
    if (!customer || customer.erased_at) return skip('erased').then(() => 'skipped' as const);
    if (customer.opted_out_at) return skip('opted_out').then(() => 'skipped' as const);
    if (!settings.enabled) return skip('disabled').then(() => 'skipped' as const);
    const target = await noticeTarget(tx, survey.customer_id);
    if (!target) return skip('unreachable').then(() => 'skipped' as const);
    const intro: TextRef = order?.plate ? { key: 'survey:intro', params: { branch: branch?.name ?? '', plate: order.plate } } : { key: 'survey:introNoPlate', params: { branch: branch?.name ?? '' } };
    const replies: Reply[] = [questionReply(id, 'sat', [intro])];
    await enqueueReplies(tx, { key: `survey:${id}`, customerId: survey.customer_id, channel: target.channel, externalId: target.externalId, replies, source: 'system', flow: 'svy', step: 'sent', now: nowIso });
    await tx
      .updateTable('surveys')
      .set({ status: 'sent', sent_at: nowIso, expires_at: new Date(now.getTime() + settings.expiryDays * DAY_MS).toISOString(), channel: target.channel, locale: customer.locale, updated_at: nowIso })
      .where('id', '=', id)
      .execute();
    const conversation = await loadConversation(tx, survey.customer_id);
    if (!conversation || conversation.flow === null) await saveConversation(tx, survey.customer_id, conversation, surveyPosition({ surveyId: id, question: 'sat' }), nowIso);
    return 'sent' as const;
  }

  for (const { id } of due) {
    try {
      if ((await deps.store.transaction((tx) => sendOne(tx, id))) === 'sent') sent += 1;
    } catch (err) {
      // The customer wrote at that very moment: the survey goes out on the next pass, after their message.
      if (!(err instanceof ConversationConflict)) throw err;
    }
  }
  if (sent > 0) {
    deps.logger.debug({ sent }, 'surveys sent');
    deps.onOutbox?.();
  }
  return sent;
}
