/*
 * The reference a customer reads out on the phone or shows at the counter: 'BK-' and six characters from
 * an alphabet without look-alikes (no 0/O, 1/I/L, U/V), so it survives being read aloud, handwritten and
 * typed back. 29^6 ≈ 594 million values keep collisions rare; the database's unique key settles the rest.
 */

export const REFERENCE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTWXYZ';
const LENGTH = 6;
const PREFIX = 'BK-';

/** A new random booking reference such as 'BK-7K3QXM'. */
export function newBookingReference(): string {
  const n = REFERENCE_ALPHABET.length;
  // Bytes at or above the largest multiple of n are redrawn, so every character is equally likely.
  const limit = 256 - (256 % n);
  let out = '';
  while (out.length < LENGTH) {
    for (const byte of crypto.getRandomValues(new Uint8Array(LENGTH * 2))) {
      if (byte < limit && out.length < LENGTH) out += REFERENCE_ALPHABET[byte % n];
    }
  }
  return PREFIX + out;
}

/** Reads a reference as a customer might type it ("bk 7k3qxm", "7K3-QXM"); null when it cannot be one. */
export function normalizeBookingReference(text: string): string | null {
  let body = text.normalize('NFKC').toUpperCase().replace(/[\s\-_.]/g, '');
  if (body.startsWith('BK') && body.length === LENGTH + 2) body = body.slice(2);
  if (body.length !== LENGTH) return null;
  for (const ch of body) if (!REFERENCE_ALPHABET.includes(ch)) return null;
  return PREFIX + body;
}
