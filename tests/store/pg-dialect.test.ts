import type pg from 'pg';
import { withClient } from '../helpers/stores';
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { migrations } from '../../migrations';
import { openNodeStore } from '../../src/entry/node-store';

const url = process.env.TEST_DATABASE_URL;

const admin = <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => withClient(url!, fn);

const schemaName = (prefix: string) => `${prefix}_${crypto.randomUUID().replace(/-/g, '').slice(0, 12)}`;

describe.skipIf(!url)('Postgres store beside other schemas of the same database', () => {
  it("sees only its own schema's tables", async () => {
    const own = schemaName('own');
    const other = schemaName('other');
    await admin(async (c) => {
      await c.query(`create schema ${own}`);
      await c.query(`create schema ${other}`);
      await c.query(`create table ${other}.customers (id serial primary key, stranger text)`);
    });
    const store = await openNodeStore({ kind: 'postgres', url: url!, schema: own });
    try {
      const tables = await store.db.introspection.getTables();
      expect(tables.every((t) => t.schema === own)).toBe(true);
      const customers = tables.find((t) => t.name === 'customers');
      expect(customers?.columns.map((c) => c.name)).toContain('locale');
      expect(customers?.columns.map((c) => c.name)).not.toContain('stranger');
      const inbox = tables.find((t) => t.name === 'inbound_events');
      expect(inbox?.columns.find((c) => c.name === 'id')).toMatchObject({ isAutoIncrementing: true, hasDefaultValue: true, isNullable: false });
      expect(tables.some((t) => t.name.startsWith('kysely_'))).toBe(false);
      expect((await store.db.introspection.getTables({ withInternalKyselyTables: true })).some((t) => t.name === 'kysely_migration')).toBe(true);
    } finally {
      await store.close();
      await admin(async (c) => {
        await c.query(`drop schema ${own} cascade`);
        await c.query(`drop schema ${other} cascade`);
      });
    }
  });

  it('starts (and migrates) while another schema is being created and dropped', async () => {
    let churning = true;
    let dropped = 0;
    const churn = admin(async (c) => {
      while (churning) {
        const s = schemaName('churn');
        await c.query(`create schema ${s}`);
        for (let t = 0; t < 20; t++) await c.query(`create table ${s}.t${t} (id serial primary key, a text, b text, c text)`);
        await c.query(`drop schema ${s} cascade`);
        dropped += 1;
      }
    });
    const schemas: string[] = [];
    try {
      const droppedBefore = dropped;
      for (let i = 0; i < 6; i++) {
        const s = schemaName('start');
        schemas.push(s);
        await admin((c) => c.query(`create schema ${s}`));
        const store = await openNodeStore({ kind: 'postgres', url: url!, schema: s });
        try {
          // Every migration is recorded as applied in the store's own schema, and its tables are there to use.
          const applied = await sql<{ name: string }>`select name from ${sql.table(`${s}.kysely_migration`)} order by name`.execute(store.db);
          expect(applied.rows.map((r) => r.name)).toEqual(Object.keys(migrations).sort());
          const tables = await admin((c) => c.query<{ table_name: string }>('select table_name from information_schema.tables where table_schema = $1', [s]));
          expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['customers', 'appointments', 'outbox', 'kysely_migration']));
          expect(await store.db.selectFrom('customers').select('id').execute()).toEqual([]);
        } finally {
          await store.close();
        }
      }
      // The starts really overlapped schemas being dropped, the case that used to fail.
      expect(dropped - droppedBefore).toBeGreaterThan(0);
    } finally {
      churning = false;
      await churn;
      await admin(async (c) => {
        for (const s of schemas) await c.query(`drop schema if exists ${s} cascade`);
      });
    }
  });
});
