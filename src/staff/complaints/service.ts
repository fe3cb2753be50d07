import type { Transaction } from 'kysely';
import type { BlobStore } from '../../blobs/blob-store';
import type { Choice } from '../../channels/types';
import { loadComplaintBranch, saveComplaintSettings, type ComplaintSettings } from '../../complaints/branch';
import { addNote, assignComplaint, closeComplaint, complaintActorOf, markResolved, reopenComplaint } from '../../complaints/handling';
import type { MediaLinks } from '../../complaints/media-links';
import { isCategory, isOpenStatus, isStatus, OPEN_STATUSES, PHOTO_MAX_BYTES } from '../../complaints/model';
import { isOnDuty, setOnDuty, staffOfBranch } from '../../complaints/staffing';
import { complaintEvents, findComplaint, insertEvents } from '../../complaints/tickets';
import { HANDOFF_FLOW, readHandoffState } from '../../conversation/flows/handoff';
import { COMPLAINT_STATE_VERSION, RESOLUTION_STEP, resolutionQuestion } from '../../conversation/flows/complaint';
import { savedState } from '../../conversation/kit';
import { newId } from '../../ids';
import type { Clock } from '../../ops/clock';
import { enqueueReplies } from '../../outbox/outbox';
import { saveConversation } from '../../store/conversations';
import type { ComplaintCategory, ComplaintRow, ComplaintStatus, Database } from '../../store/schema';
import type { Store } from '../../store/store';
import { recordAudit } from '../audit';
import { handBackToBot, inStaffTransaction, joinedNotice, MAX_STAFF_MESSAGE_CHARS, queueStaffReply, takeOverConversation, type QueuedStaffMessage, type StaffReply } from '../customers/conversation';
import { replyTargets } from '../customers/profile';
import type { CustomerResult } from '../customers/result';
import { canSeeBranch, type Principal } from '../permissions';
import { conflict, invalid, notFound, ok, type ActionContext, type Result } from '../result';
import { deadlinesOf, summariesOf, timelineOf, type ComplaintSummary, type TimelineEntry } from './views';

/*
 * Complaints for staff and integrations: the inbox of a staff member's branches (filtered by status,
 * deadlines at risk, assignee, category), one ticket with its timeline, and what staff do with it — take it,
 * assign it, answer the customer (text or photo, through the customer's own channel), note, resolve (the
 * customer is then asked whether it is resolved and to rate the handling), close, reopen, give the
 * conversation back to the bot. A ticket of a branch the principal may not see is not found. Every change
 * writes its audit entry in its own transaction.
 */

export interface ComplaintServiceDeps {
  store: Store;
  clock: Clock;
  /** Where photos are kept, and links to them; without them photos cannot be sent or shown. */
  blobs?: BlobStore;
  links?: MediaLinks;
  /** The customer's main menu, offered when staff give the conversation back to the bot. */
  menuChoices?: () => Choice[];
}

export interface ComplaintFilter {
  branchId?: string | null;
  /** A status, or 'open' for every status someone still owes an answer in. */
  status?: ComplaintStatus | 'open' | null;
  /** Only tickets whose deadline is at risk or already missed. */
  slaAtRisk?: boolean;
  /** A staff id, 'me' (the principal), or 'none' for tickets nobody holds. */
  assignee?: string | null;
  category?: ComplaintCategory | null;
  limit?: number;
}

export interface ComplaintDetail extends ComplaintSummary {
  description: string;
  resolution: string | null;
  rating: number | null;
  customerConfirmed: 'yes' | 'no' | null;
  contactMethod: 'chat' | 'phone';
  reopenedCount: number;
  version: number;
  visit: { kind: 'repairOrder' | 'appointment'; id: string; reference: string } | null;
  customer: { id: string; name: string | null; phone: string | null; channels: { channel: string; reachable: boolean }[] };
  /** Whether a person holds the customer's conversation now, whether it is about this ticket, and who the customer was told answers (a staff id, or `token:<id>`). */
  conversation: { heldByStaff: boolean; aboutThisTicket: boolean; answeredBy: string | null };
  timeline: TimelineEntry[];
}

const MAX_LIST = 200;
const MAX_NOTE_CHARS = 4000;
const MAX_RESOLUTION_CHARS = 2000;

function visible(principal: Principal, c: ComplaintRow | null): ComplaintRow | null {
  return c && canSeeBranch(principal, c.branch_id) ? c : null;
}

export function createComplaintService(deps: ComplaintServiceDeps) {
  const { store, clock } = deps;
  const db = store.db;

  async function detail(principal: Principal, c: ComplaintRow): Promise<ComplaintDetail> {
    const now = clock.now();
    const [[summary], events, customer, identities, conversation, order, appointment] = await Promise.all([
      summariesOf(db, [c], now),
      complaintEvents(db, c.id),
      db.selectFrom('customers').select(['id', 'display_name', 'phone']).where('id', '=', c.customer_id).executeTakeFirst(),
      db.selectFrom('channel_identities').select(['channel', 'reachable']).where('customer_id', '=', c.customer_id).execute(),
      db.selectFrom('conversations').select(['flow', 'state']).where('customer_id', '=', c.customer_id).executeTakeFirst(),
      c.repair_order_id ? db.selectFrom('repair_orders').select(['id', 'number']).where('id', '=', c.repair_order_id).executeTakeFirst() : Promise.resolve(undefined),
      c.appointment_id ? db.selectFrom('appointments').select(['id', 'reference']).where('id', '=', c.appointment_id).executeTakeFirst() : Promise.resolve(undefined),
    ]);
    const held = conversation?.flow === HANDOFF_FLOW;
    const handoff = held ? readHandoffState(JSON.parse(conversation!.state) as unknown) : null;
    return {
      ...summary!,
      description: c.description,
      resolution: c.resolution,
      rating: c.rating,
      customerConfirmed: c.customer_confirmed,
      contactMethod: c.contact_method,
      reopenedCount: c.reopened_count,
      version: c.version,
      visit: order ? { kind: 'repairOrder', id: order.id, reference: order.number } : appointment ? { kind: 'appointment', id: appointment.id, reference: appointment.reference } : null,
      customer: { id: c.customer_id, name: customer?.display_name ?? null, phone: customer?.phone ?? null, channels: identities.map((i) => ({ channel: i.channel, reachable: i.reachable === 1 })) },
      conversation: { heldByStaff: held, aboutThisTicket: handoff?.complaintId === c.id, answeredBy: handoff?.staffId ?? null },
      timeline: await timelineOf(events, deps.links ?? null),
    };
  }

  /** Runs a change of one visible ticket on a fresh read, in one transaction (retried once when the customer moved it meanwhile). */
  function change<T>(ctx: ActionContext, id: string, work: (tx: Transaction<Database>, c: ComplaintRow) => Promise<CustomerResult<T>>): Promise<CustomerResult<T>> {
    return inStaffTransaction(store, async (tx) => {
      const c = visible(ctx.actor, await findComplaint(tx, id));
      if (!c) return notFound();
      return work(tx, c);
    });
  }

  const audit = (tx: Transaction<Database>, ctx: ActionContext, action: string, c: ComplaintRow, after: Record<string, unknown>) =>
    recordAudit(tx, { actor: ctx.actor, action, entity: 'complaint', entityId: c.id, before: { status: c.status, assignee: c.assignee_id, version: c.version }, after, ip: ctx.ip, now: ctx.now.toISOString() });

  async function reply(ctx: ActionContext, id: string, replies: StaffReply['replies'], said: StaffReply['said']): Promise<CustomerResult<QueuedStaffMessage>> {
    return change(ctx, id, async (tx, c) => {
      if (!isOpenStatus(c.status)) return conflict('complaintNotOpen');
      return queueStaffReply(tx, ctx, c.customer_id, { replies, said, complaintId: c.id });
    });
  }

  return {
    /** The inbox: tickets of the principal's branches, newest first, filtered. Null for a branch they may not see. */
    async list(principal: Principal, filter: ComplaintFilter = {}): Promise<ComplaintSummary[] | null> {
      if (filter.branchId && !canSeeBranch(principal, filter.branchId)) return null;
      let query = db.selectFrom('complaints').selectAll();
      if (filter.branchId) query = query.where('branch_id', '=', filter.branchId);
      else if (principal.branchIds !== 'all') query = principal.branchIds.length ? query.where('branch_id', 'in', principal.branchIds) : query.where('id', '=', '');
      if (filter.status === 'open') query = query.where('status', 'in', OPEN_STATUSES);
      else if (filter.status) query = query.where('status', '=', filter.status);
      if (filter.category) query = query.where('category', '=', filter.category);
      if (filter.assignee === 'none') query = query.where('assignee_id', 'is', null);
      else if (filter.assignee === 'me') query = query.where('assignee_id', '=', principal.id);
      else if (filter.assignee) query = query.where('assignee_id', '=', filter.assignee);
      const limit = Math.min(filter.limit ?? MAX_LIST, MAX_LIST);
      const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.slaAtRisk ? MAX_LIST : limit).execute();
      const summaries = await summariesOf(db, rows, clock.now());
      const kept = filter.slaAtRisk ? summaries.filter((s) => s.sla === 'at_risk' || s.sla === 'breached') : summaries;
      return kept.slice(0, limit);
    },

    async get(principal: Principal, id: string): Promise<ComplaintDetail | null> {
      const c = visible(principal, await findComplaint(db, id));
      return c ? detail(principal, c) : null;
    },

    /** What a live ticket page has not seen yet: new timeline entries and where the ticket stands. */
    async timelineAfter(principal: Principal, id: string, afterId: number): Promise<{ entries: TimelineEntry[]; status: ComplaintStatus; assigneeId: string | null; version: number; sla: ReturnType<typeof deadlinesOf>['sla']; heldByStaff: boolean } | null> {
      const c = visible(principal, await findComplaint(db, id));
      if (!c) return null;
      const [events, branch, conversation] = await Promise.all([
        complaintEvents(db, c.id, afterId),
        loadComplaintBranch(db, c.branch_id),
        db.selectFrom('conversations').select('flow').where('customer_id', '=', c.customer_id).executeTakeFirst(),
      ]);
      return { entries: await timelineOf(events, deps.links ?? null), status: c.status, assigneeId: c.assignee_id, version: c.version, sla: deadlinesOf(c, branch, clock.now()).sla, heldByStaff: conversation?.flow === HANDOFF_FLOW };
    },

    /** Staff who may be given the ticket: active care staff and managers of its branch. */
    async assignable(principal: Principal, id: string): Promise<{ id: string; name: string; role: 'care' | 'manager'; onDuty: boolean }[] | null> {
      const c = visible(principal, await findComplaint(db, id));
      if (!c) return null;
      const [care, managers] = await Promise.all([staffOfBranch(db, c.branch_id, 'care'), staffOfBranch(db, c.branch_id, 'manager')]);
      const all = [...care.map((s) => ({ ...s, role: 'care' as const })), ...managers.map((s) => ({ ...s, role: 'manager' as const }))];
      return Promise.all(all.map(async (s) => ({ ...s, onDuty: await isOnDuty(db, s.id) })));
    },

    /** A staff member takes the ticket: it is theirs, and the customer's conversation is theirs too (the bot stays quiet). */
    take(ctx: ActionContext, id: string): Promise<CustomerResult<{ announced: boolean }>> {
      return change(ctx, id, async (tx, c) => {
        if (ctx.actor.kind !== 'staff') return conflict('onlyStaffTake');
        if (!isOpenStatus(c.status)) return conflict('complaintNotOpen');
        const now = ctx.now.toISOString();
        const me = { id: ctx.actor.id, name: ctx.actor.name };
        if (c.assignee_id !== me.id) await assignComplaint(tx, c, me, complaintActorOf(ctx.actor), now);
        const announced = await takeOverConversation(tx, ctx.actor, c.customer_id, c.id, now);
        const target = replyTargets(await tx.selectFrom('channel_identities').selectAll().where('customer_id', '=', c.customer_id).execute())[0];
        if (announced && target) {
          await enqueueReplies(tx, { customerId: c.customer_id, channel: target.channel, externalId: target.external_id, replies: [joinedNotice(ctx.actor)], source: 'staff', staffUserId: me.id, flow: HANDOFF_FLOW, step: 'waiting', now });
        }
        if (announced) await insertEvents(tx, c.id, [{ kind: 'handoff_started', actor: complaintActorOf(ctx.actor) }], now);
        await audit(tx, ctx, 'complaint.take', c, { assignee: me.id, conversationTaken: announced });
        return ok({ announced: announced && Boolean(target) });
      });
    },

    assign(ctx: ActionContext, id: string, staffId: string): Promise<CustomerResult<ComplaintRow>> {
      return change(ctx, id, async (tx, c) => {
        const candidates = [...(await staffOfBranch(tx, c.branch_id, 'care')), ...(await staffOfBranch(tx, c.branch_id, 'manager'))];
        const to = candidates.find((s) => s.id === staffId);
        if (!to) return invalid([{ field: 'assignee', code: 'assigneeNotInBranch' }]);
        if (c.assignee_id === to.id) return ok(c);
        const changed = await assignComplaint(tx, c, to, complaintActorOf(ctx.actor), ctx.now.toISOString());
        await audit(tx, ctx, 'complaint.assign', c, { assignee: to.id });
        return ok(changed);
      });
    },

    note(ctx: ActionContext, id: string, raw: string): Promise<CustomerResult<null>> {
      const text = raw.replace(/\r\n/g, '\n').trim();
      if (!text) return Promise.resolve(invalid([{ field: 'note', code: 'noteRequired' }]));
      if ([...text].length > MAX_NOTE_CHARS) return Promise.resolve(invalid([{ field: 'note', code: 'noteTooLong', params: { max: MAX_NOTE_CHARS } }]));
      return change(ctx, id, async (tx, c) => {
        await addNote(tx, c, complaintActorOf(ctx.actor), text, ctx.now.toISOString());
        await audit(tx, ctx, 'complaint.note', c, { chars: [...text].length });
        return ok(null);
      });
    },

    /** Sends the customer a message through their own channel; the conversation is then in a person's hands. */
    reply(ctx: ActionContext, id: string, raw: string): Promise<CustomerResult<QueuedStaffMessage>> {
      const text = raw.replace(/\r\n/g, '\n').trim();
      if (!text) return Promise.resolve(invalid([{ field: 'text', code: 'textRequired' }]));
      if ([...text].length > MAX_STAFF_MESSAGE_CHARS) return Promise.resolve(invalid([{ field: 'text', code: 'textTooLong', params: { max: MAX_STAFF_MESSAGE_CHARS } }]));
      return reply(ctx, id, [{ type: 'text', text: { raw: text } }], { text });
    },

    /**
     * Sends the customer a photo: the body is streamed into the blob store (refused past the photo limit or
     * when it is not a picture) and sent as a link the platform fetches (LINE and Telegram need
     * PUBLIC_BASE_URL for that; the web chat shows it from here).
     */
    async replyPhoto(ctx: ActionContext, id: string, body: ReadableStream<Uint8Array>): Promise<CustomerResult<QueuedStaffMessage>> {
      const { blobs, links } = deps;
      if (!blobs || !links) return conflict('photosUnavailable');
      const c = visible(ctx.actor, await findComplaint(db, id));
      if (!c) return notFound();
      if (!isOpenStatus(c.status)) return conflict('complaintNotOpen');
      const key = `photos/staff/${c.id}/${newId()}`;
      const stored = await blobs.put(key, body, { maxBytes: PHOTO_MAX_BYTES });
      if (!stored.ok) {
        if (stored.reason === 'too_large') return invalid([{ field: 'photo', code: 'photoTooLarge', params: { mb: PHOTO_MAX_BYTES / 1024 / 1024 } }]);
        if (stored.reason === 'not_an_image') return invalid([{ field: 'photo', code: 'photoNotImage' }]);
        return conflict('photosUnavailable');
      }
      const sent = await reply(
        ctx,
        id,
        async (channel) => {
          const url = await links.linkFor(key, { absolute: channel !== 'web' });
          return url ? [{ type: 'image', url, previewUrl: url }] : null;
        },
        { blobKey: key },
      );
      if (!sent.ok) await blobs.delete(key);
      return sent;
    },

    /**
     * Records how the complaint was resolved and asks the customer, in their chat, whether it is resolved
     * (yes / not yet) and then to rate the handling. A conversation a person held about this ticket (or an
     * idle one) waits for that answer, so a typed "yes" is understood; one busy elsewhere is left alone and
     * the question's buttons work whenever the customer gets to them.
     */
    resolve(ctx: ActionContext, id: string, raw: string): Promise<CustomerResult<{ asked: boolean }>> {
      const resolution = raw.replace(/\r\n/g, '\n').trim();
      if (!resolution) return Promise.resolve(invalid([{ field: 'resolution', code: 'resolutionRequired' }]));
      if ([...resolution].length > MAX_RESOLUTION_CHARS) return Promise.resolve(invalid([{ field: 'resolution', code: 'resolutionTooLong', params: { max: MAX_RESOLUTION_CHARS } }]));
      return change(ctx, id, async (tx, c) => {
        if (!isOpenStatus(c.status)) return conflict('complaintNotOpen');
        const now = ctx.now.toISOString();
        const actor = complaintActorOf(ctx.actor);
        const resolved = await markResolved(tx, c, actor, resolution, now);
        const conversation = (await tx.selectFrom('conversations').selectAll().where('customer_id', '=', c.customer_id).executeTakeFirst()) ?? null;
        const aboutThis = conversation?.flow === HANDOFF_FLOW && readHandoffState(JSON.parse(conversation.state) as unknown)?.complaintId === c.id;
        if (!conversation || conversation.flow === null || aboutThis) {
          const position = { flow: RESOLUTION_STEP.flow, step: RESOLUTION_STEP.step, state: savedState({ complaintId: c.id, reference: c.reference }), stateVersion: COMPLAINT_STATE_VERSION };
          await saveConversation(tx, c.customer_id, conversation, position, now);
          if (aboutThis) await insertEvents(tx, c.id, [{ kind: 'handoff_ended', actor, details: { reason: 'resolved' } }], now);
        }
        const target = replyTargets(await tx.selectFrom('channel_identities').selectAll().where('customer_id', '=', c.customer_id).execute())[0];
        if (target) {
          await enqueueReplies(tx, {
            customerId: c.customer_id,
            channel: target.channel,
            externalId: target.external_id,
            replies: [resolutionQuestion(resolved, resolution)],
            source: 'staff',
            staffUserId: ctx.actor.kind === 'staff' ? ctx.actor.id : null,
            flow: RESOLUTION_STEP.flow,
            step: RESOLUTION_STEP.step,
            now,
          });
        }
        await audit(tx, ctx, 'complaint.resolve', c, { status: 'resolved', chars: [...resolution].length, asked: Boolean(target) });
        return ok({ asked: Boolean(target) });
      });
    },

    /** Closes (a duplicate, settled by phone) or reopens a ticket. */
    setStatus(ctx: ActionContext, id: string, status: string): Promise<CustomerResult<ComplaintRow>> {
      return change(ctx, id, async (tx, c) => {
        const now = ctx.now.toISOString();
        const actor = complaintActorOf(ctx.actor);
        let changed: ComplaintRow;
        if (status === 'closed' && c.status !== 'closed') changed = await closeComplaint(tx, c, actor, now);
        else if (status === 'reopened' && (c.status === 'resolved' || c.status === 'closed')) changed = await reopenComplaint(tx, c, actor, now);
        else return isStatus(status) ? conflict('statusNotAllowed') : invalid([{ field: 'status', code: 'statusUnknown' }]);
        await audit(tx, ctx, 'complaint.status', c, { status: changed.status });
        return ok(changed);
      });
    },

    /** Gives the customer's conversation back to the bot, which tells them so and shows the menu. */
    async returnToBot(ctx: ActionContext, id: string) {
      const c = visible(ctx.actor, await findComplaint(db, id));
      if (!c) return notFound();
      return handBackToBot(store, ctx, c.customer_id, { menuChoices: deps.menuChoices });
    },

    /** Whether the principal is on duty. */
    onDuty: (principal: Principal) => (principal.kind === 'staff' ? isOnDuty(db, principal.id) : Promise.resolve(false)),

    /** Puts a staff member on or off duty: themselves, or (a manager) someone of their branches. */
    async setDuty(ctx: ActionContext, staffId: string, onDuty: boolean): Promise<Result<null>> {
      const self = ctx.actor.kind === 'staff' && ctx.actor.id === staffId;
      if (!self) {
        if (ctx.actor.role !== 'manager' && ctx.actor.role !== 'admin') return conflict('dutyOthers');
        const branches = await db.selectFrom('staff_branches').select('branch_id').where('staff_id', '=', staffId).execute();
        if (!branches.some((b) => canSeeBranch(ctx.actor, b.branch_id))) return notFound();
      }
      const now = ctx.now.toISOString();
      await store.transaction(async (tx) => {
        await setOnDuty(tx, staffId, onDuty, now);
        await recordAudit(tx, { actor: ctx.actor, action: 'staff.duty', entity: 'staff', entityId: staffId, after: { onDuty }, ip: ctx.ip, now });
      });
      return ok(null);
    },

    /** The branch's care staff and managers with who is on duty; null for a branch the principal may not see. */
    async roster(principal: Principal, branchId: string) {
      if (!canSeeBranch(principal, branchId)) return null;
      const [care, managers] = await Promise.all([staffOfBranch(db, branchId, 'care'), staffOfBranch(db, branchId, 'manager')]);
      return Promise.all(
        [...care.map((s) => ({ ...s, role: 'care' as const })), ...managers.map((s) => ({ ...s, role: 'manager' as const }))].map(async (s) => ({ ...s, onDuty: await isOnDuty(db, s.id) })),
      );
    },

    async settings(principal: Principal, branchId: string): Promise<ComplaintSettings | null> {
      if (!canSeeBranch(principal, branchId)) return null;
      return (await loadComplaintBranch(db, branchId))?.settings ?? null;
    },

    async saveSettings(ctx: ActionContext, branchId: string, raw: { firstResponseMinutes: string; resolutionHours: string; telegramChatId: string; lineGroupId: string }): Promise<Result<ComplaintSettings>> {
      if (!canSeeBranch(ctx.actor, branchId)) return notFound();
      const errors = [];
      const first = Number(raw.firstResponseMinutes);
      const hours = Number(raw.resolutionHours);
      if (!Number.isInteger(first) || first < 1 || first > 7 * 24 * 60) errors.push({ field: 'firstResponseMinutes', code: 'minutesInvalid', params: { max: 7 * 24 * 60 } });
      if (!Number.isFinite(hours) || hours <= 0 || hours > 720 || !Number.isInteger(hours * 4)) errors.push({ field: 'resolutionHours', code: 'hoursInvalid', params: { max: 720 } });
      const telegram = raw.telegramChatId.trim();
      const line = raw.lineGroupId.trim();
      if (telegram && !/^(-?\d{1,20}|@[A-Za-z0-9_]{5,32})$/.test(telegram)) errors.push({ field: 'telegramChatId', code: 'telegramChatInvalid' });
      if (line && !/^[CR][0-9a-f]{32}$/.test(line)) errors.push({ field: 'lineGroupId', code: 'lineGroupInvalid' });
      if (errors.length) return invalid(errors);
      const settings: ComplaintSettings = { firstResponseMinutes: first, resolutionMinutes: Math.round(hours * 60), telegramChatId: telegram || null, lineGroupId: line || null };
      const now = ctx.now.toISOString();
      const before = (await loadComplaintBranch(db, branchId))?.settings;
      await store.transaction(async (tx) => {
        await saveComplaintSettings(tx, branchId, settings, now);
        await recordAudit(tx, { actor: ctx.actor, action: 'complaints.settings', entity: 'branch', entityId: branchId, before, after: settings, ip: ctx.ip, now });
      });
      return ok(settings);
    },

    /** The principal's unread console notices, newest first, with the ticket each is about. */
    async notifications(principal: Principal) {
      if (principal.kind !== 'staff') return [];
      return db
        .selectFrom('staff_notifications')
        .innerJoin('complaints', 'complaints.id', 'staff_notifications.complaint_id')
        .select(['staff_notifications.id', 'staff_notifications.kind', 'staff_notifications.created_at', 'complaints.id as complaintId', 'complaints.reference', 'complaints.branch_id'])
        .where('staff_notifications.staff_id', '=', principal.id)
        .where('staff_notifications.read_at', 'is', null)
        .orderBy('staff_notifications.id', 'desc')
        .limit(50)
        .execute();
    },

    /** Marks the principal's notices about one ticket as read (they opened it). */
    async markRead(principal: Principal, complaintId: string): Promise<void> {
      if (principal.kind !== 'staff') return;
      await db.updateTable('staff_notifications').set({ read_at: clock.now().toISOString() }).where('staff_id', '=', principal.id).where('complaint_id', '=', complaintId).where('read_at', 'is', null).execute();
    },

    /** The photo of one timeline entry, for staff who may see the ticket. */
    async photo(principal: Principal, complaintId: string, eventId: number) {
      if (!deps.blobs) return null;
      const c = visible(principal, await findComplaint(db, complaintId));
      if (!c) return null;
      const event = await db.selectFrom('complaint_events').select('blob_key').where('id', '=', eventId).where('complaint_id', '=', c.id).executeTakeFirst();
      return event?.blob_key ? deps.blobs.get(event.blob_key) : null;
    },
  };
}

export type ComplaintService = ReturnType<typeof createComplaintService>;
export { isCategory, isStatus };
