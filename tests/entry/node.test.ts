import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { migrationProvider, migrations } from '../../migrations';
import { startFakeLineApi } from '../fakes/line-api';
import { TEST_LINE_SECRET, TEST_LINE_TOKEN } from '../helpers/config';
import { seeds } from '../store/migrations-seeds';
import { ensureBuilt, freePort, healthy, ROOT, run, startScript, startService, waitFor, type Running } from './compiled';

/*
 * The Node entry as `npm start` runs it: compiled into dist/, started with the command the start script
 * execs, as a real process with a SQLite file, real HTTP, JSON logs, refusals that name what is wrong, and a
 * clean stop on SIGTERM.
 */

const names = Object.keys(migrations).sort();

describe('the Node entry (npm start)', () => {
  const dirs: string[] = [];
  const running: Running[] = [];
  beforeAll(() => ensureBuilt(), 120_000);
  afterEach(() => {
    for (const r of running.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'dealer-node-'));
    dirs.push(dir);
    return dir;
  }
  function start(env: Record<string, string>): Running {
    const r = startService(env);
    running.push(r);
    return r;
  }

  it('runs the compiled service, not the TypeScript', () => {
    expect(startScript().command.slice(1)).toEqual(['--enable-source-maps', '--optimize-for-size', 'dist/entry/node.js']);
    expect(startScript().env).toEqual({ MALLOC_ARENA_MAX: '2' });
    expect(existsSync(join(ROOT, 'dist/entry/node.js.map'))).toBe(true);
  });

  it('serves /healthz and the web chat from a fresh SQLite file, and stops cleanly on SIGTERM', async () => {
    const dir = tempDir();
    const port = await freePort();
    const service = start({ PORT: String(port), DATABASE_URL: `file:${join(dir, 'chat.sqlite')}` });
    await waitFor(() => healthy(port));
    expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).toEqual({ status: 'ok', database: 'ok' });

    const page = await fetch(`http://127.0.0.1:${port}/chat`, { headers: { 'accept-language': 'en' } });
    expect(page.status).toBe(200);
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    const post = await fetch(`http://127.0.0.1:${port}/chat/api/start`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', 'accept-language': 'en' }, body: JSON.stringify({ id: 'node-entry-start' }) });
    expect(post.status).toBe(200);
    // The background loops send the greeting without anyone asking.
    await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/chat/api/messages?after=0`, { headers: { cookie } });
      return ((await res.json()) as { messages: unknown[] }).messages.length > 0;
    });

    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    const logs = service.output();
    expect(logs).toContain('"msg":"fresh database: demo branch created"');
    expect(logs).toContain('shutting down');
    expect(logs).toContain('stay queued for the next start');
  });

  it('answers a LINE webhook in the customer\'s language through the bundled SDK and locales', async () => {
    const fakeLine = await startFakeLineApi();
    try {
      const port = await freePort();
      start({
        PORT: String(port),
        DATABASE_URL: `file:${join(tempDir(), 'chat.sqlite')}`,
        LINE_CHANNEL_SECRET: TEST_LINE_SECRET,
        LINE_CHANNEL_ACCESS_TOKEN: TEST_LINE_TOKEN,
        LINE_API_BASE_URL: fakeLine.url,
        LINE_DATA_API_BASE_URL: fakeLine.url,
      });
      await waitFor(() => healthy(port));
      fakeLine.setProfile('Ucompiled1', { displayName: '山田', language: 'ja' });
      const body = JSON.stringify({
        destination: 'Ubot',
        events: [
          {
            type: 'follow',
            mode: 'active',
            timestamp: Date.now(),
            source: { type: 'user', userId: 'Ucompiled1' },
            webhookEventId: '01JCOMPILEDFOLLOW000000000',
            deliveryContext: { isRedelivery: false },
            replyToken: fakeLine.issueReplyToken({ userId: 'Ucompiled1' }),
            follow: { isUnblocked: false },
          },
        ],
      });
      const res = await fetch(`http://127.0.0.1:${port}/webhooks/line`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-line-signature': createHmac('sha256', TEST_LINE_SECRET).update(body).digest('base64') },
        body,
      });
      expect(res.status).toBe(200);
      await waitFor(async () => fakeLine.accepted.messagesTo('Ucompiled1').length > 0);
      const texts = fakeLine.accepted.messagesTo('Ucompiled1').map((m) => String(m.text ?? m.altText ?? ''));
      // Kana appear only in the Japanese texts.
      expect(texts.join('\n')).toMatch(/[\u3040-\u30ff]/);
    } finally {
      await fakeLine.close();
    }
  });

  it('refuses to start with a wrong setting and says which and what is expected', async () => {
    const service = start({ PORT: 'eighty', DEALER_TIMEZONE: 'Mars/Olympus' });
    expect(await service.exited).toBe(78);
    expect(service.output()).toContain('PORT: expected a whole number');
    expect(service.output()).toContain('DEALER_TIMEZONE: expected an IANA time zone');
  });

  it('refuses a second service on the same SQLite file while the first runs', async () => {
    const file = join(tempDir(), 'chat.sqlite');
    const port = await freePort();
    start({ PORT: String(port), DATABASE_URL: `file:${file}` });
    await waitFor(() => healthy(port));

    const second = start({ PORT: String(await freePort()), DATABASE_URL: `file:${file}` });
    expect(await second.exited).toBe(75);
    expect(second.output()).toContain(`Not starting: ${file} is in use`);
    expect(second.output()).not.toContain('    at ');
    expect(await healthy(port)).toBe(true);
  });

  it('refuses a database a newer version migrated, saying so, and leaves it as it was', async () => {
    const file = join(tempDir(), 'chat.sqlite');
    const port = await freePort();
    const first = start({ PORT: String(port), DATABASE_URL: `file:${file}` });
    await waitFor(() => healthy(port));
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const sqlite = new SQLite(file);
    sqlite.prepare('insert into kysely_migration (name, timestamp) values (?, ?)').run('9999_from_a_newer_version', new Date().toISOString());
    sqlite.close();

    const older = start({ PORT: String(await freePort()), DATABASE_URL: `file:${file}` });
    expect(await older.exited).toBe(65);
    expect(older.output()).toContain('Not starting: This database was migrated by a newer version of the service');
    expect(older.output()).toContain('9999_from_a_newer_version');
    expect(older.output()).toContain(`knows up to ${names.at(-1)}`);
    expect(older.output()).not.toContain('    at ');
    const after = new SQLite(file, { readonly: true });
    expect((after.prepare('select count(*) as n from kysely_migration').get() as { n: number }).n).toBe(names.length + 1);
    after.close();
  });

  it('keeps a copy of a database with data before migrating it, and says where', async () => {
    const dir = tempDir();
    const file = join(dir, 'chat.sqlite');
    // A database left by the previous version: every migration but the newest, with customers in it.
    const previous = names.at(-2)!;
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new SQLite(file) }) });
    for (const name of names.slice(0, -1)) {
      const { error } = await new Migrator({ db, provider: migrationProvider }).migrateTo(name);
      if (error) throw error;
      await seeds[name]?.insert(db);
    }
    await db.destroy();

    const port = await freePort();
    const service = start({ PORT: String(port), DATABASE_URL: `file:${file}` });
    await waitFor(() => healthy(port));
    const copy = join(dir, 'backups', `chat-before-${names.at(-1)}.sqlite`);
    expect(service.output()).toContain('"msg":"database copied before migrating"');
    expect(service.output()).toContain(copy);

    const kept = new SQLite(copy, { readonly: true });
    const keptMigrations = (kept.prepare('select name from kysely_migration order by name').all() as { name: string }[]).map((r) => r.name);
    expect(keptMigrations.at(-1)).toBe(previous);
    expect(kept.prepare("select display_name from customers where id = 'seed-c1'").get()).toEqual({ display_name: '王小明' });
    kept.close();
    expect(readdirSync(join(dir, 'backups'))).toEqual([`chat-before-${names.at(-1)}.sqlite`]);
  });

  it('npm start on a fresh clone builds dist/ first, and SIGTERM to npm reaches the service', async () => {
    // The project as a clone has it: sources, no dist/ (node_modules linked, as `npm install` would have made it).
    const clone = tempDir();
    for (const entry of ['package.json', 'tsconfig.json', 'src', 'migrations', 'locales', 'scripts', 'assets']) cpSync(join(ROOT, entry), join(clone, entry), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
    mkdirSync(join(clone, 'data'));
    const port = await freePort();
    const npm = run(['npm', 'start', '--silent'], { PORT: String(port), DATABASE_URL: undefined }, { cwd: clone });
    running.push(npm);
    await waitFor(() => healthy(port), 60_000);
    expect(npm.output()).toContain('built dist/ (dist/ has not been built)');
    expect(existsSync(join(clone, 'data', 'dealer-chat.sqlite'))).toBe(true);

    // npm's child is the service itself: the start script execs node, so no shell sits between them.
    const children = execFileSync('ps', ['-o', 'args=', '--ppid', String(npm.child.pid)], { encoding: 'utf8' }).trim().split('\n');
    expect(children).toEqual([`node ${startScript().command.slice(1).join(' ')}`]);
    const servicePid = execFileSync('ps', ['-o', 'pid=', '--ppid', String(npm.child.pid)], { encoding: 'utf8' }).trim();
    expect(readFileSync(`/proc/${servicePid}/environ`, 'utf8').split('\0')).toContain('MALLOC_ARENA_MAX=2');

    npm.child.kill('SIGTERM');
    expect(await npm.exited).toBe(0);
    expect(npm.output()).toContain('"msg":"stopped; waiting events and unsent messages stay queued for the next start"');
    expect(JSON.parse(readFileSync(join(clone, 'dist', 'build-info.json'), 'utf8')).entries['entry/node']).toBe('src/entry/node.ts');
  }, 90_000);
});
