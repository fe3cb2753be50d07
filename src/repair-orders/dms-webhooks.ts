import { EVENT_TYPES, type Subscriber } from '../events/events';
import type { Clock } from '../ops/clock';
import type { Logger } from '../ops/logger';
import { backoffMs } from '../outbox/sender';
import type { Store } from '../store/store';

/*
 * Signed webhooks to the dealership's DMS when the customer answers an added item or says when they will
 * collect the car. The events subscriber writes one delivery row per event (its id is the event's, so an
 * event is queued once); a scheduled job posts it, signed, and retries 429, 5xx and network failures with
 * backoff until DMS_WEBHOOK_MAX_ATTEMPTS, keeping what happened on the row.
 *
 * Signature: `X-Dealer-Signature: sha256=<hex>` of HMAC-SHA256(DMS_WEBHOOK_SECRET, `<timestamp>.<body>`),
 * with the timestamp (Unix seconds) in `X-Dealer-Timestamp`. A receiver recomputes it over the raw body,
 * compares in constant time, and refuses timestamps more than five minutes old. `X-Dealer-Delivery` is the
 * same on every attempt: a receiver that saw it before acknowledges and ignores the repeat.
 */

export interface DmsWebhookConfig {
  url: string;
  secret: string;
  maxAttempts: number;
}

/** The events the DMS is told about. */
export const DMS_WEBHOOK_EVENTS = [EVENT_TYPES.itemDecided, EVENT_TYPES.pickupTimeConfirmed] as const;

export const SIGNATURE_HEADER = 'X-Dealer-Signature';
export const TIMESTAMP_HEADER = 'X-Dealer-Timestamp';
export const DELIVERY_HEADER = 'X-Dealer-Delivery';
export const EVENT_HEADER = 'X-Dealer-Event';

const encoder = new TextEncoder();

/** `sha256=<hex>` of HMAC-SHA256(secret, `<timestamp>.<body>`). */
export async function dmsSignature(secret: string, timestamp: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(`${timestamp}.${body}`)));
  return `sha256=${Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Queues a webhook for each event the DMS is told about; without a configured DMS, handles them by doing nothing. */
export function dmsWebhookSubscriber(config: DmsWebhookConfig | null): Subscriber {
  return {
    name: 'dms-webhook',
    types: DMS_WEBHOOK_EVENTS,
    async handle(tx, event) {
      if (!config) return;
      const body = JSON.stringify({ id: event.id, type: event.type, occurredAt: event.occurredAt, data: event.payload });
      await tx
        .insertInto('dms_webhook_deliveries')
        .values({ id: event.id, event_type: event.type, payload: body, status: 'pending', attempts: 0, next_attempt_at: event.occurredAt, lease_until: null, last_status: null, last_error: null, created_at: event.occurredAt, sent_at: null })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    },
  };
}

export interface DmsWebhookSenderDeps {
  store: Store;
  config: DmsWebhookConfig | null;
  clock: Clock;
  logger: Logger;
  fetch?: typeof fetch;
  /** Longest wait for the DMS to answer; below the lease, so a slow answer is never sent twice meanwhile. */
  timeoutMs?: number;
  random?: () => number;
}

const LEASE_MS = 60_000;

/** A status worth trying again: the DMS was busy, down or slow. */
function retryable(status: number | null): boolean {
  return status === null || status === 408 || status === 425 || status === 429 || status >= 500;
}

/** Posts due webhooks; see the module comment. `runOnce` returns how many reached the DMS. */
export function createDmsWebhookSender(deps: DmsWebhookSenderDeps): { runOnce(): Promise<number> } {
  const log = deps.logger.child({ component: 'dms-webhooks' });
  const doFetch = deps.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const timeoutMs = deps.timeoutMs ?? 15_000;
  const db = deps.store.db;

  async function post(config: DmsWebhookConfig, id: string, type: string, body: string): Promise<{ ok: boolean; status: number | null; error: string | null }> {
    const timestamp = Math.floor(deps.clock.now().getTime() / 1000);
    try {
      const res = await doFetch(config.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: await dmsSignature(config.secret, timestamp, body),
          [TIMESTAMP_HEADER]: String(timestamp),
          [DELIVERY_HEADER]: id,
          [EVENT_HEADER]: type,
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.body?.cancel().catch(() => undefined);
      return { ok: res.ok, status: res.status, error: res.ok ? null : `HTTP ${res.status}` };
    } catch (err) {
      return { ok: false, status: null, error: err instanceof Error ? err.message : String(err) };
    }
  }

  return {
    async runOnce() {
      const config = deps.config;
      if (!config) return 0;
      const now = deps.clock.now();
      const nowIso = now.toISOString();
      const due = await db
        .selectFrom('dms_webhook_deliveries')
        .selectAll()
        .where((eb) => eb.or([eb.and([eb('status', '=', 'pending'), eb('next_attempt_at', '<=', nowIso)]), eb.and([eb('status', '=', 'sending'), eb('lease_until', '<', nowIso)])]))
        .orderBy('created_at')
        .limit(50)
        .execute();
      let sent = 0;
      for (const row of due) {
        const claimed = await db
          .updateTable('dms_webhook_deliveries')
          .set({ status: 'sending', lease_until: new Date(now.getTime() + LEASE_MS).toISOString() })
          .where('id', '=', row.id)
          .where((eb) => eb.or([eb('status', '=', 'pending'), eb.and([eb('status', '=', 'sending'), eb('lease_until', '<', nowIso)])]))
          .executeTakeFirst();
        if (Number(claimed.numUpdatedRows) !== 1) continue;
        const result = await post(config, row.id, row.event_type, row.payload);
        const attempts = row.attempts + 1;
        const at = deps.clock.now();
        if (result.ok) {
          await db.updateTable('dms_webhook_deliveries').set({ status: 'sent', attempts, sent_at: at.toISOString(), lease_until: null, last_status: result.status, last_error: null }).where('id', '=', row.id).execute();
          sent += 1;
          continue;
        }
        const dead = !retryable(result.status) || attempts >= config.maxAttempts;
        await db
          .updateTable('dms_webhook_deliveries')
          .set({ status: dead ? 'dead' : 'pending', attempts, lease_until: null, last_status: result.status, last_error: result.error?.slice(0, 1000) ?? null, next_attempt_at: new Date(at.getTime() + backoffMs(attempts, deps.random)).toISOString() })
          .where('id', '=', row.id)
          .execute();
        (dead ? log.error.bind(log) : log.warn.bind(log))({ delivery: row.id, type: row.event_type, attempts, status: result.status, error: result.error }, dead ? 'DMS webhook given up' : 'DMS webhook failed; will retry');
      }
      return sent;
    },
  };
}
