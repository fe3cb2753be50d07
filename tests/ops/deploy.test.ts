import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensureBuilt, freePort, healthy, ROOT, run, startCommand, startScript, waitFor, type Running } from '../entry/compiled';

/*
 * The supervision examples, checked as far as this machine can: the systemd unit by systemd-analyze, the
 * compose file parsed and read, the Dockerfile read line by line — and the folder its last stage copies
 * (`node scripts/build.mjs --release`) run for real, away from the project and its node_modules. No
 * Docker engine runs here, so the image itself is not built by these tests.
 */

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
/** node's arguments after the executable, as `npm start` runs the service. */
const serviceArgs = () => startCommand().slice(1);

describe('the systemd unit', () => {
  const unit = read('deploy/dealer-chat.service');
  const settings = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!);

  it('runs node on the compiled entry as a dedicated user, restarts it on failure but not on refusals, and keeps its data in the state directory', () => {
    expect(settings('ExecStart')).toEqual([`/usr/bin/node ${serviceArgs().join(' ')}`]);
    expect(settings('User')).toEqual(['dealer-chat']);
    expect(settings('Restart')).toEqual(['on-failure']);
    expect(settings('RestartPreventExitStatus')[0]!.split(' ').sort()).toEqual(['65', '78']);
    expect(settings('StateDirectory')).toEqual(['dealer-chat']);
    expect(settings('Environment')).toContain('DATABASE_URL=file:/var/lib/dealer-chat/dealer-chat.sqlite');
    for (const [name, value] of Object.entries(startScript().env)) expect(settings('Environment')).toContain(`${name}=${value}`);
    expect(settings('KillSignal')).toEqual(['SIGTERM']);
  });

  const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
  it.skipIf(!analyze)('passes systemd-analyze verify without a warning', () => {
    // verify checks that ExecStart's program exists: point it at this machine's node, wherever it is.
    const dir = mkdtempSync(join(tmpdir(), 'dealer-unit-'));
    try {
      const file = join(dir, 'dealer-chat.service');
      writeFileSync(file, unit.replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `));
      const result = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the Dockerfile', () => {
  const lines = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'));
  const instructions = lines.map((l) => {
    const [word, ...rest] = l.trim().split(/\s+/);
    return { word: word!.toUpperCase(), args: rest.join(' ') };
  });
  const stages = instructions.filter((i) => i.word === 'FROM');
  const lastStage = instructions.slice(instructions.lastIndexOf(stages.at(-1)!));

  it('builds in one node:20-slim stage and runs in another, as the unprivileged node user, with the start command', () => {
    expect(stages.map((s) => s.args)).toEqual(['node:20-slim AS build', 'node:20-slim']);
    expect(lastStage.filter((i) => i.word === 'USER').map((i) => i.args)).toEqual(['node']);
    expect(JSON.parse(lastStage.find((i) => i.word === 'CMD')!.args)).toEqual(['node', ...serviceArgs()]);
    expect(lastStage.find((i) => i.word === 'COPY')!.args).toBe('--from=build /release ./');
    expect(lastStage.find((i) => i.word === 'HEALTHCHECK')!.args).toContain('/healthz');
    const env = lastStage.filter((i) => i.word === 'ENV').map((i) => i.args).join(' ');
    expect(env).toContain('DATABASE_URL=file:/data/dealer-chat.sqlite');
    for (const [name, value] of Object.entries(startScript().env)) expect(env).toContain(`${name}=${value}`);
  });

  it('copies only what is in the repository and not left out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'data', '.env']));
    const sources = instructions.filter((i) => i.word === 'COPY' && !i.args.startsWith('--from')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), source).toBe(true);
      expect(ignored, source).not.toContain(source);
    }
    // The build stage runs the release step the tests below run.
    expect(instructions.find((i) => i.word === 'RUN' && i.args.includes('scripts/build.mjs'))!.args).toBe('node scripts/build.mjs --release /release');
  });
});

describe('the release folder the image runs', () => {
  const dirs: string[] = [];
  const running: Running[] = [];
  beforeAll(() => ensureBuilt(), 120_000);
  afterEach(() => {
    for (const r of running.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('runs on its own, away from the sources and the development packages, with the operator commands', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dealer-release-'));
    dirs.push(dir);
    const app = join(dir, 'app');
    execFileSync(process.execPath, ['scripts/build.mjs', '--release', app], { cwd: ROOT, stdio: 'pipe' });
    expect(readdirSync(join(app, 'node_modules')).sort()).toEqual(['better-sqlite3', 'bindings', 'file-uri-to-path']);
    expect(existsSync(join(app, 'src'))).toBe(false);

    const env = { DATABASE_URL: `file:${join(dir, 'data', 'dealer-chat.sqlite')}`, NODE_PATH: undefined };
    const port = await freePort();
    const service = run(startCommand(), { ...startScript().env, ...env, PORT: String(port) }, { cwd: app });
    running.push(service);
    await waitFor(() => healthy(port));
    const page = await fetch(`http://127.0.0.1:${port}/chat`, { headers: { 'accept-language': 'th' } });
    expect(page.status).toBe(200);
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    await fetch(`http://127.0.0.1:${port}/chat/api/start`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', 'accept-language': 'th' }, body: JSON.stringify({ id: 'release-start' }) });
    let greeting = '';
    await waitFor(async () => {
      const res = (await (await fetch(`http://127.0.0.1:${port}/chat/api/messages?after=0`, { headers: { cookie } })).json()) as { messages: { text?: string }[] };
      greeting = res.messages.map((m) => m.text ?? '').join('\n');
      return greeting.length > 0;
    });
    // Thai script: the locales came along inside the bundle.
    expect(greeting).toMatch(/[\u0e00-\u0e7f]/);

    const backup = run(['npm', 'run', '--silent', 'backup', '--', join(dir, 'copy.sqlite')], env, { cwd: app });
    expect(await backup.exited).toBe(0);
    expect(backup.output()).toContain('Backed up');

    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  }, 60_000);
});

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml')) as {
    services: Record<string, { image?: string; build?: string; depends_on?: Record<string, { condition: string }>; environment?: Record<string, string>; ports?: string[]; volumes?: string[]; healthcheck?: { test: string[] }; restart?: string }>;
    volumes: Record<string, unknown>;
  };

  it('runs the image built here on a Postgres that is healthy first, with the data in a named volume', () => {
    const { app, db } = compose.services;
    expect(app?.build).toBe('.');
    expect(db?.image).toMatch(/^postgres:\d+/);
    expect(app?.depends_on).toEqual({ db: { condition: 'service_healthy' } });
    expect(db?.healthcheck?.test.join(' ')).toContain('pg_isready');
    const url = new URL(app!.environment!.DATABASE_URL!.replace(/\$\{POSTGRES_PASSWORD[^}]*\}/, 'secret'));
    expect(url.protocol).toBe('postgres:');
    expect(url.hostname).toBe('db');
    expect(url.pathname).toBe(`/${db!.environment!.POSTGRES_DB}`);
    expect(url.username).toBe(db!.environment!.POSTGRES_USER);
    expect(app?.ports).toEqual([`${app!.environment!.PORT}:${app!.environment!.PORT}`]);
    const [volume, mount] = db!.volumes![0]!.split(':');
    expect(mount).toBe('/var/lib/postgresql/data');
    expect(Object.keys(compose.volumes)).toContain(volume);
    expect(db!.environment!.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
  });
});
