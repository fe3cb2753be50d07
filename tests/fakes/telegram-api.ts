import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TEST_TELEGRAM_TOKEN } from '../helpers/config';

/**
 * A Telegram Bot API server for tests. It answers the way api.telegram.org does (HTTP status equal to
 * `error_code`, `{ ok, result | error_code, description, parameters }`) and refuses what Telegram refuses,
 * so a renderer that drifts outside the platform's limits fails here instead of in production.
 */

export interface RecordedRequest {
  /** As in the URL path (Telegram matches method names without regard to case). */
  method: string;
  token: string;
  /** Form fields arrive as strings; structured fields (reply_markup, commands, …) are JSON-parsed. */
  params: Record<string, unknown>;
  /** The HTTP status answered; 0 when the connection was dropped on purpose. */
  status: number;
  /** The call took effect (a message reached the chat), even if its answer then said otherwise. */
  delivered: boolean;
  description: string | null;
  at: number;
}

export interface FailureSpec {
  errorCode: number;
  description: string;
  retryAfter?: number;
  /** How many calls in a row fail (default 1). */
  times?: number;
  /** Carry the call out first (the message reaches the chat), then answer with this error: Telegram took it but its answer was lost. */
  afterAccepting?: boolean;
}

export interface FakeTelegramApiOptions {
  /** The only token accepted; defaults to the one tests/helpers/config.ts gives the service. */
  token?: string;
  /** Messages one chat may receive per second before 429; off unless set, so ordinary tests never flake. */
  perChatPerSecond?: number;
  /** Messages the bot may send per second over all chats before 429; off unless set. */
  perSecond?: number;
  now?: () => number;
}

export interface WebhookState {
  url: string;
  secretToken: string | null;
  allowedUpdates: string[] | null;
  dropPendingUpdates: boolean;
  maxConnections: number;
}

export interface BotCommandRecord {
  command: string;
  description: string;
}

export interface FakeTelegramApi {
  /** The apiRoot to give the client (requests go to `${url}/bot<token>/<method>`). */
  readonly url: string;
  readonly token: string;
  readonly requests: RecordedRequest[];
  /** The webhook as last set, or null when none is set. */
  readonly webhook: WebhookState | null;
  /** sendMessage / sendPhoto calls that reached the chat (whatever they were answered), optionally for one chat. */
  sent(chatId?: string | number): RecordedRequest[];
  /** Successful answerCallbackQuery calls. */
  answeredCallbacks(): RecordedRequest[];
  /** The command list set for the default scope and a language ('' or omitted: no language_code). */
  commands(languageCode?: string): BotCommandRecord[] | undefined;
  /** Makes the next call(s) of `method` answer with this error before any other check. */
  failNext(method: string, failure: FailureSpec): void;
  /** Drops the connection of the next call(s) of `method` without an answer. */
  dropNext(method: string, times?: number): void;
  /** Carries out the next call(s) of `method` at once but answers only after `ms`: a slow answer, or one that outlives a timeout. */
  slowNext(method: string, ms: number, times?: number): void;
  /** From now on every send to this chat answers 403 "bot was blocked by the user", as after a block. */
  block(chatId: string | number): void;
  /** Once any id is registered, answerCallbackQuery accepts only registered ids, as Telegram does. */
  registerCallbackQuery(id: string): void;
  setRateLimits(limits: { perChatPerSecond?: number | null; perSecond?: number | null }): void;
  /**
   * A file users sent (a photo size), for getFile and the download at `/file/bot<token>/<file_path>`, as
   * Telegram serves them. `fileSize` overrides the size getFile reports (a file over 20 MB is refused).
   */
  addFile(fileId: string, bytes: Uint8Array, opts?: { fileSize?: number }): void;
  close(): Promise<void>;
}

class BotApiError extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
    readonly retryAfter?: number,
  ) {
    super(description);
  }
}

const bad = (description: string) => new BotApiError(400, `Bad Request: ${description}`);

const JSON_FIELDS = new Set(['reply_markup', 'allowed_updates', 'commands', 'scope', 'entities', 'caption_entities', 'link_preview_options', 'reply_parameters', 'media']);
const TEXT_LIMIT = 4096;
const CAPTION_LIMIT = 1024;
const SEND_METHODS = new Set(['sendmessage', 'sendphoto']);
/** Bots may download files of up to 20 MB with getFile. */
const DOWNLOAD_LIMIT = 20 * 1024 * 1024;

/** The tags Telegram's HTML parse mode knows (https://core.telegram.org/bots/api#html-style). */
const HTML_TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'span', 'tg-spoiler', 'a', 'code', 'pre', 'blockquote', 'tg-emoji']);
const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

function byteOffset(text: string, index: number): number {
  return new TextEncoder().encode(text.slice(0, index)).length;
}

/**
 * Parses Telegram HTML the way the server does (after tdlib's parse_html): a `<` must open or close a
 * supported tag, tags must nest and close, `&` starts an entity only when one follows (a lone `&` is
 * text). Returns the visible text, whose length is what the 4,096 limit counts.
 */
export function parseTelegramHtml(html: string): string {
  let visible = '';
  const open: string[] = [];
  let i = 0;
  while (i < html.length) {
    const ch = html[i]!;
    if (ch === '&') {
      const m = /^&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]+);/.exec(html.slice(i, i + 12));
      if (m) {
        const name = m[1]!;
        let decoded: string | undefined;
        if (name.startsWith('#x')) decoded = String.fromCodePoint(Math.min(0x10ffff, parseInt(name.slice(2), 16)));
        else if (name.startsWith('#')) decoded = String.fromCodePoint(Math.min(0x10ffff, parseInt(name.slice(1), 10)));
        else decoded = NAMED_ENTITIES[name];
        if (decoded !== undefined) {
          visible += decoded;
          i += m[0].length;
          continue;
        }
      }
      visible += ch;
      i += 1;
      continue;
    }
    if (ch !== '<') {
      visible += ch;
      i += 1;
      continue;
    }
    const offset = byteOffset(html, i);
    if (html[i + 1] === '/') {
      const end = /^<\/([a-zA-Z-]*)\s*>/.exec(html.slice(i));
      if (!end) throw bad(`can't parse entities: Unclosed end tag at byte offset ${offset}`);
      const name = end[1]!.toLowerCase();
      const expected = open.pop();
      if (expected === undefined) throw bad(`can't parse entities: Unexpected end tag at byte offset ${offset}`);
      if (name !== expected) throw bad(`can't parse entities: Unmatched end tag at byte offset ${offset}, expected "</${expected}>", found "</${name}>"`);
      i += end[0].length;
      continue;
    }
    const start = /^<([a-zA-Z-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?)*)\s*>/.exec(html.slice(i));
    const name = (start?.[1] ?? /^<([a-zA-Z-]*)/.exec(html.slice(i))?.[1] ?? '').toLowerCase();
    if (!start || !HTML_TAGS.has(name)) throw bad(`can't parse entities: Unsupported start tag "${name}" at byte offset ${offset}`);
    const attrs = start[2] ?? '';
    if (name === 'span' && !/class\s*=\s*["']?tg-spoiler/.test(attrs)) throw bad(`can't parse entities: Tag "span" must have class "tg-spoiler" at byte offset ${offset}`);
    if (name === 'tg-emoji' && !/emoji-id\s*=/.test(attrs)) throw bad(`can't parse entities: Custom emoji entity must contain a tg://emoji URL at byte offset ${offset}`);
    open.push(name);
    i += start[0].length;
  }
  const unclosed = open.pop();
  if (unclosed !== undefined) throw bad(`can't parse entities: Can't find end tag corresponding to start tag "${unclosed}"`);
  return visible;
}

/** The text as Telegram will show it, after the parse mode. */
function visibleText(text: string, parseMode: unknown): string {
  if (parseMode === undefined || parseMode === '') return text;
  if (parseMode === 'HTML') return parseTelegramHtml(text);
  if (parseMode === 'Markdown' || parseMode === 'MarkdownV2') {
    throw bad(`parse_mode ${parseMode} is not modelled by this fake; model it before relying on it`);
  }
  throw bad(`unsupported parse_mode`);
}

function isUrl(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

const BUTTON_ACTIONS = ['url', 'callback_data', 'web_app', 'login_url', 'switch_inline_query', 'switch_inline_query_current_chat', 'switch_inline_query_chosen_chat', 'copy_text', 'callback_game', 'pay'];

function checkReplyMarkup(raw: unknown): void {
  if (raw === undefined) return;
  if (typeof raw === 'string' || raw === null || typeof raw !== 'object') throw bad("can't parse reply keyboard markup JSON object");
  const markup = raw as Record<string, unknown>;
  if (!('inline_keyboard' in markup)) return; // reply keyboards and ForceReply: not used by the service
  const keyboard = markup.inline_keyboard;
  if (!Array.isArray(keyboard) || !keyboard.every((row) => Array.isArray(row))) {
    throw bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays');
  }
  let count = 0;
  for (const row of keyboard as unknown[][]) {
    if (row.length > 8) throw bad('too many buttons in a row of the inline keyboard');
    for (const b of row) {
      count += 1;
      if (!b || typeof b !== 'object') throw bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object");
      const btn = b as Record<string, unknown>;
      if (typeof btn.text !== 'string') throw bad('can\'t parse inline keyboard button: Field "text" must be of type String');
      if (!btn.text.trim()) throw bad('inline keyboard button text is empty');
      const actions = BUTTON_ACTIONS.filter((a) => btn[a] !== undefined);
      if (actions.length === 0) throw bad('text buttons are unallowed in the inline keyboard');
      if (actions.length > 1) throw bad(`inline keyboard button must have exactly one of ${BUTTON_ACTIONS.join(', ')}`);
      if (btn.callback_data !== undefined) {
        const data = btn.callback_data;
        const bytes = typeof data === 'string' ? new TextEncoder().encode(data).length : -1;
        if (bytes < 1 || bytes > 64) throw bad('BUTTON_DATA_INVALID');
      }
      if (btn.url !== undefined && (typeof btn.url !== 'string' || !isUrl(btn.url, ['http:', 'https:', 'tg:']))) {
        throw bad(`inline keyboard button URL '${String(btn.url)}' is invalid: Unsupported URL protocol`);
      }
    }
  }
  if (count > 100) throw bad('too many inline keyboard buttons');
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function parseParams(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
  const params: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const body = await readBody(req);
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (body.length > 0) {
    if (type.startsWith('application/json')) {
      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        throw bad("can't parse JSON object");
      }
      if (json && typeof json === 'object' && !Array.isArray(json)) Object.assign(params, json);
    } else if (type.startsWith('application/x-www-form-urlencoded')) {
      Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
    } else if (type.startsWith('multipart/form-data')) {
      const form = await new Response(new Uint8Array(body), { headers: { 'content-type': type } }).formData();
      for (const [key, value] of form.entries()) {
        params[key] = typeof value === 'string' ? value : { filename: value.name, size: value.size, type: value.type };
      }
    }
  }
  // Over a form every structured field is a JSON string, exactly as node-telegram-bot-api posts it.
  for (const key of JSON_FIELDS) {
    const value = params[key];
    if (typeof value !== 'string') continue;
    try {
      params[key] = JSON.parse(value);
    } catch {
      // left as a string; the method's own check names the field
    }
  }
  return params;
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function bool(value: unknown): boolean {
  return value === true || value === 'true' || value === '1' || value === 1;
}

/** Starts the fake on 127.0.0.1 with an ephemeral port. */
export async function startFakeTelegramApi(opts: FakeTelegramApiOptions = {}): Promise<FakeTelegramApi> {
  const token = opts.token ?? TEST_TELEGRAM_TOKEN;
  const botId = Number(token.split(':')[0]) || 1;
  const now = opts.now ?? Date.now;
  const requests: RecordedRequest[] = [];
  const failures = new Map<string, FailureSpec & { left: number }>();
  const drops = new Map<string, number>();
  const slows = new Map<string, { ms: number; left: number }>();
  const blocked = new Set<string>();
  const registered = new Set<string>();
  const answered = new Set<string>();
  const commandSets = new Map<string, BotCommandRecord[]>();
  const sendTimes = new Map<string, number[]>();
  let limits = { perChatPerSecond: opts.perChatPerSecond ?? null, perSecond: opts.perSecond ?? null };
  let webhook: WebhookState | null = null;
  let messageId = 0;
  const files = new Map<string, { bytes: Buffer; fileSize: number; path: string }>();

  /** Sliding one-second window, as Telegram's flood control behaves for a burst. */
  function checkRate(key: string, limit: number | null): void {
    if (limit === null) return;
    const t = now();
    const times = (sendTimes.get(key) ?? []).filter((s) => s > t - 1000);
    sendTimes.set(key, times);
    if (times.length >= limit) {
      const retryAfter = Math.max(1, Math.ceil((times[0]! + 1000 - t) / 1000));
      throw new BotApiError(429, `Too Many Requests: retry after ${retryAfter}`, retryAfter);
    }
  }

  function noteSend(chatId: string): void {
    const t = now();
    for (const key of [`chat:${chatId}`, '*']) sendTimes.set(key, [...(sendTimes.get(key) ?? []), t]);
  }

  function chatOf(params: Record<string, unknown>): string {
    const chatId = str(params.chat_id);
    if (!chatId) throw bad('chat_id is empty');
    if (!/^-?\d+$/.test(chatId) && !/^@[A-Za-z0-9_]{4,}$/.test(chatId)) throw bad('chat not found');
    if (blocked.has(chatId)) throw new BotApiError(403, 'Forbidden: bot was blocked by the user');
    return chatId;
  }

  function message(chatId: string, extra: Record<string, unknown>) {
    messageId += 1;
    return {
      message_id: messageId,
      from: { id: botId, is_bot: true, first_name: 'Dealer Test Bot', username: 'dealer_test_bot' },
      chat: { id: Number(chatId) || chatId, type: 'private' },
      date: Math.floor(now() / 1000),
      ...extra,
    };
  }

  const handlers: Record<string, (p: Record<string, unknown>) => unknown> = {
    getme: () => ({ id: botId, is_bot: true, first_name: 'Dealer Test Bot', username: 'dealer_test_bot', can_join_groups: false, can_read_all_group_messages: false, supports_inline_queries: false }),

    sendmessage: (p) => {
      const chatId = chatOf(p);
      const text = str(p.text);
      if (text === undefined) throw bad('message text is empty');
      const shown = visibleText(text, p.parse_mode);
      if (!shown.trim()) throw bad('message text is empty');
      if (shown.length > TEXT_LIMIT) throw bad('message is too long');
      checkReplyMarkup(p.reply_markup);
      checkRate(`chat:${chatId}`, limits.perChatPerSecond);
      checkRate('*', limits.perSecond);
      noteSend(chatId);
      return message(chatId, { text: shown, ...(p.reply_markup ? { reply_markup: p.reply_markup } : {}) });
    },

    sendphoto: (p) => {
      const chatId = chatOf(p);
      const photo = p.photo;
      if (photo === undefined || photo === '') throw bad('there is no photo in the request');
      if (typeof photo === 'string' && photo.includes('://') && !isUrl(photo, ['http:', 'https:'])) throw bad('wrong HTTP URL specified');
      const caption = str(p.caption);
      if (caption !== undefined && visibleText(caption, p.parse_mode).length > CAPTION_LIMIT) throw bad('message caption is too long');
      checkReplyMarkup(p.reply_markup);
      checkRate(`chat:${chatId}`, limits.perChatPerSecond);
      checkRate('*', limits.perSecond);
      noteSend(chatId);
      return message(chatId, { photo: [{ file_id: `photo-${messageId + 1}`, file_unique_id: `u${messageId + 1}`, width: 800, height: 600 }] });
    },

    getfile: (p) => {
      const fileId = str(p.file_id) ?? '';
      const file = files.get(fileId);
      if (!file) throw bad('invalid file_id');
      if (file.fileSize > DOWNLOAD_LIMIT) throw bad('file is too big');
      return { file_id: fileId, file_unique_id: `u-${fileId.slice(0, 12)}`, file_size: file.fileSize, file_path: file.path };
    },

    answercallbackquery: (p) => {
      const id = str(p.callback_query_id) ?? '';
      const invalid = bad('query is too old and response timeout expired or query ID is invalid');
      if (!id || answered.has(id) || (registered.size > 0 && !registered.has(id))) throw invalid;
      const text = str(p.text);
      if (text !== undefined && text.length > 200) throw bad('MESSAGE_TOO_LONG');
      answered.add(id);
      return true;
    },

    setwebhook: (p) => {
      const url = str(p.url) ?? '';
      if (url === '') {
        webhook = null; // an empty url removes the webhook, as Telegram documents
        return true;
      }
      if (!isUrl(url, ['https:'])) throw bad('bad webhook: An HTTPS URL must be provided for webhook');
      const secret = str(p.secret_token);
      if (secret !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) throw bad('secret token contains unallowed characters');
      let allowedUpdates: string[] | null = null;
      if (p.allowed_updates !== undefined) {
        if (!Array.isArray(p.allowed_updates) || !p.allowed_updates.every((u) => typeof u === 'string')) throw bad("can't parse allowed updates");
        allowedUpdates = p.allowed_updates as string[];
      }
      const maxConnections = p.max_connections === undefined ? 40 : Number(p.max_connections);
      if (!Number.isInteger(maxConnections) || maxConnections < 1 || maxConnections > 100) throw bad('max_connections must be 1-100');
      webhook = { url, secretToken: secret ?? null, allowedUpdates, dropPendingUpdates: bool(p.drop_pending_updates), maxConnections };
      return true;
    },

    deletewebhook: () => {
      webhook = null;
      return true;
    },

    getwebhookinfo: () => ({ url: webhook?.url ?? '', has_custom_certificate: false, pending_update_count: 0, ...(webhook?.allowedUpdates ? { allowed_updates: webhook.allowedUpdates } : {}) }),

    setmycommands: (p) => {
      const list = p.commands;
      if (!Array.isArray(list)) throw bad("can't parse commands JSON object");
      if (list.length > 100) throw bad('too many commands specified');
      const commands: BotCommandRecord[] = [];
      for (const c of list) {
        const command = c && typeof c === 'object' ? (c as Record<string, unknown>).command : undefined;
        const description = c && typeof c === 'object' ? (c as Record<string, unknown>).description : undefined;
        if (typeof command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(command)) throw bad('BOT_COMMAND_INVALID');
        if (typeof description !== 'string' || !description.trim()) throw bad('command description is empty');
        if (description.length > 256) throw bad('BOT_COMMAND_DESCRIPTION_INVALID');
        commands.push({ command, description });
      }
      if (new Set(commands.map((c) => c.command)).size !== commands.length) throw bad('BOT_COMMAND_DUPLICATE');
      const language = str(p.language_code) ?? '';
      if (language !== '' && !/^[a-z]{2}$/.test(language)) throw bad('invalid language code specified');
      const scope = p.scope && typeof p.scope === 'object' ? String((p.scope as Record<string, unknown>).type) : 'default';
      // An empty list removes the commands for that scope and language, as deleteMyCommands does.
      if (commands.length === 0) commandSets.delete(`${scope}|${language}`);
      else commandSets.set(`${scope}|${language}`, commands);
      return true;
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // File downloads: https://api.telegram.org/file/bot<token>/<file_path>, a plain 404 for anything unknown.
    const download = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (download) {
      const record: RecordedRequest = { method: 'file', token: download[1]!, params: { path: download[2] }, status: 0, delivered: false, description: null, at: now() };
      requests.push(record);
      const file = download[1] === token ? [...files.values()].find((f) => f.path === decodeURIComponent(download[2]!)) : undefined;
      record.status = file ? 200 : 404;
      if (!file) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error_code: 404, description: 'Not Found' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(file.bytes.length) });
      res.end(file.bytes);
      return;
    }
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    const record: RecordedRequest = { method: match?.[2] ?? url.pathname, token: match?.[1] ?? '', params: {}, status: 0, delivered: false, description: null, at: now() };
    requests.push(record);
    const answer = (status: number, body: unknown) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      if (!match) throw new BotApiError(404, 'Not Found');
      record.params = await parseParams(req, url);
      // Stamped again once the body is read: that is when the rate limits judge it.
      record.at = now();
      if (match[1] !== token) throw new BotApiError(401, 'Unauthorized');
      const method = match[2]!.toLowerCase();
      const drop = drops.get(method) ?? 0;
      if (drop > 0) {
        drops.set(method, drop - 1);
        record.description = 'connection dropped';
        res.socket?.destroy();
        return;
      }
      const failure = failures.get(method);
      if (failure) {
        failure.left -= 1;
        if (failure.left <= 0) failures.delete(method);
        if (!failure.afterAccepting) throw new BotApiError(failure.errorCode, failure.description, failure.retryAfter);
      }
      const handler = handlers[method];
      if (!handler) throw new BotApiError(404, 'Not Found');
      const result = handler(record.params);
      record.delivered = true;
      if (failure) throw new BotApiError(failure.errorCode, failure.description, failure.retryAfter);
      const slow = slows.get(method);
      if (slow) {
        slow.left -= 1;
        if (slow.left <= 0) slows.delete(method);
        await new Promise((resolve) => setTimeout(resolve, slow.ms));
      }
      answer(200, { ok: true, result });
    } catch (err) {
      if (!(err instanceof BotApiError)) throw err;
      record.description = err.description;
      answer(err.errorCode, {
        ok: false,
        error_code: err.errorCode,
        description: err.description,
        ...(err.retryAfter !== undefined ? { parameters: { retry_after: err.retryAfter } } : {}),
      });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error_code: 500, description: `fake failed: ${String(err)}` }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const isSent = (r: RecordedRequest) => r.delivered && SEND_METHODS.has(r.method.toLowerCase());

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    get webhook() {
      return webhook ? { ...webhook } : null;
    },
    sent(chatId) {
      return requests.filter((r) => isSent(r) && (chatId === undefined || str(r.params.chat_id) === String(chatId)));
    },
    answeredCallbacks() {
      return requests.filter((r) => r.status === 200 && r.method.toLowerCase() === 'answercallbackquery');
    },
    commands(languageCode = '') {
      return commandSets.get(`default|${languageCode}`);
    },
    failNext(method, failure) {
      failures.set(method.toLowerCase(), { ...failure, left: failure.times ?? 1 });
    },
    slowNext(method, ms, times = 1) {
      slows.set(method.toLowerCase(), { ms, left: times });
    },
    dropNext(method, times = 1) {
      drops.set(method.toLowerCase(), times);
    },
    block(chatId) {
      blocked.add(String(chatId));
    },
    registerCallbackQuery(id) {
      registered.add(id);
    },
    addFile(fileId, bytes, fileOpts = {}) {
      files.set(fileId, { bytes: Buffer.from(bytes), fileSize: fileOpts.fileSize ?? bytes.length, path: `photos/file_${files.size}.jpg` });
    },
    setRateLimits(next) {
      limits = {
        perChatPerSecond: next.perChatPerSecond === undefined ? limits.perChatPerSecond : next.perChatPerSecond,
        perSecond: next.perSecond === undefined ? limits.perSecond : next.perSecond,
      };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
