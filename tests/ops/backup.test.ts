import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openNodeStore } from '../../src/entry/node-store';
import { ensureBuilt, freePort, healthy, runCommand, startService, waitFor, type Running } from '../entry/compiled';

/*
 * npm run backup / npm run restore, compiled, against the service running as `npm start` runs it: a backup
 * taken while customers write is one consistent copy with every write acknowledged before it began; a
 * restore is refused while the service runs and brings exactly that copy back once it is stopped.
 */

describe('backup and restore of the SQLite database', () => {
  const dirs: string[] = [];
  const running: Running[] = [];
  beforeAll(() => ensureBuilt(), 120_000);
  afterEach(() => {
    for (const r of running.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'dealer-backup-'));
    dirs.push(dir);
    return dir;
  }
  function start(env: Record<string, string>): Running {
    const r = startService(env);
    running.push(r);
    return r;
  }

  function webEventIds(file: string): Set<string> {
    const sqlite = new SQLite(file, { readonly: true });
    try {
      // A web chat event id is `<visitor>:<the page's id>`.
      return new Set((sqlite.prepare("select event_id from inbound_events where channel = 'web'").all() as { event_id: string }[]).map((r) => r.event_id.slice(r.event_id.indexOf(':') + 1)));
    } finally {
      sqlite.close();
    }
  }

  it('takes a consistent copy while customers write, refuses to restore under the running service, and restores every acknowledged row', async () => {
    const dir = tempDir();
    const file = join(dir, 'dealer-chat.sqlite');
    // Eight visitors on one address write as fast as they can: far above the web chat's limits for people.
    const env = { DATABASE_URL: `file:${file}`, WEB_CHAT_SECRET: 'backup-test-web-chat-secret-0123456789', WEB_CHAT_MESSAGES_PER_VISITOR: '1000000', WEB_CHAT_MESSAGES_PER_ADDRESS: '1000000' };

    // A database with some history, so the copy takes long enough for writes to land while it runs.
    const store = await openNodeStore({ kind: 'sqlite', path: file });
    await store.db.insertInto('customers').values({ id: 'history', display_name: 'History', phone: null, locale: 'en', category: 'prospect', notes: null, consent_at: null, opted_out_at: null, erased_at: null, merged_into_id: null, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' }).execute();
    for (let batch = 0; batch < 20; batch++) {
      await store.db
        .insertInto('messages')
        .values(Array.from({ length: 500 }, (_, i) => ({ customer_id: 'history', channel: 'web' as const, direction: 'in' as const, sender: 'customer' as const, kind: 'text', text: `${batch}-${i} ${'x'.repeat(2000)}`, payload: null, flow: null, step: null, event_id: null, outbox_id: null, staff_user_id: null, created_at: '2026-01-01T00:00:00.000Z' })))
        .execute();
    }
    await store.close();

    const port = await freePort();
    const service = start({ ...env, PORT: String(port) });
    await waitFor(() => healthy(port));

    // Eight web chat visitors write as fast as the service answers; an answer of 200 means the event is kept.
    const sent = new Set<string>();
    const acknowledged: { id: string; at: number }[] = [];
    let writing = true;
    const visitors = Array.from({ length: 8 }, async (_, v) => {
      const page = await fetch(`http://127.0.0.1:${port}/chat`);
      const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
      for (let n = 0; writing; n++) {
        const id = `visitor${v}-${n}`;
        sent.add(id);
        const res = await fetch(`http://127.0.0.1:${port}/chat/api/messages`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ id, text: `message ${n}` }) });
        if (res.status === 200) acknowledged.push({ id, at: Date.now() });
        else throw new Error(`visitor ${v}: ${res.status} ${await res.text()}`);
      }
    });
    await waitFor(async () => acknowledged.length >= 200);

    const backupFile = join(dir, 'copies', 'nightly.sqlite');
    const backupStarted = Date.now();
    const acknowledgedBefore = acknowledged.map((a) => a.id);
    const backup = await runCommand('backup', [backupFile], env);
    const backupEnded = Date.now();
    writing = false;
    await Promise.all(visitors);
    expect(backup.output).toContain(`Backed up ${file} to ${backupFile}`);
    expect(backup.code).toBe(0);
    // The copy ran under load: customers' writes were acknowledged while it was being taken.
    expect(acknowledged.filter((a) => a.at > backupStarted && a.at < backupEnded).length).toBeGreaterThan(0);

    const copy = new SQLite(backupFile, { readonly: true });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    expect((copy.prepare("select count(*) as n from messages where customer_id = 'history'").get() as { n: number }).n).toBe(10_000);
    copy.close();
    const inCopy = webEventIds(backupFile);
    for (const id of acknowledgedBefore) expect(inCopy.has(id), `${id}, acknowledged before the backup began`).toBe(true);
    for (const id of inCopy) expect(sent.has(id)).toBe(true);
    expect(webEventIds(file).size).toBeGreaterThan(inCopy.size);
    expect(readdirSync(join(dir, 'copies'))).toEqual(['nightly.sqlite']);

    // While the service runs, a restore is refused and nothing changes.
    const refused = await runCommand('restore', [backupFile], env);
    expect(refused.code).toBe(75);
    expect(refused.output).toContain(`Not restoring: ${file} is in use`);
    expect(refused.output).toContain('Stop the service first');
    expect(await healthy(port)).toBe(true);

    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    const liveBefore = webEventIds(file);

    const restored = await runCommand('restore', [backupFile], env);
    expect(restored.output).toContain(`Restored ${file} from ${backupFile}`);
    expect(restored.code).toBe(0);
    const kept = readdirSync(join(dir, 'backups'));
    expect(kept).toEqual([expect.stringMatching(/^dealer-chat-before-restore-.*\.sqlite$/)]);
    expect(webEventIds(join(dir, 'backups', kept[0]!))).toEqual(liveBefore);

    const again = start({ ...env, PORT: String(port) });
    await waitFor(() => healthy(port));
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    expect(webEventIds(file)).toEqual(inCopy);
  }, 90_000);

  it('restores onto a machine with no database yet', async () => {
    const dir = tempDir();
    const source = join(dir, 'old.sqlite');
    (await openNodeStore({ kind: 'sqlite', path: source })).close();
    const backupFile = join(dir, 'copy.sqlite');
    expect((await runCommand('backup', [backupFile], { DATABASE_URL: `file:${source}` })).code).toBe(0);

    const target = join(dir, 'new', 'dealer-chat.sqlite');
    const restored = await runCommand('restore', [backupFile], { DATABASE_URL: `file:${target}` });
    expect(restored.code).toBe(0);
    expect(restored.output).not.toContain('kept as');
    expect(existsSync(target)).toBe(true);
  });

  it('says what is wrong instead of copying: an existing file, a Postgres database, a file that is not a backup, a backup from a newer version', async () => {
    const dir = tempDir();
    const file = join(dir, 'dealer-chat.sqlite');
    const env = { DATABASE_URL: `file:${file}` };
    (await openNodeStore({ kind: 'sqlite', path: file })).close();

    const existing = join(dir, 'taken.sqlite');
    writeFileSync(existing, 'keep me');
    const overwrite = await runCommand('backup', [existing], env);
    expect(overwrite.code).toBe(2);
    expect(overwrite.output).toContain('exists; choose another name or add --force');

    const postgres = await runCommand('backup', [join(dir, 'pg.dump')], { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' });
    expect(postgres.code).toBe(2);
    expect(postgres.output).toContain('pg_dump --format=custom');
    const pgRestore = await runCommand('restore', [existing], { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' });
    expect(pgRestore.output).toContain('pg_restore');

    const notADatabase = await runCommand('restore', [existing], env);
    expect(notADatabase.code).toBe(1);
    expect(notADatabase.output).toMatch(/is not a usable SQLite database|cannot be opened/);

    const otherApp = join(dir, 'other.sqlite');
    new SQLite(otherApp).exec('create table notes (text)');
    expect((await runCommand('restore', [otherApp], env)).output).toContain('not one of this service');

    const newer = join(dir, 'newer.sqlite');
    expect((await runCommand('backup', [newer], env)).code).toBe(0);
    const edit = new SQLite(newer);
    edit.prepare('insert into kysely_migration (name, timestamp) values (?, ?)').run('9999_from_a_newer_version', new Date().toISOString());
    edit.close();
    const refused = await runCommand('restore', [newer], env);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('was made by a newer version of the service (it has 9999_from_a_newer_version');
    expect(existsSync(join(dir, 'backups'))).toBe(false);
  });
});
