import { describe, expect, it } from 'vitest';
import { cardHtml, escapeTelegramHtml, inlineKeyboard, toTelegramRequests } from '../../../src/channels/telegram/render';
import { TELEGRAM_LIMITS } from '../../../src/channels/limits';
import type { RenderedChoice, RenderedMessage } from '../../../src/channels/types';
import { parseTelegramHtml } from '../../fakes/telegram-api';

const text = (t: string, choices: RenderedChoice[] = []): RenderedMessage => ({ type: 'text', text: t, choices });
const postback = (id: string, label: string): RenderedChoice => ({ kind: 'postback', id, label });

describe('toTelegramRequests: text', () => {
  it('sends plain text without a parse mode, so nothing in it is read as markup', () => {
    expect(toTelegramRequests([text('Price < 5,000 & no <b>tax</b>')], '42')).toEqual([{ method: 'sendMessage', params: { chat_id: '42', text: 'Price < 5,000 & no <b>tax</b>' } }]);
  });

  it('splits text over 4,096 characters and puts the buttons under the last piece', () => {
    const long = `${'Your car is in bay 3. '.repeat(300)}\n\nChoose below.`;
    const requests = toTelegramRequests([text(long, [postback('ok', 'OK')])], '42');
    expect(requests.length).toBeGreaterThan(1);
    for (const r of requests) {
      expect(r.method).toBe('sendMessage');
      expect(r.method === 'sendMessage' && r.params.text.length).toBeLessThanOrEqual(TELEGRAM_LIMITS.textChars);
    }
    expect(requests.slice(0, -1).every((r) => !('reply_markup' in r.params))).toBe(true);
    expect(requests.at(-1)!.params.reply_markup).toEqual({ inline_keyboard: [[{ text: 'OK', callback_data: 'ok' }]] });
    expect(requests.map((r) => (r.method === 'sendMessage' ? r.params.text : '')).join(' ').replace(/\s+/g, ' ')).toBe(long.replace(/\s+/g, ' '));
  });

  it('keeps exactly 4,096 characters in one message', () => {
    expect(toTelegramRequests([text('a'.repeat(4096))], '1')).toHaveLength(1);
    expect(toTelegramRequests([text('a'.repeat(4097))], '1')).toHaveLength(2);
  });

  it('refuses an empty text: Telegram would refuse it too', () => {
    expect(() => toTelegramRequests([text('  \n ')], '1')).toThrow(/empty text/);
  });

  it('sends an image by URL', () => {
    expect(toTelegramRequests([{ type: 'image', url: 'https://dealer.example/ro/1.jpg', previewUrl: 'https://dealer.example/ro/1-s.jpg' }], '7')).toEqual([
      { method: 'sendPhoto', params: { chat_id: '7', photo: 'https://dealer.example/ro/1.jpg' } },
    ]);
  });

  it('keeps the order of several messages', () => {
    const requests = toTelegramRequests([text('one'), { type: 'image', url: 'https://x.example/a.jpg', previewUrl: 'https://x.example/a.jpg' }, text('two')], '1');
    expect(requests.map((r) => r.method)).toEqual(['sendMessage', 'sendPhoto', 'sendMessage']);
  });
});

describe('inlineKeyboard', () => {
  it('puts short labels two to a row', () => {
    expect(inlineKeyboard([postback('a', 'Yes'), postback('b', 'No'), postback('c', '預約保養維修')])).toEqual({
      inline_keyboard: [[{ text: 'Yes', callback_data: 'a' }, { text: 'No', callback_data: 'b' }], [{ text: '預約保養維修', callback_data: 'c' }]],
    });
  });

  it('gives every button its own row when any label is long', () => {
    const keyboard = inlineKeyboard([postback('a', 'Yes'), postback('b', 'Talk to a person')]);
    expect(keyboard!.inline_keyboard).toEqual([[{ text: 'Yes', callback_data: 'a' }], [{ text: 'Talk to a person', callback_data: 'b' }]]);
  });

  it('makes url buttons and turns a date picker into a callback button', () => {
    const keyboard = inlineKeyboard([
      { kind: 'url', url: 'https://dealer.example/map', label: 'Map' },
      { kind: 'datetime', id: 'book:date', label: 'Pick a date', mode: 'date', min: '2026-03-02' },
    ]);
    expect(keyboard!.inline_keyboard.flat()).toEqual([
      { text: 'Map', url: 'https://dealer.example/map' },
      { text: 'Pick a date', callback_data: 'book:date' },
    ]);
  });

  it('counts callback_data in bytes: 21 Chinese characters fit, 22 do not', () => {
    const fits = '預'.repeat(21); // 63 bytes
    expect(inlineKeyboard([postback(fits, 'OK')])!.inline_keyboard[0]![0]!.callback_data).toBe(fits);
    expect(() => inlineKeyboard([postback('預'.repeat(22), 'OK')])).toThrow(/"預{22}" is 66 bytes/);
    expect(() => inlineKeyboard([postback('x'.repeat(65), 'OK')])).toThrow(/65 bytes/);
    expect(inlineKeyboard([postback('x'.repeat(64), 'OK')])!.inline_keyboard[0]![0]!.callback_data).toHaveLength(64);
  });

  it('refuses an empty choice id and an empty label', () => {
    expect(() => inlineKeyboard([postback('', 'OK')])).toThrow(/choice id "" is 0 bytes/);
    expect(() => inlineKeyboard([postback('ok', ' ')])).toThrow(/empty label/);
  });

  it('cuts a label longer than Telegram shows', () => {
    const label = 'L'.repeat(100);
    const b = inlineKeyboard([postback('a', label)])!.inline_keyboard[0]![0]!;
    expect(b.text.length).toBe(TELEGRAM_LIMITS.buttonTextChars);
    expect(b.text.endsWith('…')).toBe(true);
  });

  it('refuses more buttons than one keyboard holds', () => {
    const many = Array.from({ length: 101 }, (_, i) => postback(`c${i}`, `${i}`));
    expect(() => inlineKeyboard(many)).toThrow(/at most 100/);
    expect(inlineKeyboard(many.slice(0, 100))!.inline_keyboard.flat()).toHaveLength(100);
  });
});

describe('cards', () => {
  const card = (over: Partial<Extract<RenderedMessage, { type: 'card' }>> = {}): RenderedMessage => ({
    type: 'card',
    title: 'Booking confirmed',
    rows: [
      { label: 'Date', value: '2026-03-03 10:00' },
      { label: 'Service', value: 'Oil & filter <5,000 km>' },
    ],
    footer: 'Reply "cancel" to cancel',
    choices: [postback('bk:cancel', 'Cancel')],
    altText: 'Booking confirmed',
    ...over,
  });

  it('renders HTML with a bold title, rows and the footer, escaping everything', () => {
    const [request] = toTelegramRequests([card()], '9');
    expect(request).toEqual({
      method: 'sendMessage',
      params: {
        chat_id: '9',
        parse_mode: 'HTML',
        text: '<b>Booking confirmed</b>\nDate: 2026-03-03 10:00\nService: Oil &amp; filter &lt;5,000 km&gt;\n\nReply "cancel" to cancel',
        reply_markup: { inline_keyboard: [[{ text: 'Cancel', callback_data: 'bk:cancel' }]] },
      },
    });
  });

  it('escapes a title that looks like markup', () => {
    const html = cardHtml('<script>&</b>', [], null);
    expect(html).toBe('<b>&lt;script&gt;&amp;&lt;/b&gt;</b>');
    expect(parseTelegramHtml(html)).toBe('<script>&</b>');
  });

  it('keeps the visible text of an over-long card within 4,096 characters and the markup well formed', () => {
    const rows = Array.from({ length: 400 }, (_, i) => ({ label: `Item ${i} <A&B>`, value: '&'.repeat(20) }));
    const html = cardHtml('Quote', rows, 'Footer');
    const visible = parseTelegramHtml(html);
    expect(visible.length).toBeLessThanOrEqual(TELEGRAM_LIMITS.textChars);
    expect(visible.length).toBeGreaterThan(TELEGRAM_LIMITS.textChars - 10);
    expect(visible.startsWith('Quote\nItem 0 <A&B>: &&&')).toBe(true);
    expect(visible.endsWith('…')).toBe(true);
  });

  it('escapes &, < and > and nothing else', () => {
    expect(escapeTelegramHtml(`a & b < c > d "e" 'f'`)).toBe(`a &amp; b &lt; c &gt; d "e" 'f'`);
  });
});
