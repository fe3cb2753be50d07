import { readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyLineSignature as webCryptoCheck, type LineSignatureCheck } from '../../../src/channels/line/verify';
import { nodeLineSignature } from '../../../src/entry/node-line-signature';

const FIXTURES = new URL('../../fixtures/platforms/', import.meta.url);

interface UpstreamVector {
  name: string;
  secret: string;
  body_base64: string;
  signature: string;
  valid: boolean;
}
interface ConstructedVector {
  file: string;
  secret: string;
  signature: string;
  valid: boolean;
}

const upstream = (JSON.parse(readFileSync(new URL('line-signature-vectors.json', FIXTURES), 'utf8')) as { vectors: UpstreamVector[] }).vectors;
const constructed = (JSON.parse(readFileSync(new URL('line-signature-vectors-constructed.json', FIXTURES), 'utf8')) as { vectors: ConstructedVector[] }).vectors;

const CHECKS: [string, LineSignatureCheck][] = [
  ['Web Crypto (the core, Workers)', webCryptoCheck],
  ["Node's HMAC (the Node entry)", nodeLineSignature],
];

describe.each(CHECKS)('LINE signature check with %s', (_name, verifyLineSignature) => {
  it('has upstream vectors of both kinds to check against', () => {
    expect(upstream.filter((v) => v.valid).length).toBeGreaterThanOrEqual(5);
    expect(upstream.filter((v) => !v.valid).length).toBeGreaterThanOrEqual(5);
    expect(constructed.length).toBeGreaterThanOrEqual(19);
  });

  it.each(upstream.map((v) => [v.name, v] as const))('upstream vector %s', async (_name, v) => {
    const body = new Uint8Array(Buffer.from(v.body_base64, 'base64'));
    expect(await verifyLineSignature(v.secret, body, v.signature)).toBe(v.valid);
  });

  it.each(constructed.map((v) => [v.file, v] as const))('the exact bytes of %s', async (file, v) => {
    const body = new Uint8Array(readFileSync(new URL(file, FIXTURES)));
    expect(await verifyLineSignature(v.secret, body, v.signature)).toBe(v.valid);
    // One changed byte (a re-serialised body, say) no longer verifies.
    const changed = body.slice();
    changed[changed.length - 2]! ^= 0x01;
    expect(await verifyLineSignature(v.secret, changed, v.signature)).toBe(false);
    expect(await verifyLineSignature('another-secret', body, v.signature)).toBe(false);
  });

  it('says false, never throws, for a missing or malformed header', async () => {
    const body = new TextEncoder().encode('{"events":[]}');
    const good = createHmac('sha256', 'secret').update(body).digest('base64');
    expect(await verifyLineSignature('secret', body, good)).toBe(true);
    for (const header of [undefined, null, '', 'not base64 at all!', good.slice(0, -1), `${good}=`, good.replace('=', ''), `${good.slice(0, 20)}*${good.slice(21)}`, '====']) {
      expect(await verifyLineSignature('secret', body, header)).toBe(false);
    }
  });

  it('refuses everything when the channel secret is empty', async () => {
    const body = new TextEncoder().encode('{}');
    const signature = createHmac('sha256', '').update(body).digest('base64');
    expect(await verifyLineSignature('', body, signature)).toBe(false);
  });

  it('checks a body that is a view into a larger buffer by its own bytes only', async () => {
    const whole = new TextEncoder().encode('xx{"events":[]}yy');
    const view = whole.subarray(2, whole.length - 2);
    const signature = createHmac('sha256', 's').update('{"events":[]}').digest('base64');
    expect(await verifyLineSignature('s', view, signature)).toBe(true);
  });
});
