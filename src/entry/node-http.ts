import { serve, type HttpBindings, type ServerType } from '@hono/node-server';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../ops/logger';

/**
 * How long a client may take. Every caller sends its headers at once and small bodies (webhooks, forms,
 * chat messages; a 10 MB photo over a slow phone connection is the longest): a connection still sending
 * after this is a slow-client attack or a dead link, and is dropped instead of holding a socket for minutes.
 */
export const CLIENT_TIMEOUTS = {
  /** From the connection (or the end of the previous request) to the end of the headers. */
  headersMs: 10_000,
  /** From the start of a request to the end of its body. */
  requestMs: 60_000,
  /** How often Node looks for connections over those times (its default, 30 s, would let each run 30 s over). */
  checkEveryMs: 1_000,
};

/** How long, and how many more bytes, a closing connection is still read (and the bytes dropped) after its answer. */
const LINGER_MS = 2000;
const LINGER_BYTES = 8 * 1024 * 1024;

const lingering = new WeakSet<Socket>();

/**
 * Makes the close that Node's HTTP server does after a `Connection: close` answer a lingering one.
 *
 * Node closes such a connection as soon as the answer is written. When the client is still sending a body
 * the service refused (a 413), the unread bytes make the kernel reset the connection, and the reset can reach
 * the client before it has read the answer: it sees "connection reset" instead of the 413. So the server
 * half-closes instead (the answer, then end of stream) and keeps reading, dropping what arrives, until the
 * client closes its side, for at most LINGER_MS or LINGER_BYTES more; then the socket goes. Nothing read is kept.
 */
function lingerOnClose(incoming: IncomingMessage, socket: Socket): void {
  if (lingering.has(socket)) return;
  lingering.add(socket);
  let closing = false;
  // destroySoon is what Node's HTTP server calls once the last answer on a connection is written.
  socket.destroySoon = function lingeringClose(this: Socket) {
    if (closing || socket.destroyed) return;
    closing = true;
    socket.end();
    // Whoever was reading the refused body stopped at the limit; what follows is only dropped.
    incoming.removeAllListeners('data');
    incoming.resume();
    const readBefore = socket.bytesRead;
    const started = Date.now();
    const check = setInterval(() => {
      if (Date.now() - started > LINGER_MS || socket.bytesRead - readBefore > LINGER_BYTES) socket.destroy();
    }, 20);
    check.unref();
    socket.once('close', () => clearInterval(check));
  };
}

/**
 * Serves the app over HTTP on Node with @hono/node-server, closing connections the app asks to close
 * (`Connection: close`, as a refused body does) so the client still reads the answer, and dropping clients
 * that send too slowly (CLIENT_TIMEOUTS) with a 408 and a log line below error level: a slow client is the
 * client's problem, not the service's. The Node entry and the tests that speak real HTTP to the service
 * both serve it through here.
 */
export function serveNode(
  app: { fetch: (request: Request, env: HttpBindings) => Response | Promise<Response> },
  opts: { port: number; hostname?: string; logger?: Logger; timeouts?: Partial<typeof CLIENT_TIMEOUTS> },
  onListen?: (info: AddressInfo) => void,
): ServerType {
  const timeouts = { ...CLIENT_TIMEOUTS, ...opts.timeouts };
  const server = serve(
    {
      port: opts.port,
      ...(opts.hostname ? { hostname: opts.hostname } : {}),
      serverOptions: { headersTimeout: timeouts.headersMs, requestTimeout: timeouts.requestMs, connectionsCheckingInterval: timeouts.checkEveryMs },
      fetch: async (request, env) => {
        const bindings = env as HttpBindings;
        const response = await app.fetch(request, bindings);
        if (response.headers.get('connection')?.toLowerCase() === 'close' && bindings.incoming.socket) lingerOnClose(bindings.incoming, bindings.incoming.socket);
        return response;
      },
    },
    onListen,
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT';
    const address = (socket as Socket).remoteAddress ?? null;
    if (timedOut) opts.logger?.info({ address, code: err.code }, 'slow client dropped: the request did not arrive in time');
    else opts.logger?.debug({ address, code: err.code ?? null }, 'client connection error');
    // What Node answers by itself when nobody listens: a status when the socket can still take one, then close.
    const pending = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    if (socket.writable && !pending?.headersSent) {
      socket.end(timedOut ? 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n' : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
    else socket.destroy();
    // A client that does not read its 408 is not waited for.
    setTimeout(() => socket.destroy(), 1000).unref();
  });
  return server;
}
