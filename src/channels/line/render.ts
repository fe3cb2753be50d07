import type { messagingApi } from '@line/bot-sdk';
import { LINE_LIMITS, splitText, truncateChars, utf8Length } from '../limits';
import type { RenderedCard, RenderedChoice, RenderedMessage } from '../types';

/**
 * A rendered message LINE can never take (an over-long choice id, an empty text, a plain-http image).
 * No retry fixes it: it is a bug in a flow or in what staff sent, so the sender gives up at once.
 */
export class LineRenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LineRenderError';
  }
}

/** LINE's limits that only this renderer needs (the shared ones are in LINE_LIMITS). */
const DISPLAY_TEXT_CHARS = 300;
const URI_CHARS = 1000;
const IMAGE_URL_CHARS = 2000;
/** LINE refuses a bubble whose JSON is over 30 KB, a carousel over 50 KB or over 12 bubbles. */
const BUBBLE_JSON_BYTES = 30_000;
const CAROUSEL_JSON_BYTES = 50_000;
const CAROUSEL_BUBBLES = 12;
/** Datetime pickers accept dates from 1900-01-01 to 2100-12-31. */
const PICKER_YEARS = { min: 1900, max: 2100 } as const;

/** Shown where a card has an empty label or value: a Flex text must not be empty. */
const EMPTY_CELL = '—';

const MUTED = '#8c8c8c';
const BODY = '#333333';

function actionLabel(choice: RenderedChoice): string {
  const label = choice.label.trim();
  if (!label) throw new LineRenderError(`choice ${JSON.stringify('id' in choice ? choice.id : choice.url)} has an empty label; LINE refuses actions without one`);
  return truncateChars(label, LINE_LIMITS.actionLabelChars);
}

function postbackData(id: string): string {
  // Flows choose their ids; one that LINE would refuse is a bug to fix there, not data to cut here.
  if (id.length < 1 || id.length > LINE_LIMITS.postbackDataChars) {
    throw new LineRenderError(`choice id ${JSON.stringify(truncateChars(id, 40))} is ${id.length} characters; LINE postback data takes 1–${LINE_LIMITS.postbackDataChars}`);
  }
  return id;
}

function checkedUri(uri: string, what: string, schemes: RegExp, max: number): string {
  if (!schemes.test(uri)) throw new LineRenderError(`${what} ${JSON.stringify(uri.slice(0, 80))} uses a scheme LINE refuses here`);
  if (uri.length > max) throw new LineRenderError(`${what} is ${uri.length} characters; LINE takes at most ${max}`);
  return uri;
}

const PICKER_VALUE = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}))?|^(\d{2}):(\d{2})/;

/**
 * A picker bound in the one format LINE accepts for the mode (`YYYY-MM-DD`, `HH:mm`,
 * `YYYY-MM-DDTHH:mm`), taken from an ISO-like value (seconds and zone are dropped: the picker works
 * in the customer's wall time). Undefined when the value cannot be read: a picker without that bound
 * still works, a request with a malformed one is refused.
 */
export function linePickerValue(mode: 'date' | 'time' | 'datetime', value: string | undefined, end: 'start' | 'end' = 'start'): string | undefined {
  if (!value) return undefined;
  const m = PICKER_VALUE.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h1, mi1, h2, mi2] = m;
  const hour = h1 ?? h2;
  const minute = mi1 ?? mi2;
  const timeOk = hour !== undefined && minute !== undefined && Number(hour) <= 23 && Number(minute) <= 59;
  const dateOk = y !== undefined && Number(y) >= PICKER_YEARS.min && Number(y) <= PICKER_YEARS.max && Number(mo) >= 1 && Number(mo) <= 12 && Number(d) >= 1 && Number(d) <= 31;
  switch (mode) {
    case 'date':
      return dateOk ? `${y}-${mo}-${d}` : undefined;
    case 'time':
      return timeOk ? `${hour}:${minute}` : undefined;
    case 'datetime':
      if (!dateOk) return undefined;
      // A bare date as a bound means the whole day: from its first minute, up to its last.
      if (h1 === undefined) return `${y}-${mo}-${d}T${end === 'end' ? '23:59' : '00:00'}`;
      return timeOk ? `${y}-${mo}-${d}T${hour}:${minute}` : undefined;
  }
}

function pickerBounds(choice: Extract<RenderedChoice, { kind: 'datetime' }>): { initial?: string; min?: string; max?: string } {
  let min = linePickerValue(choice.mode, choice.min);
  let max = linePickerValue(choice.mode, choice.max, 'end');
  let initial = linePickerValue(choice.mode, choice.initial);
  // LINE refuses max ≤ min and an initial value outside them; the formats compare as text.
  if (min !== undefined && max !== undefined && max <= min) {
    min = undefined;
    max = undefined;
  }
  if (initial !== undefined && ((min !== undefined && initial < min) || (max !== undefined && initial > max))) initial = undefined;
  return { ...(initial !== undefined ? { initial } : {}), ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
}

/** The LINE action behind one choice, used in quick replies and in card buttons alike. */
export function lineAction(choice: RenderedChoice): messagingApi.Action {
  const label = actionLabel(choice);
  switch (choice.kind) {
    case 'postback':
      // displayText puts the full label in the chat as the customer's answer, so the transcript reads naturally.
      return { type: 'postback', label, data: postbackData(choice.id), displayText: truncateChars(choice.label.trim(), DISPLAY_TEXT_CHARS) };
    case 'datetime':
      return { type: 'datetimepicker', label, data: postbackData(choice.id), mode: choice.mode, ...pickerBounds(choice) };
    case 'url':
      return { type: 'uri', label, uri: checkedUri(choice.url, 'link', /^(https?:\/\/|line:\/\/|tel:)/i, URI_CHARS) };
  }
}

/** The quick reply buttons for a message's choices, or nothing when it has none. */
export function lineQuickReply(choices: RenderedChoice[]): messagingApi.QuickReply | undefined {
  if (choices.length === 0) return undefined;
  if (choices.length > LINE_LIMITS.quickReplyItems) {
    throw new LineRenderError(`${choices.length} choices in one message; a LINE quick reply holds at most ${LINE_LIMITS.quickReplyItems}`);
  }
  return { items: choices.map((choice) => ({ type: 'action', action: lineAction(choice) })) };
}

function cell(text: string): string {
  return text.trim() ? text : EMPTY_CELL;
}

/** A card as a Flex bubble: its photo, title, label/value rows, a muted footer line, and one button per choice. */
export function lineCardBubble(card: RenderedCard): messagingApi.FlexBubble {
  const body: messagingApi.FlexComponent[] = [{ type: 'text', text: cell(card.title), weight: 'bold', size: 'lg', wrap: true }];
  if (card.rows.length > 0) {
    body.push({ type: 'separator', margin: 'md' });
    body.push({
      type: 'box',
      layout: 'vertical',
      spacing: 'sm',
      margin: 'md',
      contents: card.rows.map(
        (row): messagingApi.FlexBox => ({
          type: 'box',
          layout: 'baseline',
          spacing: 'sm',
          contents: [
            { type: 'text', text: cell(row.label), size: 'sm', color: MUTED, flex: 2, wrap: true },
            { type: 'text', text: cell(row.value), size: 'sm', color: BODY, flex: 5, wrap: true },
          ],
        }),
      ),
    });
  }
  if (card.footer?.trim()) body.push({ type: 'text', text: card.footer, size: 'xs', color: MUTED, wrap: true, margin: 'lg' });
  const bubble: messagingApi.FlexBubble = { type: 'bubble', body: { type: 'box', layout: 'vertical', contents: body } };
  if (card.image) bubble.hero = { type: 'image', url: checkedUri(card.image, 'image URL', /^https:\/\//i, IMAGE_URL_CHARS), size: 'full', aspectRatio: '20:13', aspectMode: 'cover' };
  if (card.choices.length > 0) {
    bubble.footer = {
      type: 'box',
      layout: 'vertical',
      spacing: 'sm',
      contents: card.choices.map(
        (choice, i): messagingApi.FlexButton => ({ type: 'button', style: i === 0 ? 'primary' : 'secondary', height: 'sm', action: lineAction(choice) }),
      ),
    };
  }
  return bubble;
}

function textMessages(text: string, quickReply: messagingApi.QuickReply | undefined): messagingApi.TextMessage[] {
  if (!text.trim()) throw new LineRenderError('empty text message; LINE refuses messages without text');
  const pieces = splitText(text, LINE_LIMITS.textChars);
  // The buttons go on the last piece, under the end of what they answer; LINE shows only the last message's quick reply anyway.
  return pieces.map((piece, i) => ({ type: 'text', text: piece, ...(quickReply && i === pieces.length - 1 ? { quickReply } : {}) }));
}

/**
 * Cards side by side as Flex carousels of at most 12 bubbles (and 50 KB) each, in order; the message's own
 * choices become the quick reply of the last one. A card too large for a bubble is refused (LineRenderError):
 * the cards of a carousel are written by flows with short texts.
 */
function carouselMessages(message: Extract<RenderedMessage, { type: 'carousel' }>): messagingApi.FlexMessage[] {
  if (message.cards.length === 0) throw new LineRenderError('a carousel without cards; LINE refuses an empty carousel');
  const groups: messagingApi.FlexBubble[][] = [[]];
  let size = 0;
  for (const card of message.cards) {
    const bubble = lineCardBubble(card);
    const bytes = utf8Length(JSON.stringify(bubble));
    if (bytes > BUBBLE_JSON_BYTES) throw new LineRenderError(`a carousel card is ${bytes} bytes; a LINE bubble takes at most ${BUBBLE_JSON_BYTES}`);
    const current = groups[groups.length - 1]!;
    if (current.length >= CAROUSEL_BUBBLES || (current.length > 0 && size + bytes > CAROUSEL_JSON_BYTES)) {
      groups.push([bubble]);
      size = bytes;
    } else {
      current.push(bubble);
      size += bytes;
    }
  }
  const quickReply = lineQuickReply(message.choices);
  const altText = truncateChars(message.altText.trim() || cell(message.cards[0]!.title), LINE_LIMITS.altTextChars);
  return groups.map((bubbles, i) => ({
    type: 'flex',
    altText,
    contents: { type: 'carousel', contents: bubbles },
    ...(quickReply && i === groups.length - 1 ? { quickReply } : {}),
  }));
}

/**
 * Turns rendered messages into LINE message objects. Text over 5,000 characters becomes several
 * messages; choices become quick reply buttons (date pickers and links included), and a card becomes
 * a Flex bubble whose buttons repeat those choices. A card too large for a bubble falls back to its
 * text so the customer still reads it. Throws LineRenderError on what LINE would refuse whatever we did.
 */
export function toLineMessages(messages: RenderedMessage[]): messagingApi.Message[] {
  const out: messagingApi.Message[] = [];
  for (const message of messages) {
    switch (message.type) {
      case 'text':
        out.push(...textMessages(message.text, lineQuickReply(message.choices)));
        break;
      case 'card': {
        const quickReply = lineQuickReply(message.choices);
        const bubble = lineCardBubble(message);
        if (utf8Length(JSON.stringify(bubble)) > BUBBLE_JSON_BYTES) {
          out.push(...textMessages(message.altText, quickReply));
          break;
        }
        const altText = truncateChars(message.altText.trim() || cell(message.title), LINE_LIMITS.altTextChars);
        out.push({ type: 'flex', altText, contents: bubble, ...(quickReply ? { quickReply } : {}) });
        break;
      }
      case 'carousel':
        out.push(...carouselMessages(message));
        break;
      case 'image':
        out.push({
          type: 'image',
          originalContentUrl: checkedUri(message.url, 'image URL', /^https:\/\//i, IMAGE_URL_CHARS),
          previewImageUrl: checkedUri(message.previewUrl || message.url, 'image URL', /^https:\/\//i, IMAGE_URL_CHARS),
        });
        break;
    }
  }
  return out;
}

/**
 * A delivery's messages as LINE requests of at most five messages each, in order. Usually one; more
 * only when splitting long text pushed the count past what one request may carry.
 */
export function lineMessagesOfDelivery(messages: RenderedMessage[]): messagingApi.Message[][] {
  const all = toLineMessages(messages);
  const batches: messagingApi.Message[][] = [];
  for (let i = 0; i < all.length; i += LINE_LIMITS.messagesPerRequest) batches.push(all.slice(i, i + LINE_LIMITS.messagesPerRequest));
  return batches;
}
