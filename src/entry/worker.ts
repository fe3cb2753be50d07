import type { D1Database, ExecutionContext, R2Bucket, ScheduledController } from '@cloudflare/workers-types';
import { r2BlobStore } from '../blobs/r2';
import { ConfigError, parseConfig, type Config } from '../config';
import { systemClock } from '../ops/clock';
import { createConsoleLogger, type Logger } from '../ops/logger';
import { buildService, type Service } from '../service';
import { createD1Store } from '../store/d1-driver';
import { pruneProcessedEvents } from '../store/events';
import { pruneInbox } from '../store/inbox';
import { EVENT_IDS_KEPT_MS } from '../webhooks/line';
import { seedFreshDatabase } from '../store/seed';
import { migrateToLatest, type Store } from '../store/store';

/**
 * What Cloudflare hands the Worker: the D1 binding named in wrangler.toml, and every [vars] entry and
 * secret as a string under the same names the Node entry reads from its environment.
 */
export interface WorkerEnv {
  DB: D1Database;
  /** The R2 bucket photos are kept in; without it photos are refused with a clear reason. */
  BLOBS?: R2Bucket;
  [name: string]: unknown;
}

/** Platforms stop redelivering within hours; a week of event ids is plenty to recognise repeats. */
const PRUNE_EVENTS_AFTER_MS = EVENT_IDS_KEPT_MS;

interface Ready {
  service: Service;
  store: Store;
  logger: Logger;
}

/** Workers logs are console lines; pino's levels beyond these map to their nearest neighbour. */
function consoleLevel(level: Config['logLevel']): Parameters<typeof createConsoleLogger>[0] {
  if (level === 'fatal') return 'error';
  if (level === 'trace') return 'debug';
  return level;
}

/** The string variables of the environment, without DATABASE_URL: on Workers the database is always `env.DB`. */
function variablesOf(env: WorkerEnv): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === 'string' && name !== 'DATABASE_URL') vars[name] = value;
  }
  return vars;
}

async function migrate(store: Store): Promise<void> {
  try {
    await migrateToLatest(store.db);
  } catch (err) {
    // Another isolate may have migrated the same fresh database a moment earlier: its batch won, ours was
    // rolled back whole. Looking once more finds the migrations applied; a real fault fails again.
    await migrateToLatest(store.db).catch(() => {
      throw err;
    });
  }
}

async function setUp(env: WorkerEnv): Promise<Ready> {
  const config = parseConfig(variablesOf(env));
  const logger = createConsoleLogger(consoleLevel(config.logLevel), { service: 'dealer-chat' });
  const store = createD1Store(env.DB);
  await migrate(store);
  if (await seedFreshDatabase(store, config, systemClock.now())) logger.info({}, 'fresh database: demo branch created');
  // Each request's waitUntil drains on its own: a Worker keeps no background loop, and concurrent drains
  // are safe because every row is claimed with a lease before it is sent.
  const service: Service = await buildService({
    config,
    store,
    logger,
    clock: systemClock,
    afterEvents: (c) => c.executionCtx.waitUntil(drain(ready)),
    // Cloudflare's edge sets this header itself (a client's own is replaced), so on Workers it is the connection's address.
    peerAddress: (c) => c.req.header('cf-connecting-ip') ?? null,
    ...(env.BLOBS ? { blobs: r2BlobStore(env.BLOBS) } : {}),
  });
  const ready: Ready = { service, store, logger };
  logger.info({ line: config.line ? 'on' : config.disabledChannels.line, telegram: config.telegram ? 'on' : config.disabledChannels.telegram }, 'worker ready');
  return ready;
}

/** Processes accepted events and sends what the outbox holds; a failure is left for the next cron pass. */
async function drain(ready: Ready): Promise<void> {
  try {
    await ready.service.engine.drain();
    await ready.service.outbox.drain();
  } catch (err) {
    ready.logger.error({ err }, 'outbox drain failed; the next scheduled pass retries');
  }
  await linkRichMenus(ready);
}

/** Gives new LINE customers, and those who changed language, the rich menu of their language. */
async function linkRichMenus(ready: Ready): Promise<void> {
  try {
    await ready.service.richMenuLinks?.runOnce();
  } catch (err) {
    ready.logger.error({ err }, 'linking rich menus failed; the next scheduled pass retries');
  }
}

/*
 * One service per isolate, built before its first request: migrations, the demo seed and the web chat
 * secret each cost a few queries, so they run once, not per request. Keyed by the env object so a test
 * (or `wrangler dev` reloading) with another binding gets its own service. A failed start is forgotten,
 * so the next request tries again instead of the isolate failing until it is recycled.
 */
const services = new WeakMap<WorkerEnv, Promise<Ready>>();

function readyFor(env: WorkerEnv): Promise<Ready> {
  let ready = services.get(env);
  if (!ready) {
    ready = setUp(env);
    services.set(env, ready);
    ready.catch(() => services.delete(env));
  }
  return ready;
}

function startFailure(err: unknown): Response {
  // The details (which variable, which migration) go to the log for the operator, not to whoever called.
  const problem = err instanceof ConfigError ? err.message : err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  createConsoleLogger('error', { service: 'dealer-chat' }).error({ problem }, 'worker could not start');
  return new Response(JSON.stringify({ error: 'the service could not start; the operator will find the reason in the worker logs' }), {
    status: 503,
    headers: { 'content-type': 'application/json' },
  });
}

/**
 * The Cloudflare Workers entry: the same app as on Node (buildService), on D1. Replies go out from the
 * request's waitUntil right after the webhook is answered; the per-minute cron drains whatever is due
 * later (retries, rate-limited sends) and prunes old event ids once an hour.
 */
export const worker = {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
    let ready: Ready;
    try {
      ready = await readyFor(env);
    } catch (err) {
      return startFailure(err);
    }
    return ready.service.app.fetch(request, env, ctx);
  },

  async scheduled(controller: ScheduledController, env: WorkerEnv, _ctx: ExecutionContext): Promise<void> {
    const ready = await readyFor(env);
    for (const job of ready.service.scheduledJobs) {
      try {
        await job.runOnce();
      } catch (err) {
        ready.logger.error({ err, job: job.name }, 'scheduled job failed; the next scheduled pass tries again');
      }
    }
    await drain(ready);
    if (new Date(controller.scheduledTime).getUTCMinutes() === 0) {
      const before = new Date(controller.scheduledTime - PRUNE_EVENTS_AFTER_MS).toISOString();
      const removed = (await pruneProcessedEvents(ready.store.db, before)) + (await pruneInbox(ready.store.db, before));
      if (removed > 0) ready.logger.debug({ removed }, 'pruned old event ids');
    }
  },
};

export default worker;
