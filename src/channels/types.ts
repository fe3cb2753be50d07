import type { ChannelName } from '../store/schema';

export type { ChannelName };

/**
 * What a customer did, in one shape for every channel. Channel parsers produce these; the engine and
 * the flows never see a platform's own event format.
 */
export type Input =
  /** LINE follow, Telegram /start (payload from a deep link such as `/start book`), web chat opened. */
  | { type: 'start'; payload: string | null }
  /** LINE unfollow (blocked), Telegram bot kicked: the customer can no longer be reached there. */
  | { type: 'stop' }
  | { type: 'text'; text: string }
  /** A Telegram command other than /start, without the slash and bot name. */
  | { type: 'command'; command: string; payload: string | null }
  /** A button: LINE postback data, Telegram callback_data, web button id. `params` from date/time pickers. */
  | { type: 'choice'; id: string; params: { date?: string; time?: string; datetime?: string } | null }
  | { type: 'contact'; phone: string }
  | { type: 'image'; mediaId: string }
  | { type: 'location'; latitude: number; longitude: number; title: string | null; address: string | null }
  | { type: 'sticker' };

export interface InboundEvent {
  channel: ChannelName;
  /** The platform's id for this delivery (LINE webhookEventId, Telegram update_id, web message id); a repeat is dropped. */
  eventId: string;
  /** Who, on that channel: LINE userId, Telegram chat id, web visitor id. */
  externalId: string;
  /** When the platform says it happened (ISO-8601). */
  occurredAt: string;
  /** LINE only: a single-use token valid for about 30 seconds from `occurredAt`. */
  replyToken: string | null;
  /** What the platform tells about the person, used when the customer is first seen. */
  profile: { displayName: string | null; languageHint: string | null } | null;
  input: Input;
}

/** Text to render: a key in `locales/` with its parameters, or words a staff member typed. */
export type TextRef = { key: string; params?: Record<string, string | number> } | { raw: string };

export type Choice =
  | { kind: 'postback'; id: string; label: TextRef }
  /**
   * A date/time picker (LINE datetimepicker, web date input); channels without one send the id alone.
   * `initial`, `min` and `max` are the dealership's local wall time (`YYYY-MM-DD`, `HH:mm`,
   * `YYYY-MM-DDTHH:mm`), never UTC instants.
   */
  | { kind: 'datetime'; id: string; label: TextRef; mode: 'date' | 'time' | 'datetime'; initial?: string; min?: string; max?: string }
  | { kind: 'url'; url: string; label: TextRef };

/** One message a flow wants sent. Channels turn `choices` into their native buttons. */
export type Reply =
  /** `columns`: how many buttons a row where the channel lays buttons out in rows (a calendar: 7). */
  /** `requestContact`: a button that shares the customer's own phone number, where the platform has one (Telegram). */
  | { type: 'text'; text: TextRef | TextRef[]; choices?: Choice[]; columns?: number; requestContact?: TextRef }
  /** A summary card (LINE Flex bubble, a formatted Telegram message, a web card); `image` an https photo on top. */
  | CardReply
  /**
   * Cards side by side, each with its own buttons (a LINE Flex carousel; on Telegram one message with a row
   * of buttons per card). `choices` belong to the whole message. Channels without carousels get cards.
   */
  | { type: 'carousel'; altText: TextRef; cards: CardReply[]; choices?: Choice[] }
  | { type: 'image'; url: string; previewUrl?: string };

/** Footer parts are joined by a space. */
export type CardReply = { type: 'card'; title: TextRef; rows: { label: TextRef; value: TextRef }[]; footer?: TextRef | TextRef[]; choices?: Choice[]; image?: string };

/** A Reply rendered in the customer's language, still free of any platform's format. */
export type RenderedChoice =
  | { kind: 'postback'; id: string; label: string }
  | { kind: 'datetime'; id: string; label: string; mode: 'date' | 'time' | 'datetime'; initial?: string; min?: string; max?: string }
  | { kind: 'url'; url: string; label: string };

export type RenderedCard = { type: 'card'; title: string; rows: { label: string; value: string }[]; footer: string | null; choices: RenderedChoice[]; altText: string; image?: string };

export type RenderedMessage =
  | { type: 'text'; text: string; choices: RenderedChoice[]; columns?: number; requestContact?: string }
  | RenderedCard
  /** `choices` are the message's own; each card keeps its buttons. */
  | { type: 'carousel'; altText: string; cards: RenderedCard[]; choices: RenderedChoice[] }
  | { type: 'image'; url: string; previewUrl: string };

/**
 * One outbox row to deliver: up to the platform's per-request message limit, which a channel may still
 * have to split into several platform requests (a text over Telegram's 4,096 characters).
 */
export interface Delivery {
  /** Stable for every attempt of this delivery (LINE X-Line-Retry-Key). */
  key: string;
  externalId: string;
  /** Present only while the platform's reply token is still worth trying. */
  replyToken: string | null;
  /**
   * An earlier attempt of this delivery may have used its reply token: LINE refusing the token while it
   * is still valid then means that reply arrived, and pushing after the token expired may repeat it.
   */
  replyAttempted?: boolean;
  /** Platform requests of this delivery already accepted by an earlier attempt; sending resumes after them. */
  partsSent?: number;
  /**
   * Records durably that the first `parts` requests were accepted, before the next one goes out, so a
   * process that dies in between does not repeat them. Not called for the last request: the outbox
   * records the whole delivery as sent then.
   */
  onPartSent?: (parts: number) => Promise<void>;
  messages: RenderedMessage[];
}

/**
 * How a delivery went out. `reply-assumed`: LINE refused a reply token that cannot have expired yet after
 * an earlier attempt may have used it, so that earlier reply is taken as delivered.
 */
export type DeliveredVia = 'reply' | 'push' | 'local' | 'reply-assumed';

export type SendOutcome =
  /** `possibleDuplicate`: pushed after a reply attempt that may also have reached the customer. */
  | { ok: true; via: DeliveredVia; possibleDuplicate?: boolean }
  /**
   * `retryable`: a later attempt may succeed (429, 5xx, network). `unreachable`: the customer blocked
   * the bot or the chat is gone, so no attempt will ever succeed. `reply`: what became of a reply token
   * in this attempt when that is certain — 'not-taken': the platform refused the reply request itself
   * (429 or another 4xx), so it did not arrive and the token may still be used; 'token-refused': the
   * platform refused the token, so no reply arrived and later attempts must push.
   */
  | { ok: false; retryable: boolean; retryAfterMs: number | null; status: number | null; error: string; unreachable?: boolean; reply?: 'not-taken' | 'token-refused' };

/** The sending half of a channel, used by the outbox sender. */
export interface ChannelSender {
  readonly channel: ChannelName;
  /** Most messages one request may carry (LINE 5; Telegram and web 1). */
  readonly maxMessagesPerDelivery: number;
  send(delivery: Delivery): Promise<SendOutcome>;
}
