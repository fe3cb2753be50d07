import type { Hono } from 'hono';
import { createApp, type AppDeps } from './app';
import { unavailableBlobStore, type BlobStore } from './blobs/blob-store';
import { createComplaintAlerts } from './complaints/alerts';
import { createComplaintClock } from './complaints/escalation';
import { createHandoffReturn } from './complaints/handoff-return';
import { createMediaFetcher } from './complaints/media';
import { mediaLinks, mediaRoutes } from './complaints/media-links';
import { isComplaintConflict } from './complaints/tickets';
import { webPhotoRoutes } from './complaints/web-photos';
import { createRichMenuLinks, lineRichMenuApi, withRichMenuLinks, type RichMenuLinks } from './channels/line/rich-menu-links';
import { createLineSender } from './channels/line/sender';
import { createTelegramSender } from './channels/telegram/sender';
import type { ChannelSender } from './channels/types';
import { createWebSender } from './channels/web/sender';
import type { Config } from './config';
import { createEngine, type Engine } from './conversation/engine';
import { FLOWS } from './conversation/flows';
import { isBookingConflict } from './booking/booking';
import { createEventDispatcher, type EventDispatcher, type Subscriber } from './events/events';
import { createDmsWebhookSender, dmsWebhookSubscriber } from './repair-orders/dms-webhooks';
import { repairOrderJobs } from './repair-orders/jobs';
import { isRepairOrderConflict } from './repair-orders/repair-orders';
import { sendDueSurveys } from './survey/jobs';
import { surveyScheduler } from './survey/schedule';
import { calendarLinks, calendarRoutes } from './booking/calendar-link';
import { createReminders, type Reminders } from './booking/reminders';
import { createTranslator, type Translator } from './i18n';
import type { Clock } from './ops/clock';
import type { Logger } from './ops/logger';
import { Metrics } from './ops/metrics';
import { createOutboxSender, type OutboxSender } from './outbox/sender';
import { ensureSecret } from './store/seed';
import { createConsole } from './staff/console';
import { createApi } from './staff/api';
import { RouteRegistry } from './staff/guard';
import type { Store } from './store/store';

export interface Service {
  app: Hono;
  /** Booking reminders; the Node entry runs them every minute, the Workers cron likewise. */
  reminders: Reminders;
  /**
   * Work that comes due with time rather than with a message (reminders, and what later flows add: notices
   * waiting out quiet hours, SLA clocks, surveys). The Node entry runs each once a minute, the Workers cron
   * likewise; each pass claims what is due in its own transactions, so two instances never do it twice.
   */
  scheduledJobs: ScheduledJob[];
  /** Hands domain events to their subscribers (one of the scheduled jobs; tests run it directly). */
  events: EventDispatcher;
  /** Every console and API route with the permission guarding it. */
  routes: RouteRegistry;
  engine: Engine;
  outbox: OutboxSender;
  /** Gives each LINE customer the rich menu of their language; runs with the outbox sender on Node, in the drain on Workers. */
  richMenuLinks: RichMenuLinks | null;
  metrics: Metrics;
  translator: Translator;
  /** Where photos are kept (local disk on Node, R2 on Workers). */
  blobs: BlobStore;
}

export interface ScheduledJob {
  readonly name: string;
  /** Does what is due now; returns how much it did. */
  runOnce(): Promise<number>;
}

export interface ServiceOptions {
  config: Config;
  store: Store;
  logger: Logger;
  clock: Clock;
  /** Runs after a request that accepted events. Default: wake the Node background loops. Workers: drain in waitUntil. */
  afterEvents?: AppDeps['afterEvents'];
  /** Called when the engine commits replies (the Node entry wakes its sender loop here). */
  onOutbox?: () => void;
  /** How LINE signatures are checked; Web Crypto when absent. The Node entry passes Node's HMAC. */
  lineSignature?: AppDeps['lineSignature'];
  /** PBKDF2 iterations for new staff passwords; only tests lower it. */
  passwordIterations?: number;
  /** Where photos are kept: the Node entry's disk store, the Workers entry's R2 bucket. Without one, photos are refused with a clear reason. */
  blobs?: BlobStore;
  /** Code that reacts to domain events (src/events), besides the service's own (the DMS webhooks). */
  subscribers?: Subscriber[];
  /** How the DMS webhooks are posted; global fetch when absent. */
  fetch?: typeof fetch;
  /** The address of the connection a request came on (src/http/client-address.ts); Node's socket when absent. */
  peerAddress?: AppDeps['peerAddress'];
  /**
   * The engine as webhooks and the web chat see it. Default: this engine. Workers hand each customer's
   * events to that customer's Durable Object instead of processing them in the isolate that received them.
   */
  routeEngine?: (engine: Engine, metrics: Metrics) => Engine;
  /** This process's name among instances on one database (outbox claims and heartbeats); a fresh id if absent. */
  instanceId?: string;
}

/**
 * Wires the service from a config and a store: channels from their secrets, the engine with every flow,
 * the outbox sender and the HTTP app. Shared by the Node entry, the Workers entry, benchmarks and tests,
 * so all of them run the same composition.
 */
export async function buildService(opts: ServiceOptions): Promise<Service> {
  const { config, store, logger, clock } = opts;
  const translator = createTranslator('en');
  const metrics = new Metrics();

  const line = config.line ? createLineSender({ channelAccessToken: config.line.channelAccessToken, apiBaseUrl: config.line.apiBaseUrl, logger, timeoutMs: config.outbox.platformTimeoutMs }) : null;
  const telegram = config.telegram ? createTelegramSender({ botToken: config.telegram.botToken, apiBaseUrl: config.telegram.apiBaseUrl, logger, timeoutMs: config.outbox.platformTimeoutMs }) : null;
  const senders: Partial<Record<'line' | 'telegram' | 'web', ChannelSender>> = { web: createWebSender() };
  if (line) senders.line = line;
  if (telegram) senders.telegram = telegram;

  let outbox: OutboxSender | null = null;
  const blobs = opts.blobs ?? unavailableBlobStore();
  const alerts = createComplaintAlerts({
    store,
    senders: { ...(line ? { line } : {}), ...(telegram ? { telegram } : {}) },
    translator,
    clock,
    logger,
    locale: config.dealer.defaultLocale,
    publicBaseUrl: config.publicBaseUrl,
    timeZone: config.dealer.timeZone,
  });
  // Photos customers send while complaining or talking to a person are fetched before their step runs.
  const fetchMedia = createMediaFetcher({
    store,
    blobs,
    logger,
    line: config.line ? { channelAccessToken: config.line.channelAccessToken, dataApiBaseUrl: config.line.dataApiBaseUrl } : null,
    telegram: telegram && config.telegram ? { api: telegram.api, botToken: config.telegram.botToken, apiBaseUrl: config.telegram.apiBaseUrl } : null,
  });
  const calendarSecret = await ensureSecret(store, 'calendar_link_secret');
  const engine = createEngine({
    store,
    flows: FLOWS,
    translator,
    clock,
    logger,
    metrics,
    config,
    isRetryable: (err) => isBookingConflict(err) || isComplaintConflict(err) || isRepairOrderConflict(err),
    calendarLink: calendarLinks(config, calendarSecret),
    onOutbox: () => {
      opts.onOutbox?.();
      outbox?.kick();
      // A step that opened a complaint may have queued staff group alerts.
      alerts.kick();
    },
    // A new follower's LINE profile gives their name and language, and a photo is fetched into the blob
    // store; both are read before the event's transaction.
    enrich: async (event) => {
      if (line && event.channel === 'line' && event.input.type === 'start' && !event.profile) {
        const profile = await line.getProfile(event.externalId);
        return profile ? { ...event, profile: { displayName: profile.displayName, languageHint: profile.language } } : event;
      }
      return fetchMedia(event);
    },
  });
  const sender = createOutboxSender({
    store,
    senders,
    translator,
    clock,
    logger,
    metrics,
    defaultLocale: config.dealer.defaultLocale,
    maxAttempts: config.outbox.maxAttempts,
    rateLimits: config.outbox.rateLimits,
    ...(opts.instanceId ? { instanceId: opts.instanceId } : {}),
  });
  // Each LINE customer's rich menu in their language, linked by a job that starts, wakes and stops with the sender.
  const richMenuLinks = config.line ? createRichMenuLinks({ store, api: lineRichMenuApi(config.line), defaultLocale: config.dealer.defaultLocale, clock, logger }) : null;
  outbox = withRichMenuLinks(sender, richMenuLinks);

  const webChatSecret = config.webChatSecret ?? (await ensureSecret(store, 'web_chat_secret'));
  const routed = opts.routeEngine ? opts.routeEngine(engine, metrics) : engine;
  const app = createApp({
    config,
    store,
    engine: routed,
    translator,
    metrics,
    logger,
    clock,
    line,
    telegram,
    webChatSecret,
    ...(opts.lineSignature ? { lineSignature: opts.lineSignature } : {}),
    ...(opts.peerAddress ? { peerAddress: opts.peerAddress } : {}),
    // Node: wake the inbox loop. Workers pass their own (drain inside waitUntil).
    afterEvents: opts.afterEvents ?? (() => engine.kick()),
  });

  app.route('/', calendarRoutes({ store, config, secret: calendarSecret, now: () => clock.now() }));
  const mediaSecret = await ensureSecret(store, 'media_link_secret');
  const links = mediaLinks(mediaSecret, config.publicBaseUrl);
  app.route('/', mediaRoutes({ blobs, secret: mediaSecret }));
  app.route('/', webPhotoRoutes({ engine: routed, store, blobs, config, translator, clock, secret: webChatSecret, afterEvents: opts.afterEvents ?? (() => engine.kick()) }));
  const wake = () => {
    outbox?.kick();
    alerts.kick();
  };

  const routes = new RouteRegistry();
  const csrfSecret = await ensureSecret(store, 'console_csrf_secret');
  app.route(
    '/',
    createConsole({ store, clock, config, translator, logger, registry: routes, csrfSecret, passwordIterations: opts.passwordIterations, onOutbox: wake, menuChoices: () => engine.menuChoices(), blobs, mediaLinks: links }),
  );
  app.route('/', createApi({ store, clock, config, translator, registry: routes, csrfSecret, onOutbox: wake, menuChoices: () => engine.menuChoices(), blobs, mediaLinks: links }));
  const reminders = createReminders({ store, clock, logger, defaultLocale: config.dealer.defaultLocale, onOutbox: () => outbox?.kick() });
  const complaintClock = createComplaintClock({ store, clock, logger, onAlerts: () => alerts.kick() });
  const handoffReturn = createHandoffReturn({ store, clock, logger, idleMs: config.handoffIdleMs, menuChoices: () => engine.menuChoices(), onOutbox: () => outbox?.kick() });
  // Events are handed on after the work that writes them, and webhooks sent after the events that queue them.
  const events = createEventDispatcher({ store, clock, logger, subscribers: [dmsWebhookSubscriber(config.dmsWebhook), surveyScheduler({ defaultDelayMinutes: config.surveyDelayMinutes, now: () => clock.now() }), ...(opts.subscribers ?? [])] });
  const dmsWebhooks = createDmsWebhookSender({ store, config: config.dmsWebhook, clock, logger, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
  const scheduledJobs: ScheduledJob[] = [
    { name: 'reminders', runOnce: () => reminders.runOnce() },
    ...repairOrderJobs({ store, clock, logger, defaultLocale: config.dealer.defaultLocale, onOutbox: () => outbox?.kick() }),
    // Missed complaint deadlines escalate to managers; tickets nobody could take go to whoever comes on duty.
    { name: 'complaint-clock', runOnce: () => complaintClock.runOnce() },
    // A conversation a person held goes back to the bot after HANDOFF_IDLE_MINUTES of silence.
    { name: 'handoff-return', runOnce: () => handoffReturn.runOnce() },
    // Staff group notices (new, escalated, reopened complaints) with retries.
    { name: 'complaint-alerts', runOnce: () => alerts.runOnce() },
    { name: 'domain-events', runOnce: () => events.runOnce() },
    { name: 'dms-webhooks', runOnce: () => dmsWebhooks.runOnce() },
    // Satisfaction surveys whose time has come (written by the survey scheduler when a car is collected).
    { name: 'surveys', runOnce: () => sendDueSurveys({ store, clock, logger, onOutbox: () => outbox?.kick() }) },
  ];
  return { app, routes, reminders, scheduledJobs, events, engine, outbox, richMenuLinks, metrics, translator, blobs };
}
