import type { Choice, Input } from '../../channels/types';
import { LOCALE_NATIVE_NAMES, SUPPORTED_LOCALES, resolveLocale, type Locale } from '../../i18n/locales';
import { languageButtons } from '../button-ids';
import type { FlowContext } from '../flow';
import { normalizeWords } from '../intents';
import { defineFlow, pickOne, stepKit, type Option } from '../kit';

/*
 * Choosing the language every later message is written in: a button per language, or the language typed
 * by its own name ("日本語"), a name in another language ("english", "英文", "ภาษาไทย") or a code ("th").
 */

type Steps = { choose: Record<string, never> };
const { ask, reask, done } = stepKit<Steps>();

function options(ctx: FlowContext): Option<Locale>[] {
  return SUPPORTED_LOCALES.map((locale) => ({
    id: languageButtons.id(locale),
    label: { raw: LOCALE_NATIVE_NAMES[locale] },
    names: [LOCALE_NATIVE_NAMES[locale], ...ctx.words.all(`languages.${locale}`)],
    value: locale,
  }));
}

const choices = (ctx: FlowContext): Choice[] => options(ctx).map((o) => ({ kind: 'postback', id: o.id, label: o.label }));

function picked(ctx: FlowContext, input: Input): Locale | null {
  const chosen = pickOne(input, options(ctx));
  if (chosen || input.type !== 'text') return chosen;
  // A code such as "th" or "zh-tw"; a number is an option's place, already read above.
  const words = normalizeWords(input.text);
  return /^[a-z]{2}([-_][a-z]{2,4})?$/.test(words) ? resolveLocale(words, ctx.dealer.defaultLocale) : null;
}

function change(ctx: FlowContext, locale: Locale) {
  ctx.setLocale(locale);
  return done({ type: 'text', text: { key: 'language.changed' }, choices: ctx.menuChoices() });
}

export const languageFlow = defineFlow<Steps>({
  name: languageButtons.prefix,
  stateVersion: 2,
  intent: 'language',
  menuOrder: 90,
  start(ctx, input) {
    const locale = input ? picked(ctx, input) : null;
    if (locale) return change(ctx, locale);
    return ask('choose', {}, { type: 'text', text: { key: 'language.prompt' }, choices: choices(ctx) });
  },
  steps: {
    choose(ctx, state, input) {
      const locale = picked(ctx, input);
      if (locale) return change(ctx, locale);
      return reask('choose', state, { type: 'text', text: { key: 'language.reask' }, choices: choices(ctx) });
    },
  },
});
