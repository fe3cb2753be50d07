import type { Kysely, Transaction } from 'kysely';
import type { Choice, Reply } from '../../channels/types';
import { enqueueReplies } from '../../outbox/outbox';
import { ConversationConflict, saveConversation } from '../../store/conversations';
import { messagesAfter } from '../../store/transcript';
import type { ChannelName, Database, MessageRow } from '../../store/schema';
import type { Store } from '../../store/store';
import { recordAudit } from '../audit';
import { isHeldByStaff } from '../../conversation/flows';
import { HANDOFF_FLOW, handoffPosition, readHandoffState } from '../../conversation/flows/handoff';
import { complaintActorOf, recordStaffReply } from '../../complaints/handling';
import { isOpenStatus } from '../../complaints/model';
import { findComplaint, insertEvents, isComplaintConflict, openComplaintOf } from '../../complaints/tickets';
import { replyTargets } from './profile';
import { canSeeBranch, type Principal } from '../permissions';
import { serviceName } from '../../conversation/flows/booking-view';
import { OPEN_STATUSES as OPEN_ORDER_STATUSES } from '../../repair-orders/statuses';
import type { Locale } from '../../i18n/locales';
import type { AppointmentStatus, RepairOrderStatus } from '../../store/schema';
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

/** The names of the staff members who wrote some messages, so each staff line is signed. */
export async function staffNamesOf(db: Kysely<Database>, messages: readonly Pick<MessageRow, 'staff_user_id'>[]): Promise<Record<string, string>> {
  const ids = [...new Set(messages.map((m) => m.staff_user_id).filter((id): id is string => id !== null))];
  if (ids.length === 0) return {};
  const rows = await db.selectFrom('staff_users').select(['id', 'name']).where('id', 'in', ids).execute();
  return Object.fromEntries(rows.map((r) => [r.id, r.name]));
}

/**
 * Who answers a conversation staff hold: the staff member's name, or the integration's token name; null
 * while nobody has answered yet (or when the conversation is not held).
 */
export async function answeringOf(db: Kysely<Database>, conversation: { flow: string | null; state: string } | null | undefined): Promise<string | null> {
  if (!conversation || !isHeldByStaff(conversation.flow)) return null;
  let held;
  try {
    held = readHandoffState(JSON.parse(conversation.state) as unknown);
  } catch {
    return null;
  }
  const who = held?.staffId;
  if (!who) return null;
  if (who.startsWith('token:')) {
    const token = await db.selectFrom('api_tokens').select('name').where('id', '=', who.slice(6)).executeTakeFirst();
    return token?.name ?? null;
  }
  const staff = await db.selectFrom('staff_users').select('name').where('id', '=', who).executeTakeFirst();
  return staff?.name ?? null;
}

/** Where a customer's conversation stands now: its flow and step, and who answers while staff hold it. */
export async function conversationStanding(db: Kysely<Database>, customerId: string): Promise<{ flow: string | null; step: string | null; answeredBy: string | null }> {
  const conversation = await db.selectFrom('conversations').select(['flow', 'step', 'state']).where('customer_id', '=', customerId).executeTakeFirst();
  return { flow: conversation?.flow ?? null, step: conversation?.step ?? null, answeredBy: await answeringOf(db, conversation) };
}

export interface TranscriptUpdate {
  messages: MessageRow[];
  /** Names of the staff members who wrote the messages, by id. */
  staffNames: Record<string, string>;
  flow: string | null;
  step: string | null;
  /** Who answers while staff hold the conversation (see answeringOf). */
  answeredBy: string | null;
  /** Staff messages given up on (every attempt failed), so a line the page shows as being sent can say so. */
  givenUp: { id: number; payload: string }[];
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
    // Message ids are 32-bit on Postgres: a cursor past the largest one there can be finds nothing, not a database error.
    messagesAfter(db, customerId, Math.min(Math.max(0, afterId), 2_147_483_647), TRANSCRIPT_PAGE),
    db.selectFrom('conversations').select(['flow', 'step', 'state']).where('customer_id', '=', customerId).executeTakeFirst(),
  ]);
  const [staffNames, answeredBy, undelivered] = await Promise.all([staffNamesOf(db, messages), answeringOf(db, conversation), undeliveredStaffMessages(db, customerId)]);
  const givenUp = undelivered.filter((u) => u.status === 'dead').map((u) => ({ id: u.id, payload: u.payload }));
  return { messages, staffNames, flow: conversation?.flow ?? null, step: conversation?.step ?? null, answeredBy, givenUp, mergedInto: customer.merged_into_id };
}

/** What the staff member answering a customer needs beside the chat: their bookings, cars and car in the workshop. */
export interface ConversationSidePanel {
  /** Bookings from today on (not cancelled), soonest first, in the branches the staff member sees. */
  bookings: { id: string; reference: string; startsAt: string; timeZone: string; branchName: string; service: string; plate: string | null; status: AppointmentStatus }[];
  vehicles: { id: string; plate: string; make: string | null; model: string | null; year: number | null; mileageKm: number | null }[];
  /** Repair orders still in the workshop, in the branches the staff member sees (by the number staff quote: the DMS's, else ours). */
  repairOrders: { id: string; number: string; status: RepairOrderStatus; plate: string | null; promisedAt: string | null; branchName: string }[];
}

const PANEL_BOOKINGS = 5;

/** The side panel of the conversation page (see ConversationSidePanel). */
export async function conversationSidePanel(db: Kysely<Database>, principal: Principal, customerId: string, opts: { now: Date; locale: Locale }): Promise<ConversationSidePanel> {
  // From the start of the day in the earliest time zone, so this morning's visit is still listed.
  const since = new Date(opts.now.getTime() - 24 * 60 * 60 * 1000).toISOString();
  const [bookings, vehicles, orders] = await Promise.all([
    db
      .selectFrom('appointments')
      .innerJoin('branches', 'branches.id', 'appointments.branch_id')
      .innerJoin('service_types', 'service_types.id', 'appointments.service_type_id')
      .leftJoin('vehicles', 'vehicles.id', 'appointments.vehicle_id')
      .select(['appointments.id', 'appointments.reference', 'appointments.starts_at', 'appointments.status', 'appointments.branch_id', 'branches.name as branch_name', 'branches.time_zone', 'service_types.names', 'service_types.code', 'vehicles.plate'])
      .where('appointments.customer_id', '=', customerId)
      .where('appointments.status', '!=', 'cancelled')
      .where('appointments.starts_at', '>=', since)
      .orderBy('appointments.starts_at')
      .limit(PANEL_BOOKINGS * 4)
      .execute(),
    db.selectFrom('vehicles').select(['id', 'plate', 'make', 'model', 'year', 'mileage_km']).where('customer_id', '=', customerId).orderBy('created_at').orderBy('id').execute(),
    db
      .selectFrom('repair_orders')
      .innerJoin('branches', 'branches.id', 'repair_orders.branch_id')
      .leftJoin('vehicles', 'vehicles.id', 'repair_orders.vehicle_id')
      .select(['repair_orders.id', 'repair_orders.number', 'repair_orders.dms_number', 'repair_orders.status', 'repair_orders.promised_at', 'repair_orders.branch_id', 'branches.name as branch_name', 'vehicles.plate'])
      .where('repair_orders.customer_id', '=', customerId)
      .where('repair_orders.status', 'in', OPEN_ORDER_STATUSES)
      .orderBy('repair_orders.created_at', 'desc')
      .execute(),
  ]);
  const names = (text: string): Record<string, string> => {
    try {
      return JSON.parse(text) as Record<string, string>;
    } catch {
      return {};
    }
  };
  return {
    bookings: bookings
      .filter((b) => canSeeBranch(principal, b.branch_id))
      .slice(0, PANEL_BOOKINGS)
      .map((b) => ({ id: b.id, reference: b.reference, startsAt: b.starts_at, timeZone: b.time_zone, branchName: b.branch_name, service: serviceName(names(b.names), opts.locale, b.code), plate: b.plate ?? null, status: b.status })),
    vehicles: vehicles.map((v) => ({ id: v.id, plate: v.plate, make: v.make, model: v.model, year: v.year, mileageKm: v.mileage_km })),
    repairOrders: orders
      .filter((o) => canSeeBranch(principal, o.branch_id))
      .map((o) => ({ id: o.id, number: o.dms_number ?? o.number, status: o.status, plate: o.plate ?? null, promisedAt: o.promised_at, branchName: o.branch_name })),
  };
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
  return inStaffTransaction(store, (tx) => queueStaffReply(tx, ctx, customerId, { replies: [{ type: 'text', text: { raw: text } }], said: { text }, identityId: input.identityId, channel: input.channel }));
}

/**
 * Runs a staff change of a conversation in one transaction, once more when the customer's own message
 * moved the conversation on meanwhile, and answers `conversationChanged` (or `complaintChanged`) when it
 * lost twice.
 */
export async function inStaffTransaction<T>(store: Store, work: (tx: Transaction<Database>) => Promise<CustomerResult<T>>): Promise<CustomerResult<T>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.transaction(work);
    } catch (err) {
      const lost = err instanceof ConversationConflict ? 'conversationChanged' : isComplaintConflict(err) ? 'complaintChanged' : null;
      if (!lost) throw err;
      if (attempt >= 1) return conflict(lost);
    }
  }
}

export interface StaffReply {
  /** What to send; a function when it depends on the channel (a photo's link), null when that channel cannot take it. */
  replies: Reply[] | ((channel: ChannelName) => Promise<Reply[] | null>);
  /** What the reply says, for the complaint's timeline: the text, or a photo's key in the blob store. */
  said: { text?: string; blobKey?: string };
  identityId?: string | null;
  channel?: ChannelName | null;
  /** The ticket the reply answers; by default the customer's open one, if any. */
  complaintId?: string | null;
}

/** How the customer is told who answers: the staff member's name and role, or the team for an integration. */
export function joinedNotice(actor: ActionContext['actor']): Reply {
  if (actor.kind === 'staff') return { type: 'text', text: { key: `complaint:joined.${actor.role}`, params: { name: actor.name } } };
  return { type: 'text', text: { key: 'complaint:handoff.joinedRole' } };
}

/** The notice of who answers, in the same message as a text reply (one message, one request), or before a photo. */
function withJoinedNotice(actor: ActionContext['actor'], replies: Reply[]): Reply[] {
  const [first, ...rest] = replies;
  const notice = joinedNotice(actor);
  if (first?.type !== 'text' || notice.type !== 'text' || first.choices?.length) return [notice, ...replies];
  return [{ ...first, text: [...(Array.isArray(notice.text) ? notice.text : [notice.text]), ...(Array.isArray(first.text) ? first.text : [first.text])] }, ...rest];
}

/**
 * A person takes the conversation over: until someone hands it back, the bot stays quiet and what the
 * customer writes next is for staff (and the ticket), not answered with "I didn't understand". True when
 * the customer should now be told who is answering (the first person, or another one than before).
 */
export async function takeOverConversation(tx: Transaction<Database>, actor: ActionContext['actor'], customerId: string, ticketId: string | null, now: string): Promise<boolean> {
  const conversation = (await tx.selectFrom('conversations').selectAll().where('customer_id', '=', customerId).executeTakeFirst()) ?? null;
  // Who the customer was last told is answering: a staff member, or an integration speaking for the team.
  const answering = actor.kind === 'staff' ? actor.id : `token:${actor.id}`;
  const held = isHeldByStaff(conversation?.flow) ? readHandoffState(JSON.parse(conversation!.state) as unknown) : null;
  const announce = held?.staffId !== answering;
  if (announce || (ticketId && held?.complaintId !== ticketId)) {
    const state = { acknowledged: true, requestedAt: held?.requestedAt ?? now, complaintId: ticketId ?? held?.complaintId ?? null, staffId: answering };
    await saveConversation(tx, customerId, conversation, handoffPosition(state), now);
  }
  return announce;
}

/**
 * A staff reply inside the caller's transaction: the conversation is taken over (see takeOverConversation)
 * and the customer told once who is answering them; the reply goes into the open complaint's timeline (its
 * first response, and now waiting for the customer); the audit log says who wrote where, not what.
 */
export async function queueStaffReply(tx: Transaction<Database>, ctx: ActionContext, customerId: string, reply: StaffReply): Promise<CustomerResult<QueuedStaffMessage>> {
  const now = ctx.now.toISOString();
  const found = await liveCustomer(tx, customerId);
  if (!found.ok) return found;
  const identities = await tx.selectFrom('channel_identities').selectAll().where('customer_id', '=', customerId).execute();
  const targets = replyTargets(identities);
  const target = reply.identityId ? targets.find((i) => i.id === reply.identityId) : reply.channel ? targets.find((i) => i.channel === reply.channel) : targets[0];
  if (!target) return reply.identityId || reply.channel ? invalid([{ field: 'identity', code: 'channelUnreachable' }]) : conflict('noReachableChannel');
  const replies = typeof reply.replies === 'function' ? await reply.replies(target.channel) : reply.replies;
  if (!replies) return conflict('photoNeedsPublicUrl');
  const complaint = reply.complaintId ? await findComplaint(tx, reply.complaintId) : await openComplaintOf(tx, customerId);
  const ticket = complaint && complaint.customer_id === customerId && isOpenStatus(complaint.status) ? complaint : null;
  const announce = await takeOverConversation(tx, ctx.actor, customerId, ticket?.id ?? null, now);
  await enqueueReplies(tx, {
    customerId,
    channel: target.channel,
    externalId: target.external_id,
    replies: announce ? withJoinedNotice(ctx.actor, replies) : replies,
    source: 'staff',
    staffUserId: ctx.actor.kind === 'staff' ? ctx.actor.id : null,
    flow: HANDOFF_FLOW,
    step: 'waiting',
    now,
  });
  if (ticket) await recordStaffReply(tx, ticket, complaintActorOf(ctx.actor), { ...reply.said, channel: target.channel }, now);
  await recordAudit(tx, {
    actor: ctx.actor,
    action: 'conversation.reply',
    entity: 'customer',
    entityId: customerId,
    after: { channel: target.channel, identityId: target.id, chars: [...(reply.said.text ?? '')].length, photo: reply.said.blobKey !== undefined, complaintId: ticket?.id ?? null },
    ip: ctx.ip,
    now,
  });
  return ok({ channel: target.channel, identityId: target.id });
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
      const linked = readHandoffState(JSON.parse(conversation.state) as unknown)?.complaintId;
      if (linked) await insertEvents(tx, linked, [{ kind: 'handoff_ended', actor: complaintActorOf(ctx.actor), details: { reason: 'staff' } }], now);
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
