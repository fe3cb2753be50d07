import { Api, TelegramApiError } from 'node-telegram-bot-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeTelegramApi, type FakeTelegramApi } from '../../fakes/telegram-api';

/** The fake must refuse what Telegram refuses, or tests against it prove nothing. */
describe('fake Telegram Bot API', () => {
  let fake: FakeTelegramApi;
  let api: Api;
  beforeEach(async () => {
    fake = await startFakeTelegramApi();
    api = new Api(fake.token, { apiRoot: fake.url, maxRetries: 0 });
  });
  afterEach(async () => {
    await fake.close();
  });

  const refusal = async (call: Promise<unknown>) => {
    const err = await call.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TelegramApiError);
    return err as TelegramApiError;
  };

  it('answers a good sendMessage like Telegram and records the form fields', async () => {
    const message = await api.sendMessage({ chat_id: 42, text: 'hi', reply_markup: { inline_keyboard: [[{ text: 'A', callback_data: 'a' }]] } });
    expect(message).toMatchObject({ chat: { id: 42 }, text: 'hi' });
    expect(fake.sent('42')).toHaveLength(1);
    expect(fake.sent(42)[0]!.params).toEqual({ chat_id: '42', text: 'hi', reply_markup: { inline_keyboard: [[{ text: 'A', callback_data: 'a' }]] } });
    expect(fake.sent(43)).toHaveLength(0);
  });

  it('refuses an unknown token with 401', async () => {
    const other = new Api('999:wrong', { apiRoot: fake.url, maxRetries: 0 });
    const err = await refusal(other.getMe());
    expect([err.errorCode, err.description]).toEqual([401, 'Unauthorized']);
    expect(fake.requests.at(-1)!.status).toBe(401);
  });

  it('answers getMe for the right token', async () => {
    expect(await api.getMe()).toMatchObject({ is_bot: true, id: 123456 });
  });

  it('refuses 4,097 characters and accepts 4,096', async () => {
    const err = await refusal(api.sendMessage({ chat_id: 1, text: 'x'.repeat(4097) }));
    expect([err.errorCode, err.description]).toEqual([400, 'Bad Request: message is too long']);
    await api.sendMessage({ chat_id: 1, text: 'x'.repeat(4096) });
    expect(fake.sent()).toHaveLength(1);
  });

  it('refuses empty and blank text', async () => {
    expect((await refusal(api.sendMessage({ chat_id: 1, text: '' }))).description).toBe('Bad Request: message text is empty');
    expect((await refusal(api.sendMessage({ chat_id: 1, text: ' \n ' }))).description).toBe('Bad Request: message text is empty');
  });

  it('refuses 65-byte callback_data, counting bytes not characters', async () => {
    const kb = (data: string) => ({ inline_keyboard: [[{ text: 'B', callback_data: data }]] });
    expect((await refusal(api.sendMessage({ chat_id: 1, text: 't', reply_markup: kb('x'.repeat(65)) }))).description).toBe('Bad Request: BUTTON_DATA_INVALID');
    await refusal(api.sendMessage({ chat_id: 1, text: 't', reply_markup: kb('預'.repeat(22)) }));
    await refusal(api.sendMessage({ chat_id: 1, text: 't', reply_markup: kb('') }));
    await api.sendMessage({ chat_id: 1, text: 't', reply_markup: kb('預'.repeat(21)) });
    expect(fake.sent()).toHaveLength(1);
  });

  it('refuses a malformed inline keyboard', async () => {
    const send = (reply_markup: unknown) => api.sendMessage({ chat_id: 1, text: 't', reply_markup: reply_markup as never });
    expect((await refusal(send({ inline_keyboard: [{ text: 'A', callback_data: 'a' }] }))).description).toMatch(/Array of Arrays/);
    expect((await refusal(send({ inline_keyboard: [[{ text: 'A' }]] }))).description).toMatch(/text buttons are unallowed/);
    expect((await refusal(send({ inline_keyboard: [[{ text: 'A', url: 'ftp://x' }]] }))).description).toMatch(/Unsupported URL protocol/);
    expect((await refusal(send({ inline_keyboard: [Array.from({ length: 9 }, (_, i) => ({ text: `${i}`, callback_data: `${i}` }))] }))).description).toMatch(/too many buttons/);
    const many = Array.from({ length: 13 }, (_, r) => Array.from({ length: 8 }, (_, c) => ({ text: 'x', callback_data: `${r}-${c}` })));
    expect((await refusal(send({ inline_keyboard: many }))).description).toMatch(/too many inline keyboard buttons/);
  });

  it('checks HTML: supported tags, balanced, a stray < refused, entities count as one character', async () => {
    const html = (text: string) => api.sendMessage({ chat_id: 1, text, parse_mode: 'HTML' });
    expect((await refusal(html('1 < 2'))).description).toBe('Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 2');
    expect((await refusal(html('<b>open'))).description).toMatch(/Can't find end tag corresponding to start tag "b"/);
    expect((await refusal(html('<b>x</i>'))).description).toMatch(/Unmatched end tag/);
    expect((await refusal(html('x</b>'))).description).toMatch(/Unexpected end tag/);
    expect((await refusal(html('line<br>break'))).description).toMatch(/Unsupported start tag "br"/);
    expect((await refusal(html(`<b>${'&amp;'.repeat(4097)}</b>`))).description).toBe('Bad Request: message is too long');
    await html(`<b>${'&lt;'.repeat(4096)}</b>`);
    await html('<b>A &amp; B</b> <i>it</i> <a href="https://x.example">l</a> & lone ampersand > ok');
    expect(fake.sent().map((r) => r.status)).toEqual([200, 200]);
  });

  it('reads JSON and multipart bodies too', async () => {
    const json = await fetch(`${fake.url}/bot${fake.token}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chat_id: 5, text: 'json', reply_markup: { inline_keyboard: [[{ text: 'A', callback_data: 'a' }]] } }),
    });
    expect(json.status).toBe(200);
    const form = new FormData();
    form.set('chat_id', '5');
    form.set('photo', new Blob([new Uint8Array([1, 2, 3])], { type: 'image/jpeg' }), 'car.jpg');
    const multipart = await fetch(`${fake.url}/bot${fake.token}/sendPhoto`, { method: 'POST', body: form });
    expect(multipart.status).toBe(200);
    expect(fake.sent(5).map((r) => r.params)).toEqual([
      { chat_id: 5, text: 'json', reply_markup: { inline_keyboard: [[{ text: 'A', callback_data: 'a' }]] } },
      { chat_id: '5', photo: { filename: 'car.jpg', size: 3, type: 'image/jpeg' } },
    ]);
  });

  it('answers an injected failure with Telegram\'s envelope and retry_after', async () => {
    fake.failNext('sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 3', retryAfter: 3, times: 2 });
    for (let i = 0; i < 2; i++) {
      const err = await refusal(api.sendMessage({ chat_id: 1, text: 't' }));
      expect([err.errorCode, err.retryAfter]).toEqual([429, 3]);
    }
    await api.sendMessage({ chat_id: 1, text: 't' });
  });

  it('limits messages per chat per second when asked, not otherwise', async () => {
    for (let i = 0; i < 5; i++) await api.sendMessage({ chat_id: 1, text: `t${i}` });
    fake.setRateLimits({ perChatPerSecond: 1 });
    await api.sendMessage({ chat_id: 2, text: 'first' });
    const err = await refusal(api.sendMessage({ chat_id: 2, text: 'second' }));
    expect(err.errorCode).toBe(429);
    expect(err.retryAfter).toBe(1);
    await api.sendMessage({ chat_id: 3, text: 'another chat is not held back' });
  });

  it('answers a callback query once, and only a registered one once any is registered', async () => {
    await api.answerCallbackQuery({ callback_query_id: 'q1' });
    expect((await refusal(api.answerCallbackQuery({ callback_query_id: 'q1' }))).description).toMatch(/query is too old/);
    await refusal(api.answerCallbackQuery({ callback_query_id: '' }));
    fake.registerCallbackQuery('q2');
    await refusal(api.answerCallbackQuery({ callback_query_id: 'q3' }));
    await api.answerCallbackQuery({ callback_query_id: 'q2', text: 'Saved' });
    expect(fake.answeredCallbacks().map((r) => r.params.callback_query_id)).toEqual(['q1', 'q2']);
  });

  it('sets a webhook only on https with a valid secret, and records allowed_updates', async () => {
    expect((await refusal(api.setWebhook({ url: 'http://dealer.example/webhooks/telegram' }))).description).toMatch(/HTTPS URL must be provided/);
    await refusal(api.setWebhook({ url: 'https://dealer.example/webhooks/telegram', secret_token: 'has space' }));
    await refusal(api.setWebhook({ url: 'https://dealer.example/webhooks/telegram', secret_token: 'x'.repeat(257) }));
    await api.setWebhook({ url: 'https://dealer.example/webhooks/telegram', secret_token: 'ok_secret-1', allowed_updates: ['message'], drop_pending_updates: false });
    expect(fake.webhook).toEqual({ url: 'https://dealer.example/webhooks/telegram', secretToken: 'ok_secret-1', allowedUpdates: ['message'], dropPendingUpdates: false, maxConnections: 40 });
    await api.deleteWebhook();
    expect(fake.webhook).toBeNull();
  });

  it('checks setMyCommands like Telegram', async () => {
    await refusal(api.setMyCommands({ commands: [{ command: 'Book', description: 'Book' }] }));
    await refusal(api.setMyCommands({ commands: [{ command: 'x'.repeat(33), description: 'd' }] }));
    await refusal(api.setMyCommands({ commands: [{ command: 'book', description: '' }] }));
    await refusal(api.setMyCommands({ commands: [{ command: 'book', description: 'd'.repeat(257) }] }));
    await refusal(api.setMyCommands({ commands: Array.from({ length: 101 }, (_, i) => ({ command: `c${i}`, description: 'd' })) }));
    await refusal(api.setMyCommands({ commands: [{ command: 'book', description: 'd' }], language_code: 'zh-TW' }));
    await api.setMyCommands({ commands: [{ command: 'book', description: '予約' }], language_code: 'ja' });
    expect(fake.commands('ja')).toEqual([{ command: 'book', description: '予約' }]);
    expect(fake.commands()).toBeUndefined();
  });

  it('answers a blocked chat with 403 and unknown methods with 404', async () => {
    fake.block(77);
    const err = await refusal(api.sendMessage({ chat_id: 77, text: 'hello?' }));
    expect([err.errorCode, err.description]).toEqual([403, 'Forbidden: bot was blocked by the user']);
    const res = await fetch(`${fake.url}/bot${fake.token}/sendTelepathy`, { method: 'POST' });
    expect(res.status).toBe(404);
  });

  it('hands out a file as Telegram does: getFile gives a path, the download needs the token, and over 20 MB is refused', async () => {
    const bytes = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
    fake.addFile('AgACAgQ-photo', bytes);
    const file = await api.getFile({ file_id: 'AgACAgQ-photo' });
    expect(file).toMatchObject({ file_id: 'AgACAgQ-photo', file_size: bytes.length });
    const download = await fetch(`${fake.url}/file/bot${fake.token}/${file.file_path}`);
    expect(download.status).toBe(200);
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(bytes);
    expect((await fetch(`${fake.url}/file/botnot-the-token/${file.file_path}`)).status).toBe(404);
    expect((await fetch(`${fake.url}/file/bot${fake.token}/photos/none.jpg`)).status).toBe(404);
    const unknown = await refusal(api.getFile({ file_id: 'nope' }));
    expect([unknown.errorCode, unknown.description]).toEqual([400, 'Bad Request: invalid file_id']);
    fake.addFile('AgACAgQ-video', bytes, { fileSize: 21 * 1024 * 1024 });
    const big = await refusal(api.getFile({ file_id: 'AgACAgQ-video' }));
    expect([big.errorCode, big.description]).toEqual([400, 'Bad Request: file is too big']);
  });
});
