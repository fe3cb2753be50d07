/*
 * npm run line:setup — creates the rich menu (the six-button menu under the chat) in every language the
 * service speaks, each with its picture from assets/rich-menu/<locale>.png, and makes the DEFAULT_LOCALE one
 * the default. The running service then links each LINE customer to the menu of their own language.
 * Needs LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN in the environment.
 */
import { readFile } from 'node:fs/promises';
import process from 'node:process';
import { LineSetupError, setupLineRichMenus } from '../src/channels/line/rich-menu';
import { ConfigError, parseConfig } from '../src/config';
import { createTranslator } from '../src/i18n';
import { SUPPORTED_LOCALES, type Locale } from '../src/i18n/locales';

try {
  const config = parseConfig(process.env);
  if (!config.line) throw new LineSetupError([config.disabledChannels.line ?? 'LINE is not configured']);
  const images = {} as Record<Locale, Uint8Array>;
  for (const locale of SUPPORTED_LOCALES) images[locale] = await readFile(new URL(`../assets/rich-menu/${locale}.png`, import.meta.url));
  const result = await setupLineRichMenus(config, { translator: createTranslator('en'), images, imageType: 'image/png' });
  console.log('Rich menus created (pictures from assets/rich-menu/):');
  for (const menu of result.menus) {
    console.log(`  ${menu.locale.padEnd(6)} ${menu.richMenuId}${menu.locale === result.defaultLocale ? '  (default for every customer)' : ''}`);
    console.log(`         ${menu.buttons.map((b) => b.label).join(' | ')}`);
  }
  console.log(`Each LINE customer is linked to the menu of their language by the running service, within minutes.`);
  if (result.removed.length > 0) console.log(`Removed earlier menus: ${result.removed.join(', ')}`);
} catch (err) {
  if (err instanceof ConfigError || err instanceof LineSetupError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
