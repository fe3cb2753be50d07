import type { D1Database } from '@cloudflare/workers-types';
import { Migrator, sql, type Kysely, type Migration } from 'kysely';
import { migrations } from '../../migrations';
import { startTestD1, type TestD1 } from '../helpers/d1';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { InboundEvent, Input } from '../../src/channels/types';
import { createWebSender } from '../../src/channels/web/sender';
import { createEngine, type Engine } from '../../src/conversation/engine';
import { DEFAULT_FLOW_SETTINGS, type Flow } from '../../src/conversation/flow';
import { handoffFlow } from '../../src/conversation/flows/handoff';
import { languageFlow } from '../../src/conversation/flows/language';
import { createTranslator } from '../../src/i18n';
import { manualClock } from '../../src/ops/clock';
import { silentLogger } from '../../src/ops/logger';
import { Metrics } from '../../src/ops/metrics';
import { createOutboxSender, type OutboxSender } from '../../src/outbox/sender';
import { ConversationConflict, loadConversation, saveConversation } from '../../src/store/conversations';
import { createD1Store } from '../../src/store/d1-driver';
import { isUniqueViolation } from '../../src/store/errors';
import { claimEvent } from '../../src/store/events';
import { migrateToLatest, type Store } from '../../src/store/store';
import { testConfig } from '../helpers/config';

/*
 * The store, engine and outbox on real D1 (workerd's implementation, run by Miniflare from Node): the
 * transactions there are buffered batches, so these check that the guards and rollbacks hold anyway.
 */

/*
 * One Miniflare for the file (starting one takes most of a second) with a separate D1 database for each
 * test, so every test starts from an empty database.
 */
const DATABASES = Array.from({ length: 16 }, (_, i) => `DB${i}`);
let mf: TestD1;
let used = 0;
beforeAll(() => {
  mf = startTestD1(DATABASES);
});
afterAll(async () => {
  await mf.dispose();
});

/** A fresh, empty D1 database. */
async function openD1(): Promise<D1Database> {
  const name = DATABASES[used++];
  if (!name) throw new Error('add names to DATABASES: every test needs its own database');
  return mf.database(name);
}

/** Names in Kysely's migration table, which the app's Database type rightly does not know. */
async function appliedMigrations(db: Kysely<any>): Promise<string[]> {
  const rows = await db.selectFrom('kysely_migration').select('name').orderBy('name').execute();
  return rows.map((r: { name: string }) => r.name);
}

async function tableNames(db: Kysely<any>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like '\\_cf\\_%' escape '\\' order by name`.execute(db);
  return rows.map((r) => r.name);
}

describe('D1 store: migrations', () => {
  let d1: D1Database;
  beforeEach(async () => {
    d1 = await openD1();
  });

  it('applies every migration once, including the conversation guard trigger', async () => {
    const store = createD1Store(d1);
    expect(await migrateToLatest(store.db)).toEqual(Object.keys(migrations).sort());
    expect(await migrateToLatest(store.db)).toEqual([]);
    expect(await tableNames(store.db)).toEqual(expect.arrayContaining(['customers', 'conversations', 'processed_events', 'outbox', 'messages', 'kysely_migration']));
    const { rows } = await sql<{ name: string }>`select name from sqlite_master where type = 'trigger'`.execute(store.db);
    expect(rows.map((r) => r.name)).toEqual(['conversations_version_guard']);
    // The introspector the Migrator uses lists the app's tables and skips D1's unreadable _cf_* tables.
    const tables = await store.db.introspection.getTables();
    expect(tables.map((t) => t.name)).not.toContain('_cf_METADATA');
    const outbox = tables.find((t) => t.name === 'outbox')!;
    expect(outbox.columns.find((c) => c.name === 'id')).toMatchObject({ isAutoIncrementing: true });
    expect(outbox.columns.find((c) => c.name === 'reply_token')).toMatchObject({ isNullable: true, isAutoIncrementing: false });
    expect(outbox.columns.find((c) => c.name === 'customer_id')).toMatchObject({ isNullable: false });
  });

  it('rolls back a whole migration run when one migration fails, leaving no half-made schema', async () => {
    const store = createD1Store(d1);
    const failing: Record<string, Migration> = {
      '0001_good': { up: async (db) => void (await db.schema.createTable('first').addColumn('id', 'text', (c) => c.primaryKey()).execute()) },
      '0002_bad': {
        up: async (db) => {
          await db.schema.createTable('second').addColumn('id', 'text', (c) => c.primaryKey()).execute();
          await sql`insert into no_such_table values (1)`.execute(db);
        },
      },
    };
    const migrator = new Migrator({ db: store.db, provider: { getMigrations: async () => failing } });
    const { error } = await migrator.migrateToLatest();
    expect(String((error as Error).message)).toContain('no such table: no_such_table');
    expect(await tableNames(store.db)).not.toEqual(expect.arrayContaining(['first']));
    expect(await tableNames(store.db)).not.toEqual(expect.arrayContaining(['second']));
    expect(await appliedMigrations(store.db)).toEqual([]);
  });

  it('lets two isolates migrate a fresh database at once without applying anything twice', async () => {
    const a = createD1Store(d1);
    const b = createD1Store(d1);
    const outcomes = await Promise.allSettled([migrateToLatest(a.db), migrateToLatest(b.db)]);
    expect(outcomes.some((o) => o.status === 'fulfilled')).toBe(true);
    // The loser's batch failed whole; a second look (what the Worker entry does) finds nothing pending.
    expect(await migrateToLatest(b.db)).toEqual([]);
    expect(await appliedMigrations(a.db)).toEqual(Object.keys(migrations).sort());
  });
});

describe('D1 store: transactions as batches', () => {
  let store: Store;
  beforeEach(async () => {
    store = createD1Store(await openD1());
    await migrateToLatest(store.db);
  });

  const setting = (key: string) => store.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();

  it('outside a transaction reports real affected rows and insert ids', async () => {
    const inserted = await store.db.insertInto('settings').values([{ key: 'a', value: '1' }, { key: 'b', value: '2' }]).executeTakeFirst();
    expect(inserted.numInsertedOrUpdatedRows).toBe(2n);
    const updated = await store.db.updateTable('settings').set({ value: '3' }).executeTakeFirst();
    expect(updated.numUpdatedRows).toBe(2n);
    const none = await store.db.updateTable('settings').set({ value: '4' }).where('key', '=', 'zzz').executeTakeFirst();
    expect(none.numUpdatedRows).toBe(0n);
    await store.db
      .insertInto('customers')
      .values({ id: 'c1', display_name: null, phone: null, locale: 'en', category: 'prospect', notes: null, consent_at: null, opted_out_at: null, erased_at: null, created_at: 't', updated_at: 't' })
      .execute();
    const message = { customer_id: 'c1', channel: 'web' as const, direction: 'in' as const, sender: 'customer' as const, kind: 'text', text: 'hi', payload: null, flow: null, step: null, event_id: null, outbox_id: null, staff_user_id: null, created_at: 't' };
    const first = await store.db.insertInto('messages').values(message).executeTakeFirst();
    const second = await store.db.insertInto('messages').values(message).executeTakeFirst();
    expect(second.insertId).toBe(first.insertId! + 1n);
  });

  it('commits a transaction’s writes together, and reads inside it see what was committed before', async () => {
    await store.db.insertInto('settings').values({ key: 'before', value: 'x' }).execute();
    const seen = await store.transaction(async (tx) => {
      const before = await tx.selectFrom('settings').select('value').where('key', '=', 'before').executeTakeFirst();
      await tx.insertInto('settings').values({ key: 'one', value: '1' }).execute();
      await tx.updateTable('settings').set({ value: 'y' }).where('key', '=', 'before').execute();
      // Writes wait for the commit, so they are not visible yet — not even to this transaction.
      expect(await setting('one')).toBeUndefined();
      expect((await tx.selectFrom('settings').select('value').where('key', '=', 'before').executeTakeFirst())?.value).toBe('x');
      return before?.value;
    });
    expect(seen).toBe('x');
    expect(await setting('one')).toEqual({ value: '1' });
    expect(await setting('before')).toEqual({ value: 'y' });
  });

  it('drops everything when the callback throws, and applies nothing when one write of the batch fails', async () => {
    await expect(
      store.transaction(async (tx) => {
        await tx.insertInto('settings').values({ key: 'dropped', value: '1' }).execute();
        throw new Error('bug in a step');
      }),
    ).rejects.toThrow('bug in a step');
    expect(await setting('dropped')).toBeUndefined();

    await claimEvent(store.db, 'web', 'evt-1', 't');
    const failure = await store
      .transaction(async (tx) => {
        await tx.insertInto('settings').values({ key: 'half', value: '1' }).execute();
        await claimEvent(tx, 'web', 'evt-1', 't');
      })
      .catch((err: unknown) => err);
    // D1's own wording reaches the caller, so the engine recognises a redelivery claimed by another writer.
    expect(isUniqueViolation(failure, 'processed_events')).toBe(true);
    expect(String((failure as Error).message)).toContain('processed_events.event_id');
    expect(await setting('half')).toBeUndefined();
  });

  it('refuses a write that would RETURN rows inside a transaction instead of returning none', async () => {
    await expect(
      store.transaction(async (tx) => {
        await tx.insertInto('settings').values({ key: 'r', value: '1' }).returning('key').execute();
      }),
    ).rejects.toThrow(/cannot RETURN rows/);
    expect(await setting('r')).toBeUndefined();
  });

  it('lets one of two saves from the same stale version win; the other gets ConversationConflict', async () => {
    await store.db
      .insertInto('customers')
      .values({ id: 'c1', display_name: null, phone: null, locale: 'en', category: 'prospect', notes: null, consent_at: null, opted_out_at: null, erased_at: null, created_at: 't', updated_at: 't' })
      .execute();
    const position = (step: string) => ({ flow: 'language', step, state: { step }, stateVersion: 1 });

    // Two first saves: the customer_id is unique, so only one conversation can be created.
    const firsts = await Promise.allSettled(['a', 'b'].map((step) => store.transaction((tx) => saveConversation(tx, 'c1', null, position(step), 't1'))));
    expect(firsts.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(firsts.find((o) => o.status === 'rejected')).toMatchObject({ reason: expect.any(ConversationConflict) });

    const stale = (await loadConversation(store.db, 'c1'))!;
    expect(stale.version).toBe(1);
    const saves = await Promise.allSettled(
      ['x', 'y'].map((step) =>
        store.transaction(async (tx) => {
          await tx.insertInto('settings').values({ key: `written-with-${step}`, value: step }).execute();
          await saveConversation(tx, 'c1', stale, position(step), 't2');
        }),
      ),
    );
    expect(saves.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const lost = saves.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(ConversationConflict);
    const saved = (await loadConversation(store.db, 'c1'))!;
    expect(saved.version).toBe(2);
    // The loser's other writes went with it: only the winner's step and setting remain.
    const written = await store.db.selectFrom('settings').select('value').where('key', 'like', 'written-with-%').execute();
    expect(written).toEqual([{ value: saved.step }]);
  });
});

/** A flow that writes and then fails, standing in for a bug in a business flow. */
const brokenFlow: Flow = {
  name: 'broken',
  stateVersion: 1,
  intent: 'complaint',
  menuOrder: 50,
  settings: DEFAULT_FLOW_SETTINGS,
  async start(ctx) {
    await ctx.tx.updateTable('customers').set({ notes: 'half-done' }).where('id', '=', ctx.customer.id).execute();
    throw new Error('bug in a flow');
  },
  async step() {
    throw new Error('unreachable');
  },
};

describe('D1 store: the conversation engine and the outbox', () => {
  let store: Store;
  let metrics: Metrics;
  let outbox: OutboxSender;
  const clock = manualClock('2026-11-20T02:00:00.000Z');
  const translator = createTranslator('en');
  const config = testConfig();
  let seq = 0;

  /** An engine as one Worker isolate has it; two of them over one database behave like two isolates. */
  const newEngine = (): Engine => createEngine({ store, flows: [handoffFlow, languageFlow, brokenFlow], translator, clock, logger: silentLogger, metrics, config });

  beforeEach(async () => {
    store = createD1Store(await openD1());
    await migrateToLatest(store.db);
    metrics = new Metrics();
    outbox = createOutboxSender({
      store,
      senders: { web: createWebSender() },
      translator,
      clock,
      logger: silentLogger,
      metrics,
      defaultLocale: config.dealer.defaultLocale,
      maxAttempts: 3,
      rateLimits: config.outbox.rateLimits,
    });
  });

  function event(visitor: string, input: Input, id = `evt-${++seq}`): InboundEvent {
    return { channel: 'web', eventId: id, externalId: visitor, occurredAt: clock.now().toISOString(), replyToken: null, profile: { displayName: null, languageHint: 'en' }, input };
  }

  /** Sends what is due, then returns what the visitor has received, oldest first. */
  async function received(visitor: string): Promise<string[]> {
    await outbox.drain();
    const rows = await store.db
      .selectFrom('messages')
      .innerJoin('channel_identities', 'channel_identities.customer_id', 'messages.customer_id')
      .select('messages.text')
      .where('channel_identities.external_id', '=', visitor)
      .where('messages.direction', '=', 'out')
      .orderBy('messages.id')
      .execute();
    return rows.map((r) => r.text ?? '');
  }

  it('greets a new web chat visitor and delivers the reply into the transcript through the outbox', async () => {
    const engine = newEngine();
    expect(await engine.handle(event('v1', { type: 'start', payload: null }))).toBe('processed');
    expect(await store.db.selectFrom('outbox').select('status').execute()).toEqual([{ status: 'pending' }]);
    const [greeting] = await received('v1');
    expect(greeting).toContain('Test Motors');
    expect(await store.db.selectFrom('outbox').select(['status', 'attempts']).execute()).toEqual([{ status: 'sent', attempts: 1 }]);
    await engine.handle(event('v1', { type: 'text', text: 'language' }));
    expect((await received('v1')).at(-1)).toContain('language');
    const conversation = await store.db.selectFrom('conversations').select(['flow', 'version']).executeTakeFirstOrThrow();
    expect(conversation).toEqual({ flow: 'lang', version: 2 });
  });

  it('handles a redelivered event once, also when two isolates get it at the same moment', async () => {
    const engine = newEngine();
    const first = event('v2', { type: 'text', text: 'hello' }, 'same-id');
    expect(await engine.handle(first)).toBe('processed');
    expect(await engine.handle({ ...first })).toBe('duplicate');
    expect(await store.db.selectFrom('outbox').select('id').execute()).toHaveLength(1);

    const racing = event('v2', { type: 'text', text: 'menu' }, 'racing-id');
    const results = await Promise.all([newEngine().handle(racing), newEngine().handle({ ...racing })]);
    expect(results.sort()).toEqual(['duplicate', 'processed']);
    expect(await store.db.selectFrom('outbox').select('id').execute()).toHaveLength(2);
    expect(await store.db.selectFrom('messages').select('id').where('direction', '=', 'in').execute()).toHaveLength(2);
  });

  it('rolls back a step that throws and answers with the apology and the menu', async () => {
    const engine = newEngine();
    await engine.handle(event('v3', { type: 'text', text: 'complaint' }, 'boom'));
    const [apology] = await received('v3');
    expect(apology).toContain('something went wrong');
    const customer = await store.db.selectFrom('customers').select('notes').executeTakeFirstOrThrow();
    expect(customer.notes).toBeNull();
    expect(await engine.handle(event('v3', { type: 'text', text: 'complaint' }, 'boom'))).toBe('duplicate');
    expect(metrics.eventsProcessed.get({ channel: 'web', result: 'recovered' })).toBe(1);
  });

  it('retries the event that lost a conversation race between two isolates instead of apologising', async () => {
    await newEngine().handle(event('v4', { type: 'start', payload: null }));
    // Count the races lost (the same queued event, or the same conversation), so the test knows the two isolates really collided.
    let conflicts = 0;
    const shared = store;
    store = {
      ...shared,
      transaction: (fn) =>
        shared.transaction(fn).catch((err: unknown) => {
          if (err instanceof ConversationConflict || isUniqueViolation(err, 'processed_events')) conflicts += 1;
          throw err;
        }),
    };
    const [a, b] = [newEngine(), newEngine()];
    for (let round = 0; round < 5; round++) {
      expect(await Promise.all([a.handle(event('v4', { type: 'text', text: `a${round}` })), b.handle(event('v4', { type: 'text', text: `b${round}` }))])).toEqual(['processed', 'processed']);
    }
    const conversation = await store.db.selectFrom('conversations').select('version').executeTakeFirstOrThrow();
    expect(conversation.version).toBe(11);
    expect(await store.db.selectFrom('messages').select('id').where('direction', '=', 'in').execute()).toHaveLength(11);
    expect(metrics.eventsProcessed.get({ channel: 'web', result: 'recovered' }) ?? 0).toBe(0);
    expect(conflicts).toBeGreaterThan(0);
    expect((await received('v4')).filter((text) => text.includes('something went wrong'))).toEqual([]);
  });
});
