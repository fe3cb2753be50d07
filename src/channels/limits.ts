/**
 * What the platforms refuse, from their API references. Renderers stay inside these; the fake platform
 * servers in tests reject anything outside them, as the real ones do.
 */
export const LINE_LIMITS = {
  messagesPerRequest: 5,
  textChars: 5000,
  quickReplyItems: 13,
  actionLabelChars: 20,
  postbackDataChars: 300,
  altTextChars: 1500,
  /** Reply tokens are single use and expire; after this we push instead. */
  replyTokenTtlMs: 30_000,
} as const;

export const TELEGRAM_LIMITS = {
  textChars: 4096,
  callbackDataBytes: 64,
  /** Telegram shows at most 100 buttons in one inline keyboard. */
  inlineButtons: 100,
  buttonTextChars: 64,
} as const;

/** UTF-8 length, the unit Telegram counts callback_data in. */
export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/**
 * Length in UTF-16 code units, the unit both LINE and Telegram count text in. An emoji counts as two,
 * which is never more lenient than the platforms.
 */
export function charLength(text: string): number {
  return text.length;
}

/** The longest prefix of `text` within `max` UTF-16 units that does not split a character. */
function fittingPrefix(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return text.slice(0, end);
}

/** Cuts text to at most `max` UTF-16 units, ending with an ellipsis when something was cut. */
export function truncateChars(text: string, max: number): string {
  return text.length <= max ? text : `${fittingPrefix(text, max - 1)}…`;
}

/** Splits long text into pieces of at most `max` UTF-16 units, preferring paragraph, line and word breaks. */
export function splitText(text: string, max: number): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const window = fittingPrefix(rest, max);
    let cut = window.lastIndexOf('\n\n');
    if (cut < max / 2) cut = window.lastIndexOf('\n');
    if (cut < max / 2) cut = window.lastIndexOf(' ');
    const take = cut >= max / 2 ? cut : window.length;
    pieces.push(rest.slice(0, take).trimEnd());
    rest = rest.slice(take).replace(/^[\n ]+/, '');
  }
  if (rest.length > 0 || pieces.length === 0) pieces.push(rest);
  return pieces;
}
