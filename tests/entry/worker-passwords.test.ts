import { pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PasswordCheck } from '../../src/entry/worker-passwords';
import { pbkdf2Sha256 } from '../../src/entry/worker-pbkdf2';
import { fromBase64Url, toBase64Url } from '../../src/staff/auth/crypto';
import { DEFAULT_PBKDF2_ITERATIONS, hashPassword, verifyPassword } from '../../src/staff/auth/password';

/*
 * Staff passwords on Workers are derived on a Durable Object in plain JavaScript (Cloudflare's Web Crypto
 * refuses more than 100,000 PBKDF2 iterations). These check that it derives exactly what Web Crypto and
 * OpenSSL derive, so hashes made on Node verify on Workers and the other way round.
 */

const bytes = (text: string) => new TextEncoder().encode(text);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('PBKDF2-HMAC-SHA256 in plain JavaScript', () => {
  it('gives the published test vectors (RFC 7914 §11)', () => {
    expect(hex(pbkdf2Sha256(bytes('passwd'), bytes('salt'), 1, 64))).toBe(
      '55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783',
    );
    expect(hex(pbkdf2Sha256(bytes('Password'), bytes('NaCl'), 80000, 64))).toBe(
      '4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d',
    );
  });

  it('agrees with OpenSSL on long keys (hashed first), empty salts and lengths that are not whole blocks', () => {
    for (const [password, salt, iterations, length] of [
      ['x'.repeat(100), 'saltsaltsaltsalt', 1000, 32],
      ['pässwörd 密碼', '', 5, 32],
      ['', 'salt', 3, 20],
      ['correct horse battery staple', 'pepper', 2, 45],
    ] as const) {
      expect(hex(pbkdf2Sha256(bytes(password), bytes(salt), iterations, length))).toBe(pbkdf2Sync(password, salt, iterations, length, 'sha256').toString('hex'));
    }
  });

  it('verifies a staff hash made by Web Crypto with the full 600,000 iterations', async () => {
    const stored = await hashPassword('correct horse battery staple');
    const [, iterations, salt, hash] = stored.split('$');
    expect(Number(iterations)).toBe(DEFAULT_PBKDF2_ITERATIONS);
    expect(toBase64Url(pbkdf2Sha256(bytes('correct horse battery staple'), fromBase64Url(salt!)!, Number(iterations), 32))).toBe(hash);
  });
});

describe('the password Durable Object', () => {
  const check = new PasswordCheck();
  const derive = (body: unknown) => check.fetch(new Request('https://password-check/derive', { method: 'POST', body: JSON.stringify(body) }));

  it('derives the key src/staff/auth/password.ts stores, so a login verifies through it', async () => {
    const stored = await hashPassword('a long enough password', 2000);
    const [, , salt, hash] = stored.split('$');
    const res = await derive({ password: toBase64Url(bytes('a long enough password')), salt, iterations: 2000 });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { key: string }).key).toBe(hash);
    expect(await verifyPassword('a long enough password', stored)).toBe(true);
  });

  it('refuses requests without a password, a salt or a sane iteration count', async () => {
    for (const body of [{}, { password: 'cGFzcw', salt: 'c2FsdA', iterations: 0 }, { password: 'cGFzcw', salt: 'c2FsdA', iterations: 50_000_000 }, { password: 'cGFzcw', salt: '!!', iterations: 10 }]) {
      expect((await derive(body)).status).toBe(400);
    }
  });
});
