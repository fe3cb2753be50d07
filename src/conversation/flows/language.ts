import type { Input } from '../../channels/types';
import { LOCALE_NATIVE_NAMES, SUPPORTED_LOCALES, isLocale, resolveLocale, type Locale } from '../../i18n/locales';
import { normalizeWords } from '../intents';
import { flowChoiceId, type Flow, type FlowContext, type StepResult } from '../flow';

const NAME = 'lang';

function languageChoices() {
  return SUPPORTED_LOCALES.map((locale) => ({ kind: 'postback' as const, id: flowChoiceId({ name: NAME }, locale), label: { raw: LOCALE_NATIVE_NAMES[locale] } }));
}

/** A language named in a button, a language code or the language's own name ("日本語", "english", "th"). */
function pickedLocale(input: Input, fallback: Locale): Locale | null {
  if (input.type === 'choice') {
    const code = input.id.slice(NAME.length + 1);
    return isLocale(code) ? code : null;
  }
  if (input.type !== 'text') return null;
  const words = normalizeWords(input.text);
  for (const locale of SUPPORTED_LOCALES) {
    if (normalizeWords(LOCALE_NATIVE_NAMES[locale]) === words) return locale;
  }
  const named: Record<string, Locale> = { english: 'en', chinese: 'zh-TW', 中文: 'zh-TW', 繁中: 'zh-TW', 简中: 'zh-CN', japanese: 'ja', thai: 'th', ไทย: 'th', 英文: 'en', 英语: 'en', 英語: 'en', 日文: 'ja', 日语: 'ja', 泰文: 'th', 泰语: 'th' };
  return named[words] ?? resolveLocale(words, fallback);
}

function change(ctx: FlowContext, locale: Locale): StepResult {
  ctx.setLocale(locale);
  return { replies: [{ type: 'text', text: { key: 'language.changed' }, choices: ctx.menuChoices() }], next: null };
}

/** Lets the customer choose the language every later message is written in. */
export const languageFlow: Flow = {
  name: NAME,
  stateVersion: 1,
  intent: 'language',
  menuOrder: 90,
  async start(ctx, input) {
    const locale = input ? pickedLocale(input, ctx.config.dealer.defaultLocale) : null;
    if (locale) return change(ctx, locale);
    return { replies: [{ type: 'text', text: { key: 'language.prompt' }, choices: languageChoices() }], next: { step: 'choose', state: {} } };
  },
  async step(ctx, _step, _state, input) {
    const locale = pickedLocale(input, ctx.config.dealer.defaultLocale);
    if (locale) return change(ctx, locale);
    return { replies: [{ type: 'text', text: { key: 'language.reask' }, choices: languageChoices() }], next: { step: 'choose', state: {} } };
  },
};
