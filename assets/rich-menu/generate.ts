/*
 * Draws the LINE rich menu pictures (<locale>.png, 2500×1686) from template.html with the `menu.*`
 * texts of each locale, so a change of wording or a new locale is one command:
 *
 *   apt-get install -y chromium fonts-noto-cjk fonts-thai-tlwg   # once
 *   npx tsx assets/rich-menu/generate.ts [locale …]
 *
 * LINE refuses a rich menu picture over 1 MB; the script fails rather than write one.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const LOCALES = ['zh-TW', 'zh-CN', 'en', 'ja', 'th'] as const;
const KEYS = ['book', 'myBookings', 'status', 'complaint', 'human', 'language'] as const;
const WIDTH = 2500;
const HEIGHT = 1686;
const MAX_BYTES = 1024 * 1024;

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

async function labels(locale: string): Promise<Record<string, string>> {
  const read = async (lng: string) => JSON.parse(await readFile(join(root, 'locales', lng, 'common.json'), 'utf8')) as { menu?: Record<string, string> };
  const own = (await read(locale)).menu ?? {};
  const en = (await read('en')).menu ?? {};
  return Object.fromEntries(KEYS.map((key) => [key, own[key] ?? en[key] ?? key]));
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const locales = wanted.length > 0 ? LOCALES.filter((l) => wanted.includes(l)) : [...LOCALES];
  const template = await readFile(join(here, 'template.html'), 'utf8');
  const profile = await mkdtemp(join(tmpdir(), 'rich-menu-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: WIDTH, height: HEIGHT },
    deviceScaleFactor: 1,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await context.newPage();
    for (const locale of locales) {
      const text = await labels(locale);
      let html = template.replace('{{lang}}', locale);
      for (const key of KEYS) html = html.replace(`{{${key}}}`, escapeHtml(text[key]!));
      // Fonts first, then the template's own script sizes each label to the loaded font.
      await page.setContent(html.replace(/<script>[\s\S]*<\/script>/, ''), { waitUntil: 'load' });
      await page.evaluate(() => document.fonts.ready);
      await page.setContent(html, { waitUntil: 'load' });
      await page.waitForSelector('body[data-fitted="yes"]', { state: 'attached' });
      const png = await page.screenshot({ type: 'png', clip: { x: 0, y: 0, width: WIDTH, height: HEIGHT } });
      if (png.length > MAX_BYTES) throw new Error(`${locale}.png is ${png.length} bytes; LINE takes at most ${MAX_BYTES}`);
      const file = join(here, `${locale}.png`);
      await writeFile(file, png);
      console.log(`${file}: ${(await stat(file)).size} bytes — ${KEYS.map((k) => text[k]).join(' | ')}`);
    }
  } finally {
    await context.close();
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await rm(profile, { recursive: true, force: true });
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }
}

await main();
