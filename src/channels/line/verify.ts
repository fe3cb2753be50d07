/**
 * A base64 HMAC-SHA256 digest is always 32 bytes, so 43 base64 characters and one `=`. Anything else is
 * not a signature LINE made; refusing it before decoding also keeps `atob`'s leniency (whitespace,
 * missing padding) from letting odd spellings of a signature through. The last character carries 4
 * bits of the digest and 2 bits `atob` throws away, so only the 16 characters with those 2 bits zero
 * are the one spelling LINE sends; the others would decode to the same digest.
 */
const SIGNATURE_SHAPE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/** Secrets seen by this process; a service has one or two (during a secret rotation), tests a few. */
const KEY_CACHE_LIMIT = 16;
const keys = new Map<string, Promise<CryptoKey>>();
const encoder = new TextEncoder();

function hmacKey(channelSecret: string): Promise<CryptoKey> {
  let key = keys.get(channelSecret);
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(channelSecret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    // A failed import must not stay cached, or one bad moment would refuse every later webhook.
    key.catch(() => keys.delete(channelSecret));
    if (keys.size >= KEY_CACHE_LIMIT) keys.delete(keys.keys().next().value!);
    keys.set(channelSecret, key);
  }
  return key;
}

function decodeSignature(header: string): Uint8Array<ArrayBuffer> | null {
  if (!SIGNATURE_SHAPE.test(header)) return null;
  try {
    const binary = atob(header);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}

/**
 * The signature bytes to check, or null when the request cannot be signed by LINE at all (no channel
 * secret, no header, or a header that is not a base64 HMAC-SHA256). Every check starts here.
 */
export function signatureToCheck(channelSecret: string, signatureHeader: string | null | undefined): Uint8Array<ArrayBuffer> | null {
  if (!channelSecret || !signatureHeader) return null;
  return decodeSignature(signatureHeader.trim());
}

/** Checks `x-line-signature` over the raw body; Web Crypto by default, Node's own HMAC on Node. */
export type LineSignatureCheck = (channelSecret: string, rawBody: Uint8Array, signatureHeader: string | null | undefined) => boolean | Promise<boolean>;

/**
 * Checks `x-line-signature` (base64 HMAC-SHA256 of the raw body under the channel secret) before
 * anything in the body is trusted, as LINE requires. It runs over the exact bytes received, because any
 * re-serialisation changes them. Web Crypto's `verify` compares in constant time, so the answer's timing
 * tells a forger nothing. A missing or malformed header is simply "not signed by LINE": false, never a throw.
 */
export async function verifyLineSignature(channelSecret: string, rawBody: Uint8Array, signatureHeader: string | null | undefined): Promise<boolean> {
  const signature = signatureToCheck(channelSecret, signatureHeader);
  if (!signature) return false;
  const key = await hmacKey(channelSecret);
  // Web Crypto wants an ArrayBuffer-backed view; a body read from a SharedArrayBuffer (or typed loosely) is copied.
  const body = rawBody.buffer instanceof ArrayBuffer ? (rawBody as Uint8Array<ArrayBuffer>) : new Uint8Array(rawBody);
  return crypto.subtle.verify('HMAC', key, signature, body);
}
