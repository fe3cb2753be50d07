import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TEST_TELEGRAM_SECRET, testConfig } from '../../helpers/config';
import { startTestService, type TestService } from '../../helpers/service';
import { dialects } from '../../helpers/stores';
import { startFakeTelegramApi, type FakeTelegramApi } from '../../fakes/telegram-api';

const FIXTURES = new URL('../../fixtures/platforms/', import.meta.url);
let updateId = 5_000_000;

function privateMessage(chatId: number, text: string, language = 'en') {
  return {
    update_id: ++updateId,
    message: {
      message_id: updateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: 'private', first_name: 'Mei' },
      from: { id: chatId, is_bot: false, first_name: 'Mei', language_code: language },
      text,
      ...(text.startsWith('/') ? { entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }] } : {}),
    },
  };
}

function buttonPress(chatId: number, data: string, id = `cbq-${++updateId}`) {
  return {
    update_id: ++updateId,
    callback_query: {
      id,
      from: { id: chatId, is_bot: false, first_name: 'Mei', language_code: 'en' },
      chat_instance: '42',
      data,
      message: { message_id: 1, date: Math.floor(Date.now() / 1000), chat: { id: chatId, type: 'private', first_name: 'Mei' }, text: 'menu' },
    },
  };
}

describe.each(dialects)('Telegram webhook on $name', (dialect) => {
  let telegram: FakeTelegramApi;
  let svc: TestService;

  beforeAll(async () => {
    telegram = await startFakeTelegramApi();
  });
  afterAll(async () => {
    await telegram.close();
  });
  beforeEach(async () => {
    svc = await startTestService(dialect, testConfig({}, { telegram: telegram.url }));
  });
  afterEach(async () => {
    await svc.close();
  });

  const post = (body: unknown, secret: string | null = TEST_TELEGRAM_SECRET) =>
    svc.app.request('/webhooks/telegram', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(secret ? { 'x-telegram-bot-api-secret-token': secret } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('greets /start in the customer’s language with the menu as an inline keyboard of short ids', async () => {
    const res = await post(privateMessage(7001, '/start', 'ja'));
    expect(res.status).toBe(200);
    await svc.flush();
    const [greeting] = telegram.sent(7001);
    expect(greeting!.params.text).toContain('ようこそ');
    const keyboard = (greeting!.params.reply_markup as { inline_keyboard: { text: string; callback_data: string }[][] }).inline_keyboard.flat();
    expect(keyboard.map((b) => b.callback_data)).toEqual(['i:book', 'i:myBookings', 'i:status', 'i:info', 'i:complaint', 'i:human', 'i:language']);
    expect(keyboard.map((b) => b.text)).toContain('スタッフに相談');
  });

  it('opens a flow from a deep link (/start language) and from a command (/language)', async () => {
    await post(privateMessage(7002, '/start language'));
    await post(privateMessage(7003, '/language'));
    await svc.flush();
    for (const chat of [7002, 7003]) {
      const [prompt] = telegram.sent(chat);
      expect(prompt!.params.text).toBe('Which language would you like me to use?');
    }
  });

  it('answers every button press and runs its choice', async () => {
    await post(privateMessage(7004, '/start'));
    const press = buttonPress(7004, 'i:language', 'cbq-lang-1');
    expect((await post(press)).status).toBe(200);
    // A repeat of the same update is dropped but still answered, so the button never spins.
    expect((await post(press)).status).toBe(200);
    await svc.flush();
    // Answered once, silently (no toast text); Telegram refuses a second answer to the same press, and the
    // service's attempt for the repeat is that refusal, nothing more.
    expect(telegram.answeredCallbacks().map((r) => r.params)).toEqual([{ callback_query_id: 'cbq-lang-1' }]);
    const attempts = telegram.requests.filter((r) => r.method.toLowerCase() === 'answercallbackquery');
    expect(attempts.map((r) => [r.params.callback_query_id, r.status])).toEqual([
      ['cbq-lang-1', 200],
      ['cbq-lang-1', 400],
    ]);
    // The choice ran once: the greeting, then the language question with a button per language.
    const sent = telegram.sent(7004);
    expect(sent.map((r) => r.params.text)).toEqual([expect.stringContaining('Welcome'), 'Which language would you like me to use?']);
    const languages = (sent[1]!.params.reply_markup as { inline_keyboard: { text: string; callback_data: string }[][] }).inline_keyboard.flat();
    expect(languages.map((b) => b.text)).toEqual(['繁體中文', '简体中文', 'English', '日本語', 'ภาษาไทย']);
  });

  it('handles a redelivered update once', async () => {
    const update = privateMessage(7005, 'hello there');
    await post(update);
    await post(update);
    await post(update);
    await svc.flush();
    expect(telegram.sent(7005)).toHaveLength(1);
  });

  it('accepts what Telegram really sends (fixtures) and ignores what is not for it', async () => {
    for (const name of ['tg-command-start.json', 'tg-message-text.json', 'tg-callback-query.json', 'tg-message-photo.json', 'tg-edited-message.json', 'tg-my-chat-member-kicked.json', 'tg-message-contact.json']) {
      const res = await post(readFileSync(new URL(name, FIXTURES), 'utf8'));
      expect(res.status, name).toBe(200);
    }
  });

  it('refuses a missing or wrong secret with 401 before writing anything, and malformed bodies with 400', async () => {
    expect((await post(privateMessage(7006, '/start'), null)).status).toBe(401);
    expect((await post(privateMessage(7006, '/start'), 'wrong-secret')).status).toBe(401);
    expect((await post('{"update_id": 1, "message": ')).status).toBe(400);
    expect((await post({ hello: 'world' })).status).toBe(400);
    expect((await post('x'.repeat(1024 * 1024 + 1))).status).toBe(413);
    const db = svc.db.store.db;
    expect(await db.selectFrom('processed_events').selectAll().execute()).toHaveLength(0);
    expect(await db.selectFrom('customers').selectAll().execute()).toHaveLength(0);
  });

  it('delivers once after Telegram answers 429 with retry_after', async () => {
    telegram.failNext('sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1 });
    await post(privateMessage(7007, '/start'));
    await svc.flush();
    expect(telegram.sent(7007)).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 1100));
    await svc.flush();
    expect(telegram.sent(7007)).toHaveLength(1);
    const row = await svc.db.store.db.selectFrom('outbox').select(['status', 'attempts']).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'sent', attempts: 2 });
  });

  it('stops sending to a customer who blocked the bot', async () => {
    await post(privateMessage(7008, '/start'));
    await svc.flush();
    telegram.block(7008);
    await post(privateMessage(7008, 'menu'));
    await svc.flush();
    const identity = await svc.db.store.db.selectFrom('channel_identities').select('reachable').executeTakeFirstOrThrow();
    expect(identity.reachable).toBe(0);
  });
});
