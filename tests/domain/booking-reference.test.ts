import { describe, expect, it } from 'vitest';
import { newBookingReference, normalizeBookingReference, REFERENCE_ALPHABET } from '../../src/domain/booking-reference';

describe('booking references', () => {
  it('are BK- and six characters without look-alikes, and rarely repeat', () => {
    const refs = Array.from({ length: 5000 }, () => newBookingReference());
    for (const ref of refs) expect(ref).toMatch(/^BK-[2-9A-HJKMNP-TW-Z]{6}$/);
    // Among 5,000 draws from 594 million values a repeat happens about once in 50 runs (the birthday bound);
    // three would mean the draw is broken. The database's unique key handles the rare real repeat.
    expect(new Set(refs).size).toBeGreaterThanOrEqual(refs.length - 2);
    expect(REFERENCE_ALPHABET).not.toMatch(/[01ILOUV]/);
    // Every character of the alphabet turns up: the draw is not stuck on part of it.
    expect(new Set(refs.join('').replace(/BK-/g, '')).size).toBe(REFERENCE_ALPHABET.length);
  });

  it('reads what a customer types back', () => {
    expect(normalizeBookingReference('bk-7k3qxm')).toBe('BK-7K3QXM');
    expect(normalizeBookingReference(' 7K3 QXM ')).toBe('BK-7K3QXM');
    expect(normalizeBookingReference('ＢＫ－７Ｋ３ＱＸＭ')).toBe('BK-7K3QXM');
    expect(normalizeBookingReference('BK-7K3QX')).toBeNull();
    expect(normalizeBookingReference('BK-0K3QXM')).toBeNull();
    expect(normalizeBookingReference('hello')).toBeNull();
  });
});
