import { readFileSync, statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildRichMenu, LineSetupError, localeOfRichMenu, RICH_MENU_BUTTONS, RICH_MENU_SIZE, richMenuName, setupLineRichMenus } from '../../../src/channels/line/rich-menu';
import { createTranslator } from '../../../src/i18n';
import { SUPPORTED_LOCALES, type Locale } from '../../../src/i18n/locales';
import { testConfig } from '../../helpers/config';
import { startFakeLineApi, type FakeLineApi } from '../../fakes/line-api';

const ASSETS = new URL('../../../assets/rich-menu/', import.meta.url);
const translator = createTranslator('en');
const picture = (locale: string) => new Uint8Array(readFileSync(new URL(`${locale}.png`, ASSETS)));

function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(view.getUint32(0)).toBe(0x89504e47);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

describe('the rich menu pictures', () => {
  it.each([...SUPPORTED_LOCALES])('%s.png is 2500×1686 and under 1 MB, as LINE requires', (locale) => {
    const bytes = picture(locale);
    expect(pngSize(bytes)).toEqual(RICH_MENU_SIZE);
    expect(statSync(new URL(`${locale}.png`, ASSETS)).size).toBeLessThan(1024 * 1024);
  });
});

describe('buildRichMenu', () => {
  it('lays six buttons out in a 3×2 grid that covers the picture exactly', () => {
    const menu = buildRichMenu(translator, 'en');
    const areas = menu.areas!;
    expect(areas).toHaveLength(6);
    expect(areas.reduce((sum, a) => sum + a.bounds!.width! * a.bounds!.height!, 0)).toBe(RICH_MENU_SIZE.width * RICH_MENU_SIZE.height);
    expect(areas.map((a) => [a.bounds!.x, a.bounds!.y])).toEqual([
      [0, 0],
      [833, 0],
      [1667, 0],
      [0, 843],
      [833, 843],
      [1667, 843],
    ]);
  });

  it.each([...SUPPORTED_LOCALES])('posts back the menu choices with the %s texts', (locale) => {
    const menu = buildRichMenu(translator, locale);
    expect(menu.chatBarText!.length).toBeLessThanOrEqual(14);
    menu.areas!.forEach((area, i) => {
      const action = area.action as { type: string; data: string; label: string; displayText: string };
      expect(action.type).toBe('postback');
      expect(action.data).toBe(RICH_MENU_BUTTONS[i]!.id);
      expect(action.displayText).toBe(translator.t(locale, RICH_MENU_BUTTONS[i]!.key));
      expect(action.label.length).toBeLessThanOrEqual(20);
    });
  });
});

describe('setupLineRichMenus against the fake LINE API', () => {
  let fake: FakeLineApi;
  beforeEach(async () => {
    fake = await startFakeLineApi();
  });
  afterEach(async () => {
    await fake.close();
  });

  const pictures = (override: Partial<Record<Locale, Uint8Array>> = {}) => Object.fromEntries(SUPPORTED_LOCALES.map((l) => [l, override[l] ?? picture(l)])) as Record<Locale, Uint8Array>;

  it('creates the menu in every language with its own picture, and makes the default language’s the default', async () => {
    const config = testConfig({ DEFAULT_LOCALE: 'zh-TW' }, { line: fake.url });
    const result = await setupLineRichMenus(config, { translator, images: pictures() });
    expect(result.menus.map((m) => m.locale)).toEqual([...SUPPORTED_LOCALES]);
    expect(result.defaultLocale).toBe('zh-TW');
    expect(result.menus.find((m) => m.locale === 'zh-TW')!.buttons).toEqual([
      { id: 'i:book', label: '預約保養維修' },
      { id: 'i:myBookings', label: '我的預約' },
      { id: 'i:status', label: '維修進度' },
      { id: 'i:complaint', label: '意見反映' },
      { id: 'i:human', label: '專人服務' },
      { id: 'i:language', label: '語言 Language' },
    ]);
    expect(fake.defaultRichMenuId).toBe(result.defaultRichMenuId);
    expect(result.defaultRichMenuId).toBe(result.menus.find((m) => m.locale === 'zh-TW')!.richMenuId);
    for (const { locale, richMenuId, buttons } of result.menus) {
      const menu = fake.richMenus.get(richMenuId)!;
      expect(menu.name).toBe(richMenuName(locale));
      expect(localeOfRichMenu(menu.name)).toBe(locale);
      // The picture of that language, not the default one for all.
      expect(menu.image).toMatchObject({ contentType: 'image/png', width: 2500, height: 1686, bytes: picture(locale).length });
      expect(menu.areas.map((a) => a.action.displayText)).toEqual(buttons.map((b) => b.label));
    }
    expect(new Set(result.menus.map((m) => fake.richMenus.get(m.richMenuId)!.image!.bytes)).size).toBe(SUPPORTED_LOCALES.length);
    expect(fake.requests.map((r) => `${r.kind} ${r.status}`)).toEqual([
      ...SUPPORTED_LOCALES.flatMap(() => ['richmenu.create 200', 'richmenu.content 200']),
      'richmenu.setDefault 200',
      'richmenu.list 200',
    ]);
  });

  it('replaces the menus of an earlier run instead of piling up copies', async () => {
    const config = testConfig({ DEFAULT_LOCALE: 'ja' }, { line: fake.url });
    const first = await setupLineRichMenus(config, { translator, images: pictures() });
    const second = await setupLineRichMenus(config, { translator, images: pictures() });
    expect(second.removed.sort()).toEqual(first.menus.map((m) => m.richMenuId).sort());
    expect([...fake.richMenus.keys()].sort()).toEqual(second.menus.map((m) => m.richMenuId).sort());
    expect(fake.defaultRichMenuId).toBe(second.menus.find((m) => m.locale === 'ja')!.richMenuId);
  });

  it('refuses with a clear message when LINE is not configured', async () => {
    const error = await setupLineRichMenus(testConfig(), { translator, images: pictures() }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(LineSetupError);
    expect((error as Error).message).toContain('LINE_CHANNEL_SECRET');
    expect(fake.requests).toEqual([]);
  });

  it('uploads through the data API base URL', async () => {
    const config = testConfig({ LINE_DATA_API_BASE_URL: 'http://127.0.0.1:9' }, { line: fake.url });
    const error = await setupLineRichMenus(config, { translator, images: pictures() }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(LineSetupError);
    expect((error as Error).message).toContain('could not reach LINE while uploading the zh-TW rich menu image');
    expect(fake.requests.some((r) => r.kind === 'richmenu.content')).toBe(false);
    expect(fake.richMenus.size).toBe(0);
  });

  it('leaves nothing half-made when LINE refuses one picture, and names the step', async () => {
    const config = testConfig({}, { line: fake.url });
    const error = await setupLineRichMenus(config, { translator, images: pictures({ ja: picture('ja').slice(0, 100) }) }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(LineSetupError);
    expect((error as Error).message).toMatch(/uploading the ja rich menu image: 400/);
    expect(fake.richMenus.size).toBe(0);
    expect(fake.defaultRichMenuId).toBeNull();
  });

  it('says which setting to check when LINE refuses the token', async () => {
    const config = testConfig({ LINE_CHANNEL_ACCESS_TOKEN: 'wrong' }, { line: fake.url });
    await expect(setupLineRichMenus(config, { translator, images: pictures() })).rejects.toThrow(/401.*LINE_CHANNEL_ACCESS_TOKEN/);
  });
});
