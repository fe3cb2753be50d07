import { z } from 'zod';
import type { InboundEvent, Input } from '../types';

/**
 * The body is not a LINE webhook (or an event we act on is not shaped as LINE documents it). The
 * webhook answers 400: LINE itself never sends such a body, so refusing it loses nothing.
 */
export class LineBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LineBodyError';
  }
}

/** An event for the engine, plus what the log needs to tell a redelivery from a first delivery. */
export type LineParsedEvent = InboundEvent & { isRedelivery: boolean };

export interface LineParseResult {
  events: LineParsedEvent[];
  /** Events that are not for a one-to-one conversation (groups, rooms, types we do not handle). */
  ignored: number;
}

/**
 * Reply tokens LINE puts in the dummy events of a webhook verification; replying with them fails, so
 * they are treated as "no token".
 */
const PLACEHOLDER_REPLY_TOKENS = new Set(['00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff']);

const envelope = z.object({
  destination: z.string().optional(),
  events: z.array(z.unknown()),
});

// Only what we read is declared, and only what LINE marks required is required, so every real event
// passes while a body from anyone else fails with a message naming the field.
const base = z.object({
  type: z.string(),
  // Milliseconds since the epoch, within what a Date can hold, so the ISO conversion cannot throw.
  timestamp: z.number().int().min(0).max(8_640_000_000_000_000),
  mode: z.string().optional(),
  // LINE's user ids are 'U' and 32 hex digits; one a push could never be addressed to (LINE takes at most
  // 100 printable characters in `to`) is not from LINE.
  source: z.object({ type: z.string(), userId: z.string().max(100).regex(/^[\x21-\x7e]+$/, 'printable ASCII').optional() }).optional(),
  replyToken: z.string().optional(),
  webhookEventId: z.string().optional(),
  deliveryContext: z.object({ isRedelivery: z.boolean() }).optional(),
});

const messageEvent = z.object({
  message: z.object({ id: z.string(), type: z.string() }),
});
const textMessage = z.object({ text: z.string() });
const locationMessage = z.object({
  latitude: z.number(),
  longitude: z.number(),
  title: z.string().nullish(),
  address: z.string().nullish(),
});
const postbackEvent = z.object({
  postback: z.object({ data: z.string(), params: z.record(z.string(), z.unknown()).optional() }),
});

/**
 * How deep a LINE body nests: a real one is a handful of levels (body → events → event → message →
 * emojis → emoji). A body nested deeper than this is not LINE's, and refusing it up front keeps the
 * recursive walks below (the fallback id's canonical JSON) from running out of stack on a signed but
 * absurd body.
 */
export const LINE_MAX_DEPTH = 64;

/** Whether a parsed JSON value nests deeper than `limit` arrays/objects, found without recursion. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (!v || typeof v !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

function check<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  throw new LineBodyError(`not a LINE webhook: ${where}${path}: ${issue.message}`);
}

/** The picker answer, keeping only the fields a datetime picker sets (rich menu switches add others). */
function pickerParams(params: Record<string, unknown> | undefined): { date?: string; time?: string; datetime?: string } | null {
  if (!params) return null;
  const kept: { date?: string; time?: string; datetime?: string } = {};
  for (const field of ['date', 'time', 'datetime'] as const) {
    const value = params[field];
    if (typeof value === 'string') kept[field] = value;
  }
  return Object.keys(kept).length > 0 ? kept : null;
}

/** JSON with object keys sorted at every level, so equal events hash equally whatever the key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * An id for an event without `webhookEventId` (older webhook versions): the message id when there is
 * one, otherwise a hash of the event. The delivery context and reply token are left out of the hash
 * because a redelivered copy of the same event may differ in exactly those.
 */
async function fallbackEventId(event: Record<string, unknown>, messageId: string | null): Promise<string> {
  if (messageId) return messageId;
  const { deliveryContext: _delivery, replyToken: _token, ...identity } = event;
  return sha256Hex(canonicalJson(identity));
}

/** What the customer did, or null for a kind of event the conversation does not act on. */
function inputOf(type: string, raw: unknown, where: string): { input: Input; messageId: string | null } | null {
  switch (type) {
    case 'follow':
      return { input: { type: 'start', payload: null }, messageId: null };
    case 'unfollow':
      return { input: { type: 'stop' }, messageId: null };
    case 'postback': {
      const { postback } = check(postbackEvent, raw, where);
      return { input: { type: 'choice', id: postback.data, params: pickerParams(postback.params) }, messageId: null };
    }
    case 'message': {
      const { message } = check(messageEvent, raw, where);
      const messageWhere = `${where}.message`;
      switch (message.type) {
        case 'text':
          return { input: { type: 'text', text: check(textMessage, (raw as { message: unknown }).message, messageWhere).text }, messageId: message.id };
        case 'image':
          return { input: { type: 'image', mediaId: message.id }, messageId: message.id };
        case 'location': {
          const loc = check(locationMessage, (raw as { message: unknown }).message, messageWhere);
          return {
            input: { type: 'location', latitude: loc.latitude, longitude: loc.longitude, title: loc.title ?? null, address: loc.address ?? null },
            messageId: message.id,
          };
        }
        case 'sticker':
          return { input: { type: 'sticker' }, messageId: message.id };
        // Video, audio and file messages would need downloading and a place to keep them; not handled yet.
        default:
          return null;
      }
    }
    // join/leave/memberJoined/memberLeft (groups), beacon, accountLink, unsend, videoPlayComplete,
    // messageEdited and types LINE adds later are acknowledged and left alone.
    default:
      return null;
  }
}

/**
 * Turns a LINE webhook body (already JSON-parsed, after the signature check) into events for the
 * engine. Only one-to-one chats with a user are ours: the dealership talks to one customer at a time
 * and must never post a customer's booking into a group or room, so those events are counted as
 * ignored, like event types we do not act on and events in standby mode (another channel module owns
 * the chat then, and LINE asks the bot not to send anything). An empty `events` array is LINE's
 * verification ping and yields nothing. Throws LineBodyError for a body LINE would never send.
 */
export async function parseLineWebhook(body: unknown): Promise<LineParseResult> {
  if (nestsDeeperThan(body, LINE_MAX_DEPTH)) throw new LineBodyError(`not a LINE webhook: nested deeper than ${LINE_MAX_DEPTH} levels`);
  const { events } = check(envelope, body, 'body');
  const parsed: LineParsedEvent[] = [];
  let ignored = 0;
  for (const [index, raw] of events.entries()) {
    const where = `events[${index}]`;
    const event = check(base, raw, where);
    const userId = event.source?.type === 'user' ? event.source.userId : undefined;
    if (!userId || event.mode === 'standby') {
      ignored++;
      continue;
    }
    const mapped = inputOf(event.type, raw, where);
    if (!mapped) {
      ignored++;
      continue;
    }
    const replyToken = event.replyToken && !PLACEHOLDER_REPLY_TOKENS.has(event.replyToken) ? event.replyToken : null;
    parsed.push({
      channel: 'line',
      eventId: event.webhookEventId || (await fallbackEventId(raw as Record<string, unknown>, mapped.messageId)),
      externalId: userId,
      occurredAt: new Date(event.timestamp).toISOString(),
      replyToken,
      // LINE's events carry no profile; the webhook route asks the profile API when it needs one.
      profile: null,
      input: mapped.input,
      isRedelivery: event.deliveryContext?.isRedelivery ?? false,
    });
  }
  return { events: parsed, ignored };
}
