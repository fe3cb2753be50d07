import type { D1Database } from '@cloudflare/workers-types';
import { Miniflare } from 'miniflare';

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

export function startTestD1(databaseNames: readonly string[]): TestD1 {
  const names = [...databaseNames];
  const mf = new Miniflare({ modules: true, script: WORKER, d1Databases: names });
  return {
    database(name) {
      if (!names.includes(name)) throw new Error(`no D1 database named ${name}`);
      const send: Send = async (op, statements) => {
        const res = await mf.dispatchFetch('http://d1.test/', { method: 'POST', body: JSON.stringify({ db: name, op, statements }) });
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
    },
    dispose: () => mf.dispose(),
  };
}
