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

const sqlite: TestDialect = {
  name: 'sqlite',
  async open() {
    const store = await openNodeStore({ kind: 'sqlite', path: ':memory:' });
    return { store, drop: () => store.close() };
  },
};

function postgres(url: string): TestDialect {
  return {
    name: 'postgres',
    async open() {
      // Each suite gets its own schema, so suites run in parallel and leave nothing behind.
      const schema = `t_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`create schema ${schema}`);
      await admin.end();
      const store = await openNodeStore({ kind: 'postgres', url, schema }, { poolSize: 20 });
      return {
        store,
        async drop() {
          await store.close();
          const cleanup = new pg.Client({ connectionString: url });
          await cleanup.connect();
          await cleanup.query(`drop schema ${schema} cascade`);
          await cleanup.end();
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

const d1: TestDialect = {
  name: 'd1',
  async open() {
    testD1 ??= startTestD1(D1_DATABASES);
    const name = D1_DATABASES[d1Used++];
    if (!name) throw new Error('add names to D1_DATABASES: every test needs its own database');
    const store = createD1Store(testD1.database(name));
    await migrateToLatest(store.db);
    return { store, drop: async () => undefined };
  },
};

export async function closeTestD1(): Promise<void> {
  await testD1?.dispose();
  testD1 = null;
}

/** Every dialect a flow must work on: the store dialects and D1. */
export const flowDialects: TestDialect[] = [...dialects, d1];
