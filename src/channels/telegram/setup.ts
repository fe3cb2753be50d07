import { Api, TelegramApiError, type BotCommand } from 'node-telegram-bot-api';
import type { Config } from '../../config';
import type { Translator } from '../../i18n';
import { resolveLocale, type Locale } from '../../i18n/locales';
import { truncateChars } from '../limits';

/** The commands Telegram lists in the menu button; each has a `commands.<name>` text in every locale. */
export const TELEGRAM_COMMANDS = ['start', 'menu', 'book', 'mybookings', 'status', 'complaint', 'rate', 'human', 'language', 'help', 'cancel'] as const;

/** Only what the parser turns into events; asking for less keeps Telegram from posting what we would ignore. */
export const TELEGRAM_ALLOWED_UPDATES = ['message', 'callback_query', 'my_chat_member'] as const;

/** Telegram allows at most 256 characters in a command description. */
const DESCRIPTION_CHARS = 256;

/** Something the operator has to fix before the bot can be registered; the message says what. */
export class TelegramSetupError extends Error {
  constructor(readonly problems: string[]) {
    super(`Telegram setup cannot run:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'TelegramSetupError';
  }
}

export interface TelegramSetupResult {
  webhookUrl: string;
  allowedUpdates: string[];
  /** Each command list set: `languageCode` null is the list for every language without its own. */
  commandLists: { languageCode: string | null; locale: Locale; commands: BotCommand[] }[];
}

export interface TelegramSetupOptions {
  fetch?: typeof fetch;
}

/** Where Telegram posts updates for a public base URL, keeping any path prefix a proxy adds. */
export function telegramWebhookUrl(publicBaseUrl: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/webhooks/telegram`;
}

/**
 * Telegram's two-letter language codes and the locale whose texts each gets. Telegram knows only "zh",
 * so Chinese readers see the dealership's own Chinese (Traditional unless the default is Simplified).
 */
export function telegramCommandLanguages(defaultLocale: Locale): { languageCode: string; locale: Locale }[] {
  return [
    { languageCode: 'en', locale: 'en' },
    { languageCode: 'ja', locale: 'ja' },
    { languageCode: 'th', locale: 'th' },
    { languageCode: 'zh', locale: resolveLocale('zh', defaultLocale) ?? 'zh-TW' },
  ];
}

/** The command list in one locale; a text missing from that locale's file is taken from English. */
export function telegramCommandList(translator: Translator, locale: Locale): BotCommand[] {
  return TELEGRAM_COMMANDS.map((command) => {
    const key = `commands.${command}`;
    const from: Locale = translator.has(locale, key) ? locale : 'en';
    return { command, description: truncateChars(translator.t(from, key), DESCRIPTION_CHARS) };
  });
}

function problemsWith(config: Config): string[] {
  const problems: string[] = [];
  if (!config.telegram) problems.push(config.disabledChannels.telegram ?? 'Telegram is not configured: set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET');
  if (!config.publicBaseUrl) problems.push('PUBLIC_BASE_URL is not set: give the https address where Telegram reaches this service');
  else if (!config.publicBaseUrl.startsWith('https://')) problems.push(`PUBLIC_BASE_URL must start with https:// (Telegram calls only https webhooks); got ${config.publicBaseUrl}`);
  return problems;
}

/**
 * Registers the bot with Telegram: the webhook (with its secret token, so the webhook route can tell
 * Telegram's calls from anyone else's) and the command menu in every language the dealership speaks.
 * Safe to run again: each call replaces what the previous one set. Throws TelegramSetupError naming
 * the missing settings or the call Telegram refused.
 */
export async function setupTelegramBot(config: Config, translator: Translator, opts: TelegramSetupOptions = {}): Promise<TelegramSetupResult> {
  const problems = problemsWith(config);
  if (problems.length > 0 || !config.telegram || !config.publicBaseUrl) throw new TelegramSetupError(problems);

  const api = new Api(config.telegram.botToken, {
    apiRoot: config.telegram.apiBaseUrl,
    fetch: opts.fetch ?? ((input, init) => fetch(input, init)),
  });
  const step = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      const detail = err instanceof TelegramApiError ? `${err.errorCode} ${err.description}` : err instanceof Error ? err.message : String(err);
      const hint = err instanceof TelegramApiError && (err.errorCode === 401 || err.errorCode === 404) ? ' (check TELEGRAM_BOT_TOKEN)' : '';
      throw new TelegramSetupError([`Telegram refused ${what}: ${detail}${hint}`]);
    }
  };

  const webhookUrl = telegramWebhookUrl(config.publicBaseUrl);
  const allowedUpdates = [...TELEGRAM_ALLOWED_UPDATES];
  await step('setWebhook', () =>
    api.setWebhook({ url: webhookUrl, secret_token: config.telegram!.webhookSecret, allowed_updates: allowedUpdates, drop_pending_updates: false }),
  );

  const defaultLocale = config.dealer.defaultLocale;
  const commandLists: TelegramSetupResult['commandLists'] = [
    { languageCode: null, locale: defaultLocale, commands: telegramCommandList(translator, defaultLocale) },
    ...telegramCommandLanguages(defaultLocale).map(({ languageCode, locale }) => ({ languageCode, locale, commands: telegramCommandList(translator, locale) })),
  ];
  for (const list of commandLists) {
    await step(`setMyCommands${list.languageCode ? ` (${list.languageCode})` : ''}`, () =>
      api.setMyCommands({ commands: list.commands, ...(list.languageCode ? { language_code: list.languageCode } : {}) }),
    );
  }
  return { webhookUrl, allowedUpdates, commandLists };
}
