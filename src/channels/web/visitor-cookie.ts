/*
 * The web chat knows a visitor by a random id in a cookie, signed with HMAC-SHA256 so nobody can read
 * another visitor's conversation by guessing or editing the id.
 */

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    keys.set(secret, key);
  }
  return key;
}

function toBase64Url(bytes: ArrayBuffer): string {
  let binary = '';
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  // A length that leaves one character over (5, 9, …) is no base64 at all: atob throws, and a forged cookie is "not ours", never a 500.
  if (text.length % 4 === 1) return null;
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export const VISITOR_COOKIE = 'dealer_chat_visitor';
const VISITOR_ID = /^[0-9a-f-]{36}$/;

export async function signVisitor(secret: string, visitorId: string): Promise<string> {
  const signature = await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(visitorId));
  return `${visitorId}.${toBase64Url(signature)}`;
}

/** The visitor id of a cookie value, or null when it is missing, malformed or not signed by us. */
export async function verifyVisitor(secret: string, cookie: string | undefined | null): Promise<string | null> {
  if (!cookie) return null;
  const dot = cookie.indexOf('.');
  if (dot < 0) return null;
  const id = cookie.slice(0, dot);
  const signature = fromBase64Url(cookie.slice(dot + 1));
  if (!VISITOR_ID.test(id) || !signature) return null;
  // One spelling only: base64 leaves spare bits in the last character that decoding ignores.
  if (toBase64Url(signature.buffer) !== cookie.slice(dot + 1)) return null;
  // subtle.verify compares in constant time.
  const ok = await crypto.subtle.verify('HMAC', await hmacKey(secret), signature, encoder.encode(id));
  return ok ? id : null;
}
