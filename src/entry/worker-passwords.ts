import type { DurableObjectNamespace } from '@cloudflare/workers-types';
import { fromBase64Url, toBase64Url } from '../staff/auth/crypto';
import type { PasswordDerivation } from '../staff/auth/password';
import { pbkdf2Sha256 } from './worker-pbkdf2';

/*
 * Staff passwords on Workers. They are PBKDF2-HMAC-SHA256 with 600,000 iterations (src/staff/auth/password.ts),
 * and Cloudflare's runtime cannot derive that in a Worker: its Web Crypto refuses more than 100,000 iterations
 * in production, and the free plan gives a Worker 10 ms of CPU while 600,000 iterations take some hundreds.
 * A Durable Object gets 30 s of CPU per request on every plan, so the key is derived there, in plain
 * JavaScript (the same bytes as Web Crypto on Node), and the Worker only waits for the answer.
 */

/** How many objects share the work: logins at the same moment run side by side on different ones. */
const CHECKERS = 8;
/** More than any hash this service makes (600,000), less than a stored value could make an object spin on. */
const MAX_ITERATIONS = 5_000_000;

interface DeriveRequest {
  password: string;
  salt: string;
  iterations: number;
}

/** The derivation the Workers entry gives src/staff/auth/password.ts: a request to one of the password objects. */
export function durableObjectDerivation(namespace: DurableObjectNamespace): PasswordDerivation {
  return async (password, salt, iterations) => {
    const name = `password-check-${crypto.getRandomValues(new Uint8Array(1))[0]! % CHECKERS}`;
    const stub = namespace.get(namespace.idFromName(name));
    const body: DeriveRequest = { password: toBase64Url(password), salt: toBase64Url(salt), iterations };
    const response = await stub.fetch('https://password-check/derive', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answer = (await response.json()) as { key?: string; error?: string };
    const key = answer.key ? fromBase64Url(answer.key) : null;
    if (!response.ok || !key) throw new Error(`the password check failed: ${answer.error ?? response.status}`);
    return key;
  };
}

/**
 * The Durable Object that derives password keys (binding PASSWORD_CHECKS). It keeps nothing: no storage, no
 * password beyond the request. Reached only through its binding, never from the internet.
 */
export class PasswordCheck {
  async fetch(request: Request): Promise<Response> {
    const body = (await request.json().catch(() => null)) as Partial<DeriveRequest> | null;
    const password = typeof body?.password === 'string' ? fromBase64Url(body.password) : null;
    const salt = typeof body?.salt === 'string' ? fromBase64Url(body.salt) : null;
    const iterations = body?.iterations;
    if (!password || !salt || typeof iterations !== 'number' || !Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
      return Response.json({ error: 'a password, a salt and an iteration count between 1 and 5,000,000' }, { status: 400 });
    }
    return Response.json({ key: toBase64Url(pbkdf2Sha256(password, salt, iterations, 32)) });
  }
}
