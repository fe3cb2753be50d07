/*
 * Plates and VINs as people type them (spaces, dashes, full-width characters from a CJK keyboard) made
 * comparable: the chat, the console and the DMS API all store and search the normalised form.
 */

/** Upper-case, width-folded, without spaces, dashes or dots: what `vehicles.plate_normalized` holds. */
export function normalizePlate(typed: string): string {
  return typed
    .normalize('NFKC')
    .toUpperCase()
    .replace(/[\s\-‐‑‒–—―.·・]/g, '');
}

/** 2–10 letters or digits after normalising; letters include kana, kanji and Thai (Japanese and Thai plates carry them). */
export function isValidPlate(normalized: string): boolean {
  return /^[\p{L}\p{N}]{2,10}$/u.test(normalized);
}

export function normalizeVin(typed: string): string {
  return typed.normalize('NFKC').toUpperCase().replace(/[\s\-]/g, '');
}

/** 17 characters of A–Z and 0–9 without I, O and Q (ISO 3779 leaves them out so they are not read as 1 and 0). */
export function isValidVin(normalized: string): boolean {
  return /^[A-HJ-NPR-Z0-9]{17}$/.test(normalized);
}

