import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { maskSensitive, type Logger } from '../../src/ops/logger';

/** A pino logger set up as the Node entry sets it up (src/entry/node.ts), writing into memory. */
function nodeLikeLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = pino(
    { level: 'info', base: { service: 'dealer-chat' }, formatters: { log: (record) => maskSensitive(record) as Record<string, unknown> }, serializers: { err: pino.stdSerializers.err } },
    sink,
  ) as unknown as Logger;
  return { logger, text: () => lines.join('') };
}

describe('what logs never hold', () => {
  it('a phone number in an error message is masked in its stack too', () => {
    const { logger, text } = nodeLikeLogger();
    const err = new Error('customer 0912-345-678 could not be reached');
    logger.error({ err }, 'send failed');
    const out = text();
    expect(out).toContain('***678');
    expect(out).not.toContain('0912-345-678');
    expect(out).not.toContain('345-678');
    expect(JSON.parse(out).err.stack).toContain('at ');
  });

  it('API tokens and bot tokens under neutral keys and inside text are masked', () => {
    const masked = JSON.stringify(
      maskSensitive({
        url: 'https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0/sendMessage',
        detail: 'token dct_Zk3n9XqP0aL4vW8yR2mT6hB1cD5eF7gH was revoked',
        header: 'Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig',
        nested: { value: ['dct_abcdefghijklmnop'] },
      }),
    );
    expect(masked).not.toContain('AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0');
    expect(masked).not.toContain('Zk3n9XqP0aL4vW8yR2mT6hB1cD5eF7gH');
    expect(masked).not.toContain('abcdefghijklmnop');
    expect(masked).not.toContain('eyJhbGciOiJIUzI1NiJ9');
  });

  it('numbers written with dots or brackets are masked; addresses and versions are not', () => {
    const masked = maskSensitive({ a: 'call 0912.345.678 today', b: '(02) 2345-6789', c: 'from 192.168.10.200', d: 'version 4.13.19' }) as Record<string, string>;
    expect(masked.a).toBe('call ***678 today');
    expect(masked.b).not.toContain('2345-6789');
    expect(masked.c).toBe('from 192.168.10.200');
    expect(masked.d).toBe('version 4.13.19');
  });
});
