/*
 * How staff-typed phone numbers, plates and VINs are made comparable. Staff type them the way they read
 * them off a card or a car ("0912-345-678", "abc 1234", full-width digits from a CJK keyboard); searches
 * and stored values must not depend on that.
 */

/** Characters people put between a phone number's digits. */
const PHONE_TYPED = /^\+?[\d\s\-().\/]+$/;
export const PHONE_MIN_DIGITS = 6;
/** E.164 allows at most 15 digits. */
export const PHONE_MAX_DIGITS = 15;

/** True when `typed` reads as a phone number: digits with the usual separators, 6–15 digits, optional leading +. */
export function isPhoneLike(typed: string): boolean {
  const text = typed.normalize('NFKC').trim();
  if (!PHONE_TYPED.test(text)) return false;
  const digits = text.replace(/\D/g, '').length;
  return digits >= PHONE_MIN_DIGITS && digits <= PHONE_MAX_DIGITS;
}

/** Digits only, keeping a leading + (the international form): "+886 912-345-678" → "+886912345678". */
export function normalizePhone(typed: string): string {
  const text = typed.normalize('NFKC').trim();
  return `${text.startsWith('+') ? '+' : ''}${text.replace(/\D/g, '')}`;
}

/**
 * The digits to look for when staff search by phone, or null when the query is not a phone fragment.
 * Leading zeros are dropped because they are the national trunk prefix in Taiwan, Japan and Thailand:
 * "0912-345-678" must find "+886912345678", whose digits contain "912345678".
 */
export function phoneSearchDigits(query: string): string | null {
  const text = query.normalize('NFKC').trim();
  if (!PHONE_TYPED.test(text)) return null;
  const digits = text.replace(/\D/g, '').replace(/^0+/, '');
  return digits.length >= 3 ? digits : null;
}

/** A phone number as the customer list shows it: only the last three digits readable. */
export function maskPhoneNumber(phone: string): string {
  let seen = 0;
  const total = phone.replace(/\D/g, '').length;
  return phone.replace(/\d/g, (d) => (++seen > total - 3 ? d : '•'));
}

export { isValidPlate, isValidVin, normalizePlate, normalizeVin } from '../../domain/vehicle-identifiers';

/** `text` safe inside a LIKE pattern that declares `escape '\'`. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
