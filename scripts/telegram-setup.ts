/*
 * npm run telegram:setup — registers the webhook and the command menu with Telegram.
 * Needs TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET and an https PUBLIC_BASE_URL in the environment.
 */
import process from 'node:process';
import { setupTelegramBot, TelegramSetupError } from '../src/channels/telegram/setup';
import { ConfigError, parseConfig } from '../src/config';
import { createTranslator } from '../src/i18n';

try {
  const config = parseConfig(process.env);
  const result = await setupTelegramBot(config, createTranslator('en'));
  console.log(`Webhook set: ${result.webhookUrl} (updates: ${result.allowedUpdates.join(', ')})`);
  for (const list of result.commandLists) {
    console.log(`Commands set for ${list.languageCode ?? 'every other language'} from ${list.locale}: ${list.commands.map((c) => `/${c.command}`).join(' ')}`);
  }
} catch (err) {
  if (err instanceof ConfigError || err instanceof TelegramSetupError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
