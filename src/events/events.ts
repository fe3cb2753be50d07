import type { Kysely, Transaction } from 'kysely';
import { newId } from '../ids';
import type { Clock } from '../ops/clock';
import type { Logger } from '../ops/logger';
import { isUniqueViolation } from '../store/errors';
import type { Database, DomainEventRow } from '../store/schema';
import type { Store } from '../store/store';

/*
 * Domain events: what happened ("repair order collected"), for code that reacts to it without the code
 * that made it happen knowing. An event is written in the transaction of the change itself, so there is no
 * change without its event and no event for a change that rolled back. A scheduled job hands each event to
 * every subscriber of its type; a subscriber's handling is recorded in the same transaction as what the
 * subscriber writes, so each subscriber handles each event exactly once, whichever instance runs the job.
 *
 * A subscriber that talks to the world outside the database (an HTTP call) should queue that durably in
 * its transaction and let its own job send it (see the DMS webhooks): a transaction cannot take back a call.
 */

/** Event types written today; a subscriber names the ones it wants. */
export const EVENT_TYPES = {
  repairOrderCollected: 'repair_order.collected',
  repairOrderStatusChanged: 'repair_order.status_changed',
  itemDecided: 'repair_order.item_decided',
  pickupTimeConfirmed: 'repair_order.pickup_time_confirmed',
} as const;

export interface DomainEvent<P = Record<string, unknown>> {
  id: string;
  type: string;
  /** The record it is about (a repair order's id). */
  aggregateId: string;
  payload: P;
  occurredAt: string;
}

/**
 * Writes an event in the caller's transaction (with the change it reports). Returns it, for callers that
 * want its id; it is only visible to subscribers once that transaction commits.
 */
export async function emitEvent<P extends Record<string, unknown>>(db: Kysely<Database>, event: { type: string; aggregateId: string; payload: P; now: string }): Promise<DomainEvent<P>> {
  const row = { id: newId(), type: event.type, aggregate_id: event.aggregateId, payload: JSON.stringify(event.payload), occurred_at: event.now };
  await db.insertInto('domain_events').values(row).execute();
  return { id: row.id, type: row.type, aggregateId: row.aggregate_id, payload: event.payload, occurredAt: row.occurred_at };
}

/**
 * Code that reacts to events. `handle` runs in a transaction that also records the handling: whatever it
 * writes with `tx` commits together with "handled", or not at all (and the event is offered again later).
 */
export interface Subscriber {
  /** Stable: the handling records are kept under it. Renaming it hands every recent event over again. */
  readonly name: string;
  readonly types: readonly string[];
  handle(tx: Transaction<Database>, event: DomainEvent): Promise<void>;
}

export interface EventDispatcherDeps {
  store: Store;
  subscribers: readonly Subscriber[];
  clock: Clock;
  logger: Logger;
  /** Events taken per subscriber per pass. */
  batchSize?: number;
  /** Failed attempts before an event is set aside for a subscriber (kept in event_failures). */
  maxAttempts?: number;
  /** How far back events are offered: an event nobody could handle for this long is left alone. */
  lookBackMs?: number;
}

export interface EventDispatcher {
  /** Hands every waiting event to its subscribers; returns how many handlings were recorded. */
  runOnce(): Promise<number>;
}

const DAY_MS = 86_400_000;

/** 30 s, doubling, up to an hour. */
function retryDelayMs(attempts: number): number {
  return Math.min(3_600_000, 30_000 * 2 ** Math.max(0, attempts - 1));
}

function toEvent(row: DomainEventRow): DomainEvent {
  return { id: row.id, type: row.type, aggregateId: row.aggregate_id, payload: JSON.parse(row.payload) as Record<string, unknown>, occurredAt: row.occurred_at };
}

/** See the module comment. Safe to run from several instances at once: the handling's key decides. */
export function createEventDispatcher(deps: EventDispatcherDeps): EventDispatcher {
  const batchSize = deps.batchSize ?? 200;
  const maxAttempts = deps.maxAttempts ?? 10;
  const lookBackMs = deps.lookBackMs ?? 7 * DAY_MS;
  const log = deps.logger.child({ component: 'events' });
  const names = new Set<string>();
  for (const s of deps.subscribers) {
    if (names.has(s.name)) throw new Error(`two event subscribers are named ${s.name}`);
    names.add(s.name);
  }

  async function waiting(subscriber: Subscriber, now: Date): Promise<DomainEventRow[]> {
    if (subscriber.types.length === 0) return [];
    const nowIso = now.toISOString();
    return deps.store.db
      .selectFrom('domain_events as e')
      .leftJoin('event_handlings as h', (join) => join.onRef('h.event_id', '=', 'e.id').on('h.subscriber', '=', subscriber.name))
      .leftJoin('event_failures as f', (join) => join.onRef('f.event_id', '=', 'e.id').on('f.subscriber', '=', subscriber.name))
      .selectAll('e')
      .where('e.type', 'in', subscriber.types)
      .where('e.occurred_at', '>=', new Date(now.getTime() - lookBackMs).toISOString())
      .where('h.event_id', 'is', null)
      .where((eb) => eb.or([eb('f.event_id', 'is', null), eb.and([eb('f.given_up', '=', 0), eb('f.retry_at', '<=', nowIso)])]))
      .orderBy('e.occurred_at')
      .orderBy('e.id')
      .limit(batchSize)
      .execute();
  }

  async function handleOne(subscriber: Subscriber, row: DomainEventRow): Promise<boolean> {
    const now = deps.clock.now().toISOString();
    try {
      await deps.store.transaction(async (tx) => {
        await tx.insertInto('event_handlings').values({ subscriber: subscriber.name, event_id: row.id, handled_at: now }).execute();
        await tx.deleteFrom('event_failures').where('subscriber', '=', subscriber.name).where('event_id', '=', row.id).execute();
        await subscriber.handle(tx, toEvent(row));
      });
      return true;
    } catch (err) {
      // Another instance handled it a moment ago.
      if (isUniqueViolation(err, 'event_handlings')) return false;
      const previous = await deps.store.db.selectFrom('event_failures').select('attempts').where('subscriber', '=', subscriber.name).where('event_id', '=', row.id).executeTakeFirst();
      const attempts = (previous?.attempts ?? 0) + 1;
      const givenUp = attempts >= maxAttempts;
      const failure = {
        attempts,
        last_error: (err instanceof Error ? err.message : String(err)).slice(0, 1000),
        retry_at: new Date(Date.parse(now) + retryDelayMs(attempts)).toISOString(),
        given_up: givenUp ? 1 : 0,
        updated_at: now,
      };
      await deps.store.db
        .insertInto('event_failures')
        .values({ subscriber: subscriber.name, event_id: row.id, ...failure })
        .onConflict((oc) => oc.columns(['subscriber', 'event_id']).doUpdateSet(failure))
        .execute();
      (givenUp ? log.error.bind(log) : log.warn.bind(log))({ err, subscriber: subscriber.name, eventId: row.id, type: row.type, attempts }, givenUp ? 'event subscriber gave up' : 'event subscriber failed; retrying later');
      return false;
    }
  }

  return {
    async runOnce() {
      let handled = 0;
      for (const subscriber of deps.subscribers) {
        for (const row of await waiting(subscriber, deps.clock.now())) if (await handleOne(subscriber, row)) handled += 1;
      }
      return handled;
    },
  };
}
