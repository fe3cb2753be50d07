import { describe, expect, it } from 'vitest';
import { LINE_LIMITS, TELEGRAM_LIMITS, charLength } from '../../src/channels/limits';
import { createIntentMatcher, INTENTS, normalizeWords } from '../../src/conversation/intents';
import { createTranslator } from '../../src/i18n';
import { LOCALE_NATIVE_NAMES, SUPPORTED_LOCALES, localeFromAcceptLanguage, resolveLocale } from '../../src/i18n/locales';
import { NAMESPACES, resources } from '../../src/i18n/resources';

type Tree = { [key: string]: unknown };

function leaves(tree: Tree, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) for (const [p, leaf] of leaves(v as Tree, path)) out.set(p, leaf);
    else out.set(path, v);
  }
  return out;
}

/** Texts used as button labels outside the menu and labels sections. */
const BUTTON_LABELS = [
  ...['otherVehicle', 'pickDate', 'laterTimes', 'otherDay', 'loanerYes', 'loanerNo', 'confirm', 'changeTime', 'addToCalendar', 'reschedule', 'cancelBooking', 'cancelYes', 'keep', 'reminderConfirm'].map((k) => `booking:${k}`),
  ...['yes', 'no', 'skip', 'done', 'confirm'].map((k) => `answers.${k}`),
];

const placeholders = (text: string) => [...text.matchAll(/\{\{\s*(\w+)/g)].map((m) => m[1]).sort();

describe('locales', () => {
  for (const ns of NAMESPACES) {
    const reference = leaves(resources.en[ns] as Tree);
    for (const locale of SUPPORTED_LOCALES) {
      it(`${locale}/${ns}.json has every key of en/${ns}.json, the same placeholders, and nothing extra`, () => {
        const own = leaves(resources[locale][ns] as Tree);
        expect([...own.keys()].sort()).toEqual([...reference.keys()].sort());
        for (const [key, value] of reference) {
          const mine = own.get(key);
          if (typeof value === 'string') {
            expect(typeof mine, key).toBe('string');
            expect((mine as string).trim().length, key).toBeGreaterThan(0);
            expect(placeholders(mine as string), `${locale} ${key}`).toEqual(placeholders(value));
          } else {
            expect(Array.isArray(mine), key).toBe(true);
            expect((mine as unknown[]).length, key).toBeGreaterThan(0);
          }
        }
      });
    }
  }

  it('gives every plural an _other form with its {{count}} in every locale (zh, ja and th use only _other)', () => {
    const t = createTranslator('en');
    for (const ns of NAMESPACES) {
      const plurals = [...leaves(resources.en[ns] as Tree).keys()].filter((k) => k.endsWith('_one')).map((k) => k.slice(0, -'_one'.length));
      for (const locale of SUPPORTED_LOCALES) {
        const own = leaves(resources[locale][ns] as Tree);
        for (const base of plurals) {
          const other = own.get(`${base}_other`);
          expect(typeof other, `${locale} ${ns}:${base}_other`).toBe('string');
          expect(placeholders(other as string), `${locale} ${ns}:${base}_other`).toContain('count');
          // What i18next picks for 2 must be the _other text, with the number in it.
          expect(t.t(locale, `${ns}:${base}`, { count: 2 }), `${locale} ${ns}:${base}`).toContain('2');
        }
      }
    }
  });

  it('lets the Thai assistant speak politely: every message it sends closes with ค่ะ or คะ', () => {
    // Page furniture of the web chat and the upload page is not a message; short labels and titles are not sentences.
    const pageText = (key: string) => key.startsWith('web.') || key.startsWith('upload.') || key.startsWith('commands.');
    for (const ns of ['common', 'booking', 'complaint', 'progress'] as const) {
      for (const [key, value] of leaves(resources.th[ns] as Tree)) {
        if (typeof value !== 'string' || pageText(key)) continue;
        const words = [...value.replace(/\{\{\s*\w+\s*\}\}/g, '')].length;
        if (words > 24) expect(value, `th ${ns}:${key}`).toMatch(/ค่ะ|คะ/);
      }
    }
  });

  it('keeps every text within the strictest platform limit and every button label within LINE’s 20 characters', () => {
    const t = createTranslator('en');
    for (const locale of SUPPORTED_LOCALES) {
      for (const [key, value] of leaves(resources[locale].common as Tree)) {
        if (typeof value !== 'string') continue;
        const rendered = t.t(locale, key, { name: 'Wang Xiao-Ming', dealer: 'Test Motors Taipei Neihu', phone: '+886912345678' });
        expect(charLength(rendered), `${locale} ${key}`).toBeLessThanOrEqual(Math.min(LINE_LIMITS.textChars, TELEGRAM_LIMITS.textChars));
        if ((key.startsWith('menu.') && key !== 'menu.prompt') || key.startsWith('labels.')) expect(charLength(rendered), `${locale} ${key}`).toBeLessThanOrEqual(LINE_LIMITS.actionLabelChars);
      }
      for (const key of BUTTON_LABELS) {
        expect(t.has(locale, key), `${locale} ${key}`).toBe(true);
        expect(charLength(t.t(locale, key)), `${locale} ${key}`).toBeLessThanOrEqual(LINE_LIMITS.actionLabelChars);
      }
      for (const name of Object.values(LOCALE_NATIVE_NAMES)) expect(charLength(name)).toBeLessThanOrEqual(LINE_LIMITS.actionLabelChars);
    }
  });

  it('never lets one word mean two different things, in any pair of languages', () => {
    const t = createTranslator('en');
    const owner = new Map<string, string>();
    for (const locale of SUPPORTED_LOCALES) {
      for (const intent of INTENTS) {
        const words = [...t.list(locale, `intents:${intent}`), t.t(locale, `menu.${intent}`)];
        for (const word of words) {
          const key = normalizeWords(word);
          const previous = owner.get(key);
          expect(previous === undefined || previous === intent, `"${word}" (${locale}) means both ${previous} and ${intent}`).toBe(true);
          owner.set(key, intent);
        }
      }
    }
  });

  it('recognises the always-working words in every language, typed loosely', () => {
    const match = createIntentMatcher(createTranslator('en'));
    expect(match('  MENU! ')).toBe('menu');
    expect(match('選單')).toBe('menu');
    expect(match('菜单')).toBe('menu');
    expect(match('メニュー')).toBe('menu');
    expect(match('เมนู')).toBe('menu');
    expect(match('ｍｅｎｕ')).toBe('menu');
    expect(match('取消。')).toBe('cancel');
    expect(match('キャンセル')).toBe('cancel');
    expect(match('ยกเลิก')).toBe('cancel');
    expect(match('人工客服')).toBe('human');
    expect(match('talk to a person')).toBe('human');
    expect(match('/mybookings')).toBe('myBookings');
    expect(match('I want to cancel my booking please')).toBeNull();
  });

  it('maps what platforms and browsers say about language to our locales', () => {
    expect(resolveLocale('zh-Hant', 'en')).toBe('zh-TW');
    expect(resolveLocale('zh-hans', 'en')).toBe('zh-CN');
    expect(resolveLocale('zh', 'zh-CN')).toBe('zh-CN');
    expect(resolveLocale('ja', 'en')).toBe('ja');
    expect(resolveLocale('th-TH', 'en')).toBe('th');
    expect(resolveLocale('ko', 'en')).toBeNull();
    expect(localeFromAcceptLanguage('fr-FR,fr;q=0.9,ja;q=0.8,en;q=0.7', 'zh-TW')).toBe('ja');
  });
});
