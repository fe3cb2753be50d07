import { Migrator, sql, type Kysely } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { migrationProvider, migrations } from '../../migrations';
import { openNodeStore } from '../../src/entry/node-store';
import { migrateToLatest, NewerDatabaseError, readMigrationState, type Store } from '../../src/store/store';
import { seeds } from './migrations-seeds';

/*
 * Upgrades from every earlier schema with data in it. For each migration N: a fresh database is migrated one
 * migration at a time up to N, each migration's seed rows written right after it ran (in the schema as it
 * stood then), then migrated to the latest, and every seed written so far is checked. A new migration needs
 * at most a seed entry in migrations-seeds.ts; without one it still runs here over the earlier rows.
 */

const names = Object.keys(migrations).sort();

interface Opened {
  store: Store;
  drop(): Promise<void>;
}

/** A database no migration has touched yet: SQLite in memory, and a fresh Postgres schema when TEST_DATABASE_URL is set. */
const dialects: { name: string; open(): Promise<Opened> }[] = [
  {
    name: 'sqlite',
    async open() {
      const store = await openNodeStore({ kind: 'sqlite', path: ':memory:' }, { migrate: false });
      return { store, drop: () => store.close() };
    },
  },
  ...(process.env.TEST_DATABASE_URL
    ? [
        {
          name: 'postgres',
          async open(): Promise<Opened> {
            const url = process.env.TEST_DATABASE_URL!;
            const schema = `t_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`;
            const admin = new pg.Client({ connectionString: url });
            await admin.connect();
            await admin.query(`create schema ${schema}`);
            await admin.end();
            const store = await openNodeStore({ kind: 'postgres', url, schema }, { migrate: false, poolSize: 2 });
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
        },
      ]
    : []),
];

/** Kysely's migrator on the store's own schema (as migrateToLatest sets it up), for stepping to one migration. */
async function migrator(db: Kysely<any>, dialect: string): Promise<Migrator> {
  const schema = dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]!.schema : undefined;
  return new Migrator({ db, provider: migrationProvider, ...(schema ? { migrationTableSchema: schema } : {}) });
}

async function migrateTo(db: Kysely<any>, dialect: string, name: string): Promise<void> {
  const { error } = await (await migrator(db, dialect)).migrateTo(name);
  if (error) throw error;
}

for (const dialect of dialects) {
  describe(`migrations on ${dialect.name}`, () => {
    const opened: Opened[] = [];
    afterEach(async () => {
      for (const o of opened.splice(0)) await o.drop();
    });
    async function fresh(): Promise<Kysely<any>> {
      const o = await dialect.open();
      opened.push(o);
      return o.store.db;
    }

    for (const [index, target] of names.entries()) {
      it(`keeps the rows of every schema up to ${target} through the upgrade to ${names.at(-1)}`, async () => {
        const db = await fresh();
        const seeded: string[] = [];
        for (const name of names.slice(0, index + 1)) {
          await migrateTo(db, dialect.name, name);
          const seed = seeds[name];
          if (seed) {
            await seed.insert(db);
            seeded.push(name);
          }
        }
        expect((await readMigrationState(db)).pending).toEqual(names.slice(index + 1));

        await migrateToLatest(db);

        expect(await readMigrationState(db)).toEqual({ applied: names, pending: [], unknown: [] });
        for (const name of seeded) await seeds[name]!.check(db);
      });
    }

    for (const name of names.filter((n) => !seeds[n])) it.todo(`${name}: add representative rows to tests/store/migrations-seeds.ts`);

    it('refuses a database a newer version has migrated, naming the migration it does not know, and changes nothing', async () => {
      const db = await fresh();
      await migrateToLatest(db);
      await db.insertInto('kysely_migration').values({ name: '9999_from_a_newer_version', timestamp: new Date().toISOString() }).execute();

      expect(await readMigrationState(db)).toEqual({ applied: [...names, '9999_from_a_newer_version'], pending: [], unknown: ['9999_from_a_newer_version'] });
      const refused = await migrateToLatest(db).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(NewerDatabaseError);
      expect((refused as Error).message).toContain('migrated by a newer version');
      expect((refused as Error).message).toContain('9999_from_a_newer_version');
      expect((refused as Error).message).toContain(`knows up to ${names.at(-1)}`);
      expect((await readMigrationState(db)).applied).toHaveLength(names.length + 1);
    });

    it('also refuses a newer database that is behind on a migration this version has', async () => {
      // A newer version that branched off without one of ours: still not ours to run on.
      const db = await fresh();
      await migrateTo(db, dialect.name, names.at(-2)!);
      await db.insertInto('kysely_migration').values({ name: `${names.at(-2)}_newer_side`, timestamp: new Date().toISOString() }).execute();
      const refused = await migrateToLatest(db).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(NewerDatabaseError);
      expect((await readMigrationState(db)).pending).toEqual([names.at(-1)]);
    });
  });
}
