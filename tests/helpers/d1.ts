import type { D1Database } from '@cloudflare/workers-types';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare, type WorkerOptions } from 'miniflare';

/*
 * Real D1 databases (workerd's, run by Miniflare) for tests in Node, reached the way a Worker reaches them.
 *
 * Miniflare's own `getD1Database()` proxy makes every `prepare()` and `bind()` a synchronous call into a
 * helper thread; under a loaded CI machine its replies can fall out of step with its calls, and every later
 * call of that Miniflare then fails. Here a small Worker holds the bindings, and each statement, batch or
 * query is one ordinary asynchronous request to it: the statements still run on D1 itself (its SQL, its
 * errors, its all-or-nothing batches), only the way they travel from the test differs.
 */

const WORKER = /* js */ `
const revive = (v) => (v && typeof v === 'object' && v.$undefined === true ? undefined : v);
export default {
  async fetch(request, env) {
    const { db, op, statements } = await request.json();
    const database = env[db];
    try {
      const prepared = statements.map((s) => database.prepare(s.sql).bind(...s.params.map(revive)));
      const results = op === 'batch' ? await database.batch(prepared) : [await prepared[0][op](...(op === 'first' && statements[0].column ? [statements[0].column] : []))];
      return Response.json({ results });
    } catch (err) {
      const cause = err && err.cause ? { message: String(err.cause.message ?? err.cause) } : null;
      return Response.json({ error: { name: String(err && err.name), message: String(err && err.message), cause } }, { status: 500 });
    }
  },
};
`;

interface Wire {
  sql: string;
  params: unknown[];
  column?: string;
}

/** A D1 failure as the binding raised it: same message, same cause. */
class D1Failure extends Error {
  constructor(error: { name: string; message: string; cause: { message: string } | null }) {
    super(error.message, error.cause ? { cause: Object.assign(new Error(error.cause.message), error.cause) } : undefined);
    this.name = error.name;
  }
}

type Send = (op: string, statements: Wire[]) => Promise<unknown[]>;

class Statement {
  constructor(
    private readonly send: Send,
    readonly sql: string,
    readonly params: unknown[] = [],
  ) {}

  bind(...params: unknown[]): Statement {
    // JSON would turn undefined into null; D1 refuses undefined, so it must arrive as undefined.
    return new Statement(this.send, this.sql, params.map((p) => (p === undefined ? { $undefined: true } : p)));
  }

  async all() {
    return (await this.send('all', [this.wire()]))[0];
  }

  async run() {
    return (await this.send('run', [this.wire()]))[0];
  }

  async raw() {
    return (await this.send('raw', [this.wire()]))[0];
  }

  async first(column?: string) {
    return (await this.send('first', [{ ...this.wire(), ...(column ? { column } : {}) }]))[0];
  }

  wire(): Wire {
    return { sql: this.sql, params: this.params };
  }
}

export interface TestD1 {
  /** A client for the named database; two clients of one name are two isolates sharing it. */
  database(name: string): D1Database;
  dispose(): Promise<void>;
}

type Post = (body: string) => Promise<Response>;

/** A client for one database, each call one request to the worker holding it. */
function d1Client(post: Post, name: string): D1Database {
  const send: Send = async (op, statements) => {
    const res = await post(JSON.stringify({ db: name, op, statements }));
    const body = (await res.json()) as { results?: unknown[]; error?: { name: string; message: string; cause: { message: string } | null } };
    if (body.error) throw new D1Failure(body.error);
    return body.results!;
  };
  const client = {
    prepare: (sql: string) => new Statement(send, sql),
    batch: async (statements: Statement[]) => send('batch', statements.map((s) => s.wire())),
    exec: async (sql: string) => send('run', [{ sql, params: [] }]),
  };
  return client as unknown as D1Database;
}

export function startTestD1(databaseNames: readonly string[]): TestD1 {
  const names = [...databaseNames];
  const mf = new Miniflare({ modules: true, script: WORKER, d1Databases: names });
  const post: Post = (body) => mf.dispatchFetch('http://d1.test/', { method: 'POST', body }) as unknown as Promise<Response>;
  return {
    database(name) {
      if (!names.includes(name)) throw new Error(`no D1 database named ${name}`);
      return d1Client(post, name);
    },
    dispose: () => mf.dispose(),
  };
}

const ROOT = new URL('../../', import.meta.url).pathname;

/** The Worker as `wrangler deploy` would upload it: bundled by wrangler itself (a dry run, nothing leaves the machine). */
export function bundleWorker(): { dir: string; script: string; compatibilityDate: string } {
  const dir = mkdtempSync(join(tmpdir(), 'dealer-chat-bundle-'));
  execFileSync('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', dir], {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', WRANGLER_LOG_PATH: dir, CI: '1', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'))![1]!;
  return { dir, script: join(dir, 'worker.js'), compatibilityDate };
}

export interface TestWorker {
  /** A request to one of the Worker's isolates (0 … isolates − 1); all share one D1 database and one set of Durable Objects. */
  fetch(isolate: number, path: string, init?: RequestInit): Promise<Response>;
  /** Runs the cron handler on one isolate, as the per-minute trigger does. */
  scheduled(isolate?: number): Promise<void>;
  /** The Worker's D1 database (binding DB), reached from the test. */
  database(): D1Database;
  dispose(): Promise<void>;
}

/**
 * The bundled Worker in workerd (Miniflare), as several isolates: each is a Worker of the same script with
 * the same bindings, sharing one D1 database and the Durable Objects the first one defines — what Cloudflare
 * gives two requests that land on different machines. A small worker beside them reads and writes the D1
 * database for the test.
 */
export async function startBundledWorker(opts: { vars: Record<string, string>; isolates?: number }): Promise<TestWorker> {
  const bundle = bundleWorker();
  const isolates = opts.isolates ?? 2;
  const edge = (i: number): WorkerOptions => ({
    name: `edge-${i}`,
    modules: true,
    modulesRoot: bundle.dir,
    scriptPath: bundle.script,
    compatibilityDate: bundle.compatibilityDate,
    compatibilityFlags: ['nodejs_compat'],
    d1Databases: { DB: 'dealer-chat' },
    durableObjects: {
      CUSTOMER_QUEUES: { className: 'CustomerQueue', useSQLite: true, ...(i > 0 ? { scriptName: 'edge-0' } : {}) },
      PASSWORD_CHECKS: { className: 'PasswordCheck', useSQLite: true, ...(i > 0 ? { scriptName: 'edge-0' } : {}) },
      SCHEDULER: { className: 'Scheduler', useSQLite: true, ...(i > 0 ? { scriptName: 'edge-0' } : {}) },
    },
    bindings: opts.vars,
  });
  const mf = new Miniflare({
    workers: [...Array.from({ length: isolates }, (_, i) => edge(i)), { name: 'd1', modules: true, script: WORKER, d1Databases: { DB: 'dealer-chat' } }],
  });
  await mf.ready;
  const d1 = await mf.getWorker('d1');
  const post: Post = (body) => d1.fetch('http://d1.test/', { method: 'POST', body }) as unknown as Promise<Response>;
  return {
    async fetch(isolate, path, init = {}) {
      const worker = await mf.getWorker(`edge-${isolate}`);
      return worker.fetch(`http://dealer.test${path}`, init as never) as unknown as Promise<Response>;
    },
    async scheduled(isolate = 0) {
      const worker = await mf.getWorker(`edge-${isolate}`);
      await worker.scheduled({ cron: '* * * * *', scheduledTime: new Date() });
    },
    database: () => d1Client(post, 'DB'),
    async dispose() {
      await mf.dispose();
      rmSync(bundle.dir, { recursive: true, force: true });
    },
  };
}
