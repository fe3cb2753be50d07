import { Hono } from 'hono';
import type { BlobStore } from '../blobs/blob-store';
import { isBlobKey } from '../blobs/blob-store';
import { constantTimeEqual, hmacBase64Url } from '../staff/auth/crypto';

/*
 * Links to kept photos that a platform can fetch: LINE and Telegram take a staff member's photo by its
 * URL (LINE only over https), and the web chat shows it with an <img>. The link carries an HMAC of the
 * key, so only links this service made open anything, and no key can be guessed into one.
 */

export interface MediaLinks {
  /** A link to the blob at `key`: absolute (PUBLIC_BASE_URL) for LINE and Telegram, relative for the web chat; null when it cannot be made. */
  linkFor(key: string, opts: { absolute: boolean }): Promise<string | null>;
}

export function mediaLinks(secret: string, publicBaseUrl: string | null): MediaLinks {
  return {
    async linkFor(key, { absolute }) {
      if (!isBlobKey(key)) return null;
      const path = `/media/${key}?s=${await hmacBase64Url(secret, `media:${key}`)}`;
      if (!absolute) return path;
      return publicBaseUrl ? `${publicBaseUrl.replace(/\/+$/, '')}${path}` : null;
    },
  };
}

/** GET /media/<key>?s=<signature>: the photo, for whoever holds a link this service made. */
export function mediaRoutes(deps: { blobs: BlobStore; secret: string }): Hono {
  const app = new Hono();
  const encoder = new TextEncoder();
  app.get('/media/:key{.+}', async (c) => {
    const key = c.req.param('key');
    const signature = c.req.query('s') ?? '';
    if (!isBlobKey(key) || !constantTimeEqual(encoder.encode(signature), encoder.encode(await hmacBase64Url(deps.secret, `media:${key}`)))) {
      return c.json({ error: 'no such photo, or the link is not valid' }, 404);
    }
    const blob = await deps.blobs.get(key);
    if (!blob) return c.json({ error: 'no such photo, or the link is not valid' }, 404);
    return new Response(blob.body, { headers: { 'content-type': blob.contentType, 'content-length': String(blob.size), 'cache-control': 'private, max-age=86400', 'x-content-type-options': 'nosniff' } });
  });
  return app;
}
