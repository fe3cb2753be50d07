import type { Translator } from '../i18n';
import { SUPPORTED_LOCALES } from '../i18n/locales';

/** Things a customer can ask for at any moment, from any step, in any language. */
export const INTENTS = ['menu', 'cancel', 'human', 'language', 'help', 'book', 'myBookings', 'status', 'complaint', 'rate', 'info'] as const;
export type Intent = (typeof INTENTS)[number];

/** Telegram commands (and the deep-link payload of /start) that mean an intent. */
export const COMMAND_INTENTS: Record<string, Intent> = {
  menu: 'menu',
  cancel: 'cancel',
  stop: 'cancel',
  human: 'human',
  language: 'language',
  help: 'help',
  book: 'book',
  mybookings: 'myBookings',
  status: 'status',
  complaint: 'complaint',
  rate: 'rate',
  info: 'info',
};

/**
 * Folds what people type into one comparable form: full-width to half-width (NFKC), lower case,
 * collapsed spaces, and no trailing punctuation ("Menu!" and "選單。" match "menu" and "選單").
 */
export function normalizeWords(text: string): string {
  const folded = text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
  const stripped = folded.replace(/^[\p{P}\p{S}\s]+|[\p{P}\p{S}\s]+$/gu, '');
  return stripped || folded;
}

/**
 * Recognises a whole message as an intent word in any supported language (a customer who chose
 * English may still type 選單). Only whole-message matches count, so a sentence that merely contains
 * "cancel" is left to the flow that asked the question.
 */
export function createIntentMatcher(t: Translator): (text: string) => Intent | null {
  const index = new Map<string, Intent>();
  for (const locale of SUPPORTED_LOCALES) {
    for (const intent of INTENTS) {
      for (const word of t.list(locale, `intents:${intent}`)) index.set(normalizeWords(word), intent);
      if (t.has(locale, `menu.${intent}`)) index.set(normalizeWords(t.t(locale, `menu.${intent}`)), intent);
    }
  }
  for (const [command, intent] of Object.entries(COMMAND_INTENTS)) index.set(`/${command}`, intent);
  return (text) => index.get(normalizeWords(text)) ?? index.get(text.normalize('NFKC').toLowerCase().trim()) ?? null;
}
