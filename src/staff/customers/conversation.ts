import type { Kysely } from 'kysely';
import type { Choice, Reply } from '../../channels/types';
import { enqueueReplies } from '../../outbox/outbox';
import { ConversationConflict, saveConversation } from '../../store/conversations';
import { messagesAfter } from '../../store/transcript';
import type { ChannelName, Database, MessageRow } from '../../store/schema';
import type { Store } from '../../store/store';
import { recordAudit } from '../audit';
import { isHeldByStaff } from '../../conversation/flows';
import { HANDOFF_FLOW, takenOverByStaff } from '../../conversation/flows/handoff';
import { replyTargets } from './profile';
import { conflict, invalid, liveCustomer, ok, type ActionContext, type CustomerResult } from './result';

/** Well within LINE's 5,000 and Telegram's 4,096 characters, so a staff message always fits one platform message. */
export const MAX_STAFF_MESSAGE_CHARS = 2000;
export { isHeldByStaff };
const TRANSCRIPT_PAGE = 200;

/** The latest messages of a customer, oldest first (the staff transcript reads top to bottom). */
export async function latestMessages(db: Kysely<Database>, customerId: string, limit = TRANSCRIPT_PAGE): Promise<MessageRow[]> {
  const rows = await db.selectFrom('messages').selectAll().where('customer_id', '=', customerId).orderBy('id', 'desc').limit(limit).execute();
  return rows.reverse();
}

/** Staff messages not yet delivered (queued, being sent, or given up), so staff see what is still on its way. */
export async function undeliveredStaffMessages(db: Kysely<Database>, customerId: string) {
  return db
    .selectFrom('outbox')
    .select(['id', 'channel', 'payload', 'status', 'attempts', 'last_error', 'created_at'])
    .where('customer_id', '=', customerId)
    .where('source', '=', 'staff')
    .where('status', 'in', ['pending', 'sending', 'dead'])
    .orderBy('id')
    .limit(50)
    .execute();
}

export interface TranscriptUpdate {
  messages: MessageRow[];
  flow: string | null;
  step: string | null;
  /** The profile this one was merged into, for the page to follow. */
  mergedInto: string | null;
}

/**
 * What the live transcript polls for: messages after `afterId` and where the conversation stands; null
 * when there is no such customer. An erased or merged profile still answers (its page is still open).
 */
export async function transcriptAfter(db: Kysely<Database>, customerId: string, afterId: number): Promise<TranscriptUpdate | null> {
  const customer = await db.selectFrom('customers').select(['id', 'merged_into_id']).where('id', '=', customerId).executeTakeFirst();
  if (!customer) return null;
  const [messages, conversation] = await Promise.all([
    messagesAfter(db, customerId, afterId, TRANSCRIPT_PAGE),
    db.selectFrom('conversations').select(['flow', 'step']).where('customer_id', '=', customerId).executeTakeFirst(),
  ]);
  return { messages, flow: conversation?.flow ?? null, step: conversation?.step ?? null, mergedInto: customer.merged_into_id };
}

export interface StaffMessageInput {
  text: string;
  /** The channel identity to write to; by default the reachable one the customer used last. */
  identityId?: string | null;
  /** Or just the channel: its most recently seen reachable identity. */
  channel?: ChannelName | null;
}

export interface QueuedStaffMessage {
  channel: ChannelName;
  identityId: string;
}

/**
 * Queues a message a staff member typed, to the customer's chosen channel, through the outbox: it is
 * rendered and sent within that channel's rules (LINE push, since a staff message has no reply token;
 * Telegram's per-chat pace) and written to the transcript with sender "staff" once delivered. The caller
 * wakes the outbox sender after the commit.
 */
export async function sendStaffMessage(store: Store, ctx: ActionContext, customerId: string, input: StaffMessageInput): Promise<CustomerResult<QueuedStaffMessage>> {
  const text = input.text.replace(/\r\n/g, '\n').trim();
  if (!text) return invalid([{ field: 'text', code: 'textRequired' }]);
  if ([...text].length > MAX_STAFF_MESSAGE_CHARS) return invalid([{ field: 'text', code: 'textTooLong', params: { max: MAX_STAFF_MESSAGE_CHARS } }]);
  const staffId = ctx.actor.kind === 'staff' ? ctx.actor.id : null;
  const now = ctx.now.toISOString();
  return store.transaction(async (tx) => {
    const found = await liveCustomer(tx, customerId);
    if (!found.ok) return found;
    const identities = await tx.selectFrom('channel_identities').selectAll().where('customer_id', '=', customerId).execute();
    const targets = replyTargets(identities);
    const target = input.identityId ? targets.find((i) => i.id === input.identityId) : input.channel ? targets.find((i) => i.channel === input.channel) : targets[0];
    if (!target) return input.identityId || input.channel ? invalid([{ field: 'identity', code: 'channelUnreachable' }]) : conflict('noReachableChannel');
    const conversation = await tx.selectFrom('conversations').selectAll().where('customer_id', '=', customerId).executeTakeFirst();
    // A person answering takes the conversation over: until someone hands it back, the bot stays quiet and
    // what the customer writes next is for staff, not answered with "I didn't understand".
    if (!isHeldByStaff(conversation?.flow)) await saveConversation(tx, customerId, conversation ?? null, takenOverByStaff(now), now);
    const replies: Reply[] = [{ type: 'text', text: { raw: text } }];
    await enqueueReplies(tx, {
      customerId,
      channel: target.channel,
      externalId: target.external_id,
      replies,
      source: 'staff',
      staffUserId: staffId,
      flow: HANDOFF_FLOW,
      step: 'waiting',
      now,
    });
    // The words are in the transcript once delivered; the audit entry says who wrote where, not what.
    await recordAudit(tx, { actor: ctx.actor, action: 'conversation.reply', entity: 'customer', entityId: customerId, after: { channel: target.channel, identityId: target.id, chars: [...text].length }, ip: ctx.ip, now });
    return ok({ channel: target.channel, identityId: target.id });
  });
}

export interface HandBackOutcome {
  /** False when no channel could reach the customer: the conversation is the bot's again, but nothing was sent. */
  notified: boolean;
  channel: ChannelName | null;
}

/**
 * Ends "waiting for a person": the conversation goes back to the automated assistant (idle, version
 * moved by one, so a customer message processed at the same moment makes one of the two retry) and the
 * customer is told so, with the main menu when the caller can offer it.
 */
export async function handBackToBot(store: Store, ctx: ActionContext, customerId: string, opts: { menuChoices?: () => Choice[] } = {}): Promise<CustomerResult<HandBackOutcome>> {
  const now = ctx.now.toISOString();
  try {
    return await store.transaction(async (tx) => {
      const found = await liveCustomer(tx, customerId);
      if (!found.ok) return found;
      const conversation = await tx.selectFrom('conversations').selectAll().where('customer_id', '=', customerId).executeTakeFirst();
      if (!conversation || !isHeldByStaff(conversation.flow)) return conflict('notWaitingForPerson');
      const identities = await tx.selectFrom('channel_identities').selectAll().where('customer_id', '=', customerId).execute();
      const target = replyTargets(identities)[0];
      await saveConversation(tx, customerId, conversation, { flow: null, step: null, state: null, stateVersion: 0 }, now);
      if (target) {
        const choices = opts.menuChoices?.() ?? [];
        await enqueueReplies(tx, {
          customerId,
          channel: target.channel,
          externalId: target.external_id,
          replies: [{ type: 'text', text: { key: 'handoff.returned' }, ...(choices.length ? { choices } : {}) }],
          source: 'staff',
          staffUserId: ctx.actor.kind === 'staff' ? ctx.actor.id : null,
          flow: null,
          step: null,
          now,
        });
      }
      await recordAudit(tx, {
        actor: ctx.actor,
        action: 'conversation.handback',
        entity: 'customer',
        entityId: customerId,
        before: { flow: conversation.flow, step: conversation.step, version: conversation.version },
        after: { flow: null, step: null, version: conversation.version + 1, notified: target?.channel ?? null },
        ip: ctx.ip,
        now,
      });
      return ok({ notified: Boolean(target), channel: target?.channel ?? null });
    });
  } catch (err) {
    if (err instanceof ConversationConflict) return conflict('conversationChanged');
    throw err;
  }
}
