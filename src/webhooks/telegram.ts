import type { Context } from 'hono';
import type { Config } from '../config';
import type { Engine } from '../conversation/engine';
import { parseTelegramUpdate, TelegramBodyError } from '../channels/telegram/parse';
import { verifyTelegramSecret } from '../channels/telegram/verify';
import { AppError } from '../errors';
import type { Metrics } from '../ops/metrics';

export interface TelegramWebhookDeps {
  config: Config;
  engine: Engine;
  metrics: Metrics;
  telegram: { answerCallbackQuery(id: string, text?: string): Promise<void> } | null;
}

/**
 * POST /webhooks/telegram: the secret token header first, then the update kept in the inbox for the
 * engine. Every callback query is answered (even a repeat or an ignored one) so the button stops spinning.
 */
export function telegramWebhookHandler(deps: TelegramWebhookDeps) {
  return async (c: Context) => {
    const telegram = deps.config.telegram;
    if (!telegram || !deps.telegram) {
      deps.metrics.webhookRequests.inc({ channel: 'telegram', outcome: 'disabled' });
      return c.json({ error: deps.config.disabledChannels.telegram ?? 'Telegram is not configured' }, 404);
    }
    if (!verifyTelegramSecret(telegram.webhookSecret, c.req.header('x-telegram-bot-api-secret-token'))) {
      deps.metrics.webhookRequests.inc({ channel: 'telegram', outcome: 'bad_signature' });
      throw new AppError('unauthorized', 'missing or invalid X-Telegram-Bot-Api-Secret-Token');
    }
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      deps.metrics.webhookRequests.inc({ channel: 'telegram', outcome: 'malformed' });
      throw new AppError('bad_request', 'the body is not valid JSON');
    }
    let parsed: ReturnType<typeof parseTelegramUpdate>;
    try {
      parsed = parseTelegramUpdate(body);
    } catch (err) {
      if (!(err instanceof TelegramBodyError)) throw err;
      deps.metrics.webhookRequests.inc({ channel: 'telegram', outcome: 'malformed' });
      throw new AppError('bad_request', err.message);
    }
    // The button stops spinning at once; the press itself is kept (at the same time) and processed right
    // after the answer.
    await Promise.all([
      parsed.callbackQueryId ? deps.telegram.answerCallbackQuery(parsed.callbackQueryId) : null,
      parsed.kind === 'event' ? deps.engine.accept(parsed.event) : null,
    ]);
    deps.metrics.webhookRequests.inc({ channel: 'telegram', outcome: parsed.kind === 'event' ? 'ok' : 'ignored' });
    return c.json({ ok: true });
  };
}
