import { constantTimeEqual, fromBase64Url, toBase64Url } from './crypto';

/**
 * Staff passwords: PBKDF2-HMAC-SHA256 through Web Crypto, so the same hash is made and checked on Node
 * and on Workers. 600,000 iterations is OWASP's current advice for this hash; the count is stored with
 * each hash, so raising it later only affects new passwords.
 */
export const DEFAULT_PBKDF2_ITERATIONS = 600_000;
const SCHEME = 'pbkdf2-sha256';

/** Derives the 32-byte PBKDF2-HMAC-SHA256 key of a password (already NFKC-normalised and UTF-8 encoded). */
export type PasswordDerivation = (password: Uint8Array, salt: Uint8Array, iterations: number) => Promise<Uint8Array>;

const webCryptoDerivation: PasswordDerivation = async (password, salt, iterations) => {
  const key = await crypto.subtle.importKey('raw', new Uint8Array(password), 'PBKDF2', false, ['deriveBits']);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: new Uint8Array(salt), iterations }, key, 256));
};

let derivation: PasswordDerivation = webCryptoDerivation;

/**
 * Replaces how the key is derived, for a runtime whose Web Crypto cannot: Cloudflare's refuses more than
 * 100,000 PBKDF2 iterations, so the Workers entry derives on a Durable Object instead (src/entry/worker-passwords.ts).
 * The result must be the same bytes, so hashes made anywhere verify everywhere. Set once, at start.
 */
export function usePasswordDerivation(next: PasswordDerivation): void {
  derivation = next;
}

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  return derivation(new TextEncoder().encode(password.normalize('NFKC')), salt, iterations);
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
