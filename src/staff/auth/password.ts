import { constantTimeEqual, fromBase64Url, toBase64Url } from './crypto';

/**
 * Staff passwords: PBKDF2-HMAC-SHA256 through Web Crypto, so the same hash is made and checked on Node
 * and on Workers. 600,000 iterations is OWASP's current advice for this hash; the count is stored with
 * each hash, so raising it later only affects new passwords.
 */
export const DEFAULT_PBKDF2_ITERATIONS = 600_000;
const SCHEME = 'pbkdf2-sha256';

async function derive(password: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(password.normalize('NFKC')), 'PBKDF2', false, ['deriveBits']);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256));
}

export async function hashPassword(password: string, iterations = DEFAULT_PBKDF2_ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(password, salt, iterations);
  return `${SCHEME}$${iterations}$${toBase64Url(salt)}$${toBase64Url(hash)}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iterationsText, saltText, hashText] = stored.split('$');
  const iterations = Number(iterationsText);
  const salt = fromBase64Url(saltText ?? '');
  const expected = fromBase64Url(hashText ?? '');
  if (scheme !== SCHEME || !Number.isInteger(iterations) || iterations < 1 || !salt || !expected) return false;
  return constantTimeEqual(await derive(password, salt, iterations), expected);
}

/** What a new password must be: long enough to resist guessing, since there is no other factor. */
export function passwordProblem(password: string): string | null {
  if ([...password].length < 12) return 'at least 12 characters';
  if ([...password].length > 200) return 'at most 200 characters';
  return null;
}
