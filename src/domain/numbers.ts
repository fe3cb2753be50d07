/*
 * Quantities as people write them in a chat: "45,000", "45k", 「三萬」, 「3萬5千」, 「3.5万」, "4 หมื่น".
 * Chinese and Japanese count in ten-thousands (萬/万), Thai names its tens of thousands (หมื่น) and
 * hundreds of thousands (แสน), and nobody types a mileage digit by digit.
 */

const DIGITS: Record<string, number> = { 〇: 0, 零: 0, 一: 1, 二: 2, 兩: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
/** Multiply what comes before within a group of ten thousand. */
const SMALL_UNITS: Record<string, number> = { 十: 10, 百: 100, 千: 1000, 仟: 1000, 佰: 100, 拾: 10, พัน: 1000, ร้อย: 100 };
/** Close a group: everything before counts this many times. */
const BIG_UNITS: Record<string, number> = { 萬: 10_000, 万: 10_000, 億: 100_000_000, 亿: 100_000_000, หมื่น: 10_000, แสน: 100_000, ล้าน: 1_000_000 };

const TOKEN = new RegExp(
  [
    '\\d+(?:[.,]\\d+)*', // 45,000 · 3.5
    `[${Object.keys(DIGITS).join('')}]`,
    ...[...Object.keys(SMALL_UNITS), ...Object.keys(BIG_UNITS)].sort((a, b) => b.length - a.length),
  ].join('|'),
  'gu',
);

/** Arabic digits written with thousands separators or a decimal point ("45,000", "3.5", "1.234.567"). */
function arabic(token: string): number | null {
  if (/^\d{1,3}(,\d{3})+$/.test(token)) return Number(token.replace(/,/g, ''));
  if (/^\d{1,3}(\.\d{3}){2,}$/.test(token)) return Number(token.replace(/\./g, ''));
  if (/^\d+([.,]\d+)?$/.test(token)) return Number(token.replace(',', '.'));
  return null;
}

/**
 * The one quantity in `text`, or null when there is none, more than one, or it is not a whole number.
 * Thai digits count as digits. Words around the number are the caller's to allow or refuse.
 */
export function readQuantity(text: string): { value: number; rest: string } | null {
  const folded = text
    .normalize('NFKC')
    .replace(/[\u0E50-\u0E59]/g, (d) => String(d.charCodeAt(0) - 0x0e50))
    // "45k": thousands, but not the k of "km".
    .replace(/(\d)\s*[kK](?![a-zA-Z])/g, '$1千');
  const matches = [...folded.matchAll(TOKEN)];
  if (matches.length === 0) return null;
  // The tokens must be one run (spaces between them aside): "3萬5千" is one number, "3 cars 5 years" is not.
  for (let i = 1; i < matches.length; i++) {
    const prev = matches[i - 1]!;
    const between = folded.slice(prev.index! + prev[0].length, matches[i]!.index);
    if (between.trim() !== '') return null;
  }
  let total = 0;
  let group = 0;
  let current: number | null = null;
  let lastBig = 0;
  for (const [token] of matches) {
    if (token in DIGITS) {
      current = current === null ? DIGITS[token]! : current * 10 + DIGITS[token]!;
      continue;
    }
    if (token in SMALL_UNITS) {
      group += (current ?? 1) * SMALL_UNITS[token]!;
      current = null;
      continue;
    }
    if (token in BIG_UNITS) {
      const big = BIG_UNITS[token]!;
      group += current ?? 0;
      if (group === 0) group = 1;
      total += group * big;
      group = 0;
      current = null;
      lastBig = big;
      continue;
    }
    const n = arabic(token);
    if (n === null || current !== null) return null;
    current = n;
  }
  // "3萬5" is 35,000 in speech: a lone digit after a ten-thousand counts in thousands.
  if (current !== null && lastBig >= 10_000 && group === 0 && current < 10 && Number.isInteger(current)) current *= lastBig / 10;
  const value = total + group + (current ?? 0);
  if (!Number.isFinite(value) || !Number.isInteger(Math.round(value * 1000) / 1000)) return null;
  const first = matches[0]!;
  const last = matches.at(-1)!;
  const rest = (folded.slice(0, first.index) + ' ' + folded.slice(last.index! + last[0].length)).replace(/\s+/g, ' ').trim();
  return Number.isInteger(value) ? { value, rest } : null;
}
