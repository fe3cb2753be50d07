import type { Context } from 'hono';
import type { Config } from '../config';
import type { Engine } from '../conversation/engine';
import { parseLineWebhook, LineBodyError } from '../channels/line/parse';
import { verifyLineSignature, type LineSignatureCheck } from '../channels/line/verify';
import { AppError } from '../errors';
import type { Clock } from '../ops/clock';
import type { Logger } from '../ops/logger';
import type { Metrics } from '../ops/metrics';

/**
 * LINE redelivers an event it could not hand over for a limited time (hours, never days); an event older
 * than this is not a redelivery but a captured request played back, and is ignored.
 */
export const LINE_EVENT_MAX_AGE_MS = 2 * 24 * 3600_000;
/** How long processed event ids are kept for dedupe: well past the age at which an event is ignored anyway. */
export const EVENT_IDS_KEPT_MS = 7 * 24 * 3600_000;

export interface LineWebhookDeps {
  config: Config;
  clock: Clock;
  engine: Engine;
  metrics: Metrics;
  logger: Logger;
  /** Present when LINE is configured (its sender); the webhook answers 404 otherwise. */
  line: object | null;
  /** How the signature is checked: Web Crypto unless the runtime gives a cheaper way (the Node entry does). */
  lineSignature?: LineSignatureCheck;
}

/**
 * POST /webhooks/line: signature over the raw bytes first (nothing is parsed or written for a request
 * LINE did not sign), then parse, then each event kept in the inbox. A 200 means every event is either
 * kept or was a repeat; a store failure answers 500 so LINE redelivers and dedupe keeps it once.
 */
export function lineWebhookHandler(deps: LineWebhookDeps) {
  const log = deps.logger.child({ channel: 'line' });
  const checkSignature = deps.lineSignature ?? verifyLineSignature;
  return async (c: Context) => {
    const line = deps.config.line;
    if (!line || !deps.line) {
      deps.metrics.webhookRequests.inc({ channel: 'line', outcome: 'disabled' });
      return c.json({ error: deps.config.disabledChannels.line ?? 'LINE is not configured' }, 404);
    }
    const raw = new Uint8Array(await c.req.arrayBuffer());
    if (!(await checkSignature(line.channelSecret, raw, c.req.header('x-line-signature')))) {
      deps.metrics.webhookRequests.inc({ channel: 'line', outcome: 'bad_signature' });
      throw new AppError('unauthorized', 'missing or invalid x-line-signature');
    }
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(raw));
    } catch {
      deps.metrics.webhookRequests.inc({ channel: 'line', outcome: 'malformed' });
      throw new AppError('bad_request', 'the body is not valid JSON');
    }
    let parsed: Awaited<ReturnType<typeof parseLineWebhook>>;
    try {
      parsed = await parseLineWebhook(body);
    } catch (err) {
      if (!(err instanceof LineBodyError)) throw err;
      deps.metrics.webhookRequests.inc({ channel: 'line', outcome: 'malformed' });
      throw new AppError('bad_request', err.message);
    }
    // A signed event much older than LINE ever redelivers is a replay; its id may be pruned from dedupe by now.
    const oldest = deps.clock.now().getTime() - LINE_EVENT_MAX_AGE_MS;
    const events = parsed.events.filter((event) => {
      if (Date.parse(event.occurredAt) >= oldest) return true;
      log.warn({ eventId: event.eventId, occurredAt: event.occurredAt }, 'event older than LINE redelivers ignored');
      return false;
    });
    // Kept before answering, processed right after: LINE asks for a quick 200 and redelivers on timeouts.
    // All of them at once, in order: the engine keeps events that arrive together in one write.
    const outcomes = await Promise.all(events.map((event) => deps.engine.accept(event)));
    events.forEach((event, i) => {
      if (outcomes[i] === 'duplicate') log.info({ eventId: event.eventId, redelivery: event.isRedelivery }, 'repeat event dropped');
    });
    deps.metrics.webhookRequests.inc({ channel: 'line', outcome: 'ok' });
    return c.json({ ok: true, events: events.length, ignored: parsed.ignored + parsed.events.length - events.length });
  };
}
