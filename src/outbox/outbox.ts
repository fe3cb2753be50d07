import { sql, type Kysely } from 'kysely';
import type { Reply } from '../channels/types';
import { LINE_LIMITS } from '../channels/limits';
import { newId } from '../ids';
import type { ChannelName, Database, OutboxRow } from '../store/schema';
import type { Store } from '../store/store';

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
 * Pending rows that are due, oldest first, each the first unfinished row of its recipient: a row waits
 * while an earlier row of the same recipient is pending (backing off) or being sent, so a customer's
 * messages go out in the order they were written, whichever instance sends them.
 */
export async function dueRows(db: Kysely<Database>, now: string, limit: number, recipient?: Recipient): Promise<OutboxRow[]> {
  return db
    .selectFrom('outbox as o')
    .selectAll('o')
    .where('o.status', '=', 'pending')
    .where('o.next_attempt_at', '<=', now)
    .$if(recipient !== undefined, (qb) => qb.where('o.channel', '=', recipient!.channel).where('o.external_id', '=', recipient!.externalId))
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('outbox as e')
            .select('e.id')
            .whereRef('e.channel', '=', 'o.channel')
            .whereRef('e.external_id', '=', 'o.external_id')
            .whereRef('e.id', '<', 'o.id')
            .where('e.status', 'in', ['pending', 'sending']),
        ),
      ),
    )
    .orderBy('o.id', 'asc')
    .limit(limit)
    .execute();
}

/** One customer on one channel, as the outbox addresses them. */
export interface Recipient {
  channel: ChannelName;
  externalId: string;
}

/** When the earliest pending row not yet due becomes due (a retry backing off, a reminder), if any. */
export async function nextDueAt(db: Kysely<Database>, now: string): Promise<string | null> {
  const row = await db
    .selectFrom('outbox')
    .select(sql<string | null>`min(next_attempt_at)`.as('at'))
    .where('status', '=', 'pending')
    .where('next_attempt_at', '>', now)
    .executeTakeFirst();
  return row?.at ?? null;
}

export interface ReclaimArgs {
  now: string;
  /** Instances whose last heartbeat is older than this are dead: their claims are taken back. */
  deadBefore: string;
  /** Every claim, whoever holds it: a single-node start, where whatever is 'sending' was held by a dead process. */
  all?: boolean;
  /** The instance asking, which is alive whatever its heartbeat says (a clock moved by hand, a long pause). */
  self: string;
  /**
   * At start: claims under this instance's own name are a previous process's (a restart keeps the name),
   * since the new process has claimed nothing yet.
   */
  ownEarlierClaims?: boolean;
}

/**
 * Takes back rows a dead sender held: any claim whose lease ran out, any claim of an instance whose
 * heartbeat stopped, and at a single-node start every claim. They become pending again with what they
 * recorded (attempts, parts sent, a reply attempt), and block the same recipient's later rows meanwhile.
 */
export async function reclaimDeadClaims(db: Kysely<Database>, args: ReclaimArgs): Promise<number> {
  const result = await db
    .updateTable('outbox')
    .set({ status: 'pending', claimed_by: null, lease_until: null, updated_at: args.now })
    .where('status', '=', 'sending')
    .$if(!args.all, (qb) =>
      qb.where((eb) =>
        eb.or([
          eb('lease_until', '<', args.now),
          ...(args.ownEarlierClaims ? [eb('claimed_by', '=', args.self)] : []),
          eb.and([
            eb('claimed_by', '<>', args.self),
            eb('claimed_by', 'in', eb.selectFrom('instances').select('instances.id').where('instances.heartbeat_at', '<', args.deadBefore)),
          ]),
        ]),
      ),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export interface ClaimArgs {
  instanceId: string;
  now: string;
  leaseUntil: string;
  /** The row carries a reply token still worth trying: record, before any request, that a reply may be made. */
  markReplyAttempt: boolean;
}

/**
 * Takes a pending row for sending; false when another sender took it first. On Postgres the row is
 * locked with `FOR UPDATE SKIP LOCKED` inside the claiming statement, so instances racing for the same
 * rows pass over each other's instead of queueing behind them; SQLite and D1 write one at a time, and
 * the conditional update alone decides there.
 */
export async function claimRow(store: Store, rowId: number, args: ClaimArgs): Promise<boolean> {
  const set = {
    status: 'sending' as const,
    lease_until: args.leaseUntil,
    claimed_by: args.instanceId,
    updated_at: args.now,
    ...(args.markReplyAttempt ? { reply_attempted_at: sql<string>`coalesce(reply_attempted_at, ${args.now})` } : {}),
  };
  if (store.dialect === 'postgres') {
    // One statement, so one round trip: the subquery locks the row or skips it if another claim holds it.
    const result = await store.db
      .updateTable('outbox')
      .set(set)
      .where('id', 'in', (eb) => eb.selectFrom('outbox as c').select('c.id').where('c.id', '=', rowId).where('c.status', '=', 'pending').forUpdate().skipLocked())
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
  const result = await store.db.updateTable('outbox').set(set).where('id', '=', rowId).where('status', '=', 'pending').executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Records that the first `parts` requests of a claimed row's delivery were accepted; false when the claim was lost. */
export async function recordPartsSent(db: Kysely<Database>, rowId: number, instanceId: string, parts: number, now: string): Promise<boolean> {
  const result = await db
    .updateTable('outbox')
    .set({ parts_sent: parts, updated_at: now })
    .where('id', '=', rowId)
    .where('status', '=', 'sending')
    .where('claimed_by', '=', instanceId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The customer blocked the bot or left: nothing more is tried on this channel until they come back. */
export async function markUnreachable(db: Kysely<Database>, channel: ChannelName, externalId: string, now: string): Promise<void> {
  await db.updateTable('channel_identities').set({ reachable: 0, unreachable_since: now }).where('channel', '=', channel).where('external_id', '=', externalId).execute();
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
