export const SUPPORTED_LOCALES = ['zh-TW', 'zh-CN', 'en', 'ja', 'th'] as const;
export type Locale = (typeof SUPPORTED_LOCALES)[number];

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (SUPPORTED_LOCALES as readonly string[]).includes(value);
}

/** The name of each language in that language, for the language picker. */
export const LOCALE_NATIVE_NAMES: Record<Locale, string> = {
  'zh-TW': '繁體中文',
  'zh-CN': '简体中文',
  en: 'English',
  ja: '日本語',
  th: 'ภาษาไทย',
};

/**
 * Maps what a platform or browser says about a person's language (LINE profile `language`, Telegram
 * `language_code`, an Accept-Language entry) to a supported locale, or null when it names none of ours.
 * A bare "zh" says nothing about the script, so it follows the dealership's own Chinese when it has one.
 */
export function resolveLocale(hint: string | null | undefined, fallback: Locale): Locale | null {
  if (!hint) return null;
  const tag = hint.trim().replace(/_/g, '-').toLowerCase();
  if (!tag) return null;
  if (tag === 'zh-tw' || tag === 'zh-hk' || tag === 'zh-mo' || tag.startsWith('zh-hant')) return 'zh-TW';
  if (tag === 'zh-cn' || tag === 'zh-sg' || tag.startsWith('zh-hans')) return 'zh-CN';
  if (tag === 'zh' || tag.startsWith('zh-')) return fallback === 'zh-CN' ? 'zh-CN' : 'zh-TW';
  const primary = tag.split('-')[0];
  if (primary === 'en') return 'en';
  if (primary === 'ja') return 'ja';
  if (primary === 'th') return 'th';
  return null;
}

/** Picks the first supported locale from an Accept-Language header. */
export function localeFromAcceptLanguage(header: string | null | undefined, fallback: Locale): Locale | null {
  if (!header) return null;
  const ranked = header
    .split(',')
    .map((part) => {
      const [tag = '', ...rest] = part.trim().split(';');
      const q = rest.find((p) => p.trim().startsWith('q='));
      return { tag, q: q ? Number(q.trim().slice(2)) || 0 : 1 };
    })
    .sort((a, b) => b.q - a.q);
  for (const { tag } of ranked) {
    const locale = resolveLocale(tag, fallback);
    if (locale) return locale;
  }
  return null;
}
