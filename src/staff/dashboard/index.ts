import { sql } from 'kysely';
import type { ChannelName } from '../../store/schema';
import type { Store } from '../../store/store';
import { STAFF_HELD_FLOWS } from '../../conversation/flows';

/* The figures of the console's first page: what needs a person now. */

export interface DashboardFigures {
  /** Live profiles (neither merged nor erased). */
  customers: number;
  /** Conversations waiting for a person, longest waiting first (at most 20). */
  waiting: { customerId: string; displayName: string | null; since: string }[];
  /** Messages given up on, for managers to look at. */
  deadMessages: number;
  /** The latest messages customers wrote (follows and blocks left out). */
  recent: { id: number; customerId: string; displayName: string | null; channel: ChannelName; text: string | null; at: string }[];
}

export function createDashboardService(deps: { store: Store }) {
  const db = deps.store.db;
  return {
    async figures(): Promise<DashboardFigures> {
      const [customers, waiting, dead, recent] = await Promise.all([
        db.selectFrom('customers').select(sql<number>`count(*)`.as('n')).where('merged_into_id', 'is', null).where('erased_at', 'is', null).executeTakeFirstOrThrow(),
        db
          .selectFrom('conversations')
          .innerJoin('customers', 'customers.id', 'conversations.customer_id')
          .select(['customers.id', 'customers.display_name', 'conversations.updated_at'])
          .where('conversations.flow', 'in', STAFF_HELD_FLOWS)
          .orderBy('conversations.updated_at', 'asc')
          .limit(20)
          .execute(),
        db.selectFrom('outbox').select(sql<number>`count(*)`.as('n')).where('status', '=', 'dead').executeTakeFirstOrThrow(),
        db
          .selectFrom('messages')
          .innerJoin('customers', 'customers.id', 'messages.customer_id')
          .select(['messages.id', 'messages.customer_id', 'messages.channel', 'messages.text', 'messages.created_at', 'customers.display_name'])
          .where('messages.direction', '=', 'in')
          // Follows and blocks are not messages anyone needs to read on the dashboard.
          .where('messages.kind', 'not in', ['start', 'stop'])
          .orderBy('messages.id', 'desc')
          .limit(10)
          .execute(),
      ]);
      return {
        customers: Number(customers.n),
        waiting: waiting.map((w) => ({ customerId: w.id, displayName: w.display_name, since: w.updated_at })),
        deadMessages: Number(dead.n),
        recent: recent.map((m) => ({ id: m.id, customerId: m.customer_id, displayName: m.display_name, channel: m.channel, text: m.text, at: m.created_at })),
      };
    },
  };
}

export type DashboardService = ReturnType<typeof createDashboardService>;
