import type { R2Bucket } from '@cloudflare/workers-types';
import { assertBlobKey, type BlobStore } from './blob-store';
import { readLimited, sniffImageType } from './images';

/**
 * The blob store on Cloudflare R2 (the `BLOBS` binding in wrangler.toml). R2 takes a stream only when its
 * length is known in advance, which an upload counted as it arrives is not; so the body is read here up to
 * `maxBytes` (photos are at most a few megabytes) and stored in one put. Only `import type` from the
 * workers types: the binding is handed in by the Workers entry, or by Miniflare in tests.
 */
export function r2BlobStore(bucket: R2Bucket): BlobStore {
  return {
    kind: 'r2',
    async put(key, body, { maxBytes }) {
      assertBlobKey(key);
      const bytes = body instanceof Uint8Array ? body : await readLimited(body, maxBytes);
      if (bytes === 'too_large' || bytes.byteLength > maxBytes) return { ok: false, reason: 'too_large', maxBytes };
      const contentType = sniffImageType(bytes.subarray(0, 16));
      if (!contentType) return { ok: false, reason: 'not_an_image' };
      await bucket.put(key, bytes, { httpMetadata: { contentType } });
      return { ok: true, size: bytes.byteLength, contentType };
    },
    async get(key) {
      assertBlobKey(key);
      const object = await bucket.get(key);
      if (!object) return null;
      return { body: object.body as unknown as ReadableStream<Uint8Array>, contentType: object.httpMetadata?.contentType ?? 'application/octet-stream', size: object.size };
    },
    async delete(key) {
      assertBlobKey(key);
      await bucket.delete(key);
    },
  };
}
