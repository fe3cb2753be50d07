import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertBlobKey, type BlobStore } from '../blobs/blob-store';
import { SNIFF_BYTES, sniffImageType } from '../blobs/images';

class TooLarge extends Error {}
class NotAnImage extends Error {}

/**
 * The blob store on local disk, under `root` (the data directory's `blobs/` by default): each blob is a file
 * at its key, with its content type beside it in `<file>.type`. A body is streamed to a temporary file,
 * counted as it arrives and checked to be a picture from its first bytes, and only renamed into place once
 * whole, so a refused or broken upload never leaves a half file under its key.
 */
export function diskBlobStore(root: string): BlobStore {
  const base = resolve(root);
  const pathOf = (key: string) => {
    assertBlobKey(key);
    return join(base, key);
  };

  return {
    kind: 'disk',
    async put(key, body, { maxBytes }) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.${crypto.randomUUID()}.part`;
      let size = 0;
      let head = new Uint8Array(0);
      let contentType: string | null = null;
      const check = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          size += chunk.byteLength;
          if (size > maxBytes) return done(new TooLarge());
          if (contentType === null) {
            const joined = new Uint8Array(head.byteLength + chunk.byteLength);
            joined.set(head);
            joined.set(chunk, head.byteLength);
            head = joined.subarray(0, SNIFF_BYTES);
            if (head.byteLength >= SNIFF_BYTES) {
              contentType = sniffImageType(head);
              if (!contentType) return done(new NotAnImage());
            }
          }
          done(null, chunk);
        },
      });
      const source = body instanceof Uint8Array ? Readable.from([Buffer.from(body)]) : Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>);
      try {
        await pipeline(source, check, createWriteStream(temporary));
        contentType ??= sniffImageType(head);
        if (!contentType) throw new NotAnImage();
        await writeFile(`${path}.type`, contentType);
        await rename(temporary, path);
        return { ok: true, size, contentType };
      } catch (err) {
        await rm(temporary, { force: true });
        if (err instanceof TooLarge) return { ok: false, reason: 'too_large', maxBytes };
        if (err instanceof NotAnImage) return { ok: false, reason: 'not_an_image' };
        throw err;
      }
    },
    async get(key) {
      const path = pathOf(key);
      let size: number;
      try {
        size = (await stat(path)).size;
      } catch {
        return null;
      }
      const contentType = await readFile(`${path}.type`, 'utf8').catch(() => 'application/octet-stream');
      return { body: Readable.toWeb(createReadStream(path)) as unknown as ReadableStream<Uint8Array>, contentType, size };
    },
    async delete(key) {
      const path = pathOf(key);
      await rm(path, { force: true });
      await rm(`${path}.type`, { force: true });
    },
  };
}
