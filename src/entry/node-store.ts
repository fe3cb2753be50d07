import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../store/schema';
import { createStore, migrateToLatest, readMigrationState, type Store } from '../store/store';

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

export type NodeDatabase =
  /** `image`: a serialized database to open in memory instead of `path` (tests start from one migrated copy). */
  | { kind: 'sqlite'; path: string; image?: Buffer }
  | { kind: 'postgres'; url: string; schema?: string };

/** What opening the store did before the service starts: reported so the entry can log it. */
export type OpenReport =
  | { kind: 'upgrade-copy'; path: string; pending: string[] }
  | { kind: 'migrated'; migrations: string[] };

export interface OpenOptions {
  migrate?: boolean;
  poolSize?: number;
  /** Told about the copy kept before an upgrade and the migrations applied. */
  report?: (event: OpenReport) => void;
}

/** Loaded on first use, so a service on Postgres never loads SQLite's addon and one on SQLite never loads pg. */
async function loadSqlite(): Promise<typeof SQLite> {
  return (await import('better-sqlite3')).default;
}

/**
 * Opens SQLite (a file, or `:memory:`) or Postgres for Node and applies pending migrations. Before it
 * migrates a SQLite file that already holds data, it keeps a copy in `backups/` beside the file
 * (`<name>-before-<first pending migration>.sqlite`); a database a newer version has migrated is refused
 * with NewerDatabaseError.
 */
export async function openNodeStore(database: NodeDatabase, opts: OpenOptions = {}): Promise<Store> {
  let store: Store;
  let sqlite: SQLite.Database | null = null;
  if (database.kind === 'sqlite') {
    if (database.path !== ':memory:') mkdirSync(dirname(database.path), { recursive: true });
    const SQLiteDatabase = await loadSqlite();
    sqlite = new SQLiteDatabase(database.image ?? database.path);
    // WAL lets /healthz and the console read while a webhook writes; the busy timeout covers the odd
    // second process (a CLI, a backup) touching the same file.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    store = createStore(new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) }), 'sqlite');
  } else {
    const { default: pg } = await import('pg');
    const { OwnSchemaPostgresDialect } = await import('../store/pg-dialect');
    const pool = new pg.Pool({
      connectionString: database.url,
      max: opts.poolSize ?? 10,
      ...(database.schema ? { options: `-c search_path=${database.schema}` } : {}),
    });
    store = createStore(new Kysely<Database>({ dialect: new OwnSchemaPostgresDialect({ pool }) }), 'postgres');
  }
  if (opts.migrate !== false) {
    try {
      if (sqlite && database.kind === 'sqlite' && database.path !== ':memory:') {
        const state = await readMigrationState(store.db);
        // A fresh file has nothing to lose; one with data gets a copy before the first migration touches it.
        // A newer database is left alone: migrateToLatest refuses it just below.
        if (state.applied.length > 0 && state.pending.length > 0 && state.unknown.length === 0) {
          const path = upgradeCopyPath(database.path, state.pending[0]!);
          await copySqliteDatabase(sqlite, path);
          opts.report?.({ kind: 'upgrade-copy', path, pending: state.pending });
        }
      }
      const applied = await migrateToLatest(store.db);
      if (applied.length > 0) opts.report?.({ kind: 'migrated', migrations: applied });
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}

/** The folder beside a SQLite file where copies are kept: before upgrades, before restores. */
export function backupsFolder(databasePath: string): string {
  return join(dirname(databasePath), 'backups');
}

/** `data/backups/dealer-chat-before-0006_x.sqlite`; a second attempt at the same upgrade keeps both copies. */
function upgradeCopyPath(databasePath: string, migration: string): string {
  const name = basename(databasePath).replace(/\.(sqlite3?|db)$/, '');
  const plain = join(backupsFolder(databasePath), `${name}-before-${migration}.sqlite`);
  return existsSync(plain) ? plain.replace(/\.sqlite$/, `-${new Date().toISOString().replace(/[:.]/g, '-')}.sqlite`) : plain;
}

/**
 * Copies an open SQLite database to `destination` as one consistent snapshot, while other connections and
 * processes keep writing: SQLite's online backup in a single step is one read transaction, which in WAL
 * mode blocks no writer. (Copied in small steps, as by default, the backup would start over after every
 * write from another process and never finish under load.) The copy is written beside its destination and
 * renamed into place, so a file at `destination` is always a whole copy.
 */
export async function copySqliteDatabase(sqlite: SQLite.Database, destination: string): Promise<{ pages: number }> {
  mkdirSync(dirname(destination), { recursive: true });
  const partial = `${destination}.partial-${process.pid}`;
  rmSync(partial, { force: true });
  try {
    const { totalPages } = await sqlite.backup(partial, { progress: () => 0x7fffffff });
    // The copy is a file on its own, not a WAL database: opening it later (to check it, to restore it)
    // then leaves no -wal and -shm files beside it. The service turns WAL back on when it opens it.
    const copy = new (await loadSqlite())(partial);
    try {
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    renameSync(partial, destination);
    return { pages: totalPages };
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
}

/** Opens a SQLite file that is not the service's own connection (a backup, a restore, a check). */
export async function openSqliteFile(path: string, opts: { readonly?: boolean } = {}): Promise<SQLite.Database> {
  const SQLiteDatabase = await loadSqlite();
  const sqlite = new SQLiteDatabase(path, { readonly: opts.readonly ?? false, fileMustExist: true });
  sqlite.pragma('busy_timeout = 5000');
  return sqlite;
}

/** The SQLite file is claimed by a running service (or a restore). */
export class SqliteFileInUse extends Error {
  constructor(
    readonly databasePath: string,
    readonly lockPath: string,
  ) {
    super(`${databasePath} is in use: a service (or a restore) is running on it and holds ${lockPath}`);
    this.name = 'SqliteFileInUse';
  }
}

export interface SqliteClaim {
  readonly lockPath: string;
  release(): void;
}

/**
 * Claims a SQLite file for one process: the service while it runs, a restore while it replaces the file.
 * The claim is an exclusive lock the operating system holds on `<file>.lock` for as long as the claiming
 * process lives (SQLite's own file locking, in exclusive locking mode), so a crash or `kill -9` releases it
 * at once and nothing stale is left to clean up; the file itself may stay. A second claim fails with
 * SqliteFileInUse.
 */
export async function claimSqliteFile(databasePath: string): Promise<SqliteClaim> {
  const lockPath = `${databasePath}.lock`;
  mkdirSync(dirname(lockPath), { recursive: true });
  const SQLiteDatabase = await loadSqlite();
  const lock = new SQLiteDatabase(lockPath, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.pragma('journal_mode = MEMORY'); // nothing in it is worth a journal file beside the database
    // The first write takes the exclusive lock; in exclusive locking mode it is kept until the connection closes.
    lock.exec(`BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS claim (pid INTEGER, since TEXT); DELETE FROM claim; INSERT INTO claim VALUES (${process.pid}, '${new Date().toISOString()}'); COMMIT;`);
  } catch (err) {
    lock.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new SqliteFileInUse(databasePath, lockPath);
    throw err;
  }
  return { lockPath, release: () => lock.close() };
}
