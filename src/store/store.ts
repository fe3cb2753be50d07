import { Migrator, PostgresAdapter, sql, type Kysely, type Transaction } from 'kysely';
import { migrationProvider, migrations } from '../../migrations';
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

/** Where a database stands against the migrations this code knows. */
export interface MigrationState {
  /** Migrations the database has had, oldest first. */
  applied: string[];
  /** Migrations this code knows that the database has not had yet, in the order they run. */
  pending: string[];
  /** Migrations the database has had that this code does not know: a newer version migrated it. */
  unknown: string[];
}

/**
 * A database a newer version of the service has migrated. Older code must not run on it: it would write
 * rows the way the old schema wants them and could undo what the newer version relies on.
 */
export class NewerDatabaseError extends Error {
  readonly code = 'newer_database';
  constructor(
    readonly unknown: string[],
    readonly latestKnown: string | null,
  ) {
    super(
      `This database was migrated by a newer version of the service: it has ${unknown.length === 1 ? 'migration' : 'migrations'} ${unknown.join(', ')}, ` +
        `which this version does not know (it knows up to ${latestKnown ?? 'none'}). Run the newer version again, or restore a backup taken before that upgrade.`,
    );
    this.name = 'NewerDatabaseError';
  }
}

/** Kysely looks for its bookkeeping tables in every schema; on Postgres name ours, or another schema's tables (another app, another test) would be taken for this one's. */
async function migrationTableSchema(db: Kysely<any>): Promise<string | undefined> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return undefined;
  return (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema;
}

/** Reads which migrations the database has had, without changing anything (a fresh database has had none). */
export async function readMigrationState(db: Kysely<any>): Promise<MigrationState> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  const known = Object.keys(migrations).sort();
  let applied: string[] = [];
  if (tables.some((t) => t.name === 'kysely_migration')) {
    const schema = await migrationTableSchema(db);
    const table = schema ? db.withSchema(schema) : db;
    applied = (await table.selectFrom('kysely_migration').select('name').orderBy('name').execute()).map((r: { name: string }) => r.name);
  }
  const done = new Set(applied);
  return { applied, pending: known.filter((m) => !done.has(m)), unknown: applied.filter((m) => !known.includes(m)) };
}

function refuseNewer(state: MigrationState): void {
  if (state.unknown.length > 0) throw new NewerDatabaseError(state.unknown, Object.keys(migrations).sort().at(-1) ?? null);
}

/**
 * Applies every pending migration; throws with the failing migration's name. A database migrated by a newer
 * version (a migration this code does not know) is refused with NewerDatabaseError before anything runs.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  refuseNewer(await readMigrationState(db));
  const schema = await migrationTableSchema(db);
  const migrator = new Migrator({ db, provider: migrationProvider, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    // A newer version may have migrated the database since the look above; Kysely then finds, under its
    // migration lock, a migration it does not know. Say so in the same words.
    refuseNewer(await readMigrationState(db).catch(() => ({ applied: [], pending: [], unknown: [] })));
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
