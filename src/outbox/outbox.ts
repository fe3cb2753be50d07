import { sql, type Kysely } from 'kysely';
import type { Reply } from '../channels/types';
import { LINE_LIMITS } from '../channels/limits';
import { newId } from '../ids';
import type { ChannelName, Database, OutboxRow } from '../store/schema';

/**
 * How many replies one outbox row (one platform request) carries. LINE takes five messages in one
 * reply or push; a Telegram request is one message; web chat rows are read by the page, so one each
 * keeps the transcript in step with what the customer saw.
 */
export const REPLIES_PER_DELIVERY: Record<ChannelName, number> = {
  line: LINE_LIMITS.messagesPerRequest,
  telegram: 1,
  web: 1,
};

export interface EnqueueArgs {
  customerId: string;
  channel: ChannelName;
  externalId: string;
  replies: Reply[];
  /** A LINE reply token still worth trying, and when it stops being so. */
  replyToken?: { token: string; expiresAt: string } | null;
  source: 'bot' | 'staff' | 'system';
  staffUserId?: string | null;
  flow?: string | null;
  step?: string | null;
  now: string;
  /** Earliest send time (reminders); defaults to now. */
  notBefore?: string;
  /**
   * The idempotency key of the first row, when the caller needs to find its rows again (a notice following
   * its delivery); further rows get `key:1`, `key:2` … The outbox key is unique, so queuing the same key
   * twice fails. A new random key a row when absent.
   */
  key?: string;
}

/**
 * Writes replies to the outbox inside the caller's transaction, split into one row per platform request.
 * Only the first row carries the reply token: LINE accepts a token once.
 */
export async function enqueueReplies(db: Kysely<Database>, args: EnqueueArgs): Promise<number> {
  if (args.replies.length === 0) return 0;
  const size = REPLIES_PER_DELIVERY[args.channel];
  const rows = [];
  for (let i = 0; i < args.replies.length; i += size) {
    const first = i === 0;
    rows.push({
      key: args.key === undefined ? newId() : i === 0 ? args.key : `${args.key}:${i / size}`,
      customer_id: args.customerId,
      channel: args.channel,
      external_id: args.externalId,
      payload: JSON.stringify(args.replies.slice(i, i + size)),
      reply_token: first && args.replyToken ? args.replyToken.token : null,
      reply_token_expires_at: first && args.replyToken ? args.replyToken.expiresAt : null,
      status: 'pending' as const,
      attempts: 0,
      next_attempt_at: args.notBefore ?? args.now,
      lease_until: null,
      last_error: null,
      source: args.source,
      staff_user_id: args.staffUserId ?? null,
      flow: args.flow ?? null,
      step: args.step ?? null,
      created_at: args.now,
      updated_at: args.now,
      sent_at: null,
    });
  }
  await db.insertInto('outbox').values(rows).execute();
  return rows.length;
}

/**
 * Rows that may be due, oldest first: pending ones and ones whose sender's lease ran out (a sender that
 * died mid-send). The caller keeps only the first row of each recipient so messages stay in order.
 */
export async function candidateRows(db: Kysely<Database>, now: string, limit: number): Promise<OutboxRow[]> {
  return db
    .selectFrom('outbox')
    .selectAll()
    .where((eb) => eb.or([eb('status', '=', 'pending'), eb.and([eb('status', '=', 'sending'), eb('lease_until', '<', now)])]))
    .orderBy('id', 'asc')
    .limit(limit)
    .execute();
}

/** Takes a row for sending; false when another sender took it first. */
export async function claimRow(db: Kysely<Database>, row: OutboxRow, now: string, leaseUntil: string): Promise<boolean> {
  const result = await db
    .updateTable('outbox')
    .set({ status: 'sending', lease_until: leaseUntil, updated_at: now })
    .where('id', '=', row.id)
    .where((eb) => eb.or([eb('status', '=', 'pending'), eb.and([eb('status', '=', 'sending'), eb('lease_until', '<', now)])]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export interface OutboxStats {
  channel: ChannelName;
  status: string;
  count: number;
  oldest: string | null;
}

/** Depth and age of what is waiting, for /metrics and the staff console. */
export async function outboxStats(db: Kysely<Database>): Promise<OutboxStats[]> {
  const rows = await db
    .selectFrom('outbox')
    .select(['channel', 'status', sql<number>`count(*)`.as('count'), sql<string | null>`min(created_at)`.as('oldest')])
    .where('status', 'in', ['pending', 'sending', 'dead'])
    .groupBy(['channel', 'status'])
    .execute();
  return rows.map((r) => ({ channel: r.channel, status: r.status, count: Number(r.count), oldest: r.oldest }));
}
