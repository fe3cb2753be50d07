import { renderReplies, transcriptText } from '../channels/render';
import type { ChannelSender, Reply, SendOutcome } from '../channels/types';
import type { Translator } from '../i18n';
import { isLocale, type Locale } from '../i18n/locales';
import type { Clock } from '../ops/clock';
import type { Logger } from '../ops/logger';
import type { Metrics } from '../ops/metrics';
import type { ChannelName, OutboxRow } from '../store/schema';
import type { Store } from '../store/store';
import { appendMessage } from '../store/transcript';
import { candidateRows, claimRow } from './outbox';
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
  /** One pass over what is due. Safe to call from several instances at once. */
  runOnce(): Promise<RunResult>;
  /** Runs passes until nothing is due now (Workers: inside waitUntil after a webhook). */
  drain(maxPasses?: number): Promise<void>;
  /** Keeps sending in the background until stop(). */
  start(): void;
  /** Wakes the background loop now (a webhook just committed replies). */
  kick(): void;
  /** Finishes the sends in flight and stops; unsent rows stay for the next start. */
  stop(): Promise<void>;
}

/** Exponential backoff from 1 s up to 5 min, with ±20 % jitter so retries of many rows spread out. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(300_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + random() * 0.4));
}

/**
 * Sends outbox rows through the channels: renders each in the customer's current language, keeps the
 * platforms' rate limits, retries what may succeed later (honouring Retry-After / retry_after), gives up
 * after `maxAttempts`, and writes what was sent into the transcript. A row is claimed with a lease before
 * sending and marked sent in the same step, so two senders never send it twice.
 */
export function createOutboxSender(deps: OutboxSenderDeps): OutboxSender {
  const leaseMs = deps.leaseMs ?? 60_000;
  const idlePollMs = deps.idlePollMs ?? 1000;
  const concurrency = deps.concurrency ?? 16;
  const random = deps.random ?? Math.random;
  const limits = new RateLimits(deps.rateLimits, deps.monotonicMs ?? (() => performance.now()));
  const db = deps.store.db;
  const log = deps.logger.child({ component: 'outbox' });

  async function finish(row: OutboxRow, outcome: SendOutcome, rendered: ReturnType<typeof renderReplies>, now: Date): Promise<'sent' | 'failed'> {
    const nowIso = now.toISOString();
    if (outcome.ok) {
      await deps.store.transaction(async (tx) => {
        // Staff may have erased the customer while this was in flight: their words must not come back.
        const current = await tx.selectFrom('outbox').select('status').where('id', '=', row.id).executeTakeFirst();
        if (current?.status !== 'sending') return;
        await tx
          .updateTable('outbox')
          .set({ status: 'sent', sent_at: nowIso, updated_at: nowIso, lease_until: null, last_error: null, attempts: row.attempts + 1, reply_token: null })
          .where('id', '=', row.id)
          .execute();
        for (const message of rendered) {
          await appendMessage(tx, {
            customer_id: row.customer_id,
            channel: row.channel,
            direction: 'out',
            sender: row.source === 'staff' ? 'staff' : row.source === 'system' ? 'system' : 'bot',
            kind: message.type,
            text: transcriptText(message),
            payload: JSON.stringify({ via: outcome.via, choices: 'choices' in message ? message.choices.map((c) => ({ id: 'id' in c ? c.id : null, label: c.label, kind: c.kind })) : [], message }),
            flow: row.flow,
            step: row.step,
            event_id: null,
            outbox_id: row.id,
            staff_user_id: row.staff_user_id,
            created_at: nowIso,
          });
        }
      });
      deps.metrics.sends.inc({ platform: row.channel, result: 'sent' });
      return 'sent';
    }
    const attempts = row.attempts + 1;
    const dead = !outcome.retryable || attempts >= deps.maxAttempts;
    const delay = outcome.retryAfterMs ?? backoffMs(attempts, random);
    const error = `${outcome.status ?? 'network'}: ${outcome.error}`.slice(0, 1000);
    await deps.store.transaction(async (tx) => {
      await tx
        .updateTable('outbox')
        .set({
          status: dead ? 'dead' : 'pending',
          attempts,
          last_error: error,
          lease_until: null,
          next_attempt_at: new Date(now.getTime() + delay).toISOString(),
          updated_at: nowIso,
        })
        .where('id', '=', row.id)
        .execute();
      if (outcome.unreachable) {
        await tx
          .updateTable('channel_identities')
          .set({ reachable: 0, unreachable_since: nowIso })
          .where('channel', '=', row.channel)
          .where('external_id', '=', row.external_id)
          .execute();
      }
    });
    deps.metrics.sends.inc({ platform: row.channel, result: dead ? 'dead' : outcome.status === 429 ? 'rate_limited' : 'retry' });
    (dead ? log.error.bind(log) : log.warn.bind(log))({ outboxId: row.id, channel: row.channel, attempts, error, retryInMs: dead ? null : delay }, dead ? 'message given up' : 'send failed, will retry');
    return 'failed';
  }

  async function giveUp(row: OutboxRow, reason: string, now: Date): Promise<void> {
    const nowIso = now.toISOString();
    await db
      .updateTable('outbox')
      .set({ status: 'dead', last_error: reason, lease_until: null, updated_at: nowIso })
      .where('id', '=', row.id)
      .execute();
    deps.metrics.sends.inc({ platform: row.channel, result: 'dead' });
    log.warn({ outboxId: row.id, channel: row.channel, reason }, 'message not sendable');
  }

  async function sendRow(row: OutboxRow): Promise<'sent' | 'failed' | 'skipped' | { deferredMs: number }> {
    const now = deps.clock.now();
    // A rate limit holds the row back in memory only: it stays due, and this sender comes back to it when
    // the limit allows (another instance with room may send it sooner).
    const wait = limits.reserve(row.channel, row.external_id);
    if (wait > 0) return { deferredMs: wait };
    if (!(await claimRow(db, row, now.toISOString(), new Date(now.getTime() + leaseMs).toISOString()))) return 'skipped';

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
    const replyToken = row.reply_token && row.reply_token_expires_at && row.reply_token_expires_at > now.toISOString() ? row.reply_token : null;

    let outcome: SendOutcome;
    try {
      outcome = await sender.send({ key: row.key, externalId: row.external_id, replyToken, messages: rendered });
    } catch (err) {
      // A sender must turn platform answers into outcomes; reaching here is a fault in our own code.
      log.error({ err, outboxId: row.id }, 'sender threw');
      outcome = { ok: false, retryable: true, retryAfterMs: null, status: null, error: err instanceof Error ? err.message : String(err) };
    }
    return finish(row, outcome, rendered, deps.clock.now());
  }

  async function runOnce(): Promise<RunResult> {
    const now = deps.clock.now();
    const nowIso = now.toISOString();
    const rows = await candidateRows(db, nowIso, 500);
    const firstOfRecipient = new Map<string, OutboxRow>();
    for (const row of rows) {
      const key = `${row.channel}\u0000${row.external_id}`;
      if (!firstOfRecipient.has(key)) firstOfRecipient.set(key, row);
    }
    const due: OutboxRow[] = [];
    let nextDue: number | null = null;
    for (const row of firstOfRecipient.values()) {
      if (row.status === 'sending' || row.next_attempt_at <= nowIso) due.push(row);
      else {
        const inMs = new Date(row.next_attempt_at).getTime() - now.getTime();
        nextDue = nextDue === null ? inMs : Math.min(nextDue, inMs);
      }
    }
    const result: RunResult = { sent: 0, failed: 0, deferred: 0, nextDueInMs: nextDue };
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

  const background = createWorkLoop(
    async () => {
      const r = await runOnce();
      return { didWork: r.sent + r.failed > 0, nextDueInMs: r.nextDueInMs };
    },
    { idleMs: idlePollMs, logger: log, name: 'outbox' },
  );

  return {
    runOnce,
    async drain(maxPasses = 50) {
      for (let i = 0; i < maxPasses; i++) {
        const r = await runOnce();
        if (r.sent + r.failed + r.deferred === 0) return;
        // Only rate-limited rows left: wait until the first may go (a retry's backoff is not waited for).
        if (r.deferred > 0 && r.sent + r.failed === 0) await new Promise((res) => setTimeout(res, Math.min(1500, Math.max(5, r.nextDueInMs ?? 50))));
      }
    },
    start: () => background.start(),
    kick: () => background.kick(),
    stop: () => background.stop(),
  };
}
