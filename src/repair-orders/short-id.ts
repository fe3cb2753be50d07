/*
 * Ids that travel inside buttons: a LINE postback or a Telegram callback_data carries the flow's prefix, a
 * code and the id, in at most 64 bytes. Ten characters of a 32-letter alphabet (50 bits) keep ids unique
 * in practice; the tables' primary keys settle the rest.
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const LENGTH = 10;

/** A new random short id such as 'k3v9q0x2mb'. */
export function newShortId(): string {
  // 256 is a multiple of 32, so masking a byte keeps every letter equally likely.
  return Array.from(crypto.getRandomValues(new Uint8Array(LENGTH)), (b) => ALPHABET[b & 31]).join('');
}

export function isShortId(value: string): boolean {
  return value.length === LENGTH && [...value].every((c) => ALPHABET.includes(c));
}
