import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, healthy, startService, type Running } from '../entry/compiled';

/*
 * The compiled service as real processes, for tests that kill them: started as `npm start` runs it,
 * SIGKILLed without warning, started again on the same database and port.
 */

/** A deterministic source of randomness (mulberry32), so a failing run can be repeated from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One service process that can be killed and started again, on the same port and with the same settings. */
export interface ServiceProcess {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  /** True from healthy until killed or stopped. */
  readonly up: boolean;
  /** How many times it was started (1 after the first start). */
  readonly starts: number;
  /** Everything every run of it printed, runs separated by a line naming the start. */
  output(): string;
  /** Starts it (again) and waits until /healthz answers. */
  start(): Promise<void>;
  /** SIGKILL: no shutdown, no flush; the operating system closes its sockets and files. Resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGTERM and the exit code it stopped with. */
  stop(): Promise<number | null>;
}

export async function serviceProcess(name: string, env: Record<string, string | undefined>): Promise<ServiceProcess> {
  const port = await freePort();
  let running: Running | null = null;
  let up = false;
  let starts = 0;
  let log = '';
  const collect = () => {
    if (running) log += `\n--- ${name} run ${starts} ---\n${running.output()}`;
  };
  const self: ServiceProcess = {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    get up() {
      return up;
    },
    get starts() {
      return starts;
    },
    output: () => log + (running ? `\n--- ${name} run ${starts} (current) ---\n${running.output()}` : ''),
    async start() {
      collect();
      starts += 1;
      const current = startService({ PORT: String(port), LOG_LEVEL: 'warn', ...env });
      running = current;
      let exited = false;
      void current.exited.then(() => {
        exited = true;
        up = false;
      });
      const until = Date.now() + 30_000;
      while (!(await healthy(port).catch(() => false))) {
        if (exited) throw new Error(`${name} exited while starting:\n${current.output()}`);
        if (Date.now() > until) throw new Error(`${name} did not become healthy in 30 s:\n${current.output()}`);
        await sleep(50);
      }
      up = true;
    },
    async kill() {
      const current = running;
      up = false;
      if (!current || current.child.exitCode !== null) return;
      current.child.kill('SIGKILL');
      await current.exited;
    },
    async stop() {
      const current = running;
      up = false;
      if (!current || current.child.exitCode !== null) return current?.child.exitCode ?? null;
      current.child.kill('SIGTERM');
      return current.exited;
    },
  };
  return self;
}

/** A request a platform proxy passed on, with the platform's answer. */
export interface ProxiedCall {
  method: string;
  path: string;
  /** The request body as it came (JSON for LINE, form-urlencoded for Telegram). */
  body: string;
  status: number;
  /** When the service's request came in (ms since the epoch). */
  receivedAt: number;
  /** When the platform's answer came back (ms since the epoch). */
  answeredAt: number;
  /** When the answer was handed on to the service; null while held, or when the service was gone by then. */
  handedOnAt: number | null;
}

export interface PlatformProxy {
  readonly url: string;
  readonly calls: ProxiedCall[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Stands between one service process and a (fake) platform: every request is passed on as it came, and
 * `afterAnswer` runs once the platform has answered but before the answer is handed back. A test that
 * kills the service there hits the narrowest window there is: the platform took the message, the service
 * never heard so.
 */
export async function platformProxy(target: string, afterAnswer: (call: ProxiedCall) => Promise<void> | void): Promise<PlatformProxy> {
  const calls: ProxiedCall[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const receivedAt = Date.now();
      const body = await readBody(req);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (v === undefined || k === 'host' || k === 'connection' || k === 'content-length' || k === 'transfer-encoding') continue;
        headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      }
      let answer: Response;
      try {
        answer = await fetch(`${target}${req.url}`, { method: req.method!, headers, ...(body.length > 0 ? { body: new Uint8Array(body) } : {}) });
      } catch {
        res.destroy();
        return;
      }
      const answerBody = Buffer.from(await answer.arrayBuffer());
      const call: ProxiedCall = { method: req.method!, path: req.url!.split('?')[0]!, body: body.toString('utf8'), status: answer.status, receivedAt, answeredAt: Date.now(), handedOnAt: null };
      calls.push(call);
      await afterAnswer(call);
      if (req.socket.destroyed) return;
      const out: Record<string, string> = {};
      answer.headers.forEach((v, k) => {
        if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection' && k !== 'content-encoding') out[k] = v;
      });
      res.writeHead(answer.status, out);
      res.end(answerBody, () => {
        call.handedOnAt = Date.now();
      });
    })().catch(() => res.destroy());
  });
  // The service keeps connections alive; a killed service's sockets are closed by its operating system.
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
