import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLineApi } from '../fakes/line-api';
import { startFakeTelegramApi } from '../fakes/telegram-api';
import { TEST_LINE_SECRET, TEST_LINE_TOKEN, TEST_TELEGRAM_SECRET, TEST_TELEGRAM_TOKEN } from '../helpers/config';
import { startTestD1 } from '../helpers/d1';
import { createD1Store } from '../../src/store/d1-driver';
import { migrateToLatest } from '../../src/store/store';
import { verifyPassword } from '../../src/staff/auth/password';
import { ensureBuilt, freePort, healthy, runCommand, startService, waitFor, type Running } from '../entry/compiled';

/*
 * The operator commands from their compiled form (dist/scripts/), as `npm run <command>` runs them, against
 * a running service's SQLite file and the fake LINE and Telegram APIs.
 */

describe('operator commands, compiled', () => {
  const dirs: string[] = [];
  const running: Running[] = [];
  beforeAll(() => ensureBuilt(), 120_000);
  afterEach(() => {
    for (const r of running.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'dealer-commands-'));
    dirs.push(dir);
    return dir;
  }

  it('staff:create and token:create write to the database while the service runs on it', async () => {
    const file = join(tempDir(), 'dealer-chat.sqlite');
    const env = { DATABASE_URL: `file:${file}` };
    const port = await freePort();
    const service = startService({ ...env, PORT: String(port) });
    running.push(service);
    await waitFor(() => healthy(port));

    const staff = await runCommand('staff-create', ['--email', 'owner@dealer.example', '--role', 'admin', '--name', 'Owner', '--password-stdin'], env, 'a-long-enough-password\n');
    expect(staff.output).toContain('Created admin owner@dealer.example');
    expect(staff.code).toBe(0);
    const token = await runCommand('token-create', ['--name', 'DMS'], env);
    expect(token.code).toBe(0);
    expect(token.output).toMatch(/\ndct_\S+/);

    const sqlite = new SQLite(file, { readonly: true });
    expect(sqlite.prepare("select role from staff_users where email = 'owner@dealer.example'").get()).toEqual({ role: 'admin' });
    expect(sqlite.prepare("select role from api_tokens where name = 'DMS'").get()).toEqual({ role: 'manager' });
    sqlite.close();
    expect(await healthy(port)).toBe(true);
  });

  it("staff:create --sql writes the first admin for D1, where no command can reach: the rows sign in on the Worker's database", async () => {
    const file = join(tempDir(), 'admin.sql');
    const result = await runCommand('staff-create', ['--email', 'owner@dealer.example', '--role', 'admin', '--name', "O'Brien", '--password-stdin', '--sql', file], { DATABASE_URL: `file:${join(tempDir(), 'unused.sqlite')}` }, 'a-long-enough-password\n');
    expect(result.code).toBe(0);
    expect(result.output).toContain(`npx wrangler d1 execute dealer-chat --remote --file ${file}`);
    // A D1 database as the Worker leaves it after its first request (migrated), then the file as wrangler runs it.
    const d1 = startTestD1(['ADMIN']);
    try {
      const database = d1.database('ADMIN');
      await migrateToLatest(createD1Store(database).db);
      for (const statement of readFileSync(file, 'utf8').split('\n').filter(Boolean)) await database.prepare(statement).run();
      const user = await database.prepare("select role, name, password_hash from staff_users where email = 'owner@dealer.example'").first<{ role: string; name: string; password_hash: string }>();
      expect(user).toMatchObject({ role: 'admin', name: "O'Brien" });
      expect(await verifyPassword('a-long-enough-password', user!.password_hash)).toBe(true);
      expect(await verifyPassword('another-password-here', user!.password_hash)).toBe(false);
      expect(await database.prepare("select count(*) as n from audit_log where action = 'staff.create'").first<{ n: number }>()).toEqual({ n: 1 });
    } finally {
      await d1.dispose();
    }
    // A branch-scoped account cannot be written this way: the branches are in the Worker's database.
    const scoped = await runCommand('staff-create', ['--email', 'advisor@dealer.example', '--role', 'advisor', '--branch', 'Taipei', '--password-stdin', '--sql', join(tempDir(), 'x.sql')], { DATABASE_URL: `file:${join(tempDir(), 'unused.sqlite')}` }, 'a-long-enough-password\n');
    expect(scoped.code).toBe(1);
    expect(scoped.output).toContain('--sql writes an account for all branches');
  });

  it('line:setup finds the rich menu picture from the compiled command and makes the menu the default', async () => {
    const fakeLine = await startFakeLineApi();
    try {
      const result = await runCommand('line-setup', [], {
        DATABASE_URL: `file:${join(tempDir(), 'unused.sqlite')}`,
        DEFAULT_LOCALE: 'ja',
        LINE_CHANNEL_SECRET: TEST_LINE_SECRET,
        LINE_CHANNEL_ACCESS_TOKEN: TEST_LINE_TOKEN,
        LINE_API_BASE_URL: fakeLine.url,
        LINE_DATA_API_BASE_URL: fakeLine.url,
      });
      expect(result.output).toContain('assets/rich-menu/ja.png');
      expect(result.code).toBe(0);
      const menu = fakeLine.richMenus.get(fakeLine.defaultRichMenuId!);
      expect(menu?.image?.contentType).toBe('image/png');
    } finally {
      await fakeLine.close();
    }
  });

  it('telegram:setup registers the webhook with its secret', async () => {
    const fakeTelegram = await startFakeTelegramApi();
    try {
      const result = await runCommand('telegram-setup', [], {
        DATABASE_URL: `file:${join(tempDir(), 'unused.sqlite')}`,
        PUBLIC_BASE_URL: 'https://chat.dealer.example',
        TELEGRAM_BOT_TOKEN: TEST_TELEGRAM_TOKEN,
        TELEGRAM_WEBHOOK_SECRET: TEST_TELEGRAM_SECRET,
        TELEGRAM_API_BASE_URL: fakeTelegram.url,
      });
      expect(result.code).toBe(0);
      expect(fakeTelegram.webhook).toMatchObject({ url: 'https://chat.dealer.example/webhooks/telegram', secretToken: TEST_TELEGRAM_SECRET });
    } finally {
      await fakeTelegram.close();
    }
  });

  it('names the commands there are when asked for one there is not', async () => {
    const result = await runCommand('no-such-command', [], {});
    expect(result.code).toBe(2);
    expect(result.output).toMatch(/no command "no-such-command"; there are: .*backup.*restore.*staff-create/);
  });
});
