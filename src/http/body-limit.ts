import type { Context, MiddlewareHandler } from 'hono';

/**
 * The largest body each kind of route reads. Each is far above anything its callers really send, and small
 * enough that a body held in memory up to it costs nothing worth counting.
 */
export const BODY_LIMITS = {
  /** LINE and Telegram webhook deliveries: a batch of LINE events is a few KB; 1 MiB leaves room for any. */
  webhook: 1024 * 1024,
  /** A web chat message is at most 2,000 characters. */
  webChat: 64 * 1024,
  /** The staff/DMS API: customer, vehicle, branch and appointment changes. */
  api: 64 * 1024,
  /** Console forms, the sign-in too: the longest field is a 4,000-character note, 9 bytes a character when URL-encoded. */
  console: 64 * 1024,
} as const;

export interface BodyLimitOptions {
  maxBytes: number;
  /** Called before the 413 is answered (for a metric); the answer itself is always the same. */
  onTooLarge?: (c: Context) => void;
}

/**
 * Refuses a request body larger than `maxBytes` with 413, before a handler reads it.
 *
 * A body that declares its length (Content-Length) is judged by the header alone and never read. A body sent
 * without one (chunked) is read here as it arrives, counting, and refused as soon as the count passes the
 * limit: it is held in memory only up to the limit, never whole, and what comes after is not read at all.
 *
 * The 413 says `Connection: close`. The rest of the refused body is still on its way, and the only ways to
 * keep the connection are to read it all (a 200 MB upload is then read to the end, for nothing) or to
 * leave it unread, in which case the next request on that connection would be parsed from the middle of
 * the old body. Closing is what the header tells the client, a proxy or the platform, so none of them sends
 * another request on a connection that is about to go; the Node server closes it once the answer is out.
 */
export function limitBody(opts: BodyLimitOptions): MiddlewareHandler {
  const { maxBytes } = opts;
  const tooLarge = (c: Context): Response => {
    opts.onTooLarge?.(c);
    return c.json({ error: `the request body is larger than ${maxBytes} bytes` }, 413, { connection: 'close' });
  };

  return async function bodyLimit(c, next) {
    const body = c.req.raw.body;
    if (!body) return next();
    const declared = c.req.header('content-length');
    if (declared !== undefined && !c.req.header('transfer-encoding')) {
      // The HTTP parser reads exactly the declared length as this request's body, so the header is the size.
      const length = Number(declared);
      return Number.isSafeInteger(length) && length >= 0 && length <= maxBytes ? next() : tooLarge(c);
    }

    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        // Stop reading: what is still on the way is never taken in; the server drops it with the connection.
        reader.cancel().catch(() => undefined);
        return tooLarge(c);
      }
      chunks.push(value);
    }
    const whole = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      whole.set(chunk, offset);
      offset += chunk.byteLength;
    }
    c.req.raw = new Request(c.req.raw, { body: whole });
    return next();
  };
}
