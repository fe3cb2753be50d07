import { HTTPFetchError, messagingApi } from '@line/bot-sdk';
import type { Config } from '../../config';
import { intentButtons } from '../../conversation/button-ids';
import type { Intent } from '../../conversation/intents';
import type { Translator } from '../../i18n';
import { isLocale, SUPPORTED_LOCALES, type Locale } from '../../i18n/locales';
import { LINE_LIMITS, truncateChars } from '../limits';

/** The full-height rich menu: two rows of three large buttons. */
export const RICH_MENU_SIZE = { width: 2500, height: 1686 } as const;

/**
 * The six buttons, left to right and top to bottom, as the choice ids the menu flow understands and
 * the `menu.*` text each shows. The image in assets/rich-menu/ draws the same texts in the same places.
 */
export const RICH_MENU_BUTTONS: readonly { id: string; key: string }[] = (['book', 'myBookings', 'status', 'complaint', 'human', 'language'] as const satisfies readonly Intent[]).map(
  (intent) => ({ id: intentButtons.id(intent), key: `menu.${intent}` }),
);

/**
 * Every menu this service creates is named with this prefix and its locale, `dealer-chat default menu (ja)`:
 * a new setup retires the old ones by it, and the link job finds each locale's menu by it.
 */
export const RICH_MENU_NAME_PREFIX = 'dealer-chat default menu';

/** The name of the menu in one locale. */
export function richMenuName(locale: Locale): string {
  return `${RICH_MENU_NAME_PREFIX} (${locale})`;
}

/** The locale of a menu this service made, from its name; null for any other menu of the channel. */
export function localeOfRichMenu(name: string): Locale | null {
  const opening = `${RICH_MENU_NAME_PREFIX} (`;
  if (!name.startsWith(opening) || !name.endsWith(')')) return null;
  const locale = name.slice(opening.length, -1);
  return isLocale(locale) ? locale : null;
}

/** LINE shows at most 14 characters on the bar that opens the menu. */
const CHAT_BAR_CHARS = 14;
const DISPLAY_TEXT_CHARS = 300;

/** Something the operator has to fix before the menu can be set up; the message says what. */
export class LineSetupError extends Error {
  constructor(readonly problems: string[]) {
    super(`LINE setup cannot run:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'LineSetupError';
  }
}

export interface RichMenuSetupOptions {
  translator: Translator;
  /** Each locale's menu picture (2500×1686, PNG or JPEG, at most 1 MB), drawn in that language. */
  images: Record<Locale, Uint8Array>;
  imageType?: 'image/png' | 'image/jpeg';
}

export interface RichMenuSetupResult {
  /** One menu per locale, with its LINE id: the link job gives each customer the one of their language. */
  menus: { locale: Locale; richMenuId: string; buttons: { id: string; label: string }[] }[];
  /** The default locale's menu, made the default for every customer not linked yet. */
  defaultRichMenuId: string;
  defaultLocale: Locale;
  /** Menus of earlier runs that were deleted once the new ones were in place. */
  removed: string[];
}

/** A text in the locale, or in English when the locale's file does not have it yet. */
function localText(translator: Translator, locale: Locale, key: string): string {
  return translator.t(translator.has(locale, key) ? locale : 'en', key);
}

/** The six button texts in one locale. */
export function richMenuLabels(translator: Translator, locale: Locale): { id: string; label: string }[] {
  return RICH_MENU_BUTTONS.map(({ id, key }) => ({ id, label: localText(translator, locale, key) }));
}

/**
 * The rich menu in one locale: a 3×2 grid whose areas post back the menu's choice ids. The tap shows
 * the button's text in the chat (displayText) so the conversation reads as the customer's own answer.
 */
export function buildRichMenu(translator: Translator, locale: Locale): messagingApi.RichMenuRequest {
  const { width, height } = RICH_MENU_SIZE;
  const columns = 3;
  const rows = 2;
  const xs = Array.from({ length: columns + 1 }, (_, i) => Math.round((width * i) / columns));
  const ys = Array.from({ length: rows + 1 }, (_, i) => Math.round((height * i) / rows));
  const areas = richMenuLabels(translator, locale).map(({ id, label }, i): messagingApi.RichMenuArea => {
    const col = i % columns;
    const row = Math.floor(i / columns);
    return {
      bounds: { x: xs[col]!, y: ys[row]!, width: xs[col + 1]! - xs[col]!, height: ys[row + 1]! - ys[row]! },
      action: { type: 'postback', label: truncateChars(label, LINE_LIMITS.actionLabelChars), data: id, displayText: truncateChars(label, DISPLAY_TEXT_CHARS) },
    };
  });
  return {
    size: { width, height },
    selected: true,
    name: richMenuName(locale),
    chatBarText: truncateChars(localText(translator, locale, 'commands.menu'), CHAT_BAR_CHARS),
    areas,
  };
}

/**
 * Creates the rich menu in every language the service speaks, uploads each one's picture through the data
 * API, makes the dealership's default language's menu the default for every customer, then deletes the
 * menus earlier runs left, so running it again (after a new picture) replaces the menus instead of piling up
 * copies. Each customer then gets the menu of their own language from the link job (rich-menu-links.ts),
 * which finds these menus by their names; a replaced menu is linked again there within minutes.
 * Throws LineSetupError when LINE is not configured or refuses a step, leaving none of this run's menus behind.
 */
export async function setupLineRichMenus(config: Config, opts: RichMenuSetupOptions): Promise<RichMenuSetupResult> {
  const line = config.line;
  if (!line) throw new LineSetupError([config.disabledChannels.line ?? 'LINE is not configured: set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN']);
  const client = new messagingApi.MessagingApiClient({ channelAccessToken: line.channelAccessToken, baseURL: line.apiBaseUrl });
  const blobClient = new messagingApi.MessagingApiBlobClient({ channelAccessToken: line.channelAccessToken, baseURL: line.dataApiBaseUrl });

  const step = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof HTTPFetchError)) {
        const detail = err instanceof Error ? err.message : String(err);
        throw new LineSetupError([`could not reach LINE while ${what}: ${detail} (check LINE_API_BASE_URL and LINE_DATA_API_BASE_URL)`]);
      }
      let message = err.body;
      try {
        const parsed = JSON.parse(err.body) as { message?: string; details?: { property?: string; message?: string }[] };
        message = [parsed.message, ...(parsed.details ?? []).map((d) => `${d.property}: ${d.message}`)].filter(Boolean).join('; ');
      } catch {
        // not JSON: keep the body as LINE sent it
      }
      const hint = err.status === 401 ? ' (check LINE_CHANNEL_ACCESS_TOKEN)' : '';
      throw new LineSetupError([`LINE refused ${what}: ${err.status} ${message}${hint}`]);
    }
  };

  const defaultLocale = config.dealer.defaultLocale;
  const menus: RichMenuSetupResult['menus'] = [];
  try {
    for (const locale of SUPPORTED_LOCALES) {
      const { richMenuId } = await step(`creating the ${locale} rich menu`, () => client.createRichMenu(buildRichMenu(opts.translator, locale)));
      menus.push({ locale, richMenuId, buttons: richMenuLabels(opts.translator, locale) });
      const image = new Blob([new Uint8Array(opts.images[locale])], { type: opts.imageType ?? 'image/png' });
      await step(`uploading the ${locale} rich menu image`, () => blobClient.setRichMenuImage(richMenuId, image));
    }
    const defaultMenu = menus.find((m) => m.locale === defaultLocale)!;
    await step('setting the default rich menu', () => client.setDefaultRichMenu(defaultMenu.richMenuId));
  } catch (err) {
    // Menus without a picture, or a set never made default, are of no use; leave nothing half-made behind.
    for (const menu of menus) await client.deleteRichMenu(menu.richMenuId).catch(() => undefined);
    throw err;
  }

  const made = new Set(menus.map((m) => m.richMenuId));
  const { richmenus } = await step('listing rich menus', () => client.getRichMenuList());
  const removed: string[] = [];
  for (const old of richmenus) {
    if (made.has(old.richMenuId) || !old.name.startsWith(RICH_MENU_NAME_PREFIX)) continue;
    await step(`deleting the old rich menu ${old.richMenuId}`, () => client.deleteRichMenu(old.richMenuId));
    removed.push(old.richMenuId);
  }
  return { menus, defaultRichMenuId: menus.find((m) => m.locale === defaultLocale)!.richMenuId, defaultLocale, removed };
}
