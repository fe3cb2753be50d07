import { describe, expect, it } from 'vitest';
import { maskPhone, maskSensitive } from '../../src/ops/logger';

describe('log masking', () => {
  it('keeps only the last three digits of phone numbers anywhere in text', () => {
    expect(maskPhone('call +886 912-345-678 after 5')).toBe('call ***678 after 5');
    expect(maskPhone('order 12345 is ready')).toBe('order 12345 is ready');
  });

  it('hides values under secret-sounding keys, at any depth', () => {
    const masked = maskSensitive({
      channelAccessToken: 'abcdefghijklmnop',
      headers: { authorization: 'Bearer dct_abc_secret', 'x-line-signature': 'c2lnbmF0dXJl' },
      customer: { phone: '+886912345678', note: 'wants a call on 0912345678' },
      count: 3,
    }) as Record<string, any>;
    expect(masked.channelAccessToken).toBe('***op');
    expect(masked.headers.authorization).toBe('***et');
    expect(masked.headers['x-line-signature']).toBe('***Jl');
    expect(masked.customer.phone).toBe('***78');
    expect(masked.customer.note).toBe('wants a call on ***678');
    expect(masked.count).toBe(3);
  });
});
