import { Migrator, PostgresAdapter, sql, type Kysely, type Transaction } from 'kysely';
import { migrationProvider } from '../../migrations';
import type { Database, Db } from './schema';

export type DialectName = 'sqlite' | 'postgres' | 'd1';

/**
 * The database port: a Kysely instance plus the few things that differ between dialects.
 * Entries build it with a real driver; the core never imports one.
 */
export interface Store {
  readonly db: Db;
  readonly dialect: DialectName;
  /** Runs `fn` in one transaction; everything it writes commits together or not at all. */
  transaction<T>(fn: (tx: Transaction<Database>) => Promise<T>): Promise<T>;
  /**
   * Serialises work on one key across instances for the rest of the transaction. On Postgres an
   * advisory transaction lock; SQLite already runs one write transaction at a time.
   */
  lock(tx: Transaction<Database>, key: string): Promise<void>;
  close(): Promise<void>;
}

export function createStore(db: Kysely<Database>, dialect: DialectName): Store {
  return {
    db,
    dialect,
    transaction: (fn) => db.transaction().execute(fn),
    async lock(tx, key) {
      if (dialect !== 'postgres') return;
      await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(tx);
    },
    close: () => db.destroy(),
  };
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  // Kysely looks for its bookkeeping tables in every schema; on Postgres name ours, or another schema's
  // tables (another app, another test) would be taken for this one's.
  const migrationTableSchema =
    db.getExecutor().adapter instanceof PostgresAdapter ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({ db, provider: migrationProvider, ...(migrationTableSchema ? { migrationTableSchema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${failed ? `Migration ${failed.migrationName}` : 'Migrations'} failed: ${reason}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** True when the database answers a trivial query. */
export async function isDatabaseReachable(db: Db): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}
