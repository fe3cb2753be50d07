import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/*
 * The compiled service and operator commands as operators run them: built into dist/ by scripts/build.mjs
 * (only when stale, as `npm start` does), started with the command the `start` script execs.
 */

export const ROOT = new URL('../../', import.meta.url).pathname;

/** Builds dist/ when it is missing or older than its sources; several suites may ask at once. */
export function ensureBuilt(): void {
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * The command `npm start` ends in (`… && MALLOC_ARENA_MAX=2 exec node --enable-source-maps … dist/entry/node.js`)
 * and the variables it sets for it, read from package.json so these tests follow the start script wherever
 * it goes.
 */
export function startScript(): { env: Record<string, string>; command: string[] } {
  const script = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
  const execed = /(?:^|&&\s*)((?:[A-Z_]+=\S+\s+)*)exec\s+(.+)$/.exec(script);
  if (!execed) throw new Error(`the start script does not exec the service: ${script}`);
  const env = Object.fromEntries(execed[1]!.trim().split(/\s+/).filter(Boolean).map((a) => a.split('=') as [string, string]));
  const [node, ...args] = execed[2]!.trim().split(/\s+/);
  if (node !== 'node') throw new Error(`the start script runs ${node}, not node`);
  return { env, command: [process.execPath, ...args] };
}

/** The service's command line, as the start script execs it. */
export function startCommand(): string[] {
  return startScript().command;
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts a process in the project folder, collecting its stdout and stderr together. */
export function run(command: string[], env: Record<string, string | undefined>, opts: { cwd?: string; stdin?: string } = {}): Running {
  const child = spawn(command[0]!, command.slice(1), { cwd: opts.cwd ?? ROOT, env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out, exited: new Promise((resolve) => child.on('close', (code) => resolve(code))) };
}

/** The service as `npm start` runs it, after the build. */
export function startService(env: Record<string, string | undefined>): Running {
  const { env: scriptEnv, command } = startScript();
  return run(command, { ...scriptEnv, ...env });
}

/** An operator command from its compiled form, as `npm run <command>` runs it (scripts/run.mjs). */
export async function runCommand(name: string, args: string[], env: Record<string, string | undefined>, stdin?: string): Promise<{ code: number | null; output: string }> {
  const running = run([process.execPath, 'scripts/run.mjs', name, ...args], env, stdin === undefined ? {} : { stdin });
  const code = await running.exited;
  return { code, output: running.output() };
}

export async function waitFor(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
}

export async function healthy(port: number): Promise<boolean> {
  return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
}
