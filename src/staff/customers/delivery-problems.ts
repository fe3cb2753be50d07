import type { Kysely } from 'kysely';
import type { Reply } from '../../channels/types';
import type { ChannelName, Database, OutboxStatus } from '../../store/schema';
import type { Store } from '../../store/store';
import { recordAudit } from '../audit';
import { conflict, ok, type ActionContext, type CustomerResult } from './result';
import { pageNumber } from '../result';

export const DELIVERY_PAGE_SIZE = 50;

export interface DeliveryProblem {
  id: number;
  customerId: string;
  customerName: string | null;
  customerErased: boolean;
  channel: ChannelName;
  status: OutboxStatus;
  attempts: number;
  lastError: string | null;
  source: 'bot' | 'staff' | 'system';
  createdAt: string;
  nextAttemptAt: string;
  /** What the message was: each reply's raw text or message key, without rendering it. */
  summary: string[];
}

/** A reply in a few words for staff: the text a person typed, or the message key a flow sent. */
export function summariseReplies(payload: string): string[] {
  let replies: Reply[];
  try {
    replies = JSON.parse(payload) as Reply[];
  } catch {
    return [payload.slice(0, 200)];
  }
  if (!Array.isArray(replies)) return [];
  const ref = (r: { key: string } | { raw: string }) => ('raw' in r ? r.raw : r.key);
  return replies.map((reply) => {
    switch (reply.type) {
      case 'text':
        return (Array.isArray(reply.text) ? reply.text : [reply.text]).map(ref).join(' / ');
      case 'card':
        return `card: ${ref(reply.title)}`;
      case 'image':
        return `image: ${reply.url}`;
      default:
        return JSON.stringify(reply).slice(0, 200);
    }
  });
}

/**
 * Messages that did not reach the customer: given up (dead) or still being retried after a failure,
 * newest first, with the platform's last answer, for staff to fix the cause and retry.
 */
export async function listDeliveryProblems(db: Kysely<Database>, args: { page?: number; pageSize?: number } = {}): Promise<{ items: DeliveryProblem[]; page: number; hasNext: boolean }> {
  const pageSize = args.pageSize ?? DELIVERY_PAGE_SIZE;
  const page = pageNumber(args.page);
  const rows = await db
    .selectFrom('outbox')
    .innerJoin('customers', 'customers.id', 'outbox.customer_id')
    .select([
      'outbox.id',
      'outbox.customer_id',
      'customers.display_name',
      'customers.erased_at',
      'outbox.channel',
      'outbox.status',
      'outbox.attempts',
      'outbox.last_error',
      'outbox.source',
      'outbox.created_at',
      'outbox.next_attempt_at',
      'outbox.payload',
    ])
    .where((eb) => eb.or([eb('outbox.status', '=', 'dead'), eb.and([eb('outbox.status', '=', 'pending'), eb('outbox.attempts', '>', 0)])]))
    .orderBy('outbox.id', 'desc')
    .limit(pageSize + 1)
    .offset((page - 1) * pageSize)
    .execute();
  return {
    page,
    hasNext: rows.length > pageSize,
    items: rows.slice(0, pageSize).map((r) => ({
      id: r.id,
      customerId: r.customer_id,
      customerName: r.display_name,
      customerErased: r.erased_at !== null,
      channel: r.channel,
      status: r.status,
      attempts: r.attempts,
      lastError: r.last_error,
      source: r.source,
      createdAt: r.created_at,
      nextAttemptAt: r.next_attempt_at,
      summary: summariseReplies(r.payload),
    })),
  };
}

/**
 * Gives a dead message another full set of attempts, starting now (staff fixed the cause: a channel
 * token, a customer who unblocked the account). The caller wakes the outbox sender after the commit.
 */
export async function retryDeadMessage(store: Store, ctx: ActionContext, outboxId: number): Promise<CustomerResult<{ id: number; customerId: string }>> {
  const now = ctx.now.toISOString();
  return store.transaction(async (tx) => {
    const row = await tx
      .selectFrom('outbox')
      .innerJoin('customers', 'customers.id', 'outbox.customer_id')
      .select(['outbox.id', 'outbox.customer_id', 'outbox.status', 'outbox.attempts', 'outbox.last_error', 'customers.erased_at'])
      .where('outbox.id', '=', outboxId)
      .executeTakeFirst();
    if (!row) return { ok: false, reason: 'not_found' };
    if (row.erased_at) return { ok: false, reason: 'erased' };
    if (row.status !== 'dead') return conflict('notDead');
    await tx.updateTable('outbox').set({ status: 'pending', attempts: 0, rate_limited: 0, claimed_by: null, next_attempt_at: now, lease_until: null, updated_at: now }).where('id', '=', outboxId).execute();
    await recordAudit(tx, {
      actor: ctx.actor,
      action: 'outbox.retry',
      entity: 'outbox',
      entityId: String(outboxId),
      before: { status: row.status, attempts: row.attempts, lastError: row.last_error },
      after: { status: 'pending', attempts: 0, nextAttemptAt: now },
      ip: ctx.ip,
      now,
    });
    return ok({ id: row.id, customerId: row.customer_id });
  });
}
