import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { D1Database } from '@cloudflare/workers-types';
import pg from 'pg';
import { openNodeStore } from '../../src/entry/node-store';
import { createD1Store } from '../../src/store/d1-driver';
import { migrateToLatest, type Store } from '../../src/store/store';
import { startTestD1, type TestD1 } from './d1';

export interface TestStore {
  store: Store;
  /** Closes the store and removes what the test created (a Postgres schema). */
  drop(): Promise<void>;
}

export interface TestDialect {
  name: 'sqlite' | 'postgres' | 'd1';
  open(): Promise<TestStore>;
}

/*
 * Migrating a database takes a good part of a second (a few hundred DDL statements on Postgres), and
 * nearly every test wants a fresh one. So each test file migrates once per dialect and starts every
 * further database from that: SQLite from a serialized copy of a migrated database; Postgres from a schema
 * an earlier test of the file used, emptied (migrations insert no rows, so an emptied
 * schema is a fresh one). A schema a test changed (its tables or its migration history) is dropped, not
 * reused; the file's spare schemas are dropped when it ends (tests/helpers/setup.ts).
 */

let sqliteImage: Buffer | null = null;

async function migratedSqliteImage(): Promise<Buffer> {
  if (!sqliteImage) {
    const raw = new SQLite(':memory:');
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: raw }) });
    await migrateToLatest(db);
    sqliteImage = raw.serialize();
    await db.destroy();
  }
  return sqliteImage;
}

const sqlite: TestDialect = {
  name: 'sqlite',
  async open() {
    const store = await openNodeStore({ kind: 'sqlite', path: ':memory:', image: await migratedSqliteImage() }, { migrate: false });
    return { store, drop: () => store.close() };
  },
};

/** Emptied, migrated schemas of this file's earlier tests, ready for the next; and what a fresh one holds. */
const spareSchemas: string[] = [];
let freshShape: { tables: string[]; migrations: number } | null = null;

/** Runs `fn` on a connection of its own to the Postgres server at `url` (creating, emptying, dropping schemas). */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function shapeOf(client: pg.Client, schema: string): Promise<{ tables: string[]; migrations: number }> {
  const tables = (await client.query<{ name: string }>(`select table_name as name from information_schema.tables where table_schema = $1 and table_type = 'BASE TABLE' order by 1`, [schema])).rows.map((r) => r.name);
  const migrations = tables.includes('kysely_migration') ? Number((await client.query<{ n: string }>(`select count(*) as n from ${schema}.kysely_migration`)).rows[0]!.n) : 0;
  return { tables, migrations };
}

/** Empties a used schema for the next test, or drops it when the test changed its tables or migrations. */
async function recycleSchema(url: string, schema: string): Promise<void> {
  await withClient(url, async (client) => {
    const shape = await shapeOf(client, schema);
    if (freshShape && shape.migrations === freshShape.migrations && shape.tables.join() === freshShape.tables.join()) {
      const data = shape.tables.filter((t) => !t.startsWith('kysely_migration'));
      // DELETE of a few rows is far cheaper than TRUNCATE (which replaces every table's files); foreign
      // keys are not checked while the session replicates, which needs a superuser (as CI's is), else TRUNCATE.
      try {
        await client.query(`begin; set local session_replication_role = replica; ${data.map((t) => `delete from ${schema}."${t}";`).join(' ')} commit`);
      } catch {
        await client.query('rollback');
        await client.query(`truncate ${data.map((t) => `${schema}."${t}"`).join(', ')} cascade`);
      }
      // Identity columns start again at 1, as in a fresh schema.
      await client.query(`select setval(c.oid, 1, false) from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'S' and n.nspname = $1`, [schema]);
      spareSchemas.push(schema);
    } else {
      await client.query(`drop schema ${schema} cascade`);
    }
  });
}

/** Drops the spare schemas when a test file ends (registered for every file in tests/helpers/setup.ts). */
export async function dropSpareSchemas(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url || spareSchemas.length === 0) return;
  const schemas = spareSchemas.splice(0);
  await withClient(url, async (client) => {
    for (const schema of schemas) await client.query(`drop schema if exists ${schema} cascade`);
  });
}

function postgres(url: string): TestDialect {
  return {
    name: 'postgres',
    async open() {
      // Each test gets a schema of its own, so files run in parallel and leave nothing behind.
      const spare = spareSchemas.pop();
      const schema = spare ?? `t_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`;
      if (!spare) await withClient(url, (client) => client.query(`create schema ${schema}`));
      const store = await openNodeStore({ kind: 'postgres', url, schema }, { poolSize: 20, migrate: !spare });
      if (!freshShape) freshShape = await withClient(url, (client) => shapeOf(client, schema));
      return {
        store,
        async drop() {
          await store.close();
          await recycleSchema(url, schema);
        },
      };
    },
  };
}

/** SQLite in memory always; Postgres too when TEST_DATABASE_URL is set (CI sets it). */
export const dialects: TestDialect[] = [sqlite, ...(process.env.TEST_DATABASE_URL ? [postgres(process.env.TEST_DATABASE_URL)] : [])];

/*
 * Cloudflare D1 (workerd's, run by Miniflare), for the engine and flow suites: a flow must work where a
 * transaction cannot read its own writes. One Miniflare per test file, a fresh database per open();
 * files that use it call `afterAll(closeTestD1)`.
 */
const D1_DATABASES = Array.from({ length: 48 }, (_, i) => `FLOW${i}`);
let testD1: TestD1 | null = null;
let d1Used = 0;
/** Migrated databases of this file's earlier tests, emptied for the next (see the note on migrating above). */
const spareD1: D1Database[] = [];
let d1Migrations: number | null = null;

/** Empties a used D1 database in one batch, or forgets it when the test changed its migration history. */
async function recycleD1(database: D1Database): Promise<void> {
  const tables = (await database.prepare(`select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\' and name not like '\\_cf\\_%' escape '\\'`).all<{ name: string }>()).results.map((r) => r.name);
  const migrations = (await database.prepare('select count(*) as n from kysely_migration').first<{ n: number }>())?.n ?? -1;
  if (migrations !== d1Migrations) return;
  const data = tables.filter((t) => !t.startsWith('kysely_migration'));
  // One batch is one transaction: foreign keys are checked at its end, when every table is empty.
  await database.batch([database.prepare('pragma defer_foreign_keys = on'), ...data.map((t) => database.prepare(`delete from "${t}"`)), database.prepare('delete from sqlite_sequence')]);
  spareD1.push(database);
}

const d1: TestDialect = {
  name: 'd1',
  async open() {
    testD1 ??= startTestD1(D1_DATABASES);
    let database = spareD1.pop();
    if (!database) {
      const name = D1_DATABASES[d1Used++];
      if (!name) throw new Error('add names to D1_DATABASES: every test needs its own database');
      database = testD1.database(name);
      await migrateToLatest(createD1Store(database).db);
      d1Migrations ??= (await database.prepare('select count(*) as n from kysely_migration').first<{ n: number }>())?.n ?? null;
    }
    const opened = database;
    return { store: createD1Store(opened), drop: () => recycleD1(opened) };
  },
};

export async function closeTestD1(): Promise<void> {
  spareD1.length = 0;
  await testD1?.dispose();
  testD1 = null;
}

/** Every dialect a flow must work on: the store dialects and D1. */
export const flowDialects: TestDialect[] = [...dialects, d1];
