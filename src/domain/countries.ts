import { normalizePlate } from './vehicle-identifiers';

/*
 * What customers type that follows a country's own format: licence plates and mobile numbers. A dealership
 * names its countries in DEALER_COUNTRY (Taiwan by default); answers are read in every one of them, and
 * the first gives the examples the questions show.
 */

export const COUNTRIES = ['TW', 'JP', 'TH'] as const;
export type Country = (typeof COUNTRIES)[number];

interface CountryFormats {
  /** Plates after normalizePlate (upper case, no spaces, dashes or dots). */
  plates: RegExp[];
  /** How the plate question shows one. */
  plateExample: string;
  /** Calling code, without '+'. */
  callingCode: string;
  /** A mobile number as dialled at home, digits only. */
  mobileNational: RegExp;
  /** The same number after the calling code, digits only. */
  mobileInternational: RegExp;
  mobileExample: string;
}

const FORMATS: Record<Country, CountryFormats> = {
  TW: {
    plates: [
      /^[A-Z]{3}\d{4}$/, // ABC-1234: private cars since 2012, electric cars (EAA-1234)
      /^(?=[A-Z\d]{2}\d{4}$)(?:[A-Z]{2}|[A-Z]\d|\d[A-Z])\d{4}$/, // AB-1234, A2-1234, 2A-1234
      /^\d{4}(?:[A-Z]{2}|[A-Z]\d|\d[A-Z])$/, // 1234-AB, 1234-A2
      /^[A-Z]{3}\d{3}$/, // ABC-123: motorcycles
      /^\d{3}[A-Z]{3}$/, // 123-ABC
    ],
    plateExample: 'ABC-1234',
    callingCode: '886',
    mobileNational: /^09\d{8}$/,
    mobileInternational: /^9\d{8}$/,
    mobileExample: '0912-345-678',
  },
  JP: {
    // 品川 300 さ 12-34: the office (kanji or kana), the class number, one kana, up to four digits.
    plates: [/^[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}ー]{1,5}\d[\dA-Z]{0,2}[\p{sc=Hiragana}]\d{1,4}$/u],
    plateExample: '品川 300 さ 12-34',
    callingCode: '81',
    mobileNational: /^0[789]0\d{8}$/,
    mobileInternational: /^[789]0\d{8}$/,
    mobileExample: '090-1234-5678',
  },
  TH: {
    // 1กข 1234 กรุงเทพมหานคร: an optional digit, one or two consonants, up to four digits, the province.
    plates: [/^\d?[\u0E01-\u0E2E]{1,2}\d{1,4}[\u0E01-\u0E4E]*$/u],
    plateExample: '1กข 1234',
    callingCode: '66',
    mobileNational: /^0[689]\d{8}$/,
    mobileInternational: /^[689]\d{8}$/,
    mobileExample: '081-234-5678',
  },
};

/** Thai digits (๐–๙) as ASCII; NFKC leaves them alone. */
function asciiDigits(text: string): string {
  return text.normalize('NFKC').replace(/[\u0E50-\u0E59]/g, (d) => String(d.charCodeAt(0) - 0x0e50));
}

/** True when `typed` is a licence plate in one of `countries`' formats. */
export function isPlateOf(countries: readonly Country[], typed: string): boolean {
  const plate = normalizePlate(asciiDigits(typed));
  return countries.some((c) => FORMATS[c].plates.some((p) => p.test(plate)));
}

/** The example plate the question shows. */
export function plateExample(countries: readonly Country[]): string {
  return FORMATS[countries[0] ?? 'TW'].plateExample;
}

/** The example mobile number the question shows. */
export function mobileExample(countries: readonly Country[]): string {
  return FORMATS[countries[0] ?? 'TW'].mobileExample;
}

/**
 * A mobile number as E.164 ('+886912345678'): one dialled at home in one of `countries`
 * ("0912-345-678"), or any number written with its calling code ("+81 90 1234 5678"). Null when it is
 * neither, or a number of one of `countries` that is not a mobile one.
 */
export function readMobileNumber(countries: readonly Country[], typed: string): string | null {
  const text = asciiDigits(typed).trim();
  if (!/^[+\d][\d\s\-().]*$/.test(text)) return null;
  const digits = text.replace(/\D/g, '');
  const international = text.startsWith('+') || text.startsWith('00');
  if (!international) {
    for (const c of countries) if (FORMATS[c].mobileNational.test(digits)) return `+${FORMATS[c].callingCode}${digits.slice(1)}`;
    return null;
  }
  const number = text.startsWith('00') ? digits.slice(2) : digits;
  for (const c of COUNTRIES) {
    const { callingCode, mobileInternational } = FORMATS[c];
    if (!number.startsWith(callingCode)) continue;
    // "+886 0912…": the home prefix kept after the calling code.
    const rest = number.slice(callingCode.length).replace(/^0/, '');
    return mobileInternational.test(rest) ? `+${callingCode}${rest}` : null;
  }
  return /^[1-9]\d{7,14}$/.test(number) ? `+${number}` : null;
}
