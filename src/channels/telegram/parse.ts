import { z } from 'zod';
import type { InboundEvent, Input } from '../types';

/**
 * The body is not a Telegram Update (or a part we read is not shaped as the Bot API documents it).
 * The webhook answers 400: Telegram itself never sends such a body, so nothing is lost by refusing it.
 */
export class TelegramBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TelegramBodyError';
  }
}

export type TelegramParsed =
  | { kind: 'event'; event: InboundEvent; callbackQueryId: string | null }
  /** Nothing for the conversation, but a callback query id still has to be answered. */
  | { kind: 'ignored'; reason: string; callbackQueryId: string | null };

export interface ParseTelegramOptions {
  /** When a button was pressed: a callback query carries no time of its own. */
  now?: () => Date;
}

// Only the fields we read are declared, and only the ones the Bot API marks required are required, so a
// real update always passes while a body from anyone else fails loudly.
const user = z.object({
  id: z.int(),
  first_name: z.string(),
  last_name: z.string().optional(),
  language_code: z.string().optional(),
});

const chat = z.object({
  id: z.int(),
  type: z.string(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
});

/** A Unix time in seconds that a Date can hold (a larger one is not a time Telegram sends, and would not convert). */
const unixSeconds = z.int().min(0).max(8_640_000_000_000);

const location = z.object({ latitude: z.number(), longitude: z.number() });

const message = z.object({
  message_id: z.int(),
  date: unixSeconds,
  chat,
  from: user.optional(),
  text: z.string().optional(),
  contact: z.object({ phone_number: z.string(), first_name: z.string(), user_id: z.int().optional() }).optional(),
  photo: z.array(z.object({ file_id: z.string(), width: z.int(), height: z.int(), file_size: z.int().optional() })).optional(),
  location: location.optional(),
  venue: z.object({ location, title: z.string(), address: z.string() }).optional(),
  sticker: z.object({ file_id: z.string() }).optional(),
});

const callbackQuery = z.object({
  id: z.string(),
  from: user,
  // A button under an old or deleted message comes with an InaccessibleMessage: chat and id, date 0.
  message: z.object({ message_id: z.int(), date: unixSeconds, chat }).optional(),
  data: z.string().optional(),
});

const chatMemberUpdated = z.object({
  chat,
  from: user,
  date: unixSeconds,
  new_chat_member: z.object({ status: z.string() }),
});

const update = z.looseObject({
  update_id: z.int().nonnegative(),
  message: message.optional(),
  callback_query: callbackQuery.optional(),
  my_chat_member: chatMemberUpdated.optional(),
});

type TelegramUser = z.infer<typeof user>;
type TelegramChat = z.infer<typeof chat>;
type TelegramMessage = z.infer<typeof message>;

/** `/book`, `/book@DealerBot`, `/start book`: a command is Latin letters, digits and underscores. */
const COMMAND = /^\/([A-Za-z0-9_]{1,64})(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/;

/** Telegram sends one kind of content per update; the first key besides `update_id` names it. */
function updateKind(body: Record<string, unknown>): string {
  return Object.keys(body).find((k) => k !== 'update_id' && body[k] !== undefined) ?? 'empty';
}

function displayName(person: { first_name?: string; last_name?: string } | undefined): string | null {
  if (!person) return null;
  const name = [person.first_name, person.last_name].filter((p) => p && p.trim()).join(' ').trim();
  return name || null;
}

function profileOf(from: TelegramUser | undefined, fallbackChat: TelegramChat): InboundEvent['profile'] {
  return { displayName: displayName(from ?? fallbackChat), languageHint: from?.language_code ?? null };
}

function isoFromSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

function textInput(text: string): Input {
  const command = COMMAND.exec(text);
  if (!command) return { type: 'text', text };
  const name = command[1]!.toLowerCase();
  const payload = command[2]?.trim() || null;
  return name === 'start' ? { type: 'start', payload } : { type: 'command', command: name, payload };
}

/** Picks the input a message carries, or says why there is none for the conversation. */
function messageInput(msg: TelegramMessage): Input | string {
  if (msg.text !== undefined) return textInput(msg.text);
  if (msg.contact) {
    // A shared contact card may be anyone's; only the customer's own card (the "share my number" button)
    // tells us their number.
    if (msg.contact.user_id === undefined || msg.contact.user_id !== msg.from?.id) return 'contact card of someone else';
    return { type: 'contact', phone: msg.contact.phone_number };
  }
  if (msg.photo && msg.photo.length > 0) {
    // Sizes are not reliably in ascending order (real updates list 720×960 before 600×800).
    const largest = msg.photo.reduce((best, p) =>
      p.width * p.height > best.width * best.height || (p.width * p.height === best.width * best.height && (p.file_size ?? 0) > (best.file_size ?? 0)) ? p : best,
    );
    return { type: 'image', mediaId: largest.file_id };
  }
  if (msg.venue) {
    return { type: 'location', latitude: msg.venue.location.latitude, longitude: msg.venue.location.longitude, title: msg.venue.title, address: msg.venue.address };
  }
  if (msg.location) return { type: 'location', latitude: msg.location.latitude, longitude: msg.location.longitude, title: null, address: null };
  if (msg.sticker) return { type: 'sticker' };
  return 'message content we do not handle';
}

function event(updateId: number, chatId: number, occurredAt: string, profile: InboundEvent['profile'], input: Input): InboundEvent {
  return { channel: 'telegram', eventId: String(updateId), externalId: String(chatId), occurredAt, replyToken: null, profile, input };
}

/**
 * Turns a Telegram Update (already JSON-parsed) into at most one InboundEvent. Only private chats are
 * served: the bot talks with one customer at a time and must never post a customer's details into a
 * group or channel, so anything from elsewhere is ignored. Throws TelegramBodyError when the body is not
 * an Update.
 */
export function parseTelegramUpdate(body: unknown, opts: ParseTelegramOptions = {}): TelegramParsed {
  const parsed = update.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TelegramBodyError(`not a Telegram update: ${issue ? `${issue.path.join('.') || '(body)'}: ${issue.message}` : 'invalid'}`);
  }
  const u = parsed.data;
  const kind = updateKind(u);

  if (u.message) {
    const msg = u.message;
    if (msg.chat.type !== 'private') return { kind: 'ignored', reason: `message in a ${msg.chat.type} chat`, callbackQueryId: null };
    const input = messageInput(msg);
    if (typeof input === 'string') return { kind: 'ignored', reason: input, callbackQueryId: null };
    return { kind: 'event', event: event(u.update_id, msg.chat.id, isoFromSeconds(msg.date), profileOf(msg.from, msg.chat), input), callbackQueryId: null };
  }

  if (u.callback_query) {
    const cq = u.callback_query;
    const callbackQueryId = cq.id;
    if (!cq.message) return { kind: 'ignored', reason: 'button under an inline message: no chat to answer in', callbackQueryId };
    if (cq.message.chat.type !== 'private') return { kind: 'ignored', reason: `button in a ${cq.message.chat.type} chat`, callbackQueryId };
    if (!cq.data) return { kind: 'ignored', reason: 'button without callback data', callbackQueryId };
    // The message's date is when we sent the buttons, not when the customer pressed one.
    const occurredAt = (opts.now?.() ?? new Date()).toISOString();
    const input: Input = { type: 'choice', id: cq.data, params: null };
    return { kind: 'event', event: event(u.update_id, cq.message.chat.id, occurredAt, profileOf(cq.from, cq.message.chat), input), callbackQueryId };
  }

  if (u.my_chat_member) {
    const m = u.my_chat_member;
    if (m.chat.type !== 'private') return { kind: 'ignored', reason: `membership change in a ${m.chat.type} chat`, callbackQueryId: null };
    const status = m.new_chat_member.status;
    if (status !== 'kicked' && status !== 'left') {
      // An unblocked bot hears from the customer through the /start that Telegram's "Restart" sends.
      return { kind: 'ignored', reason: `bot became ${status} in a private chat`, callbackQueryId: null };
    }
    return { kind: 'event', event: event(u.update_id, m.chat.id, isoFromSeconds(m.date), profileOf(m.from, m.chat), { type: 'stop' }), callbackQueryId: null };
  }

  return { kind: 'ignored', reason: `update kind ${kind} is not handled`, callbackQueryId: null };
}
