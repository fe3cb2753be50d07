import { createHmac } from 'node:crypto';
import { TEST_LINE_SECRET, TEST_TELEGRAM_SECRET } from './config';

/*
 * Webhook bodies as LINE and Telegram send them, for tests that talk to the service the way the platforms
 * do: one builder per platform, so every suite sends the same shapes (and a change of shape is made once).
 */

/** What a LINE user does: send text or a photo, tap a postback button (with a picker's params), follow, unfollow. */
export interface LineAction {
  text?: string;
  postback?: string;
  params?: Record<string, string>;
  /** An image message with this message id (its content is served by the fake's data API). */
  image?: string;
  follow?: boolean;
  unfollow?: boolean;
}

export interface LineEventOptions {
  userId: string;
  /** The webhook event id (unique per event; a repeat is a redelivery). */
  eventId: string;
  /** Milliseconds since the epoch: when the user acted. */
  timestamp: number;
  /** A reply token the fake issued; unfollow events carry none, as on LINE. */
  replyToken: string | null;
  /** The message id of a text message (defaults to the event id's last digits). */
  messageId?: string;
}

/** One LINE webhook event, as the Messaging API describes it. */
export function lineEvent(what: LineAction, o: LineEventOptions): Record<string, unknown> {
  const base = { mode: 'active', timestamp: o.timestamp, source: { type: 'user', userId: o.userId }, webhookEventId: o.eventId, deliveryContext: { isRedelivery: false } };
  if (what.unfollow) return { ...base, type: 'unfollow' };
  const withToken = { ...base, replyToken: o.replyToken };
  if (what.follow) return { ...withToken, type: 'follow', follow: { isUnblocked: false } };
  if (what.postback) return { ...withToken, type: 'postback', postback: { data: what.postback, ...(what.params ? { params: what.params } : {}) } };
  if (what.image) return { ...withToken, type: 'message', message: { id: what.image, type: 'image', quoteToken: 'q', contentProvider: { type: 'line' } } };
  return { ...withToken, type: 'message', message: { id: o.messageId ?? o.eventId.replace(/\D/g, '').slice(-18), type: 'text', quoteToken: 'q', text: what.text } };
}

/** A LINE webhook request for these events, signed with the test channel secret. */
export function lineWebhook(events: unknown[]): { method: 'POST'; headers: Record<string, string>; body: string } {
  const body = JSON.stringify({ destination: 'Ubot', events });
  return { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': createHmac('sha256', TEST_LINE_SECRET).update(body).digest('base64') }, body };
}

/** What a Telegram user does: send text (a /command gets its entity), tap an inline button, send a photo or their contact. */
export interface TelegramAction {
  text?: string;
  press?: string;
  /** A photo message whose largest size has this file id (a smaller size `<id>-small` comes with it). */
  photo?: { fileId: string; bytes: number };
  contact?: string;
}

export interface TelegramUpdateOptions {
  chatId: number;
  updateId: number;
  /** The message id, also the callback query's id suffix. */
  messageId: number;
  /** Seconds since the epoch. */
  date: number;
  firstName?: string;
  languageCode?: string;
}

/** One Telegram update of a private chat, as the Bot API sends it to a webhook. */
export function telegramUpdate(what: TelegramAction, o: TelegramUpdateOptions): Record<string, unknown> {
  const from = { id: o.chatId, is_bot: false, first_name: o.firstName ?? 'Mei', language_code: o.languageCode ?? 'en' };
  const chat = { id: o.chatId, type: 'private', first_name: o.firstName ?? 'Mei' };
  const head = { message_id: o.messageId, date: o.date, chat };
  if (what.press) return { update_id: o.updateId, callback_query: { id: `cb-${o.messageId}`, from, chat_instance: '1', data: what.press, message: { ...head, text: '…' } } };
  if (what.photo) {
    const sizes = [
      { file_id: `${what.photo.fileId}-small`, file_unique_id: 's', width: 90, height: 120, file_size: 900 },
      { file_id: what.photo.fileId, file_unique_id: 'l', width: 960, height: 1280, file_size: what.photo.bytes },
    ];
    return { update_id: o.updateId, message: { ...head, from, photo: sizes } };
  }
  if (what.contact) return { update_id: o.updateId, message: { ...head, from, contact: { phone_number: what.contact, first_name: from.first_name, user_id: o.chatId } } };
  const text = what.text ?? '';
  const command = text.startsWith('/') ? { entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }] } : {};
  return { update_id: o.updateId, message: { ...head, from, text, ...command } };
}

/** A Telegram webhook request for this update, with the test secret token. */
export function telegramWebhook(update: unknown): { method: 'POST'; headers: Record<string, string>; body: string } {
  return { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TEST_TELEGRAM_SECRET }, body: JSON.stringify(update) };
}
