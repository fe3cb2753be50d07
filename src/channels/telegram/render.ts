import type { InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup, SendMessageParams, SendPhotoParams } from 'node-telegram-bot-api';
import { splitText, TELEGRAM_LIMITS, truncateChars, utf8Length } from '../limits';
import type { RenderedCard, RenderedChoice, RenderedMessage } from '../types';

/** One Bot API call, as plain params for `Api.sendMessage` / `Api.sendPhoto`. */
export type TelegramRequest = { method: 'sendMessage'; params: SendMessageParams } | { method: 'sendPhoto'; params: SendPhotoParams };

/** Labels up to this many characters fit two to a row on a phone; longer ones get a row each. */
const SHORT_LABEL_CHARS = 12;

/** Escapes the three characters Telegram's HTML parse mode treats as markup. */
export function escapeTelegramHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function callbackData(id: string): string {
  const bytes = utf8Length(id);
  // Flows choose their ids; one that Telegram would refuse is a bug to fix there, not text to cut here.
  if (bytes < 1 || bytes > TELEGRAM_LIMITS.callbackDataBytes) {
    throw new Error(`choice id ${JSON.stringify(id)} is ${bytes} bytes; Telegram callback_data takes 1–${TELEGRAM_LIMITS.callbackDataBytes} bytes, so keep flow choice ids short`);
  }
  return id;
}

function button(choice: RenderedChoice): InlineKeyboardButton {
  if (!choice.label.trim()) throw new Error(`choice ${JSON.stringify('id' in choice ? choice.id : choice.url)} has an empty label; Telegram refuses buttons without text`);
  const text = truncateChars(choice.label, TELEGRAM_LIMITS.buttonTextChars);
  switch (choice.kind) {
    case 'postback':
      return { text, callback_data: callbackData(choice.id) };
    // Telegram has no date picker: the flow answers this press with an inline calendar of its own.
    case 'datetime':
      return { text, callback_data: callbackData(choice.id) };
    case 'url':
      return { text, url: choice.url };
  }
}

/** Builds the inline keyboard for a message's choices, or nothing when it has none. */
export function inlineKeyboard(choices: RenderedChoice[], columns?: number): InlineKeyboardMarkup | undefined {
  if (choices.length === 0) return undefined;
  if (choices.length > TELEGRAM_LIMITS.inlineButtons) {
    throw new Error(`${choices.length} choices in one message; a Telegram inline keyboard holds at most ${TELEGRAM_LIMITS.inlineButtons} buttons`);
  }
  const buttons = choices.map(button);
  // One width for the whole keyboard: mixing one- and two-button rows reads as a ragged menu.
  const perRow = columns ?? (choices.every((c) => [...c.label].length <= SHORT_LABEL_CHARS) ? 2 : 1);
  const rows: InlineKeyboardButton[][] = [];
  for (let i = 0; i < buttons.length; i += perRow) rows.push(buttons.slice(i, i + perRow));
  return { inline_keyboard: rows };
}

/**
 * The reply keyboard with Telegram's "share my phone number" button: Telegram sends the customer's own,
 * verified number back as a contact. It goes away once used.
 */
export function contactKeyboard(label: string | undefined): ReplyKeyboardMarkup | undefined {
  if (!label?.trim()) return undefined;
  return { keyboard: [[{ text: truncateChars(label, TELEGRAM_LIMITS.buttonTextChars), request_contact: true }]], one_time_keyboard: true, resize_keyboard: true };
}

/**
 * A card as one HTML message: bold title, `label: value` rows, footer after a blank line. Telegram
 * counts the 4,096 characters after parsing the markup, so the visible text is what gets cut when a
 * card is too long, and everything from a customer or a translation is escaped.
 */
export function cardHtml(title: string, rows: { label: string; value: string }[], footer: string | null, max: number = TELEGRAM_LIMITS.textChars): string {
  const head = truncateChars(title.trim(), max);
  const lines = rows.map((r) => `${r.label}: ${r.value}`);
  const body = [lines.join('\n'), footer ?? ''].filter((part) => part.trim()).join('\n\n');
  const room = max - head.length - (head ? 1 : 0);
  const shownBody = body && room > 0 ? truncateChars(body, room) : '';
  return [head ? `<b>${escapeTelegramHtml(head)}</b>` : '', escapeTelegramHtml(shownBody)].filter(Boolean).join('\n');
}

/**
 * A card's HTML with a 📷 link to its photo at the end: the address is in the link, so it does not count
 * against the 4,096 characters Telegram allows after parsing.
 */
function cardWithPhoto(card: RenderedCard, max: number = TELEGRAM_LIMITS.textChars): string {
  const photo = card.image ? `\n<a href="${escapeTelegramHtml(card.image).replace(/"/g, '&quot;')}">📷</a>` : '';
  return cardHtml(card.title, card.rows, card.footer, Math.max(1, max - (photo ? 3 : 0))) + photo;
}

/**
 * Cards side by side as one message: each card's text in turn, and a keyboard with a row of each card's
 * buttons followed by the message's own. Every card gets an equal share of Telegram's 4,096 characters.
 */
function carouselRequest(message: Extract<RenderedMessage, { type: 'carousel' }>, chatId: string): TelegramRequest {
  const separator = '\n\n';
  const share = Math.floor((TELEGRAM_LIMITS.textChars - separator.length * (message.cards.length - 1)) / Math.max(1, message.cards.length));
  const text = message.cards.map((card) => cardWithPhoto(card, share)).join(separator);
  if (!text.trim()) throw new Error('empty carousel; Telegram refuses messages without text');
  const rows: InlineKeyboardButton[][] = message.cards.filter((card) => card.choices.length > 0).map((card) => card.choices.map(button));
  rows.push(...(inlineKeyboard(message.choices)?.inline_keyboard ?? []));
  const count = rows.reduce((n, row) => n + row.length, 0);
  if (count > TELEGRAM_LIMITS.inlineButtons) throw new Error(`${count} buttons in one carousel; a Telegram inline keyboard holds at most ${TELEGRAM_LIMITS.inlineButtons}`);
  return { method: 'sendMessage', params: { chat_id: chatId, text, parse_mode: 'HTML', ...(rows.length > 0 ? { reply_markup: { inline_keyboard: rows } } : {}) } };
}

/**
 * Turns rendered messages into Bot API calls for one chat. Text longer than Telegram takes is split
 * into several messages, with the buttons on the last so they sit under the end of what they answer.
 * Throws on what no retry could fix (an over-long choice id, an empty message): those are bugs in a flow.
 */
export function toTelegramRequests(messages: RenderedMessage[], chatId: string): TelegramRequest[] {
  const requests: TelegramRequest[] = [];
  for (const message of messages) {
    switch (message.type) {
      case 'text': {
        if (!message.text.trim()) throw new Error('empty text message; Telegram refuses messages without text');
        // A message has one keyboard: the inline buttons, else the reply keyboard that shares the phone number.
        const keyboard = inlineKeyboard(message.choices, message.columns) ?? contactKeyboard(message.requestContact);
        const pieces = splitText(message.text, TELEGRAM_LIMITS.textChars);
        pieces.forEach((text, i) => {
          const last = i === pieces.length - 1;
          requests.push({ method: 'sendMessage', params: { chat_id: chatId, text, ...(last && keyboard ? { reply_markup: keyboard } : {}) } });
        });
        break;
      }
      case 'card': {
        const keyboard = inlineKeyboard(message.choices);
        const text = cardWithPhoto(message);
        if (!text) throw new Error('empty card; Telegram refuses messages without text');
        requests.push({ method: 'sendMessage', params: { chat_id: chatId, text, parse_mode: 'HTML', ...(keyboard ? { reply_markup: keyboard } : {}) } });
        break;
      }
      case 'carousel':
        requests.push(carouselRequest(message, chatId));
        break;
      case 'image':
        requests.push({ method: 'sendPhoto', params: { chat_id: chatId, photo: message.url } });
        break;
    }
  }
  return requests;
}
