import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import pg from 'pg';
import { OwnSchemaPostgresDialect } from '../store/pg-dialect';
import type { Database } from '../store/schema';
import { createStore, migrateToLatest, type Store } from '../store/store';

/**
 * Kysely prepares every query afresh; with better-sqlite3 that is a measurable share of each webhook
 * (see BENCHMARKS.md). The app's queries are a small fixed set, so prepared statements are kept and reused.
 */
function withStatementCache(sqlite: SQLite.Database): { prepare(sql: string): SQLite.Statement; close(): void } {
  const statements = new Map<string, SQLite.Statement>();
  return {
    prepare(sql) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = sqlite.prepare(sql);
        // Ad-hoc queries (searches with varying IN lists) must not grow the cache without bound.
        if (statements.size < 1000) statements.set(sql, statement);
      }
      return statement;
    },
    close: () => sqlite.close(),
  };
}

export type NodeDatabase = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; schema?: string };

/** Opens SQLite (a file, or `:memory:`) or Postgres for Node and applies pending migrations. */
export async function openNodeStore(database: NodeDatabase, opts: { migrate?: boolean; poolSize?: number } = {}): Promise<Store> {
  let store: Store;
  if (database.kind === 'sqlite') {
    if (database.path !== ':memory:') mkdirSync(dirname(database.path), { recursive: true });
    const sqlite = new SQLite(database.path);
    // WAL lets /healthz and the console read while a webhook writes; the busy timeout covers the odd
    // second process (a CLI) touching the same file.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    store = createStore(new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) }), 'sqlite');
  } else {
    const pool = new pg.Pool({
      connectionString: database.url,
      max: opts.poolSize ?? 10,
      ...(database.schema ? { options: `-c search_path=${database.schema}` } : {}),
    });
    store = createStore(new Kysely<Database>({ dialect: new OwnSchemaPostgresDialect({ pool }) }), 'postgres');
  }
  if (opts.migrate !== false) await migrateToLatest(store.db);
  return store;
}
