import { serve, type HttpBindings, type ServerType } from '@hono/node-server';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

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
 * (`Connection: close`, as a refused body does) so the client still reads the answer. The Node entry and the
 * tests that speak real HTTP to the service both serve it through here.
 */
export function serveNode(app: { fetch: (request: Request, env: HttpBindings) => Response | Promise<Response> }, opts: { port: number; hostname?: string }, onListen?: (info: AddressInfo) => void): ServerType {
  return serve(
    {
      port: opts.port,
      ...(opts.hostname ? { hostname: opts.hostname } : {}),
      fetch: async (request, env) => {
        const bindings = env as HttpBindings;
        const response = await app.fetch(request, bindings);
        if (response.headers.get('connection')?.toLowerCase() === 'close' && bindings.incoming.socket) lingerOnClose(bindings.incoming, bindings.incoming.socket);
        return response;
      },
    },
    onListen,
  );
}
