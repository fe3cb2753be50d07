import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { webChatRoutes } from './channels/web/routes';
import type { Config } from './config';
import type { Engine } from './conversation/engine';
import { AppError } from './errors';
import { BODY_LIMITS, limitBody } from './http/body-limit';
import { addressSet, clientAddress, clientAddressMiddleware, socketPeerAddress, type PeerAddress } from './http/client-address';
import { constantTimeEqual } from './staff/auth/crypto';
import type { Translator } from './i18n';
import type { Clock } from './ops/clock';
import type { Logger } from './ops/logger';
import type { Metrics } from './ops/metrics';
import { outboxStats } from './outbox/outbox';
import { inboxStats } from './store/inbox';
import { isDatabaseReachable, type Store } from './store/store';
import { lineWebhookHandler, type LineWebhookDeps } from './webhooks/line';
import { telegramWebhookHandler, type TelegramWebhookDeps } from './webhooks/telegram';

export interface AppDeps {
  config: Config;
  store: Store;
  engine: Engine;
  translator: Translator;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  line: LineWebhookDeps['line'];
  lineSignature?: LineWebhookDeps['lineSignature'];
  telegram: TelegramWebhookDeps['telegram'];
  webChatSecret: string;
  /** Runs after a request that may have written outbox rows (Workers: schedule the sender in waitUntil). */
  afterEvents?: (c: Context) => void;
  /** The address of the connection a request came on; Node's socket when absent (the Workers entry passes Cloudflare's). */
  peerAddress?: PeerAddress;
}

/**
 * Builds the HTTP app from its dependencies. It imports no runtime: the Node entry and the Workers entry
 * build the same app with their own store and senders, and tests build it with in-memory SQLite and fake
 * platform servers.
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const log = deps.logger.child({ component: 'http' });
  // Before every route: who is asking, from the connection, or from a trusted proxy's forwarded header.
  app.use('*', clientAddressMiddleware({ peer: deps.peerAddress ?? socketPeerAddress, trusted: addressSet(deps.config.trustedProxies) }));

  deps.metrics.addGauge({
    name: 'dealer_outbox_messages',
    help: 'Outbox rows waiting, being sent, or given up (dead), by channel.',
    async collect() {
      return (await outboxStats(deps.store.db)).map((s) => ({ labels: { channel: s.channel, status: s.status }, value: s.count }));
    },
  });
  deps.metrics.addGauge({
    name: 'dealer_outbox_oldest_age_seconds',
    help: 'Age of the oldest outbox row still waiting to be sent, by channel.',
    async collect() {
      const now = deps.clock.now().getTime();
      return (await outboxStats(deps.store.db))
        .filter((s) => s.status !== 'dead' && s.oldest)
        .map((s) => ({ labels: { channel: s.channel, status: s.status }, value: Math.max(0, (now - Date.parse(s.oldest!)) / 1000) }));
    },
  });

  deps.metrics.addGauge({
    name: 'dealer_inbox_events',
    help: 'Customer events kept and waiting to be processed, by channel.',
    async collect() {
      return (await inboxStats(deps.store.db)).map((s) => ({ labels: { channel: s.channel }, value: s.count }));
    },
  });
  deps.metrics.addGauge({
    name: 'dealer_inbox_oldest_age_seconds',
    help: 'Age of the oldest customer event still waiting to be processed, by channel.',
    async collect() {
      const now = deps.clock.now().getTime();
      return (await inboxStats(deps.store.db)).filter((s) => s.oldest).map((s) => ({ labels: { channel: s.channel }, value: Math.max(0, (now - Date.parse(s.oldest!)) / 1000) }));
    },
  });

  app.onError((err, c) => {
    if (err instanceof AppError) {
      // A limit's refusal says when to try again, in the header clients and proxies read.
      const retryAfter = err.code === 'rate_limited' ? (err.details as { retryAfter?: unknown } | undefined)?.retryAfter : undefined;
      return c.json({ error: err.message, code: err.code, ...(err.details ? { details: err.details } : {}) }, err.status, typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {});
    }
    if (err instanceof HTTPException) return err.getResponse();
    log.error({ err, path: c.req.path, method: c.req.method }, 'request failed');
    return c.json({ error: 'internal error; the request can be retried' }, 500);
  });
  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404));

  app.get('/healthz', async (c) => {
    const database = await isDatabaseReachable(deps.store.db);
    return c.json({ status: database ? 'ok' : 'unavailable', database: database ? 'ok' : 'unreachable' }, database ? 200 : 503);
  });

  // Metrics tell how busy the dealership is: only for the monitoring's addresses (METRICS_ALLOW) or its token (METRICS_TOKEN).
  const metricsAllowed = addressSet(deps.config.metrics.allow);
  const metricsToken = deps.config.metrics.token ? new TextEncoder().encode(`Bearer ${deps.config.metrics.token}`) : null;
  app.get('/metrics', async (c) => {
    const byToken = metricsToken !== null && constantTimeEqual(new TextEncoder().encode(c.req.header('authorization') ?? ''), metricsToken);
    if (!byToken && !metricsAllowed.matches(clientAddress(c))) return c.json({ error: 'metrics are served only to the addresses in METRICS_ALLOW or with METRICS_TOKEN' }, 403);
    return c.text(await deps.metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' });
  });

  const limit = limitBody({
    maxBytes: BODY_LIMITS.webhook,
    onTooLarge: (c) => deps.metrics.webhookRequests.inc({ channel: c.req.path.split('/').pop() ?? 'unknown', outcome: 'too_large' }),
  });
  const after = (handler: (c: Context) => Promise<Response>) => async (c: Context) => {
    const response = await handler(c);
    deps.afterEvents?.(c);
    return response;
  };

  app.post('/webhooks/line', limit, after(lineWebhookHandler(deps)));
  app.post('/webhooks/telegram', limit, after(telegramWebhookHandler(deps)));

  const chat = webChatRoutes({ ...deps, secret: deps.webChatSecret });
  app.use('/chat/api/*', limitBody({ maxBytes: BODY_LIMITS.webChat }));
  app.use('/chat/api/*', async (c, next) => {
    await next();
    if (c.req.method === 'POST') deps.afterEvents?.(c);
  });
  app.route('/chat', chat);
  app.get('/', (c) => c.redirect('/chat'));

  return app;
}
