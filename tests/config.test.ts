import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config';

describe('configuration', () => {
  it('runs with nothing set: SQLite under ./data, port 3000, Asia/Taipei, zh-TW, no platform channels', () => {
    const config = parseConfig({});
    expect(config.port).toBe(3000);
    expect(config.database).toEqual({ kind: 'sqlite', path: './data/dealer-chat.sqlite' });
    expect(config.dealer).toMatchObject({ timeZone: 'Asia/Taipei', defaultLocale: 'zh-TW' });
    expect(config.line).toBeNull();
    expect(config.telegram).toBeNull();
    expect(config.disabledChannels.line).toContain('LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN');
  });

  it('reads Postgres and the platform settings', () => {
    const config = parseConfig({
      DATABASE_URL: 'postgres://dealer@db:5432/chat',
      LINE_CHANNEL_SECRET: 's',
      LINE_CHANNEL_ACCESS_TOKEN: 't',
      LINE_API_BASE_URL: 'http://127.0.0.1:9000',
      TELEGRAM_BOT_TOKEN: '1:x',
      TELEGRAM_WEBHOOK_SECRET: 'abc_DEF-123',
    });
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://dealer@db:5432/chat' });
    expect(config.line).toMatchObject({ apiBaseUrl: 'http://127.0.0.1:9000', dataApiBaseUrl: 'https://api-data.line.me' });
    expect(config.telegram).toMatchObject({ apiBaseUrl: 'https://api.telegram.org', webhookSecret: 'abc_DEF-123' });
  });

  it('disables a channel that has only half its secrets, saying which one is missing', () => {
    const config = parseConfig({ TELEGRAM_BOT_TOKEN: '1:x' });
    expect(config.telegram).toBeNull();
    expect(config.disabledChannels.telegram).toBe('Telegram is not configured: set TELEGRAM_WEBHOOK_SECRET');
  });

  it('reads the dealership’s countries, and where web chat customers may continue', () => {
    expect(parseConfig({}).dealer.countries).toEqual(['TW']);
    expect(parseConfig({ DEALER_COUNTRY: 'jp, TH,JP' }).dealer.countries).toEqual(['JP', 'TH']);
    expect(() => parseConfig({ DEALER_COUNTRY: 'TW,FR' })).toThrow(/DEALER_COUNTRY: expected one or more of TW, JP, TH/);
    // Offered only for a channel that is configured.
    expect(parseConfig({ TELEGRAM_BOT_USERNAME: '@DemoBot', LINE_ACCOUNT_ID: '@demo' }).continueOn).toEqual({ telegramBotUsername: null, lineAccountId: null });
    const both = parseConfig({ TELEGRAM_BOT_TOKEN: '1:x', TELEGRAM_WEBHOOK_SECRET: 's', TELEGRAM_BOT_USERNAME: '@DemoBot', LINE_CHANNEL_SECRET: 's', LINE_CHANNEL_ACCESS_TOKEN: 't', LINE_ACCOUNT_ID: '@demo' });
    expect(both.continueOn).toEqual({ telegramBotUsername: 'DemoBot', lineAccountId: '@demo' });
    expect(() => parseConfig({ LINE_ACCOUNT_ID: 'no at sign' })).toThrow(/LINE_ACCOUNT_ID/);
  });

  it('stops with a message naming each wrong variable and what is expected', () => {
    let error: unknown;
    try {
      parseConfig({ PORT: 'eighty', DEALER_TIMEZONE: 'Mars/Olympus', DEFAULT_LOCALE: 'fr', TELEGRAM_WEBHOOK_SECRET: 'has spaces', DATABASE_URL: 'mysql://x' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('PORT: expected a whole number');
    expect(message).toContain('DEALER_TIMEZONE: expected an IANA time zone');
    expect(message).toContain('DEFAULT_LOCALE: expected one of zh-TW, zh-CN, en, ja, th');
    expect(message).toContain('TELEGRAM_WEBHOOK_SECRET');
    expect(message).toContain('DATABASE_URL');
  });
});
