/*
 * The blob store: where photos customers and staff send are kept (local disk on Node, R2 on Workers). A
 * small port beside its users; the core never imports an implementation. Keys are paths of safe characters
 * chosen by the application (`complaints/line/5812…`), never by a customer.
 */

export interface StoredBlob {
  body: ReadableStream<Uint8Array>;
  contentType: string;
  size: number;
}

export type PutResult =
  | { ok: true; size: number; contentType: string }
  /** The body went past `maxBytes`; nothing was kept. */
  | { ok: false; reason: 'too_large'; maxBytes: number }
  /** The body is not a picture this service keeps (JPEG, PNG, GIF, WebP, HEIC); nothing was kept. */
  | { ok: false; reason: 'not_an_image' }
  /** No blob store is configured here (a Worker without its R2 binding). */
  | { ok: false; reason: 'unavailable' };

export interface BlobStore {
  /** Names the implementation, for logs and the README's wording. */
  readonly kind: 'disk' | 'r2' | 'none';
  /**
   * Keeps an image under `key`, replacing what was there. The body may be a stream (a web upload is read
   * as it arrives, counted, and refused as soon as it passes `maxBytes`) or bytes already in memory. The
   * content type is read from the picture's own first bytes, never taken from the sender.
   */
  put(key: string, body: ReadableStream<Uint8Array> | Uint8Array, opts: { maxBytes: number }): Promise<PutResult>;
  get(key: string): Promise<StoredBlob | null>;
  delete(key: string): Promise<void>;
}

/** A key of path segments of letters, digits, `-`, `_` and `.` (no `..`), at most 200 characters. */
const KEY = /^(?!.*\.\.)[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

export function isBlobKey(key: string): boolean {
  return key.length <= 200 && KEY.test(key);
}

export function assertBlobKey(key: string): void {
  if (!isBlobKey(key)) throw new Error(`not a blob key: ${JSON.stringify(key.slice(0, 80))}`);
}

/** Keeps nothing: where no store is configured, a photo is refused with a clear reason rather than lost silently. */
export function unavailableBlobStore(): BlobStore {
  return {
    kind: 'none',
    put: async () => ({ ok: false, reason: 'unavailable' }),
    get: async () => null,
    delete: async () => undefined,
  };
}
