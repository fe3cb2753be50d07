import { CompiledQuery, type KyselyPlugin, type QueryId, type RootOperationNode } from 'kysely';
import type { Store } from '../../src/store/store';

/**
 * The store with every query it sends recorded, so a test can ask the database how it runs exactly the
 * queries the code under test sent (not a copy of them written into the test).
 */
export function recordingStore(store: Store): { store: Store; queries(): CompiledQuery[] } {
  const sent: { node: RootOperationNode; queryId: QueryId }[] = [];
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      sent.push(args);
      return args.node;
    },
    async transformResult(args) {
      return args.result;
    },
  };
  return {
    store: { ...store, db: store.db.withPlugin(plugin) },
    queries: () => sent.map((q) => store.db.getExecutor().compileQuery(q.node, q.queryId)),
  };
}

/** The plan of one query, a line a step: SQLite's (and D1's) EXPLAIN QUERY PLAN details, or Postgres' EXPLAIN lines. */
export async function queryPlan(store: Store, query: CompiledQuery): Promise<string[]> {
  if (store.dialect === 'postgres') {
    const plan = await store.db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN ${query.sql}`, [...query.parameters]));
    return plan.rows.map((r) => r['QUERY PLAN']);
  }
  const plan = await store.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`EXPLAIN QUERY PLAN ${query.sql}`, [...query.parameters]));
  return plan.rows.map((r) => r.detail);
}
