import type { Kysely } from 'kysely';
import type { ChannelName, Reply } from '../channels/types';
import { afterQuietHours } from '../domain/reminder-times';
import { newId } from '../ids';
import type { Locale } from '../i18n/locales';
import type { Logger } from '../ops/logger';
import { enqueueReplies, REPLIES_PER_DELIVERY } from '../outbox/outbox';
import type { Database, NoticeKind, NoticeState, RepairOrderNoticeRow, RepairOrderStatus } from '../store/schema';
import type { Store } from '../store/store';
import { raiseAlert } from './alerts';
import { consentReplies, delayReplies, pickupReplies, statusReplies } from './messages';
import { findRepairOrder } from './repair-orders';
import { loadSubject, type OrderSubject } from './subject';

/*
 * Notices: the messages the workshop sends a customer about their order without being asked (a status,
 * the added items, the pickup card, reminders). Each is a row whose id is the outbox key of its first
 * message, so staff can follow its delivery, and whose dedupe key makes it one of a kind.
 *
 * A notice goes through the outbox in the transaction of the change that caused it, to the chat channel the
 * customer used last (reply tokens are the engine's: a notice is not an answer, so it is pushed). One that
 * is not urgent and falls in the branch's quiet hours waits as `scheduled` in this table, not in the outbox,
 * so the customer's own conversation is never held up behind it; the notice job queues it when quiet hours
 * end, if it still says something true (the car may have been collected meanwhile). A customer no chat can
 * reach (blocked the bot, opted out) gets an alert for the advisor to phone instead.
 */

export interface NoticeSpec {
  kind: NoticeKind;
  /** The status a status or pickup notice is about. */
  status?: RepairOrderStatus | null;
  requestId?: string | null;
  dedupeKey: string;
  /** Sent now whatever the hour. */
  urgent: boolean;
  params?: Record<string, string> | null;
  /** Not before this (the next morning's reminder); quiet hours still apply after it. */
  notBefore?: Date;
}

export type NoticeOutcome = Exclude<NoticeState, 'sent' | 'failed'> | 'duplicate';

/** The chat channel to write to: the reachable one the customer used last, or null. */
export async function noticeTarget(db: Kysely<Database>, customerId: string): Promise<{ channel: ChannelName; externalId: string } | null> {
  const identity = await db
    .selectFrom('channel_identities')
    .select(['channel', 'external_id'])
    .where('customer_id', '=', customerId)
    .where('reachable', '=', 1)
    .orderBy('last_seen_at', 'desc')
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return identity ? { channel: identity.channel, externalId: identity.external_id } : null;
}

/** The messages of a notice as the order now stands; empty when it no longer has anything true to say. */
export function noticeReplies(s: OrderSubject, notice: Pick<RepairOrderNoticeRow, 'kind' | 'status' | 'request_id' | 'params'>, channel: ChannelName, now: number): Reply[] {
  const params = notice.params ? (JSON.parse(notice.params) as Record<string, string>) : {};
  switch (notice.kind) {
    case 'status':
      return notice.status && s.order.status === notice.status ? statusReplies(s, notice.status) : [];
    case 'pickup':
      return s.order.status === 'ready' ? pickupReplies(s, now, { reminder: false }) : [];
    case 'pickup_reminder':
      return s.order.status === 'ready' ? pickupReplies(s, now, { reminder: true }) : [];
    case 'delay':
      return params.from && params.to && s.order.promisedAt === params.to && s.order.status !== 'collected' && s.order.status !== 'cancelled' ? delayReplies(s, params.from, params.to) : [];
    case 'consent':
    case 'consent_reminder':
      return notice.request_id && s.order.status !== 'collected' && s.order.status !== 'cancelled' ? consentReplies(s, notice.request_id, channel, { reminder: notice.kind === 'consent_reminder' }) : [];
  }
}

/** Writes the notice's messages to the outbox (one call a platform request, keys `id`, `id:1` …); returns the rows written. */
async function enqueueNotice(db: Kysely<Database>, id: string, customerId: string, target: { channel: ChannelName; externalId: string }, replies: Reply[], kind: NoticeKind, now: string): Promise<number> {
  const size = REPLIES_PER_DELIVERY[target.channel];
  let rows = 0;
  for (let i = 0; i < replies.length; i += size) {
    // One row a call: D1 binds at most 100 parameters a statement.
    rows += await enqueueReplies(db, {
      key: rows === 0 ? id : `${id}:${rows}`,
      customerId,
      channel: target.channel,
      externalId: target.externalId,
      replies: replies.slice(i, i + size),
      source: 'system',
      flow: 'prog',
      step: kind,
      now,
    });
  }
  return rows;
}

interface Delivered {
  state: 'queued' | 'unreachable' | 'cancelled';
  channel: ChannelName | null;
  externalId: string | null;
  rows: number;
}

/** Sends a due notice now, or says why not: nobody to reach (an alert is raised), or nothing left to say. */
async function deliver(db: Kysely<Database>, s: OrderSubject, id: string, notice: Pick<RepairOrderNoticeRow, 'kind' | 'status' | 'request_id' | 'params'>, now: Date): Promise<Delivered> {
  const nowIso = now.toISOString();
  const target = s.customer.optedOut ? null : await noticeTarget(db, s.customer.id);
  const replies = noticeReplies(s, notice, target?.channel ?? 'web', now.getTime());
  if (replies.length === 0) return { state: 'cancelled', channel: null, externalId: null, rows: 0 };
  if (!target) {
    await raiseAlert(db, { orderId: s.order.id, branchId: s.order.branchId, kind: 'unreachable', details: { notice: notice.kind, phone: s.customer.phone, optedOut: s.customer.optedOut } }, nowIso);
    return { state: 'unreachable', channel: null, externalId: null, rows: 0 };
  }
  const rows = await enqueueNotice(db, id, s.customer.id, target, replies, notice.kind, nowIso);
  if (notice.kind === 'consent' && notice.request_id) {
    await db.updateTable('repair_order_requests').set({ sent_at: nowIso }).where('id', '=', notice.request_id).where('sent_at', 'is', null).execute();
  }
  return { state: 'queued', channel: target.channel, externalId: target.externalId, rows };
}

/**
 * Creates a notice in the caller's transaction, about the order as it now is (`s`): queued at once, or
 * scheduled for the end of quiet hours. A notice whose dedupe key exists already is not made again.
 */
export async function createNotice(db: Kysely<Database>, s: OrderSubject, spec: NoticeSpec, now: Date): Promise<NoticeOutcome> {
  const existing = await db.selectFrom('repair_order_notices').select('id').where('dedupe_key', '=', spec.dedupeKey).executeTakeFirst();
  if (existing) return 'duplicate';
  const nowIso = now.toISOString();
  const from = Math.max(now.getTime(), spec.notBefore?.getTime() ?? 0);
  const due = spec.urgent ? from : afterQuietHours(from, s.branch.timeZone, s.branch.quietHoursStart, s.branch.quietHoursEnd);
  const id = newId();
  const base = {
    id,
    repair_order_id: s.order.id,
    customer_id: s.customer.id,
    kind: spec.kind,
    status: spec.status ?? null,
    request_id: spec.requestId ?? null,
    dedupe_key: spec.dedupeKey,
    urgent: spec.urgent ? 1 : 0,
    due_at: new Date(due).toISOString(),
    params: spec.params ? JSON.stringify(spec.params) : null,
    error: null,
    created_at: nowIso,
  };
  if (due > now.getTime()) {
    await db.insertInto('repair_order_notices').values({ ...base, state: 'scheduled', channel: null, external_id: null, rows: 0, queued_at: null, settled_at: null }).execute();
    return 'scheduled';
  }
  const d = await deliver(db, s, id, base, now);
  await db
    .insertInto('repair_order_notices')
    .values({ ...base, state: d.state, channel: d.channel, external_id: d.externalId, rows: d.rows, queued_at: d.state === 'queued' ? nowIso : null, settled_at: d.state === 'queued' ? null : nowIso })
    .execute();
  return d.state;
}

export interface NoticeJobsDeps {
  store: Store;
  defaultLocale: Locale;
  logger: Logger;
  /** Wakes the outbox sender after notices were queued. */
  onOutbox?: () => void;
}

/** Queues the scheduled notices that are due (quiet hours over); returns how many were queued. */
export async function queueDueNotices(deps: NoticeJobsDeps, now: Date, limit = 200): Promise<number> {
  const nowIso = now.toISOString();
  const due = await deps.store.db.selectFrom('repair_order_notices').selectAll().where('state', '=', 'scheduled').where('due_at', '<=', nowIso).orderBy('due_at').limit(limit).execute();
  let queued = 0;
  for (const notice of due) {
    const state = await deps.store.transaction(async (tx) => {
      // Locked before it is read again: another instance queuing the same notice has committed by then, and
      // its state says so (read first, both would queue it and the second would fail on the outbox key).
      await deps.store.lock(tx, `notice:${notice.id}`);
      const current = await tx.selectFrom('repair_order_notices').select('state').where('id', '=', notice.id).executeTakeFirst();
      if (current?.state !== 'scheduled') return null;
      const order = await findRepairOrder(tx, notice.repair_order_id);
      const s = order ? await loadSubject(tx, order, deps.defaultLocale) : null;
      const d: Delivered = s ? await deliver(tx, s, notice.id, notice, now) : { state: 'cancelled', channel: null, externalId: null, rows: 0 };
      await tx
        .updateTable('repair_order_notices')
        .set({ state: d.state, channel: d.channel, external_id: d.externalId, rows: d.rows, queued_at: d.state === 'queued' ? nowIso : null, settled_at: d.state === 'queued' ? null : nowIso })
        .where('id', '=', notice.id)
        .where('state', '=', 'scheduled')
        .execute();
      return d.state;
    });
    if (state === 'queued') queued += 1;
  }
  if (queued > 0) deps.onOutbox?.();
  return queued;
}

/** The outbox keys of a notice's rows. */
export function noticeKeys(notice: Pick<RepairOrderNoticeRow, 'id' | 'rows'>): string[] {
  return Array.from({ length: Math.max(1, notice.rows) }, (_, i) => (i === 0 ? notice.id : `${notice.id}:${i}`));
}

export type DeliveryState = { state: 'pending' | 'sending' | 'sent' | 'failed'; attempts: number; lastError: string | null; sentAt: string | null; via: string | null };

/** How a queued notice's messages fared in the outbox, from its rows (read in one statement for many notices). */
export async function deliveryStates(db: Kysely<Database>, notices: readonly Pick<RepairOrderNoticeRow, 'id' | 'rows'>[]): Promise<Map<string, DeliveryState>> {
  const keys = notices.flatMap(noticeKeys);
  const rows: { key: string; status: string; attempts: number; last_error: string | null; sent_at: string | null }[] = [];
  // D1 binds at most 100 parameters a statement.
  for (let i = 0; i < keys.length; i += 90) {
    rows.push(...(await db.selectFrom('outbox').select(['key', 'status', 'attempts', 'last_error', 'sent_at']).where('key', 'in', keys.slice(i, i + 90)).execute()));
  }
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const out = new Map<string, DeliveryState>();
  for (const notice of notices) {
    const mine = noticeKeys(notice).map((k) => byKey.get(k));
    if (mine.some((r) => r === undefined)) continue;
    const found = mine as NonNullable<(typeof mine)[number]>[];
    const failed = found.find((r) => r.status === 'dead' || r.status === 'cancelled');
    const attempts = Math.max(...found.map((r) => r.attempts));
    const lastError = found.map((r) => r.last_error).find((e) => e) ?? null;
    if (failed) out.set(notice.id, { state: 'failed', attempts, lastError: failed.last_error ?? lastError, sentAt: null, via: null });
    else if (found.every((r) => r.status === 'sent')) out.set(notice.id, { state: 'sent', attempts, lastError: null, sentAt: found[found.length - 1]!.sent_at, via: null });
    else out.set(notice.id, { state: found.some((r) => r.status === 'sending') ? 'sending' : 'pending', attempts, lastError, sentAt: null, via: null });
  }
  return out;
}

/**
 * Follows queued notices to their end in the outbox: sent, or given up — then the advisor is told to phone
 * (the customer blocked the bot meanwhile, or the platform kept refusing). Returns how many settled.
 */
export async function settleQueuedNotices(deps: NoticeJobsDeps, now: Date, limit = 500): Promise<number> {
  const nowIso = now.toISOString();
  const queued = await deps.store.db.selectFrom('repair_order_notices').selectAll().where('state', '=', 'queued').orderBy('queued_at').limit(limit).execute();
  if (queued.length === 0) return 0;
  const states = await deliveryStates(deps.store.db, queued);
  let settled = 0;
  for (const notice of queued) {
    const delivery = states.get(notice.id);
    if (!delivery || (delivery.state !== 'sent' && delivery.state !== 'failed')) continue;
    const state: 'sent' | 'failed' = delivery.state;
    const done = await deps.store.transaction(async (tx) => {
      // Another instance may be settling it at this moment: the one that takes the lock first does, once
      // (without it both would see it queued and raise the advisor's alert twice).
      await deps.store.lock(tx, `notice:${notice.id}`);
      const current = await tx.selectFrom('repair_order_notices').select('state').where('id', '=', notice.id).executeTakeFirst();
      if (current?.state !== 'queued') return false;
      if (delivery.state === 'failed') {
        const order = await tx.selectFrom('repair_orders').select(['branch_id']).where('id', '=', notice.repair_order_id).executeTakeFirst();
        const identity = notice.channel && notice.external_id ? await tx.selectFrom('channel_identities').select('reachable').where('channel', '=', notice.channel).where('external_id', '=', notice.external_id).executeTakeFirst() : undefined;
        const customer = await tx.selectFrom('customers').select('phone').where('id', '=', notice.customer_id).executeTakeFirst();
        if (order) {
          await raiseAlert(
            tx,
            { orderId: notice.repair_order_id, branchId: order.branch_id, kind: identity?.reachable === 0 ? 'unreachable' : 'delivery_failed', details: { notice: notice.kind, channel: notice.channel, error: delivery.lastError, phone: customer?.phone ?? null } },
            nowIso,
          );
        }
      }
      await tx
        .updateTable('repair_order_notices')
        .set({ state, error: state === 'failed' ? delivery.lastError : null, settled_at: nowIso })
        .where('id', '=', notice.id)
        .where('state', '=', 'queued')
        .execute();
      return true;
    });
    if (done) settled += 1;
  }
  if (settled > 0) deps.logger.debug({ settled }, 'repair order notices settled');
  return settled;
}
