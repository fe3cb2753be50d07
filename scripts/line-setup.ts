/*
 * npm run line:setup — creates the rich menu (the six-button menu under the chat) in every language the
 * service speaks, each with its picture from assets/rich-menu/<locale>.png, and makes the DEFAULT_LOCALE one
 * the default. The running service then links each LINE customer to the menu of their own language.
 * Needs LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN in the environment.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import process from 'node:process';
import { LineSetupError, setupLineRichMenus } from '../src/channels/line/rich-menu';
import { ConfigError, parseConfig } from '../src/config';
import { createTranslator } from '../src/i18n';
import { SUPPORTED_LOCALES, type Locale } from '../src/i18n/locales';

/** A file of the project, found from here whether this runs as scripts/line-setup.ts or compiled in dist/scripts/. */
function projectFile(path: string): URL {
  for (let dir = new URL('./', import.meta.url); dir.pathname !== '/'; dir = new URL('../', dir)) {
    if (existsSync(new URL(path, dir))) return new URL(path, dir);
  }
  throw new LineSetupError([`${path} is not in any folder above ${new URL('./', import.meta.url).pathname}`]);
}

try {
  const config = parseConfig(process.env);
  if (!config.line) throw new LineSetupError([config.disabledChannels.line ?? 'LINE is not configured']);
  const images = {} as Record<Locale, Uint8Array>;
  const pictures = {} as Record<Locale, string>;
  for (const locale of SUPPORTED_LOCALES) {
    const file = projectFile(`assets/rich-menu/${locale}.png`);
    pictures[locale] = file.pathname;
    images[locale] = await readFile(file);
  }
  const result = await setupLineRichMenus(config, { translator: createTranslator('en'), images, imageType: 'image/png' });
  console.log('Rich menus created:');
  for (const menu of result.menus) {
    console.log(`  ${menu.locale.padEnd(6)} ${menu.richMenuId}${menu.locale === result.defaultLocale ? '  (default for every customer)' : ''}`);
    console.log(`         ${menu.buttons.map((b) => b.label).join(' | ')}`);
    console.log(`         picture ${pictures[menu.locale]}`);
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
