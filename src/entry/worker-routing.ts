import { AsyncLocalStorage } from 'node:async_hooks';
import type { DurableObjectNamespace } from '@cloudflare/workers-types';
import type { InboundEvent } from '../channels/types';
import type { Engine } from '../conversation/engine';
import type { Clock } from '../ops/clock';
import type { Logger } from '../ops/logger';
import type { Metrics } from '../ops/metrics';
import { acceptEvents } from '../store/inbox';
import type { ChannelName } from '../store/schema';
import type { Store } from '../store/store';

/** One customer's queue of accepted events, named as the inbox names it. */
export interface CustomerKey {
  channel: ChannelName;
  externalId: string;
}

/** Where a customer's accepted events are processed, one at a time and in order. */
export interface CustomerQueues {
  /** Processes the customer's due events and sends what they queued; resolves with how many were handled. */
  process(customer: CustomerKey): Promise<number>;
}

/** The path a customer's Durable Object answers on; the body is a CustomerKey. */
export const PROCESS_PATH = '/process';

/** The Durable Object's name for a customer: one object per customer, wherever in the world it is asked. */
export function queueName(customer: CustomerKey): string {
  return `${customer.channel}:${customer.externalId}`;
}

/**
 * The customers' Durable Objects (the CUSTOMER_QUEUES binding). D1 has no locks, so two isolates that each
 * received one of a customer's events could run them side by side; every isolate asks the customer's one
 * object instead, and the object runs their queue alone.
 */
export function durableObjectQueues(namespace: DurableObjectNamespace): CustomerQueues {
  return {
    async process(customer) {
      const stub = namespace.get(namespace.idFromName(queueName(customer)));
      const response = await stub.fetch(`https://customer-queue${PROCESS_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(customer) });
      const body = (await response.json()) as { handled?: number; error?: string };
      if (!response.ok) throw new Error(`the customer's queue failed: ${body.error ?? response.status}`);
      return body.handled ?? 0;
    },
  };
}

/** What one request keeps while it runs: the customers whose events it accepted, and its inbox writes in order. */
interface RequestScope {
  accepted: Map<string, CustomerKey>;
  writes: Promise<unknown>;
}

const requestScope = new AsyncLocalStorage<RequestScope>();

/**
 * Runs one request, then returns its response and the customers whose events it accepted (once each, in
 * the order their first event came), so the entry can hand those queues on after answering.
 */
export async function collectingAccepted(run: () => Promise<Response>): Promise<{ response: Response; accepted: CustomerKey[] }> {
  const scope: RequestScope = { accepted: new Map(), writes: Promise.resolve() };
  const response = await requestScope.run(scope, run);
  return { response, accepted: [...scope.accepted.values()] };
}

export interface RoutingDeps {
  queues: CustomerQueues;
  store: Store;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
}

/**
 * The engine as the webhooks and the web chat see it on Workers: accepting keeps the event in D1 and notes
 * its customer for the request (processed after the answer, on the customer's object); handling (web chat)
 * accepts and waits for the customer's object to process it. A failure to reach the object leaves the event
 * queued in D1, where the next cron pass finds it.
 *
 * Events are kept one request at a time, never in a batch with another request's: the engine's group commit
 * would settle one request's promise from another request's I/O, which the Workers runtime refuses (the
 * waiting request is cancelled as hung). Within a request they are written one after another, in the order
 * offered, so the inbox keeps a webhook's events in their order.
 */
export function routeThroughQueues(engine: Engine, deps: RoutingDeps): Engine {
  async function keep(event: InboundEvent): Promise<'accepted' | 'duplicate'> {
    const write = async () => (await acceptEvents(deps.store.db, [event], deps.clock.now().toISOString()))[0] === true;
    const scope = requestScope.getStore();
    const written = scope ? scope.writes.then(write, write) : write();
    if (scope) scope.writes = written.catch(() => undefined);
    const fresh = await written;
    if (!fresh) deps.metrics.eventsDeduplicated.inc({ channel: event.channel });
    return fresh ? 'accepted' : 'duplicate';
  }
  return {
    ...engine,
    async accept(event) {
      const outcome = await keep(event);
      if (outcome === 'accepted') {
        const customer = { channel: event.channel, externalId: event.externalId };
        requestScope.getStore()?.accepted.set(queueName(customer), customer);
      }
      return outcome;
    },
    async handle(event) {
      if ((await keep(event)) === 'duplicate') return 'duplicate';
      try {
        await deps.queues.process({ channel: event.channel, externalId: event.externalId });
      } catch (err) {
        deps.logger.error({ err, channel: event.channel }, "could not reach the customer's queue; the event stays queued for the next scheduled pass");
      }
      return 'processed';
    },
  };
}

/** Asks each customer's queue to run, side by side (one customer's events stay in order inside their queue). */
export async function processQueues(queues: CustomerQueues, customers: readonly CustomerKey[], logger: Logger): Promise<number> {
  const outcomes = await Promise.allSettled(customers.map((customer) => queues.process(customer)));
  let handled = 0;
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.status === 'fulfilled') handled += outcome.value;
    else logger.error({ err: outcome.reason, channel: customers[i]!.channel }, "a customer's queue failed; the next scheduled pass tries again");
  }
  return handled;
}
