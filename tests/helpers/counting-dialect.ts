import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, type CompiledQuery, type DatabaseConnection, type Dialect, type Driver, type QueryCompiler, type TransactionSettings } from 'kysely';
import pg from 'pg';
import { OwnSchemaPostgresDialect } from '../../src/store/pg-dialect';
import type { Database as Schema } from '../../src/store/schema';
import { createStore, migrateToLatest, type DialectName, type Store } from '../../src/store/store';

/**
 * What a store was asked to do: statements (transaction control not included), transactions begun, and
 * write transactions (begun ones, plus each write run outside a transaction, which commits on its own).
 */
export class StatementCounter {
  statements = 0;
  transactions = 0;
  /** Writes outside a transaction: each is a transaction of its own. */
  autocommitWrites = 0;
  savepoints = 0;
  /** Statement texts and how often each ran, to see which ones an event costs. */
  readonly bySql = new Map<string, number>();

  get writeTransactions(): number {
    return this.transactions + this.autocommitWrites;
  }

  reset(): void {
    this.statements = 0;
    this.transactions = 0;
    this.autocommitWrites = 0;
    this.savepoints = 0;
    this.bySql.clear();
  }

  /** The most frequent statements, for a failure message. */
  top(n = 15): string {
    return [...this.bySql]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([text, count]) => `${String(count).padStart(6)}  ${text.slice(0, 160)}`)
      .join('\n');
  }
}

const WRITE = /^\s*(insert|update|delete|replace)\b/i;

class CountingConnection implements DatabaseConnection {
  inTransaction = false;
  constructor(
    readonly inner: DatabaseConnection,
    private readonly counter: StatementCounter,
  ) {}

  executeQuery<R>(query: CompiledQuery) {
    this.counter.statements += 1;
    if (!this.inTransaction && WRITE.test(query.sql)) this.counter.autocommitWrites += 1;
    this.counter.bySql.set(query.sql, (this.counter.bySql.get(query.sql) ?? 0) + 1);
    return this.inner.executeQuery<R>(query);
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number) {
    this.counter.statements += 1;
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

class CountingDriver implements Driver {
  private readonly wrapped = new WeakMap<DatabaseConnection, CountingConnection>();
  constructor(
    private readonly inner: Driver,
    private readonly counter: StatementCounter,
  ) {}

  init() {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.inner.acquireConnection();
    let counting = this.wrapped.get(connection);
    if (!counting) {
      counting = new CountingConnection(connection, this.counter);
      this.wrapped.set(connection, counting);
    }
    return counting;
  }

  private unwrap(connection: DatabaseConnection): CountingConnection {
    if (!(connection instanceof CountingConnection)) throw new Error('not a counting connection');
    return connection;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    const c = this.unwrap(connection);
    this.counter.transactions += 1;
    await this.inner.beginTransaction(c.inner, settings);
    c.inTransaction = true;
  }

  async commitTransaction(connection: DatabaseConnection) {
    const c = this.unwrap(connection);
    c.inTransaction = false;
    await this.inner.commitTransaction(c.inner);
  }

  async rollbackTransaction(connection: DatabaseConnection) {
    const c = this.unwrap(connection);
    c.inTransaction = false;
    await this.inner.rollbackTransaction(c.inner);
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']) {
    this.counter.savepoints += 1;
    await this.inner.savepoint!(this.unwrap(connection).inner, name, compile);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']) {
    await this.inner.rollbackToSavepoint!(this.unwrap(connection).inner, name, compile);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']) {
    await this.inner.releaseSavepoint!(this.unwrap(connection).inner, name, compile);
  }

  releaseConnection(connection: DatabaseConnection) {
    return this.inner.releaseConnection(this.unwrap(connection).inner);
  }

  destroy() {
    return this.inner.destroy();
  }
}

/** A dialect that counts what its driver is asked to run; everything else is the inner dialect's. */
export function countingDialect(inner: Dialect, counter: StatementCounter): Dialect {
  return {
    createAdapter: () => inner.createAdapter(),
    createDriver: () => new CountingDriver(inner.createDriver(), counter),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createIntrospector: (db) => inner.createIntrospector(db),
  };
}

export interface CountingStore {
  store: Store;
  counter: StatementCounter;
  drop(): Promise<void>;
}

/** A migrated store on a real database (SQLite in memory, or a fresh Postgres schema) whose statements are counted. */
export async function openCountingStore(dialect: Exclude<DialectName, 'd1'>): Promise<CountingStore> {
  const counter = new StatementCounter();
  if (dialect === 'sqlite') {
    const sqlite = new Database(':memory:');
    sqlite.pragma('foreign_keys = ON');
    const store = createStore(new Kysely<Schema>({ dialect: countingDialect(new SqliteDialect({ database: sqlite }), counter) }), 'sqlite');
    await migrateToLatest(store.db);
    counter.reset();
    return { store, counter, drop: () => store.close() };
  }
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set');
  const schema = `t_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const pool = new pg.Pool({ connectionString: url, max: 10, options: `-c search_path=${schema}` });
  const store = createStore(new Kysely<Schema>({ dialect: countingDialect(new OwnSchemaPostgresDialect({ pool }), counter) }), 'postgres');
  await migrateToLatest(store.db);
  counter.reset();
  return {
    store,
    counter,
    async drop() {
      await store.close();
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      await cleanup.query(`drop schema ${schema} cascade`);
      await cleanup.end();
    },
  };
}
