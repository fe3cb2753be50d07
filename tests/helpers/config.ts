import { parseConfig, type Config } from '../../src/config';

export const TEST_LINE_SECRET = 'test-line-channel-secret';
export const TEST_LINE_TOKEN = 'test-line-access-token';
export const TEST_TELEGRAM_TOKEN = '123456:TEST-telegram-bot-token';
export const TEST_TELEGRAM_SECRET = 'test-telegram-webhook-secret';

/** A config as an operator would write it, pointed at fake platform servers when given. */
export function testConfig(env: Record<string, string | undefined> = {}, fakes: { line?: string; telegram?: string } = {}): Config {
  return parseConfig({
    DEALER_NAME: 'Test Motors',
    WEB_CHAT_SECRET: 'web-chat-secret-for-tests-0123456789abcdef',
    ...(fakes.line
      ? { LINE_CHANNEL_SECRET: TEST_LINE_SECRET, LINE_CHANNEL_ACCESS_TOKEN: TEST_LINE_TOKEN, LINE_API_BASE_URL: fakes.line, LINE_DATA_API_BASE_URL: fakes.line }
      : {}),
    ...(fakes.telegram ? { TELEGRAM_BOT_TOKEN: TEST_TELEGRAM_TOKEN, TELEGRAM_WEBHOOK_SECRET: TEST_TELEGRAM_SECRET, TELEGRAM_API_BASE_URL: fakes.telegram } : {}),
    ...env,
  });
}
