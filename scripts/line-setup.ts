/*
 * npm run line:setup — creates the rich menu (the six-button menu under the chat) in the dealership's
 * DEFAULT_LOCALE, uploads its picture from assets/rich-menu/<locale>.png and makes it the default.
 * Needs LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN in the environment.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import process from 'node:process';
import { LineSetupError, setupLineRichMenu } from '../src/channels/line/rich-menu';
import { ConfigError, parseConfig } from '../src/config';
import { createTranslator } from '../src/i18n';

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
  const imageUrl = projectFile(`assets/rich-menu/${config.dealer.defaultLocale}.png`);
  const image = await readFile(imageUrl);
  const result = await setupLineRichMenu(config, { translator: createTranslator('en'), image, imageType: 'image/png' });
  console.log(`Rich menu created: ${result.richMenuId} (${result.locale}, picture ${imageUrl.pathname})`);
  for (const button of result.buttons) console.log(`  ${button.id.padEnd(14)} ${button.label}`);
  console.log(`Set as the default rich menu for every customer on ${config.line.apiBaseUrl}`);
  if (result.removed.length > 0) console.log(`Removed earlier menus: ${result.removed.join(', ')}`);
} catch (err) {
  if (err instanceof ConfigError || err instanceof LineSetupError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
