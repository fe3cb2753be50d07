import i18next, { type i18n } from 'i18next';
import { NAMESPACES, resources } from './resources';
import { SUPPORTED_LOCALES, type Locale } from './locales';

export type TranslateParams = Record<string, string | number>;

/** Renders message keys in a locale. Keys are `key` (common namespace) or `namespace:key`. */
export interface Translator {
  t(locale: Locale, key: string, params?: TranslateParams): string;
  /** A list value (for example the words that mean "menu"), empty when the key is missing. */
  list(locale: Locale, key: string): string[];
  has(locale: Locale, key: string): boolean;
}

export function createTranslator(fallbackLocale: Locale = 'en'): Translator {
  const instance: i18n = i18next.createInstance();
  void instance.init({
    initAsync: false,
    resources,
    supportedLngs: [...SUPPORTED_LOCALES],
    fallbackLng: fallbackLocale,
    ns: [...NAMESPACES],
    defaultNS: 'common',
    // Texts go to chat apps, not HTML: nothing to escape, and escaping would show "&amp;" to customers.
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  const fixed = new Map(SUPPORTED_LOCALES.map((l) => [l, instance.getFixedT(l)] as const));
  return {
    t(locale, key, params) {
      return fixed.get(locale)!(key, params as Record<string, unknown>) as string;
    },
    list(locale, key) {
      const value = fixed.get(locale)!(key, { returnObjects: true }) as unknown;
      return Array.isArray(value) ? value.map(String) : [];
    },
    has(locale, key) {
      return instance.exists(key, { lng: locale, fallbackLng: false });
    },
  };
}
