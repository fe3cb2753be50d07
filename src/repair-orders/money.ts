import type { Locale } from '../i18n/locales';

/*
 * Amounts are kept as whole minor units (cents, satang) of the branch's currency, so totals add up
 * exactly on every database; the API and forms speak major units ("price": 2400 is NT$2,400).
 */

/** The largest amount accepted anywhere, in major units: far above any repair, far below integer limits. */
export const MAX_AMOUNT = 10_000_000;

/** Minor units of an amount in major units, or null when it is not a non-negative amount with at most two decimals. */
export function toMinorUnits(amount: number): number | null {
  if (!Number.isFinite(amount) || amount < 0 || amount > MAX_AMOUNT) return null;
  const minor = Math.round(amount * 100);
  return Math.abs(minor - amount * 100) < 1e-6 ? minor : null;
}

export function fromMinorUnits(minor: number): number {
  return minor / 100;
}

/** Reads an amount as staff type it ("2,400", "2400.50", "NT$ 2400"); null when it is not one. */
export function parseAmount(text: string): number | null {
  const cleaned = text.normalize('NFKC').replace(/[\s,$]|NT|TWD|THB|JPY|CNY|RMB|¥|฿|元|円/gi, '');
  if (!/^\d+(\.\d{1,2})?$/.test(cleaned)) return null;
  return toMinorUnits(Number(cleaned));
}

const formatters = new Map<string, Intl.NumberFormat>();

/** "NT$2,400" / "$2,400" / "฿1,250.50": an amount for a customer or staff member, without needless decimals. */
export function formatMoney(locale: Locale | string, currency: string, minor: number): string {
  const whole = minor % 100 === 0;
  const key = `${locale}|${currency}|${whole}`;
  let f = formatters.get(key);
  if (!f) {
    try {
      f = new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: whole ? 0 : 2, maximumFractionDigits: whole ? 0 : 2 });
    } catch {
      f = new Intl.NumberFormat(locale, { minimumFractionDigits: whole ? 0 : 2, maximumFractionDigits: whole ? 0 : 2 });
    }
    formatters.set(key, f);
  }
  return f.format(minor / 100);
}
