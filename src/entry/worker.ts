import type { D1Database, DurableObjectNamespace, DurableObjectState, ExecutionContext, R2Bucket, ScheduledController } from '@cloudflare/workers-types';
import { r2BlobStore } from '../blobs/r2';
import { ConfigError, parseConfig, type Config } from '../config';
import { systemClock } from '../ops/clock';
import { createConsoleLogger, type Logger } from '../ops/logger';
import { buildService, type Service } from '../service';
import { createD1Store } from '../store/d1-driver';
import { pruneProcessedEvents } from '../store/events';
import { customersWithPendingEvents, pruneInbox } from '../store/inbox';
import { usePasswordDerivation } from '../staff/auth/password';
import { EVENT_IDS_KEPT_MS } from '../webhooks/line';
import { seedFreshDatabase } from '../store/seed';
import { migrateToLatest, type Store } from '../store/store';
import { durableObjectDerivation, PasswordCheck } from './worker-passwords';
import { collectingAccepted, durableObjectQueues, processQueues, PROCESS_PATH, routeThroughQueues, type CustomerKey, type CustomerQueues } from './worker-routing';

export { PasswordCheck };

/**
 * What Cloudflare hands the Worker: the D1 binding named in wrangler.toml, and every [vars] entry and
 * secret as a string under the same names the Node entry reads from its environment.
 */
export interface WorkerEnv {
  DB: D1Database;
  /** The R2 bucket photos are kept in; without it photos are refused with a clear reason. */
  BLOBS?: R2Bucket;
  /**
   * One Durable Object per customer (class CustomerQueue) that runs the customer's events in order. Without
   * it, events are processed in the isolate that received them, and two isolates may race for one customer.
   */
  CUSTOMER_QUEUES?: DurableObjectNamespace;
  /** Durable Objects (class PasswordCheck) that derive staff password keys with the CPU time a login needs. */
  PASSWORD_CHECKS?: DurableObjectNamespace;
  /** The Durable Object (class Scheduler) that does the cron's work; without it the cron invocation does it. */
  SCHEDULER?: DurableObjectNamespace;
  [name: string]: unknown;
}

/** Customers whose waiting events one scheduled pass hands to their objects (the free plan allows 50 subrequests). */
const SWEEP_CUSTOMERS = 25;

/** Platforms stop redelivering within hours; a week of event ids is plenty to recognise repeats. */
const PRUNE_EVENTS_AFTER_MS = EVENT_IDS_KEPT_MS;

interface Ready {
  service: Service;
  store: Store;
  logger: Logger;
  /** The customers' objects, or null when the binding is missing (events are then processed here). */
  queues: CustomerQueues | null;
}

/**
 * Where a service runs: 'edge' answers requests (it migrates a fresh database and routes events to the
 * customers' objects); 'queue' is a customer's object, which processes their events itself; 'scheduler' is
 * the object that does the cron's work.
 */
type Role = 'edge' | 'queue' | 'scheduler';

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

async function setUp(env: WorkerEnv, role: Role): Promise<Ready> {
  const config = parseConfig(variablesOf(env));
  const logger = createConsoleLogger(consoleLevel(config.logLevel), { service: 'dealer-chat', ...(role === 'queue' ? { role } : {}) });
  const store = createD1Store(env.DB);
  // The objects are only ever asked after an edge request or cron invocation migrated the database.
  if (role === 'edge') {
    await migrate(store);
    if (await seedFreshDatabase(store, config, systemClock.now())) logger.info({}, 'fresh database: demo branch created');
  }
  if (env.PASSWORD_CHECKS) usePasswordDerivation(durableObjectDerivation(env.PASSWORD_CHECKS));
  const queues = role !== 'queue' && env.CUSTOMER_QUEUES ? durableObjectQueues(env.CUSTOMER_QUEUES) : null;
  // Each request's waitUntil drains on its own: a Worker keeps no background loop, and concurrent drains
  // are safe because every row is claimed with a lease before it is sent. With the customers' objects,
  // the object that processed the events sends their replies, so the edge has nothing to drain.
  const service: Service = await buildService({
    config,
    store,
    logger,
    clock: systemClock,
    afterEvents: (c) => {
      if (!queues) c.executionCtx.waitUntil(drain(ready));
    },
    ...(queues ? { routeEngine: (engine, metrics) => routeThroughQueues(engine, { queues, store, clock: systemClock, metrics, logger }) } : {}),
    // Cloudflare's edge sets this header itself (a client's own is replaced), so on Workers it is the connection's address.
    peerAddress: (c) => c.req.header('cf-connecting-ip') ?? null,
    ...(env.BLOBS ? { blobs: r2BlobStore(env.BLOBS) } : {}),
  });
  const ready: Ready = { service, store, logger, queues };
  if (role === 'edge') logger.info({ line: config.line ? 'on' : config.disabledChannels.line, telegram: config.telegram ? 'on' : config.disabledChannels.telegram }, 'worker ready');
  return ready;
}

/** Processes accepted events and sends what the outbox holds; a failure is left for the next cron pass. */
async function drain(ready: Ready): Promise<void> {
  try {
    await ready.service.engine.drain();
  } catch (err) {
    ready.logger.error({ err }, 'processing events failed; the next scheduled pass retries');
  }
  await sendQueued(ready);
  await linkRichMenus(ready);
}

/**
 * Sends what the outbox holds that is due, or only one customer's (their object, after processing their
 * events: it stays within its own share of requests and never waits on others' sends); a failure is left
 * for the next cron pass.
 */
async function sendQueued(ready: Ready, only?: CustomerKey): Promise<void> {
  try {
    if (only) await ready.service.outbox.drainRecipient(only);
    else await ready.service.outbox.drain();
  } catch (err) {
    ready.logger.error({ err }, 'outbox drain failed; the next scheduled pass retries');
  }
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
const services: Record<Role, WeakMap<WorkerEnv, Promise<Ready>>> = { edge: new WeakMap(), queue: new WeakMap(), scheduler: new WeakMap() };

function readyFor(env: WorkerEnv, role: Role = 'edge'): Promise<Ready> {
  const started = services[role];
  let ready = started.get(env);
  if (!ready) {
    ready = setUp(env, role);
    started.set(env, ready);
    ready.catch(() => started.delete(env));
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
 * A customer's Durable Object (binding CUSTOMER_QUEUES, one object per `channel:externalId`): the one place
 * that customer's events are processed, so two isolates that each accepted one of their events never run
 * them side by side or out of order. It runs the same engine on the same D1 database, then sends what the
 * events queued. Its requests run one after another: a request that finds the queue already emptied by the
 * one before it returns at once.
 */
export class CustomerQueue {
  /** The run in progress: each request waits for the one before it, so processing and sending never overlap. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    _state: DurableObjectState,
    private readonly env: WorkerEnv,
  ) {}

  fetch(request: Request): Promise<Response> {
    const run = this.tail.then(() => this.process(request));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async process(request: Request): Promise<Response> {
    const customer = (await request.json().catch(() => null)) as CustomerKey | null;
    if (new URL(request.url).pathname !== PROCESS_PATH || !customer || typeof customer.channel !== 'string' || typeof customer.externalId !== 'string') {
      return Response.json({ error: 'POST /process with { channel, externalId }' }, { status: 400 });
    }
    let ready: Ready;
    try {
      ready = await readyFor(this.env, 'queue');
    } catch (err) {
      return Response.json({ error: err instanceof Error ? err.message : String(err) }, { status: 503 });
    }
    try {
      const handled = await ready.service.engine.processCustomer(customer.channel, customer.externalId);
      if (handled > 0) await sendQueued(ready, { channel: customer.channel, externalId: customer.externalId });
      await linkRichMenus(ready);
      return Response.json({ handled });
    } catch (err) {
      ready.logger.error({ err, channel: customer.channel }, "processing a customer's queue failed; the next scheduled pass tries again");
      return Response.json({ error: 'processing failed' }, { status: 500 });
    }
  }
}

/**
 * The Cloudflare Workers entry: the same app as on Node (buildService), on D1. A webhook keeps its events
 * in D1, answers, and then (in waitUntil) asks each customer's object to process their queue; the object
 * sends the replies. The per-minute cron runs the scheduled jobs, hands any queue an object missed back to
 * it, drains whatever is due later (retries, rate-limited sends) and prunes old event ids once an hour.
 */
export const worker = {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
    let ready: Ready;
    try {
      ready = await readyFor(env);
    } catch (err) {
      return startFailure(err);
    }
    const queues = ready.queues;
    const { response, accepted } = queues
      ? await collectingAccepted(async () => ready.service.app.fetch(request, env, ctx))
      : { response: await ready.service.app.fetch(request, env, ctx), accepted: [] };
    if (queues && accepted.length > 0) ctx.waitUntil(processQueues(queues, accepted, ready.logger));
    // Staff and the DMS write notices and replies for customers: sent right after the answer, not a minute later by the cron.
    if (request.method !== 'GET' && request.method !== 'HEAD' && /^\/(api|console)\//.test(new URL(request.url).pathname)) {
      ctx.waitUntil(env.SCHEDULER ? askScheduler(env.SCHEDULER, '/send', {}).catch((err: unknown) => ready.logger.error({ err }, 'could not reach the scheduler; the next scheduled pass sends')) : sendQueued(ready));
    }
    return response;
  },

  async scheduled(controller: ScheduledController, env: WorkerEnv, _ctx: ExecutionContext): Promise<void> {
    // Migrates a fresh database before any job runs, wherever the jobs then run.
    const ready = await readyFor(env);
    if (!env.SCHEDULER) return scheduledPass(ready, controller.scheduledTime);
    await askScheduler(env.SCHEDULER, '/run', { scheduledTime: controller.scheduledTime });
  },
};

/**
 * One cron pass: the scheduled jobs (reminders, repair notices, surveys, complaint clocks, staff alerts), the
 * queues an object did not finish, what is due to be sent, and once an hour the pruning of old event ids.
 */
async function scheduledPass(ready: Ready, scheduledTime: number): Promise<void> {
  for (const job of ready.service.scheduledJobs) {
    try {
      await job.runOnce();
    } catch (err) {
      ready.logger.error({ err, job: job.name }, 'scheduled job failed; the next scheduled pass tries again');
    }
  }
  if (ready.queues) {
    // Queues an object did not finish (it was unreachable, or the store failed and the event waits out its backoff).
    const waiting = await customersWithPendingEvents(ready.store.db, new Date().toISOString(), SWEEP_CUSTOMERS);
    await processQueues(ready.queues, waiting.map((w) => ({ channel: w.channel, externalId: w.external_id })), ready.logger);
    await sendQueued(ready);
    await linkRichMenus(ready);
  } else {
    await drain(ready);
  }
  if (new Date(scheduledTime).getUTCMinutes() === 0) {
    const before = new Date(scheduledTime - PRUNE_EVENTS_AFTER_MS).toISOString();
    const removed = (await pruneProcessedEvents(ready.store.db, before)) + (await pruneInbox(ready.store.db, before));
    if (removed > 0) ready.logger.debug({ removed }, 'pruned old event ids');
  }
}

/** The one scheduler object; the Worker only forwards to it. */
async function askScheduler(namespace: DurableObjectNamespace, path: '/run' | '/send', body: object): Promise<void> {
  const stub = namespace.get(namespace.idFromName('scheduler'));
  const response = await stub.fetch(`https://scheduler${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`the scheduler failed: ${response.status} ${await response.text()}`);
}

/**
 * The Durable Object that does the cron's work and sends what staff and the DMS queue (binding SCHEDULER,
 * one object): the work needs more CPU than a Worker on the free plan has (10 ms an invocation), an object
 * has 30 s a request. Its requests run one after another, so two cron passes never overlap.
 */
export class Scheduler {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    _state: DurableObjectState,
    private readonly env: WorkerEnv,
  ) {}

  fetch(request: Request): Promise<Response> {
    const run = this.tail.then(() => this.run(request));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async run(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    const body = (await request.json().catch(() => null)) as { scheduledTime?: unknown } | null;
    let ready: Ready;
    try {
      ready = await readyFor(this.env, 'scheduler');
    } catch (err) {
      return Response.json({ error: err instanceof Error ? err.message : String(err) }, { status: 503 });
    }
    if (path === '/run' && typeof body?.scheduledTime === 'number') await scheduledPass(ready, body.scheduledTime);
    else if (path === '/send') await sendQueued(ready);
    else return Response.json({ error: 'POST /run with { scheduledTime } or POST /send' }, { status: 400 });
    return Response.json({ ok: true });
  }
}

export default worker;
