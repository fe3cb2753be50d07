import { renderReplies, transcriptText } from '../channels/render';
import type { ChannelSender, Delivery, Reply, SendOutcome } from '../channels/types';
import type { Translator } from '../i18n';
import { isLocale, type Locale } from '../i18n/locales';
import { newId } from '../ids';
import type { Clock } from '../ops/clock';
import type { Logger } from '../ops/logger';
import type { Metrics } from '../ops/metrics';
import type { ChannelName, OutboxRow } from '../store/schema';
import { beatInstance, pruneInstances, removeInstance } from '../store/instances';
import type { Store } from '../store/store';
import { claimRow, dueRows, markUnreachable, nextDueAt, reclaimDeadClaims, recordPartsSent, type Recipient } from './outbox';
import { RateLimits, type RateLimitSettings } from './rate-limiter';
import { createWorkLoop } from '../util/work-loop';

export interface OutboxSenderDeps {
  store: Store;
  senders: Partial<Record<ChannelName, ChannelSender>>;
  translator: Translator;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  defaultLocale: Locale;
  maxAttempts: number;
  rateLimits: RateLimitSettings;
  /** How long a claimed row is ours; longer than any single platform request may take. */
  leaseMs?: number;
  /** This instance's id in `instances` and in the rows it claims; a new one each start of the process. */
  instanceId?: string;
  /** How often a started sender says it is alive (default 5 s). */
  heartbeatMs?: number;
  /** After how long without a heartbeat an instance counts as dead and its claims are taken back (default 15 s). */
  deadAfterMs?: number;
  /**
   * Take back every claim at start, whoever holds it: right for a single node (SQLite, one process owns
   * the file), where anything 'sending' at start was held by a process that died. Defaults to true on
   * SQLite; instances sharing Postgres take back only the claims of dead instances.
   */
  reclaimAllOnStart?: boolean;
  /** How long to wait between looks at the outbox when nothing wakes the sender. */
  idlePollMs?: number;
  /** Sends in flight at once, across different recipients (one recipient is always sent in order). */
  concurrency?: number;
  random?: () => number;
  /**
   * Milliseconds on a clock that only moves forward, for rate limits: they are about real requests per
   * second, not the business clock (which tests and simulations move by hand). Defaults to performance.now.
   */
  monotonicMs?: () => number;
}

export interface RunResult {
  sent: number;
  failed: number;
  deferred: number;
  /** Milliseconds until the next row we saw becomes due, if any. */
  nextDueInMs: number | null;
}

export interface OutboxSender {
  /** This sender's instance id, as recorded in the rows it claims. */
  readonly instanceId: string;
  /**
   * Registers this instance and takes back at once what a dead process held (on a single node everything
   * claimed; with several instances what dead instances claimed). start() does it first; call it yourself
   * before runOnce() when not using start().
   */
  recover(): Promise<number>;
  /** One pass over what is due. Safe to call from several instances at once. */
  runOnce(): Promise<RunResult>;
  /** Runs passes until nothing is due now (Workers: inside waitUntil after a webhook). */
  drain(maxPasses?: number): Promise<void>;
  /**
   * Sends what is due for one customer on one channel, in order, and nothing else (Workers: the customer's
   * Durable Object after processing their events, within its share of requests).
   */
  drainRecipient(recipient: Recipient, maxPasses?: number): Promise<void>;
  /** Keeps sending in the background until stop(). */
  start(): void;
  /** Wakes the background loop now (a webhook just committed replies). */
  kick(): void;
  /** Finishes the sends in flight and stops; unsent rows stay for the next start. */
  stop(): Promise<void>;
}

/** How long before a reply token's recorded expiry we stop using it, for clocks a little apart. */
const REPLY_TOKEN_MARGIN_MS = 1000;

/** Exponential backoff from 1 s up to 5 min, with ±20 % jitter so retries of many rows spread out. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(300_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + random() * 0.4));
}

/**
 * Sends outbox rows through the channels: renders each in the customer's current language, keeps the
 * platforms' rate limits, retries what may succeed later (honouring Retry-After / retry_after), gives up
 * after `maxAttempts` (429s, the platform's pacing, do not count), and writes what was sent into the
 * transcript.
 *
 * Once and in order, as far as each platform allows:
 * - A row is claimed (status 'sending', this instance's id, a lease) before any request, on Postgres under
 *   `FOR UPDATE SKIP LOCKED`, so two senders never send it at the same time.
 * - A row is sent only when no earlier row of its recipient is unfinished, so a customer's messages go out
 *   in the order written; a claimed row blocks only its own recipient, and only until its claim is taken
 *   back (lease run out, claiming instance's heartbeat stopped, or at a single node's start).
 * - Claiming a row that holds a LINE reply token records the reply attempt first; each accepted request of
 *   a delivery split into several is recorded before the next goes out (`parts_sent`); the last one is
 *   recorded with the transcript in one short transaction. What a platform accepted in the window between
 *   its answer and that record is sent again after a crash unless the platform dedupes it: LINE pushes do
 *   (`X-Line-Retry-Key`), LINE replies are retried with the same token, Telegram has no way to (see docs/delivery.md).
 */
export function createOutboxSender(deps: OutboxSenderDeps): OutboxSender {
  const leaseMs = deps.leaseMs ?? 60_000;
  const idlePollMs = deps.idlePollMs ?? 1000;
  const concurrency = deps.concurrency ?? 16;
  const heartbeatMs = deps.heartbeatMs ?? 5000;
  const deadAfterMs = deps.deadAfterMs ?? 15_000;
  const reclaimAllOnStart = deps.reclaimAllOnStart ?? deps.store.dialect === 'sqlite';
  const instanceId = deps.instanceId ?? newId();
  const random = deps.random ?? Math.random;
  const limits = new RateLimits(deps.rateLimits, deps.monotonicMs ?? (() => performance.now()));
  const db = deps.store.db;
  const log = deps.logger.child({ component: 'outbox', instance: instanceId });

  function transcriptRows(row: OutboxRow, outcome: Extract<SendOutcome, { ok: true }>, rendered: ReturnType<typeof renderReplies>, nowIso: string) {
    return rendered.map((message) => ({
      customer_id: row.customer_id,
      channel: row.channel,
      direction: 'out' as const,
      sender: row.source === 'staff' ? ('staff' as const) : row.source === 'system' ? ('system' as const) : ('bot' as const),
      kind: message.type,
      text: transcriptText(message),
      payload: JSON.stringify({
        via: outcome.via,
        ...(outcome.possibleDuplicate ? { possibleDuplicate: true } : {}),
        choices: 'choices' in message ? message.choices.map((c) => ({ id: 'id' in c ? c.id : null, label: c.label, kind: c.kind })) : [],
        message,
      }),
      flow: row.flow,
      step: row.step,
      event_id: null,
      outbox_id: row.id,
      staff_user_id: row.staff_user_id,
      created_at: nowIso,
    }));
  }

  async function finish(row: OutboxRow, outcome: SendOutcome, rendered: ReturnType<typeof renderReplies>, now: Date): Promise<'sent' | 'failed'> {
    const nowIso = now.toISOString();
    if (outcome.ok) {
      // Built before the transaction, which is then one read, one update and one insert: the shorter it
      // is, the less a crash right after the platform accepted can make us send again.
      const messages = transcriptRows(row, outcome, rendered, nowIso);
      const recorded = await deps.store.transaction(async (tx) => {
        // Staff may have erased the customer while this was in flight (their words must not come back),
        // or another instance took the row back, taking us for dead: then the row is not ours to record.
        // Read first rather than by the update's count: D1 reports no count inside a transaction.
        const current = await tx
          .selectFrom('outbox')
          .select(['status', 'claimed_by'])
          .where('id', '=', row.id)
          .$if(deps.store.dialect === 'postgres', (qb) => qb.forUpdate())
          .executeTakeFirst();
        if (current?.status !== 'sending' || current.claimed_by !== instanceId) return false;
        await tx
          .updateTable('outbox')
          .set({
            status: 'sent',
            sent_at: nowIso,
            updated_at: nowIso,
            lease_until: null,
            last_error: null,
            attempts: row.attempts + 1,
            reply_token: null,
            sent_via: outcome.via,
            possible_duplicate: outcome.possibleDuplicate ? 1 : 0,
          })
          .where('id', '=', row.id)
          .where('status', '=', 'sending')
          .where('claimed_by', '=', instanceId)
          .execute();
        if (messages.length > 0) await tx.insertInto('messages').values(messages).execute();
        return true;
      });
      if (!recorded) log.warn({ outboxId: row.id }, 'sent, but the row was no longer ours to record (erased, or taken back from this instance)');
      const result = outcome.possibleDuplicate ? 'possible_duplicate' : outcome.via === 'reply-assumed' ? 'reply_assumed' : 'sent';
      deps.metrics.sends.inc({ platform: row.channel, result });
      if (outcome.possibleDuplicate) log.warn({ outboxId: row.id, channel: row.channel }, 'pushed after a reply attempt that may also have arrived: the customer may see this twice');
      return 'sent';
    }
    // A 429 is the platform pacing us, not a failure of this message: it does not use up an attempt.
    const rateLimited = outcome.status === 429;
    const attempts = row.attempts + 1;
    const throttled = row.rate_limited + (rateLimited ? 1 : 0);
    const dead = !outcome.retryable || attempts - throttled >= deps.maxAttempts;
    const delay = outcome.retryAfterMs ?? backoffMs(Math.max(1, attempts - throttled), random);
    const error = `${outcome.status ?? 'network'}: ${outcome.error}`.slice(0, 1000);
    await deps.store.transaction(async (tx) => {
      await tx
        .updateTable('outbox')
        .set({
          status: dead ? 'dead' : 'pending',
          attempts,
          rate_limited: throttled,
          last_error: error,
          lease_until: null,
          claimed_by: null,
          next_attempt_at: new Date(now.getTime() + delay).toISOString(),
          updated_at: nowIso,
          ...replyAfterFailure(row, outcome),
        })
        .where('id', '=', row.id)
        .where('status', '=', 'sending')
        .where('claimed_by', '=', instanceId)
        .execute();
      if (outcome.unreachable) await markUnreachable(tx, row.channel, row.external_id, nowIso);
    });
    deps.metrics.sends.inc({ platform: row.channel, result: dead ? 'dead' : rateLimited ? 'rate_limited' : 'retry' });
    (dead ? log.error.bind(log) : log.warn.bind(log))({ outboxId: row.id, channel: row.channel, attempts, error, retryInMs: dead ? null : delay }, dead ? 'message given up' : 'send failed, will retry');
    return 'failed';
  }

  /**
   * What a failed attempt tells about the reply token. The claim marked a reply attempt before knowing
   * how it would end; when LINE certainly did not take the reply, and no earlier attempt may have, the
   * mark goes, so a later refusal of the token is not taken for a delivered reply. A token LINE refused
   * is dropped: the next attempt pushes.
   */
  function replyAfterFailure(row: OutboxRow, outcome: Extract<SendOutcome, { ok: false }>) {
    const firstAttempt = row.reply_attempted_at === null;
    if (outcome.reply === 'token-refused') return { reply_token: null, reply_token_expires_at: null, ...(firstAttempt ? { reply_attempted_at: null } : {}) };
    if (outcome.reply === 'not-taken' && firstAttempt) return { reply_attempted_at: null };
    return {};
  }

  async function giveUp(row: OutboxRow, reason: string, now: Date): Promise<void> {
    const nowIso = now.toISOString();
    await db
      .updateTable('outbox')
      .set({ status: 'dead', last_error: reason, lease_until: null, claimed_by: null, updated_at: nowIso })
      .where('id', '=', row.id)
      .where('claimed_by', '=', instanceId)
      .execute();
    deps.metrics.sends.inc({ platform: row.channel, result: 'dead' });
    log.warn({ outboxId: row.id, channel: row.channel, reason }, 'message not sendable');
  }

  /** A reply token we may still use: LINE keeps it ~30 s from the event; a second's margin covers clocks. */
  function usableReplyToken(row: OutboxRow, now: Date): string | null {
    if (!row.reply_token || !row.reply_token_expires_at) return null;
    return Date.parse(row.reply_token_expires_at) - REPLY_TOKEN_MARGIN_MS > now.getTime() ? row.reply_token : null;
  }

  async function sendRow(row: OutboxRow): Promise<'sent' | 'failed' | 'skipped' | { deferredMs: number }> {
    const now = deps.clock.now();
    // A rate limit holds the row back in memory only: it stays due, and this sender comes back to it when
    // the limit allows (another instance with room may send it sooner).
    const wait = limits.reserve(row.channel, row.external_id);
    if (wait > 0) return { deferredMs: wait };
    const replyToken = usableReplyToken(row, now);
    const claimed = await claimRow(deps.store, row.id, {
      instanceId,
      now: now.toISOString(),
      leaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
      markReplyAttempt: replyToken !== null,
    });
    if (!claimed) {
      limits.release(row.channel, row.external_id);
      return 'skipped';
    }

    const sender = deps.senders[row.channel];
    if (!sender) {
      await giveUp(row, `channel ${row.channel} is not configured`, now);
      return 'failed';
    }
    const recipient = await db
      .selectFrom('channel_identities')
      .innerJoin('customers', 'customers.id', 'channel_identities.customer_id')
      .select(['channel_identities.reachable', 'customers.locale', 'customers.opted_out_at'])
      .where('channel_identities.channel', '=', row.channel)
      .where('channel_identities.external_id', '=', row.external_id)
      .executeTakeFirst();
    if (!recipient || recipient.reachable === 0) {
      await giveUp(row, 'customer cannot be reached on this channel (blocked or left)', now);
      return 'failed';
    }
    const locale = isLocale(recipient.locale) ? recipient.locale : deps.defaultLocale;
    const replies = JSON.parse(row.payload) as Reply[];
    const rendered = renderReplies(deps.translator, locale, replies);
    const delivery: Delivery = {
      key: row.key,
      externalId: row.external_id,
      replyToken,
      // As read before this claim: whether an earlier attempt may already have used the token.
      replyAttempted: row.reply_attempted_at !== null,
      partsSent: row.parts_sent,
      onPartSent: async (parts) => {
        if (!(await recordPartsSent(db, row.id, instanceId, parts, deps.clock.now().toISOString()))) {
          log.warn({ outboxId: row.id, parts }, 'part sent, but the row was no longer ours to record');
        }
      },
      messages: rendered,
    };

    let outcome: SendOutcome;
    try {
      outcome = await sender.send(delivery);
    } catch (err) {
      // A sender must turn platform answers into outcomes; reaching here is a fault in our own code or a
      // failed progress record.
      log.error({ err, outboxId: row.id }, 'sender threw');
      outcome = { ok: false, retryable: true, retryAfterMs: null, status: null, error: err instanceof Error ? err.message : String(err) };
    }
    return finish(row, outcome, rendered, deps.clock.now());
  }

  async function reclaim(all: boolean, ownEarlierClaims = false): Promise<number> {
    const now = deps.clock.now();
    const taken = await reclaimDeadClaims(db, { now: now.toISOString(), deadBefore: new Date(now.getTime() - deadAfterMs).toISOString(), all, self: instanceId, ownEarlierClaims });
    if (taken > 0) log.warn({ rows: taken, all }, 'took back messages a stopped sender had claimed');
    return taken;
  }

  async function beat(): Promise<void> {
    await beatInstance(db, instanceId, deps.clock.now().toISOString());
  }

  async function recover(): Promise<number> {
    await beat();
    // Instances silent for an hour are long dead; their claims were taken back within seconds.
    await pruneInstances(db, new Date(deps.clock.now().getTime() - 3600_000).toISOString());
    return reclaim(reclaimAllOnStart, true);
  }

  async function drainPasses(maxPasses: number, recipient?: Recipient): Promise<void> {
    for (let i = 0; i < maxPasses; i++) {
      const r = await runOnce(recipient);
      if (r.sent + r.failed + r.deferred === 0) return;
      // Only rate-limited rows left: wait until the first may go (a retry's backoff is not waited for).
      if (r.deferred > 0 && r.sent + r.failed === 0) await new Promise((res) => setTimeout(res, Math.min(1500, Math.max(5, r.nextDueInMs ?? 50))));
    }
  }

  async function runOnce(recipient?: Recipient): Promise<RunResult> {
    await reclaim(false);
    const now = deps.clock.now();
    const nowIso = now.toISOString();
    const [due, next] = await Promise.all([dueRows(db, nowIso, 500, recipient), nextDueAt(db, nowIso)]);
    const result: RunResult = { sent: 0, failed: 0, deferred: 0, nextDueInMs: next === null ? null : Math.max(0, Date.parse(next) - now.getTime()) };
    let index = 0;
    const worker = async () => {
      while (index < due.length) {
        const row = due[index++]!;
        const r = await sendRow(row);
        if (r === 'sent') result.sent += 1;
        else if (r === 'failed') result.failed += 1;
        else if (typeof r === 'object') {
          // Held back by a rate limit: due again when the limit allows, not on the next idle poll.
          result.deferred += 1;
          result.nextDueInMs = result.nextDueInMs === null ? r.deferredMs : Math.min(result.nextDueInMs, r.deferredMs);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, worker));
    return result;
  }

  let recovered = false;
  let heartbeat: ReturnType<typeof setInterval> | null = null;
  const background = createWorkLoop(
    async () => {
      if (!recovered) {
        await recover();
        recovered = true;
      }
      const r = await runOnce();
      return { didWork: r.sent + r.failed > 0, nextDueInMs: r.nextDueInMs };
    },
    { idleMs: idlePollMs, logger: log, name: 'outbox' },
  );

  return {
    instanceId,
    recover,
    runOnce,
    drain: (maxPasses = 50) => drainPasses(maxPasses),
    drainRecipient: (recipient, maxPasses = 50) => drainPasses(maxPasses, recipient),
    start() {
      background.start();
      // Its own timer, not the sending loop's passes: a pass held up by a slow platform must not make
      // the other instances take this one for dead and send what it is still sending.
      heartbeat ??= setInterval(() => {
        beat().catch((err: unknown) => log.warn({ err }, 'heartbeat not recorded'));
      }, heartbeatMs);
      (heartbeat as { unref?: () => void }).unref?.();
    },
    kick: () => background.kick(),
    async stop() {
      await background.stop();
      if (heartbeat !== null) {
        clearInterval(heartbeat);
        heartbeat = null;
        // A clean stop leaves nothing claimed; forgetting the instance tells the others so at once.
        if (recovered) await removeInstance(db, instanceId).catch((err: unknown) => log.warn({ err }, 'instance not removed'));
      }
    },
  };
}
