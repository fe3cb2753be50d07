import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { R2Bucket } from '@cloudflare/workers-types';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../src/blobs/blob-store';
import { r2BlobStore } from '../../src/blobs/r2';
import { diskBlobStore } from '../../src/entry/node-blobs';
import { JPEG, PNG } from '../complaints/helpers';

/*
 * The blob store's one contract on its two real implementations: local disk (Node) and R2 (Workers, run by
 * Miniflare). A photo is kept under its key with the type its bytes say, a body past the limit or one that
 * is not a picture is refused and leaves nothing behind, and a key that could leave the store is refused.
 */

/** A body that arrives in pieces, as an upload does. */
function chunked(bytes: Uint8Array, size = 7): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream as unknown as BodyInit).arrayBuffer());
}

let disk: { store: BlobStore; dir: string };
let mf: Miniflare;
let r2: BlobStore;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dealer-chat-blob-test-'));
  disk = { store: diskBlobStore(dir), dir };
  mf = new Miniflare({ modules: true, script: 'export default { fetch() { return new Response(null, { status: 404 }); } }', r2Buckets: ['BLOBS'] });
  r2 = r2BlobStore((await mf.getR2Bucket('BLOBS')) as unknown as R2Bucket);
});
afterAll(async () => {
  await mf?.dispose();
  await rm(disk.dir, { recursive: true, force: true });
});

describe.each([
  ['local disk', () => disk.store],
  ['R2', () => r2],
] as const)('blob store on %s', (_name, storeOf) => {
  it('keeps a photo sent as bytes or as a stream, with the type its bytes say', async () => {
    const store = storeOf();
    expect(await store.put('photos/web/a/1', JPEG, { maxBytes: 1024 })).toEqual({ ok: true, size: JPEG.length, contentType: 'image/jpeg' });
    expect(await store.put('photos/web/a/2', chunked(PNG), { maxBytes: 1024 })).toEqual({ ok: true, size: PNG.length, contentType: 'image/png' });
    const jpeg = await store.get('photos/web/a/1');
    expect(jpeg).toMatchObject({ contentType: 'image/jpeg', size: JPEG.length });
    expect(await bytesOf(jpeg!.body)).toEqual(JPEG);
    const png = await store.get('photos/web/a/2');
    expect(await bytesOf(png!.body)).toEqual(PNG);
    // Put again under the same key: replaced, as a retried download does.
    expect((await store.put('photos/web/a/1', PNG, { maxBytes: 1024 })).ok).toBe(true);
    expect((await store.get('photos/web/a/1'))!.contentType).toBe('image/png');
    await store.delete('photos/web/a/2');
    expect(await store.get('photos/web/a/2')).toBeNull();
  });

  it('refuses a body past the limit, or one that is not a picture, and keeps nothing of it', async () => {
    const store = storeOf();
    const big = new Uint8Array(4096);
    big.set(JPEG.subarray(0, 4));
    expect(await store.put('photos/web/b/big', chunked(big, 500), { maxBytes: 1000 })).toEqual({ ok: false, reason: 'too_large', maxBytes: 1000 });
    expect(await store.get('photos/web/b/big')).toBeNull();
    expect(await store.put('photos/web/b/pdf', new TextEncoder().encode('%PDF-1.7 a document'), { maxBytes: 1000 })).toEqual({ ok: false, reason: 'not_an_image' });
    expect(await store.get('photos/web/b/pdf')).toBeNull();
  });

  it('refuses keys that could reach outside the store', async () => {
    const store = storeOf();
    for (const key of ['../escape', 'photos/../../etc/passwd', '/absolute', 'with space', '']) {
      await expect(store.put(key, JPEG, { maxBytes: 1024 })).rejects.toThrow(/not a blob key/);
    }
  });
});

describe('blob store on local disk', () => {
  it('leaves no partial file behind when a stream is refused half way', async () => {
    const big = new Uint8Array(50_000);
    big.set(JPEG.subarray(0, 4));
    expect((await disk.store.put('photos/web/c/partial', chunked(big, 1000), { maxBytes: 10_000 })).ok).toBe(false);
    const left = existsSync(join(disk.dir, 'photos/web/c')) ? await readdir(join(disk.dir, 'photos/web/c')) : [];
    expect(left).toEqual([]);
  });
});
