/*
 * Data that staff enter per language (a branch's name and address, a service type's name): the customer's
 * language when it has one, else what the row itself holds.
 */

/** Reads a `{ "zh-TW": "…", "en": "…" }` JSON column; anything else reads as no translations. */
export function parseLocalized(json: string | null | undefined): Record<string, string> {
  if (!json) return {};
  try {
    const value = JSON.parse(json) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
    return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].trim() !== ''));
  } catch {
    return {};
  }
}

/** The text in `locale`, else `fallback`. */
export function inLocale(texts: Record<string, string>, locale: string, fallback: string): string;
export function inLocale(texts: Record<string, string>, locale: string, fallback: string | null): string | null;
export function inLocale(texts: Record<string, string>, locale: string, fallback: string | null): string | null {
  return texts[locale] ?? fallback;
}
