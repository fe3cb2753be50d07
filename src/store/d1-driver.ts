import type { D1Database, D1PreparedStatement, D1Result } from '@cloudflare/workers-types';
import {
  InsertQueryNode,
  Kysely,
  RawNode,
  SelectQueryNode,
  SqliteAdapter,
  SqliteQueryCompiler,
  sql,
  type CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type DatabaseMetadataOptions,
  type Dialect,
  type Driver,
  type QueryResult,
  type SchemaMetadata,
  type TableMetadata,
  type TransactionSettings,
} from 'kysely';
import { ConversationConflict } from './conversations';
import { isConversationVersionConflict, isUniqueViolation } from './errors';
import type { Database } from './schema';
import { createStore, type Store } from './store';

/*
 * Cloudflare D1 for Kysely, with transactions.
 *
 * D1 refuses BEGIN; what it offers instead is `batch()`, which runs statements in order and atomically.
 * So a transaction here is a buffered batch: reads run at once (they decide what to write), writes are
 * collected and sent together at commit, and a rollback simply drops them. This fits how the store is
 * built: ids are made by the application, the guards (an event handled once, a conversation saved by one
 * writer) are database errors that fail the whole batch, and reads come before the writes they decide on.
 *
 * The price, inside a transaction: a read does not see the transaction's own earlier writes, a write
 * reports no affected-row count or insert id, and a write cannot RETURN rows. Outside a transaction every
 * statement runs at once with D1's real counts.
 *
 * Only `import type` from @cloudflare/workers-types: this module runs wherever a D1 binding can be had
 * (a Worker's `env.DB`, or Miniflare's from Node in tests).
 */

export interface D1DialectConfig {
  database: D1Database;
}

/**
 * Statements that only read, and so may run inside a transaction before the batch is sent. Raw SQL is
 * judged by its text: SELECT, VALUES, EXPLAIN, a WITH that does not write, and a PRAGMA that sets nothing.
 */
const LEADING_COMMENTS = /^(\s*(--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/))*\s*/;
function isRead(query: CompiledQuery): boolean {
  const node = query.query;
  if (SelectQueryNode.is(node)) return true;
  if (!RawNode.is(node)) return false;
  const text = query.sql.replace(LEADING_COMMENTS, '');
  if (/^(select|values|explain)\b/i.test(text)) return true;
  if (/^with\b/i.test(text)) return !/\b(insert|update|delete|replace)\b/i.test(text);
  if (/^pragma\b/i.test(text)) return !text.includes('=');
  return false;
}

function isInsert(query: CompiledQuery): boolean {
  return InsertQueryNode.is(query.query) || (RawNode.is(query.query) && /^(insert|replace)\b/i.test(query.sql.replace(LEADING_COMMENTS, '')));
}

function returnsRows(query: CompiledQuery): boolean {
  const node = query.query as { returning?: unknown };
  return node.returning !== undefined && node.returning !== null;
}

function toQueryResult<R>(query: CompiledQuery, result: D1Result<R>): QueryResult<R> {
  if (isRead(query)) return { rows: result.results ?? [] };
  const changes = result.meta?.changes ?? 0;
  const lastRowId = result.meta?.last_row_id;
  return {
    rows: result.results ?? [],
    numAffectedRows: BigInt(changes),
    ...(isInsert(query) && changes > 0 && typeof lastRowId === 'number' ? { insertId: BigInt(lastRowId) } : {}),
  };
}

/**
 * One Kysely connection over the D1 binding. D1 has no sessions to hold, so a connection is only the
 * place a transaction's buffered writes wait for their commit.
 */
class D1Connection implements DatabaseConnection {
  /** Writes waiting for commit; null outside a transaction. */
  #pending: D1PreparedStatement[] | null = null;

  constructor(private readonly database: D1Database) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const statement = this.database.prepare(query.sql).bind(...query.parameters);
    if (this.#pending && !isRead(query)) {
      if (returnsRows(query)) {
        // The rows would only exist after commit, and the caller wants them now: refuse rather than return none.
        throw new Error('D1 applies writes inside a transaction at commit, so they cannot RETURN rows; generate ids in the application instead');
      }
      this.#pending.push(statement);
      // Unknown until commit: Kysely reads a missing count as 0, so code inside a D1 transaction must not decide on it.
      return { rows: [] };
    }
    return toQueryResult(query, await statement.all<R>());
  }

  begin(settings: TransactionSettings): void {
    if (this.#pending) throw new Error('a D1 transaction is already open on this connection');
    if (settings.isolationLevel || settings.accessMode) {
      // A batch is always serializable and always writable; accepting other settings would be a quiet lie.
      throw new Error('D1 transactions take no isolation level or access mode');
    }
    this.#pending = [];
  }

  async commit(): Promise<void> {
    const pending = this.#pending ?? [];
    this.#pending = null;
    if (pending.length === 0) return;
    // One batch: all of it applies, or none of it does. A failing statement's error (a UNIQUE violation,
    // the conversation guard's RAISE) comes back with D1's own message, which src/store/errors.ts reads.
    await this.database.batch(pending);
  }

  rollback(): void {
    this.#pending = null;
  }

  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('D1 returns whole results; it cannot stream them');
  }
}

function asD1Connection(connection: DatabaseConnection): D1Connection {
  if (!(connection instanceof D1Connection)) throw new Error('not a D1 connection');
  return connection;
}

class D1Driver implements Driver {
  constructor(private readonly config: D1DialectConfig) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    // A fresh connection each time, so concurrent transactions never share a buffer.
    return new D1Connection(this.config.database);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    asD1Connection(connection).begin(settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await asD1Connection(connection).commit();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    asD1Connection(connection).rollback();
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {}
}

/**
 * SQLite's adapter, except that DDL counts as transactional: Kysely's Migrator then runs all pending
 * migrations, and their rows in `kysely_migration`, inside one transaction — one D1 batch. A migration
 * run applies completely or not at all, and two isolates migrating a fresh database at once cannot both
 * apply a migration: the loser's batch fails on `kysely_migration`'s primary key (or on a table that
 * already exists) and leaves nothing behind. That batch is the migration lock; the lock table Kysely also
 * keeps is not needed on top. The cost: a migration's own reads see the schema as it was before the run,
 * so data changes in a migration must be single statements (INSERT … SELECT, UPDATE), not read-then-write.
 */
export class D1Adapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/**
 * Lists tables for Kysely's Migrator on D1. Kysely's SQLite introspector reads `pragma_table_info()` as a
 * table-valued function for every table, which D1's authorizer refuses (SQLITE_AUTH) — and D1 keeps
 * internal `_cf_*` tables nobody may read. This one skips those tables and uses plain `PRAGMA table_info`,
 * which D1 allows.
 */
export class D1Introspector implements DatabaseIntrospector {
  constructor(private readonly db: Kysely<any>) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    return [];
  }

  async getTables(options: DatabaseMetadataOptions = { withInternalKyselyTables: false }): Promise<TableMetadata[]> {
    const rows = await this.db
      .selectFrom('sqlite_master')
      .select(['name', 'sql', 'type'])
      .where('type', 'in', ['table', 'view'])
      .orderBy('name')
      .execute();
    const internal = new Set(options.withInternalKyselyTables ? [] : ['kysely_migration', 'kysely_migration_lock']);
    const tables = (rows as { name: string; sql: string | null; type: string }[]).filter((r) => {
      const name = r.name.toLowerCase();
      return !name.startsWith('sqlite_') && !name.startsWith('_cf_') && !internal.has(r.name);
    });
    const result: TableMetadata[] = [];
    for (const table of tables) {
      const { rows: columns } = await sql<{ name: string; type: string; notnull: number; dflt_value: unknown; pk: number }>`pragma table_info(${sql.id(table.name)})`.execute(this.db);
      // SQLite keeps no flag for AUTOINCREMENT; read it from the CREATE statement, else a lone INTEGER PRIMARY KEY is one.
      let autoIncrement = table.sql
        ?.split(/[(),]/)
        .find((part) => part.toLowerCase().includes('autoincrement'))
        ?.trimStart()
        .split(/\s+/)[0]
        ?.replace(/["`]/g, '');
      const keys = columns.filter((c) => c.pk > 0);
      if (!autoIncrement && keys.length === 1 && keys[0]!.type.toLowerCase() === 'integer') autoIncrement = keys[0]!.name;
      result.push({
        name: table.name,
        isView: table.type === 'view',
        columns: columns.map((c) => ({
          name: c.name,
          dataType: c.type,
          isNullable: !c.notnull,
          isAutoIncrementing: c.name === autoIncrement,
          hasDefaultValue: c.dflt_value != null,
        })),
      });
    }
    return result;
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) };
  }
}

/** Kysely's dialect for a D1 binding, with transactions as buffered batches (see the top of this file). */
export class D1Dialect implements Dialect {
  constructor(private readonly config: D1DialectConfig) {}

  createAdapter(): D1Adapter {
    return new D1Adapter();
  }

  createDriver(): Driver {
    return new D1Driver(this.config);
  }

  createQueryCompiler(): SqliteQueryCompiler {
    return new SqliteQueryCompiler();
  }

  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new D1Introspector(db);
  }
}

/**
 * The store on D1. Everything is the shared store except where a guard's error shows up: a write inside a
 * transaction runs at commit, after `saveConversation` has returned, so the conversation guard (the
 * version trigger, or a second first save) fails the commit instead of the save. The transaction turns
 * that failure into the ConversationConflict the save would have thrown, so the engine retries the event
 * just as on SQLite and Postgres. `lock()` does nothing here: D1 runs one batch at a time and the guards
 * are enforced inside the batch.
 */
export function createD1Store(database: D1Database): Store {
  const store = createStore(new Kysely<Database>({ dialect: new D1Dialect({ database }) }), 'd1');
  return {
    ...store,
    async transaction(fn) {
      try {
        return await store.transaction(fn);
      } catch (err) {
        if (!(err instanceof ConversationConflict) && (isConversationVersionConflict(err) || isUniqueViolation(err, 'conversations'))) {
          const conflict = new ConversationConflict('(unknown at commit)');
          conflict.message = 'a conversation changed while this event was processed: another writer committed first';
          conflict.cause = err;
          throw conflict;
        }
        throw err;
      }
    },
  };
}
