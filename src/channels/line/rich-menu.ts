import { HTTPFetchError, messagingApi } from '@line/bot-sdk';
import type { Config } from '../../config';
import { intentButtons } from '../../conversation/button-ids';
import type { Intent } from '../../conversation/intents';
import type { Translator } from '../../i18n';
import type { Locale } from '../../i18n/locales';
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

/** Every menu this service creates is named with this prefix, so a new run can retire the old ones. */
export const RICH_MENU_NAME_PREFIX = 'dealer-chat default menu';

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
  /** The menu picture (2500×1686, PNG or JPEG, at most 1 MB), drawn in the dealership's default language. */
  image: Uint8Array;
  imageType?: 'image/png' | 'image/jpeg';
}

export interface RichMenuSetupResult {
  richMenuId: string;
  locale: Locale;
  buttons: { id: string; label: string }[];
  /** Menus of earlier runs that were deleted once the new one was the default. */
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
    name: `${RICH_MENU_NAME_PREFIX} (${locale})`,
    chatBarText: truncateChars(localText(translator, locale, 'commands.menu'), CHAT_BAR_CHARS),
    areas,
  };
}

/**
 * Creates the dealership's rich menu in its default language, uploads its picture through the data API,
 * makes it the default for every customer, then deletes the menus earlier runs left, so running it
 * again (after a change of language or picture) replaces the menu instead of piling up copies.
 * Throws LineSetupError when LINE is not configured or refuses a step.
 */
export async function setupLineRichMenu(config: Config, opts: RichMenuSetupOptions): Promise<RichMenuSetupResult> {
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

  const locale = config.dealer.defaultLocale;
  const menu = buildRichMenu(opts.translator, locale);
  const { richMenuId } = await step('creating the rich menu', () => client.createRichMenu(menu));
  try {
    const image = new Blob([new Uint8Array(opts.image)], { type: opts.imageType ?? 'image/png' });
    await step('uploading the rich menu image', () => blobClient.setRichMenuImage(richMenuId, image));
    await step('setting the default rich menu', () => client.setDefaultRichMenu(richMenuId));
  } catch (err) {
    // A menu without a picture or never made default is of no use; leave nothing half-made behind.
    await client.deleteRichMenu(richMenuId).catch(() => undefined);
    throw err;
  }

  const { richmenus } = await step('listing rich menus', () => client.getRichMenuList());
  const removed: string[] = [];
  for (const old of richmenus) {
    if (old.richMenuId === richMenuId || !old.name.startsWith(RICH_MENU_NAME_PREFIX)) continue;
    await step(`deleting the old rich menu ${old.richMenuId}`, () => client.deleteRichMenu(old.richMenuId));
    removed.push(old.richMenuId);
  }
  return { richMenuId, locale, buttons: richMenuLabels(opts.translator, locale), removed };
}
