import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../store/schema';
import { createStore, migrateToLatest, type Store } from '../store/store';

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
    store = createStore(new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) }), 'sqlite');
  } else {
    const pool = new pg.Pool({
      connectionString: database.url,
      max: opts.poolSize ?? 10,
      ...(database.schema ? { options: `-c search_path=${database.schema}` } : {}),
    });
    store = createStore(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres');
  }
  if (opts.migrate !== false) await migrateToLatest(store.db);
  return store;
}
