import { Api, NetworkError, ParseError, TelegramApiError, TimeoutError } from 'node-telegram-bot-api';
import { truncateChars } from '../limits';
import type { ChannelSender, Delivery, SendOutcome } from '../types';
import type { Logger } from '../../ops/logger';
import { toTelegramRequests, type TelegramRequest } from './render';

export interface TelegramSenderOptions {
  botToken: string;
  /** The Bot API root (TELEGRAM_API_BASE_URL); tests point it at a fake server. */
  apiBaseUrl: string;
  logger: Logger;
  fetch?: typeof fetch;
  /**
   * Longest wait for one Bot API call. It must stay below the outbox lease (60 s), or a slow call could
   * be taken over by another sender and the customer would get the message twice.
   */
  timeoutMs?: number;
}

export interface TelegramSender extends ChannelSender {
  /** Stops the spinner on the pressed button. Never throws: a late or failed answer must not lose the update. */
  answerCallbackQuery(id: string, text?: string): Promise<void>;
  /** The Bot API client, for the few calls outside sending (setup, file downloads). */
  readonly api: Api;
}

/** Telegram shows at most 200 characters in a callback answer's notification. */
const CALLBACK_ANSWER_CHARS = 200;

/**
 * How many split pieces of a delivery already reached the customer. The outbox records this durably
 * through `Delivery.onPartSent`; the copy kept here lets a caller without a record resume as well.
 */
const PROGRESS_ENTRIES = 1000;

function failed(retryable: boolean, status: number | null, error: string, extra: { retryAfterMs?: number | null; unreachable?: boolean } = {}): SendOutcome {
  return { ok: false, retryable, retryAfterMs: extra.retryAfterMs ?? null, status, error, ...(extra.unreachable ? { unreachable: true } : {}) };
}

/** Maps what the Bot API client threw to what the outbox should do next. */
export function telegramOutcome(err: unknown): SendOutcome {
  if (err instanceof TelegramApiError) {
    const code = err.errorCode;
    const description = err.description || err.message;
    if (code === 429) return failed(true, 429, description, { retryAfterMs: err.retryAfter !== undefined ? err.retryAfter * 1000 : null });
    if (code >= 500) return failed(true, code, description);
    // 403: "bot was blocked by the user", "user is deactivated", "bot can't initiate conversation".
    if (code === 403) return failed(false, code, description, { unreachable: true });
    if (code === 400 && /chat not found/i.test(description)) return failed(false, code, description, { unreachable: true });
    return failed(false, code, description);
  }
  if (err instanceof TimeoutError || err instanceof NetworkError) return failed(true, null, err.message);
  // A 2xx that is not JSON came from something between us and Telegram; whether the message went out is unknown.
  if (err instanceof ParseError) return failed(true, null, err.message);
  return failed(true, null, err instanceof Error ? err.message : String(err));
}

/**
 * The Telegram half of the outbox: one message per delivery (split into several requests only when a
 * text is over 4,096 characters), sent with the Bot API client with its own retries off, because the
 * outbox retries durably and honours Telegram's retry_after itself.
 *
 * At least once, not exactly once: the Bot API takes no idempotency key, so a message Telegram accepted
 * whose answer was lost (timeout, connection reset, a 5xx after accepting), or whose acceptance the
 * outbox could not record before the process died, is sent again on the retry. The outbox keeps that
 * window to the request itself plus one short transaction, and records each split piece as it goes.
 */
export function createTelegramSender(opts: TelegramSenderOptions): TelegramSender {
  const api = new Api(opts.botToken, {
    apiRoot: opts.apiBaseUrl,
    maxRetries: 0,
    timeoutMs: opts.timeoutMs ?? 30_000,
    // Workers refuse a detached global fetch ("Illegal invocation"); the wrapper keeps it bound.
    fetch: opts.fetch ?? ((input, init) => fetch(input, init)),
  });
  const log = opts.logger.child({ channel: 'telegram' });
  const progress = new Map<string, number>();

  function remember(key: string, sent: number): void {
    progress.delete(key);
    progress.set(key, sent);
    if (progress.size > PROGRESS_ENTRIES) progress.delete(progress.keys().next().value!);
  }

  async function call(request: TelegramRequest): Promise<void> {
    if (request.method === 'sendMessage') await api.sendMessage(request.params);
    else await api.sendPhoto(request.params);
  }

  return {
    channel: 'telegram',
    maxMessagesPerDelivery: 1,
    api,
    async send(delivery: Delivery): Promise<SendOutcome> {
      let requests: TelegramRequest[];
      try {
        requests = toTelegramRequests(delivery.messages, delivery.externalId);
      } catch (err) {
        // A flow produced something Telegram can never take; retrying would only repeat the refusal.
        log.error({ err, key: delivery.key }, 'message cannot be rendered for Telegram');
        return failed(false, null, `cannot render for Telegram: ${err instanceof Error ? err.message : String(err)}`);
      }
      const start = Math.max(delivery.partsSent ?? 0, progress.get(delivery.key) ?? 0);
      for (let i = start; i < requests.length; i++) {
        try {
          await call(requests[i]!);
        } catch (err) {
          const outcome = telegramOutcome(err);
          if (!outcome.ok && outcome.retryable && i > 0) remember(delivery.key, i);
          else progress.delete(delivery.key);
          if (!outcome.ok && outcome.status === 401) log.error({ key: delivery.key }, 'Telegram refused the bot token (TELEGRAM_BOT_TOKEN)');
          return outcome;
        }
        // Recorded before the next piece goes out: a restart resumes after this one instead of repeating it.
        if (i + 1 < requests.length) {
          remember(delivery.key, i + 1);
          await delivery.onPartSent?.(i + 1);
        }
      }
      progress.delete(delivery.key);
      return { ok: true, via: 'push' };
    },
    async answerCallbackQuery(id: string, text?: string): Promise<void> {
      try {
        await api.answerCallbackQuery({ callback_query_id: id, ...(text ? { text: truncateChars(text, CALLBACK_ANSWER_CHARS) } : {}) });
      } catch (err) {
        // Usually "query is too old": the customer pressed long ago or Telegram already gave up waiting.
        log.warn({ err: err instanceof Error ? err.message : String(err), callbackQueryId: id }, 'callback query not answered');
      }
    },
  };
}
