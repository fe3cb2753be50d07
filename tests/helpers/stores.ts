import pg from 'pg';
import { openNodeStore } from '../../src/entry/node-store';
import type { Store } from '../../src/store/store';

export interface TestStore {
  store: Store;
  /** Closes the store and removes what the test created (a Postgres schema). */
  drop(): Promise<void>;
}

export interface TestDialect {
  name: 'sqlite' | 'postgres';
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
