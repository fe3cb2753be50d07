import { HTTPFetchError, messagingApi } from '@line/bot-sdk';
import type { Logger } from '../../ops/logger';
import type { ChannelSender, DeliveredVia, Delivery, SendOutcome } from '../types';
import { lineMessagesOfDelivery, LineRenderError } from './render';

export interface LineSenderOptions {
  channelAccessToken: string;
  /** LINE_API_BASE_URL; tests point it at a fake server. Any path in it is dropped by the SDK. */
  apiBaseUrl: string;
  logger: Logger;
  /**
   * Longest wait for one API call. It must stay below the outbox lease (60 s), or a slow call could be
   * taken over by another sender and the customer would get the message twice.
   */
  timeoutMs?: number;
}

export interface LineProfile {
  displayName: string | null;
  /** What LINE says the person's app language is (for example `zh-TW`, `ja`), when they allow it. */
  language: string | null;
}

export interface LineSender extends ChannelSender {
  /** The person's LINE profile, or null when LINE cannot say (a follow must still be greeted). */
  getProfile(userId: string): Promise<LineProfile | null>;
}

/** A request that got no answer in time: whether LINE took it is unknown, so it is retried. */
class LineTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`no answer from LINE to ${what} within ${ms} ms`);
    this.name = 'LineTimeoutError';
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The namespace for retry keys derived from a delivery key that is not itself a UUID. */
const RETRY_KEY_NAMESPACE = '6f1d3c2a-8b4e-4f7a-9c15-2e0b7d9a4c61';

/**
 * How many requests of a delivery already reached the customer, kept in memory as well as through
 * `Delivery.onPartSent`, so a caller that keeps no record (or whose record failed) still resumes.
 */
const PROGRESS_ENTRIES = 1000;

function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  return Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
}

/** An RFC 4122 name-based (version 5) UUID: the same namespace and name always give the same key. */
async function uuidV5(namespace: string, name: string): Promise<string> {
  const nameBytes = new TextEncoder().encode(name);
  const input = new Uint8Array(16 + nameBytes.length);
  input.set(uuidBytes(namespace), 0);
  input.set(nameBytes, 16);
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-1', input)).slice(0, 16);
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The `X-Line-Retry-Key` for one request of a delivery. LINE accepts a key once within 24 hours, so it
 * must be the same on every attempt of that request and differ between the requests of one delivery:
 * the delivery's own key (a UUID) for its first request, a UUID derived from it for any further one.
 */
export async function lineRetryKey(deliveryKey: string, requestIndex: number): Promise<string> {
  if (requestIndex === 0 && UUID.test(deliveryKey)) return deliveryKey.toLowerCase();
  const namespace = UUID.test(deliveryKey) ? deliveryKey : RETRY_KEY_NAMESPACE;
  return uuidV5(namespace, `${deliveryKey}#${requestIndex}`);
}

function failed(retryable: boolean, status: number | null, error: string, retryAfterMs: number | null = null): SendOutcome {
  return { ok: false, retryable, retryAfterMs, status, error };
}

/** LINE's error body (`{ message, details: [{ message, property }] }`) as one line for the outbox and the log. */
function describeLineError(body: string | undefined, fallback: string): string {
  if (!body) return fallback;
  try {
    const parsed = JSON.parse(body) as { message?: unknown; details?: { message?: unknown; property?: unknown }[] };
    if (typeof parsed.message !== 'string') return body.slice(0, 500);
    const details = Array.isArray(parsed.details)
      ? parsed.details.map((d) => [d.property, d.message].filter((part) => typeof part === 'string' && part).join(': ')).filter(Boolean)
      : [];
    return details.length > 0 ? `${parsed.message} (${details.join('; ')})` : parsed.message;
  } catch {
    return body.slice(0, 500);
  }
}

/** Retry-After in milliseconds: LINE sends seconds; an HTTP date is accepted too. Null when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now: number = Date.now()): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * Maps what the SDK threw for a reply or push to what the outbox should do next, following LINE's
 * retry guide: 429, 5xx and no answer are worth another attempt; 409 on a push with a retry key means
 * LINE already accepted that very push; any other 4xx will fail the same way every time.
 */
export function lineOutcome(err: unknown, via: 'reply' | 'push'): SendOutcome {
  if (err instanceof HTTPFetchError) {
    const status = err.status;
    const error = describeLineError(err.body, err.message);
    if (status === 409 && via === 'push') return { ok: true, via: 'push' };
    if (status === 429) return failed(true, 429, error, retryAfterMs(err.headers?.get('retry-after')));
    if (status >= 500) return failed(true, status, error);
    return failed(false, status, error);
  }
  if (err instanceof SyntaxError) {
    // The SDK parses the body only after a 2xx, so LINE accepted the request; only its answer was odd.
    return { ok: true, via };
  }
  return failed(true, null, err instanceof Error ? err.message : String(err));
}

function isReplyTokenRefusal(outcome: SendOutcome): boolean {
  return !outcome.ok && outcome.status === 400 && /reply ?token/i.test(outcome.error);
}

/**
 * The LINE half of the outbox. A delivery goes out with its reply token while that is still valid
 * (free, and LINE's preferred way to answer), otherwise, or when LINE says the token is used or
 * expired, as a push carrying `X-Line-Retry-Key`, so a push retried after a timeout or a 5xx is
 * delivered once. A reply cannot carry a retry key, so a reply whose answer was lost is retried with the
 * same token while it is valid: LINE then either takes it (the first never arrived) or refuses the used
 * token, which `replyAttempted` lets us read as delivered ('reply-assumed'). Only when the token ran out
 * before the retry is it pushed, flagged `possibleDuplicate`: LINE gives no way to know whether the
 * reply arrived. The SDK's own retries are not used; the outbox retries durably and honours Retry-After.
 */
export function createLineSender(opts: LineSenderOptions): LineSender {
  const client = new messagingApi.MessagingApiClient({ channelAccessToken: opts.channelAccessToken, baseURL: opts.apiBaseUrl });
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const log = opts.logger.child({ channel: 'line' });
  const progress = new Map<string, number>();

  function remember(key: string, sent: number): void {
    progress.delete(key);
    progress.set(key, sent);
    if (progress.size > PROGRESS_ENTRIES) progress.delete(progress.keys().next().value!);
  }

  async function withTimeout<T>(what: string, call: () => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LineTimeoutError(what, timeoutMs)), timeoutMs);
    });
    try {
      return await Promise.race([call(), timeout]);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  async function attempt(via: 'reply' | 'push', call: () => Promise<unknown>): Promise<SendOutcome> {
    try {
      await withTimeout(via, call);
      return { ok: true, via };
    } catch (err) {
      const outcome = lineOutcome(err, via);
      if (outcome.ok && err instanceof SyntaxError) log.warn({ via, err: err.message }, 'LINE accepted the request but its answer was not JSON');
      if (!outcome.ok && outcome.status === 401) log.error({ via }, 'LINE refused the channel access token (LINE_CHANNEL_ACCESS_TOKEN)');
      return outcome;
    }
  }

  async function push(delivery: Delivery, messages: messagingApi.Message[], index: number): Promise<SendOutcome> {
    const retryKey = await lineRetryKey(delivery.key, index);
    return attempt('push', () => client.pushMessage({ to: delivery.externalId, messages }, retryKey));
  }

  return {
    channel: 'line',
    maxMessagesPerDelivery: 5,
    async send(delivery: Delivery): Promise<SendOutcome> {
      let requests: messagingApi.Message[][];
      try {
        requests = lineMessagesOfDelivery(delivery.messages);
      } catch (err) {
        if (!(err instanceof LineRenderError)) throw err;
        log.error({ err: err.message, key: delivery.key }, 'message cannot be rendered for LINE');
        return failed(false, null, `cannot render for LINE: ${err.message}`);
      }
      if (requests.length === 0) return failed(false, null, 'nothing to send: the delivery has no messages');

      const start = Math.max(delivery.partsSent ?? 0, progress.get(delivery.key) ?? 0);
      let via: DeliveredVia = 'push';
      let possibleDuplicate = false;
      for (let i = start; i < requests.length; i++) {
        const messages = requests[i]!;
        let outcome: SendOutcome;
        if (i === 0 && delivery.replyToken) {
          const replyToken = delivery.replyToken;
          outcome = await attempt('reply', () => client.replyMessage({ replyToken, messages }));
          if (isReplyTokenRefusal(outcome)) {
            if (delivery.replyAttempted) {
              // The token is still valid by our clock, so LINE refuses it because it was used: by the
              // earlier attempt of this very delivery, whose answer was lost. Pushing would repeat it.
              log.info({ key: delivery.key }, 'reply token refused after an earlier attempt; that reply was delivered');
              outcome = { ok: true, via: 'reply-assumed' };
            } else {
              log.info({ key: delivery.key, error: !outcome.ok ? outcome.error : null }, 'reply token refused; pushing instead');
              outcome = await push(delivery, messages, i);
              if (!outcome.ok) outcome = { ...outcome, reply: 'token-refused' };
            }
          } else if (!outcome.ok && outcome.status !== null && outcome.status < 500) {
            // LINE answered and refused the reply (429, or a 4xx about its content): it did not arrive.
            outcome = { ...outcome, reply: 'not-taken' };
          }
        } else {
          outcome = await push(delivery, messages, i);
          // The token ran out after an attempt that may have replied: LINE cannot tell us, so say so.
          if (i === 0 && delivery.replyAttempted && outcome.ok) possibleDuplicate = true;
        }
        if (!outcome.ok) {
          if (outcome.retryable && i > 0) remember(delivery.key, i);
          else progress.delete(delivery.key);
          return outcome;
        }
        if (i === 0) via = outcome.via;
        if (i + 1 < requests.length) {
          remember(delivery.key, i + 1);
          await delivery.onPartSent?.(i + 1);
        }
      }
      progress.delete(delivery.key);
      return possibleDuplicate ? { ok: true, via, possibleDuplicate } : { ok: true, via };
    },
    async getProfile(userId: string): Promise<LineProfile | null> {
      try {
        const profile = await withTimeout('profile', () => client.getProfile(userId));
        return { displayName: profile.displayName || null, language: profile.language || null };
      } catch (err) {
        const status = err instanceof HTTPFetchError ? err.status : null;
        log.warn({ status, err: err instanceof Error ? err.message : String(err) }, 'LINE profile not available');
        return null;
      }
    },
  };
}
