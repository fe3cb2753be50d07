/*
 * Pictures are recognised by their first bytes, so a file named .jpg that is not one is refused, and the
 * content type served back is what the bytes are, not what a sender claimed.
 */

const SIGNATURES: { type: string; test: (b: Uint8Array) => boolean }[] = [
  { type: 'image/jpeg', test: (b) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { type: 'image/png', test: (b) => b.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((v, i) => b[i] === v) },
  { type: 'image/gif', test: (b) => b.length >= 6 && ascii(b, 0, 6).startsWith('GIF8') },
  { type: 'image/webp', test: (b) => b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP' },
  // ISO media files with an image brand: HEIC/HEIF, what iPhones send.
  { type: 'image/heic', test: (b) => b.length >= 12 && ascii(b, 4, 8) === 'ftyp' && /^(heic|heix|hevc|heim|heis|mif1|msf1)$/.test(ascii(b, 8, 12)) },
];

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...bytes.subarray(from, to));
}

/** The image type of these first bytes (12 are enough), or null when they are not a picture we keep. */
export function sniffImageType(head: Uint8Array): string | null {
  return SIGNATURES.find((s) => s.test(head))?.type ?? null;
}

/** Bytes a sniff needs. */
export const SNIFF_BYTES = 12;

/** Reads a stream or iterable of chunks into one array, or 'too_large' as soon as it passes `maxBytes` (the rest is not read). */
export async function readLimited(body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array | 'too_large'> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const iterable = (Symbol.asyncIterator in body ? body : streamChunks(body as ReadableStream<Uint8Array>)) as AsyncIterable<Uint8Array>;
  for await (const chunk of iterable) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      if ('cancel' in body && typeof body.cancel === 'function') await body.cancel().catch(() => undefined);
      return 'too_large';
    }
    chunks.push(chunk);
  }
  const whole = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    whole.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return whole;
}

async function* streamChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
