import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setupTelegramBot, TELEGRAM_COMMANDS, telegramCommandList, telegramWebhookUrl, TelegramSetupError } from '../../../src/channels/telegram/setup';
import { createTranslator, type Translator } from '../../../src/i18n';
import en from '../../../locales/en/common.json';
import ja from '../../../locales/ja/common.json';
import th from '../../../locales/th/common.json';
import zhCN from '../../../locales/zh-CN/common.json';
import zhTW from '../../../locales/zh-TW/common.json';
import { startFakeTelegramApi, type FakeTelegramApi } from '../../fakes/telegram-api';
import { TEST_TELEGRAM_SECRET, testConfig } from '../../helpers/config';

const commandsOf = (texts: { commands: Record<string, string> }) => TELEGRAM_COMMANDS.map((command) => ({ command, description: texts.commands[command] }));

describe('setupTelegramBot against the fake Bot API', () => {
  let fake: FakeTelegramApi;
  const translator = createTranslator('en');
  beforeEach(async () => {
    fake = await startFakeTelegramApi();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('sets the webhook with its secret and the updates the parser reads', async () => {
    const config = testConfig({ PUBLIC_BASE_URL: 'https://service.dealer.example/' }, { telegram: fake.url });
    const result = await setupTelegramBot(config, translator);
    expect(result.webhookUrl).toBe('https://service.dealer.example/webhooks/telegram');
    expect(fake.webhook).toEqual({
      url: 'https://service.dealer.example/webhooks/telegram',
      secretToken: TEST_TELEGRAM_SECRET,
      allowedUpdates: ['message', 'callback_query', 'my_chat_member'],
      dropPendingUpdates: false,
      maxConnections: 40,
    });
    expect(fake.requests.find((r) => r.method === 'setWebhook')!.params.drop_pending_updates).toBe('false');
  });

  it("sets the command menu in the dealership's language and in each language Telegram names", async () => {
    await setupTelegramBot(testConfig({ PUBLIC_BASE_URL: 'https://dealer.example' }, { telegram: fake.url }), translator);
    expect(fake.commands()).toEqual(commandsOf(zhTW));
    expect(fake.commands('en')).toEqual(commandsOf(en));
    expect(fake.commands('ja')).toEqual(commandsOf(ja));
    expect(fake.commands('th')).toEqual(commandsOf(th));
    expect(fake.commands('zh')).toEqual(commandsOf(zhTW));
    expect(fake.requests.filter((r) => r.method === 'setMyCommands')).toHaveLength(5);
  });

  it('gives Chinese readers Simplified texts when that is the default locale', async () => {
    await setupTelegramBot(testConfig({ PUBLIC_BASE_URL: 'https://dealer.example', DEFAULT_LOCALE: 'zh-CN' }, { telegram: fake.url }), translator);
    expect(fake.commands()).toEqual(commandsOf(zhCN));
    expect(fake.commands('zh')).toEqual(commandsOf(zhCN));
  });

  it('keeps a path prefix of the public URL', () => {
    expect(telegramWebhookUrl('https://dealer.example/chat-service//')).toBe('https://dealer.example/chat-service/webhooks/telegram');
  });

  it('names every missing setting before calling Telegram', async () => {
    const err = await setupTelegramBot(testConfig({ TELEGRAM_BOT_TOKEN: 'only-a-token' }), translator).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TelegramSetupError);
    expect((err as Error).message).toMatch(/TELEGRAM_WEBHOOK_SECRET/);
    expect((err as Error).message).not.toMatch(/set TELEGRAM_BOT_TOKEN/);
    expect((err as Error).message).toMatch(/PUBLIC_BASE_URL is not set/);
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses a public URL Telegram would not call', async () => {
    const config = testConfig({ PUBLIC_BASE_URL: 'http://dealer.example' }, { telegram: fake.url });
    await expect(setupTelegramBot(config, translator)).rejects.toThrow(/PUBLIC_BASE_URL must start with https/);
    expect(fake.requests).toHaveLength(0);
  });

  it('says which call Telegram refused and hints at the token', async () => {
    const config = testConfig({ PUBLIC_BASE_URL: 'https://dealer.example', TELEGRAM_BOT_TOKEN: '1:revoked' }, { telegram: fake.url });
    await expect(setupTelegramBot(config, translator)).rejects.toThrow(/Telegram refused setWebhook: 401 Unauthorized \(check TELEGRAM_BOT_TOKEN\)/);
  });
});

describe('telegramCommandList', () => {
  it('takes a text missing from a locale from English', () => {
    const real = createTranslator('en');
    const missingHelp: Translator = { ...real, has: (locale, key) => !(locale === 'ja' && key === 'commands.help') && real.has(locale, key) };
    const list = telegramCommandList(missingHelp, 'ja');
    expect(list.find((c) => c.command === 'help')!.description).toBe(en.commands.help);
    expect(list.find((c) => c.command === 'book')!.description).toBe(ja.commands.book);
  });

  it('lists every command the service answers, in Telegram-valid names', () => {
    expect(TELEGRAM_COMMANDS).toEqual(['start', 'menu', 'book', 'mybookings', 'status', 'complaint', 'rate', 'human', 'language', 'help', 'cancel']);
    for (const c of TELEGRAM_COMMANDS) expect(c).toMatch(/^[a-z0-9_]{1,32}$/);
  });
});
