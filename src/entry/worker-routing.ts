import { AsyncLocalStorage } from 'node:async_hooks';
import type { DurableObjectNamespace } from '@cloudflare/workers-types';
import type { ChannelName } from '../store/schema';
import type { Engine } from '../conversation/engine';
import type { Logger } from '../ops/logger';

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

/** The customers whose events one request accepted, collected while the request runs. */
const acceptedInRequest = new AsyncLocalStorage<Map<string, CustomerKey>>();

/**
 * Runs one request, then returns its response and the customers whose events it accepted (once each, in
 * the order their first event came), so the entry can hand those queues on after answering.
 */
export async function collectingAccepted(run: () => Promise<Response>): Promise<{ response: Response; accepted: CustomerKey[] }> {
  const accepted = new Map<string, CustomerKey>();
  const response = await acceptedInRequest.run(accepted, run);
  return { response, accepted: [...accepted.values()] };
}

/**
 * The engine as the webhooks and the web chat see it on Workers: accepting keeps the event in D1 and notes
 * its customer for the request (processed after the answer, on the customer's object); handling (web chat)
 * accepts and waits for the customer's object to process it. A failure to reach the object leaves the event
 * queued in D1, where the next cron pass finds it.
 */
export function routeThroughQueues(engine: Engine, queues: CustomerQueues, logger: Logger): Engine {
  return {
    ...engine,
    async accept(event) {
      const outcome = await engine.accept(event);
      if (outcome === 'accepted') {
        const customer = { channel: event.channel, externalId: event.externalId };
        acceptedInRequest.getStore()?.set(queueName(customer), customer);
      }
      return outcome;
    },
    async handle(event) {
      if ((await engine.accept(event)) === 'duplicate') return 'duplicate';
      try {
        await queues.process({ channel: event.channel, externalId: event.externalId });
      } catch (err) {
        logger.error({ err, channel: event.channel }, "could not reach the customer's queue; the event stays queued for the next scheduled pass");
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
