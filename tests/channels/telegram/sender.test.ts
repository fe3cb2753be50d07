import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTelegramSender, type TelegramSender } from '../../../src/channels/telegram/sender';
import type { Delivery, RenderedMessage } from '../../../src/channels/types';
import { recordingLogger } from '../../helpers/logger';
import { startFakeTelegramApi, type FakeTelegramApi } from '../../fakes/telegram-api';

let seq = 0;
const delivery = (messages: RenderedMessage[], externalId = '4242'): Delivery => ({ key: `d${++seq}`, externalId, replyToken: null, messages });
const text = (t: string, choices: Extract<RenderedMessage, { type: 'text' }>['choices'] = []): RenderedMessage => ({ type: 'text', text: t, choices });

describe('Telegram sender against the fake Bot API', () => {
  let fake: FakeTelegramApi;
  let sender: TelegramSender;
  let log: ReturnType<typeof recordingLogger>;
  beforeEach(async () => {
    fake = await startFakeTelegramApi();
    log = recordingLogger();
    sender = createTelegramSender({ botToken: fake.token, apiBaseUrl: fake.url, logger: log.logger });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('is one message per delivery on the telegram channel', () => {
    expect(sender.channel).toBe('telegram');
    expect(sender.maxMessagesPerDelivery).toBe(1);
  });

  it('sends text with an inline keyboard', async () => {
    const outcome = await sender.send(
      delivery([
        text('When would you like to come in?', [
          { kind: 'postback', id: 'slot:0900', label: '09:00' },
          { kind: 'postback', id: 'slot:1000', label: '10:00' },
          { kind: 'url', url: 'https://dealer.example/map', label: 'How to find us' },
        ]),
      ]),
    );
    expect(outcome).toEqual({ ok: true, via: 'push' });
    expect(fake.sent('4242').map((r) => r.params)).toEqual([
      {
        chat_id: '4242',
        text: 'When would you like to come in?',
        reply_markup: {
          inline_keyboard: [
            [{ text: '09:00', callback_data: 'slot:0900' }],
            [{ text: '10:00', callback_data: 'slot:1000' }],
            [{ text: 'How to find us', url: 'https://dealer.example/map' }],
          ],
        },
      },
    ]);
  });

  it('sends a card the fake accepts as HTML, and a photo', async () => {
    const card: RenderedMessage = {
      type: 'card',
      title: 'Added item <urgent>',
      rows: [{ label: 'Brake pads & discs', value: 'NT$ 6,800' }],
      footer: null,
      choices: [{ kind: 'postback', id: 'added:1:yes', label: 'Approve' }],
      altText: 'Added item',
    };
    expect(await sender.send(delivery([card]))).toEqual({ ok: true, via: 'push' });
    expect(await sender.send(delivery([{ type: 'image', url: 'https://dealer.example/added-items/1.jpg', previewUrl: 'https://dealer.example/added-items/1.jpg' }]))).toEqual({ ok: true, via: 'push' });
    expect(fake.sent().map((r) => r.method)).toEqual(['sendMessage', 'sendPhoto']);
    expect(fake.sent()[0]!.params.text).toBe('<b>Added item &lt;urgent&gt;</b>\nBrake pads &amp; discs: NT$ 6,800');
  });

  it('turns 429 with retry_after into a retry after that many milliseconds', async () => {
    fake.failNext('sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 7', retryAfter: 7 });
    expect(await sender.send(delivery([text('hi')]))).toEqual({ ok: false, retryable: true, retryAfterMs: 7000, status: 429, error: 'Too Many Requests: retry after 7' });
    expect(fake.requests.filter((r) => r.method === 'sendMessage')).toHaveLength(1);
  });

  it("turns the fake's own per-chat flood control into a retry", async () => {
    fake.setRateLimits({ perChatPerSecond: 1 });
    expect(await sender.send(delivery([text('one')]))).toEqual({ ok: true, via: 'push' });
    expect(await sender.send(delivery([text('two')]))).toMatchObject({ ok: false, retryable: true, status: 429, retryAfterMs: 1000 });
  });

  it('marks a customer who blocked the bot as unreachable, without retrying', async () => {
    fake.block('4242');
    expect(await sender.send(delivery([text('hi')]))).toEqual({ ok: false, retryable: false, retryAfterMs: null, status: 403, error: 'Forbidden: bot was blocked by the user', unreachable: true });
  });

  it.each([
    [403, 'Forbidden: user is deactivated'],
    [400, 'Bad Request: chat not found'],
  ])('treats %i %s as unreachable', async (errorCode, description) => {
    fake.failNext('sendMessage', { errorCode, description });
    expect(await sender.send(delivery([text('hi')]))).toMatchObject({ ok: false, retryable: false, unreachable: true, status: errorCode });
  });

  it('gives up on other refusals, keeping Telegram\'s description', async () => {
    fake.failNext('sendMessage', { errorCode: 400, description: 'Bad Request: message is too long' });
    const outcome = await sender.send(delivery([text('hi')]));
    expect(outcome).toEqual({ ok: false, retryable: false, retryAfterMs: null, status: 400, error: 'Bad Request: message is too long' });
  });

  it('retries after a server error and after a dropped connection', async () => {
    fake.failNext('sendMessage', { errorCode: 500, description: 'Internal Server Error' });
    expect(await sender.send(delivery([text('hi')]))).toEqual({ ok: false, retryable: true, retryAfterMs: null, status: 500, error: 'Internal Server Error' });
    fake.dropNext('sendMessage');
    expect(await sender.send(delivery([text('hi')]))).toMatchObject({ ok: false, retryable: true, status: null });
    expect(fake.requests.filter((r) => r.method === 'sendMessage')).toHaveLength(2);
  });

  it('retries when Telegram cannot be reached at all', async () => {
    const url = fake.url;
    await fake.close();
    const offline = createTelegramSender({ botToken: fake.token, apiBaseUrl: url, logger: log.logger });
    expect(await offline.send(delivery([text('hi')]))).toMatchObject({ ok: false, retryable: true, status: null });
    fake = await startFakeTelegramApi();
  });

  it('gives up when the bot token is refused', async () => {
    const wrong = createTelegramSender({ botToken: '1:wrong', apiBaseUrl: fake.url, logger: log.logger });
    expect(await wrong.send(delivery([text('hi')]))).toMatchObject({ ok: false, retryable: false, status: 401 });
    expect(log.records.some((r) => r.level === 'error' && /TELEGRAM_BOT_TOKEN/.test(r.msg ?? ''))).toBe(true);
  });

  it('gives up without calling Telegram when a flow produced an impossible button', async () => {
    const outcome = await sender.send(delivery([text('pick', [{ kind: 'postback', id: 'x'.repeat(65), label: 'A' }])]));
    expect(outcome).toMatchObject({ ok: false, retryable: false, status: null, error: expect.stringMatching(/65 bytes/) });
    expect(fake.requests).toHaveLength(0);
  });

  it('resumes a split message after the pieces already delivered', async () => {
    const long = Array.from({ length: 3 }, (_, i) => `${String(i).repeat(4000)}`).join('\n\n');
    const d = delivery([text(long, [{ kind: 'postback', id: 'ok', label: 'OK' }])]);
    fake.setRateLimits({ perChatPerSecond: 1 });
    expect(await sender.send(d)).toMatchObject({ ok: false, retryable: true, status: 429 });
    fake.setRateLimits({ perChatPerSecond: null });
    expect(await sender.send(d)).toEqual({ ok: true, via: 'push' });
    const texts = fake.sent('4242').map((r) => String(r.params.text).slice(0, 1));
    expect(texts).toEqual(['0', '1', '2']);
    expect(fake.sent('4242').at(-1)!.params.reply_markup).toEqual({ inline_keyboard: [[{ text: 'OK', callback_data: 'ok' }]] });
  });

  it('answers a callback query and never throws when Telegram refuses the answer', async () => {
    fake.registerCallbackQuery('cb-1');
    await sender.answerCallbackQuery('cb-1', 'Saved');
    await expect(sender.answerCallbackQuery('cb-1')).resolves.toBeUndefined();
    await expect(sender.answerCallbackQuery('unknown')).resolves.toBeUndefined();
    expect(fake.answeredCallbacks().map((r) => r.params)).toEqual([{ callback_query_id: 'cb-1', text: 'Saved' }]);
    expect(log.records.filter((r) => r.level === 'warn' && r.msg === 'callback query not answered')).toHaveLength(2);
  });
});
