import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LINE_LIMITS } from '../../src/channels/limits';
import { TEST_LINE_TOKEN } from '../helpers/config';

/**
 * A LINE Messaging API server for tests, serving both the API (api.line.me) and the data API
 * (api-data.line.me) paths, so one fake can be given as LINE_API_BASE_URL and LINE_DATA_API_BASE_URL.
 * It refuses what LINE refuses, answering 400 with LINE's `{ message, details: [{ message, property }] }`
 * body, so a renderer that drifts outside the platform's limits fails here instead of in production.
 */

/** The calls the service makes, for failNext / dropNext and for reading the log. */
export type LineApiKind =
  | 'reply'
  | 'push'
  | 'profile'
  | 'richmenu.create'
  | 'richmenu.get'
  | 'richmenu.list'
  | 'richmenu.delete'
  | 'richmenu.content'
  | 'richmenu.setDefault'
  | 'richmenu.getDefault'
  | 'richmenu.cancelDefault'
  | 'richmenu.link'
  | 'richmenu.bulkLink'
  | 'richmenu.getUser'
  | 'richmenu.unlink'
  | 'content';

export interface LineRecordedRequest {
  method: string;
  path: string;
  kind: LineApiKind | null;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** JSON bodies parsed; binary uploads as `{ contentType, bytes }`; null when empty. */
  body: unknown;
  /** The HTTP status answered; 0 when the connection was dropped on purpose. */
  status: number;
  response: unknown;
  at: number;
}

export interface LineAcceptedSend {
  kind: 'reply' | 'push';
  /** The user a push went to, or the user the reply token was issued for (null for a token issued without one). */
  to: string | null;
  messages: Record<string, unknown>[];
  retryKey: string | null;
  requestId: string;
  at: number;
}

export interface LineFailureSpec {
  status: number;
  headers?: Record<string, string>;
  /** The answer body; a LINE-style `{ message }` by default. */
  body?: unknown;
  /** How many calls in a row fail (default 1). */
  times?: number;
  /**
   * Handle the request first (a push is delivered and its retry key remembered), then answer with
   * this failure: LINE took the request but its answer was lost on the way.
   */
  afterAccepting?: boolean;
}

export interface LineRichMenu {
  richMenuId: string;
  size: { width: number; height: number };
  selected: boolean;
  name: string;
  chatBarText: string;
  areas: { bounds: { x: number; y: number; width: number; height: number }; action: Record<string, unknown> }[];
  image: { contentType: string; bytes: number; width: number; height: number } | null;
}

export interface FakeLineApiOptions {
  /** The only channel access token accepted; defaults to the one tests/helpers/config.ts gives the service. */
  channelAccessToken?: string;
  now?: () => number;
  /**
   * Requests per second LINE takes on the endpoints under its "Other API endpoints" rate limit (2,000),
   * counted here for the rich menu link endpoints; a request over it answers 429. Lower it to provoke 429s.
   */
  linkRequestsPerSecond?: number;
  /**
   * Pushes LINE takes in any one second (a sliding window, as a rate limiter sees a burst); a push over it
   * answers 429 with Retry-After. Off unless set, so ordinary tests never meet it.
   */
  pushesPerSecond?: number;
}

export interface FakeLineApi {
  /** The base URL to give as both LINE_API_BASE_URL and LINE_DATA_API_BASE_URL. */
  readonly url: string;
  readonly channelAccessToken: string;
  readonly requests: LineRecordedRequest[];
  /** What LINE accepted and delivered, in order. */
  readonly accepted: {
    all(): LineAcceptedSend[];
    replies(): LineAcceptedSend[];
    pushes(): LineAcceptedSend[];
    /** Every message the user received, replies and pushes, in order. */
    messagesTo(userId: string): Record<string, unknown>[];
  };
  readonly richMenus: ReadonlyMap<string, LineRichMenu>;
  readonly defaultRichMenuId: string | null;
  /** The rich menu linked to one user (per-user or bulk link), or null: the user sees the default. */
  linkedRichMenu(userId: string): string | null;
  /** A reply token the fake accepts once, until it expires (default LINE_LIMITS.replyTokenTtlMs). */
  issueReplyToken(opts?: { ttlMs?: number; userId?: string }): string;
  /**
   * What a user sent in a message (an image), served by the data API's GET /v2/bot/message/:id/content
   * with its content type, as LINE serves it; an unknown id (or content LINE no longer keeps) gets 404.
   */
  setContent(messageId: string, bytes: Uint8Array, contentType?: string): void;
  /** Makes GET /v2/bot/profile/:userId answer; unknown users get 404 as on LINE. */
  setProfile(userId: string, profile: { displayName: string; language?: string | null; pictureUrl?: string }): void;
  /** Makes the next call(s) of a kind (or to a path starting with the given one) fail before any check. */
  failNext(target: LineApiKind | string, failure: LineFailureSpec): void;
  /** Drops the connection of the next call(s) without an answer. */
  dropNext(target: LineApiKind | string, times?: number): void;
  /** Carries out the next call(s) at once but answers only after `ms`: a slow answer, or one that outlives a timeout. */
  slowNext(target: LineApiKind | string, ms: number, times?: number): void;
  close(): Promise<void>;
}

export interface LineProblem {
  message: string;
  property: string;
}

class LineApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message));
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PICKER_FORMATS = {
  date: /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/,
  time: /^([01]\d|2[0-3]):[0-5]\d$/,
  datetime: /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d$/,
} as const;
const DISPLAY_TEXT_CHARS = 300;
const URI_CHARS = 1000;
const IMAGE_URL_CHARS = 2000;
const TEMPLATE_ALT_TEXT_CHARS = 400;
const BUBBLE_JSON_BYTES = 30_000;
const CAROUSEL_BUBBLES = 12;
const RICH_MENU_AREAS = 20;
const RICH_MENU_CHAT_BAR_CHARS = 14;
const RICH_MENU_IMAGE_BYTES = 1024 * 1024;
/** LINE's limits on linking: one rich menu to at most 500 users a bulk request; users by their user ID. */
const BULK_LINK_USERS = 500;
const USER_ID = /^U[0-9a-f]{32}$/;
const OTHER_ENDPOINTS_PER_SECOND = 2000;

type Context = 'quickReply' | 'flexButton' | 'flex' | 'template' | 'richmenu';

function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

/** Collects every problem in a request, as LINE reports them all at once. */
class Checker {
  readonly problems: LineProblem[] = [];

  fail(property: string, message: string): void {
    this.problems.push({ property, message });
  }

  text(value: unknown, property: string, max: number, opts: { required?: boolean; allowEmpty?: boolean } = {}): value is string {
    if (value === undefined || value === null) {
      if (opts.required ?? true) this.fail(property, 'must be specified');
      return false;
    }
    if (typeof value !== 'string') {
      this.fail(property, 'must be a string');
      return false;
    }
    if (!opts.allowEmpty && value.length === 0) this.fail(property, 'may not be empty');
    else if (value.length > max) this.fail(property, `Length must be between 0 and ${max}`);
    return true;
  }

  url(value: unknown, property: string, schemes: RegExp, max: number): void {
    if (!this.text(value, property, max)) return;
    if (!schemes.test(value as string)) this.fail(property, 'invalid uri scheme');
  }

  action(action: unknown, property: string, context: Context): void {
    if (!isObject(action)) {
      this.fail(property, 'must be specified');
      return;
    }
    const labelRequired = context === 'quickReply' || context === 'flexButton' || context === 'template';
    this.text(action.label, `${property}.label`, LINE_LIMITS.actionLabelChars, { required: labelRequired });
    switch (action.type) {
      case 'postback':
        this.text(action.data, `${property}.data`, LINE_LIMITS.postbackDataChars, { allowEmpty: true });
        if (action.displayText !== undefined) this.text(action.displayText, `${property}.displayText`, DISPLAY_TEXT_CHARS);
        if (action.text !== undefined && action.displayText !== undefined) this.fail(`${property}.text`, 'text and displayText cannot be used together');
        break;
      case 'message':
        this.text(action.text, `${property}.text`, DISPLAY_TEXT_CHARS);
        break;
      case 'uri':
        this.url(action.uri, `${property}.uri`, /^(https?:\/\/|line:\/\/|tel:)/i, URI_CHARS);
        break;
      case 'datetimepicker':
        this.picker(action, property);
        break;
      case 'camera':
      case 'cameraRoll':
      case 'location':
        if (context !== 'quickReply') this.fail(`${property}.type`, `${action.type} action is available only in quick reply`);
        break;
      case 'richmenuswitch':
        if (context !== 'richmenu') this.fail(`${property}.type`, 'richmenuswitch action is available only in rich menus');
        this.text(action.richMenuAliasId, `${property}.richMenuAliasId`, 32);
        this.text(action.data, `${property}.data`, LINE_LIMITS.postbackDataChars);
        break;
      case 'clipboard':
        this.text(action.clipboardText, `${property}.clipboardText`, 1000);
        break;
      default:
        this.fail(`${property}.type`, `unknown action type ${JSON.stringify(action.type)}`);
    }
  }

  picker(action: Record<string, unknown>, property: string): void {
    this.text(action.data, `${property}.data`, LINE_LIMITS.postbackDataChars, { allowEmpty: true });
    const mode = action.mode;
    if (mode !== 'date' && mode !== 'time' && mode !== 'datetime') {
      this.fail(`${property}.mode`, 'must be one of date, time, datetime');
      return;
    }
    const format = PICKER_FORMATS[mode];
    const values: Record<string, string> = {};
    for (const field of ['initial', 'min', 'max'] as const) {
      const value = action[field];
      if (value === undefined) continue;
      if (typeof value !== 'string' || !format.test(value)) this.fail(`${property}.${field}`, `invalid ${mode} format`);
      else values[field] = value.replace('t', 'T');
    }
    if (values.min !== undefined && values.max !== undefined && values.max <= values.min) this.fail(`${property}.max`, 'must be greater than min');
    if (values.initial !== undefined && values.min !== undefined && values.initial < values.min) this.fail(`${property}.initial`, 'must be greater than or equal to min');
    if (values.initial !== undefined && values.max !== undefined && values.initial > values.max) this.fail(`${property}.initial`, 'must be less than or equal to max');
  }

  quickReply(value: unknown, property: string): void {
    if (value === undefined) return;
    if (!isObject(value) || !Array.isArray(value.items)) {
      this.fail(`${property}.items`, 'must be specified');
      return;
    }
    if (value.items.length < 1 || value.items.length > LINE_LIMITS.quickReplyItems) {
      this.fail(`${property}.items`, `Size must be between 1 and ${LINE_LIMITS.quickReplyItems}`);
    }
    value.items.forEach((item, i) => {
      const where = `${property}.items[${i}]`;
      if (!isObject(item) || item.type !== 'action') this.fail(`${where}.type`, 'must be action');
      else {
        if (item.imageUrl !== undefined) this.url(item.imageUrl, `${where}.imageUrl`, /^https:\/\//i, URI_CHARS);
        this.action(item.action, `${where}.action`, 'quickReply');
      }
    });
  }

  flexComponent(component: unknown, property: string): void {
    if (!isObject(component)) {
      this.fail(property, 'must be an object');
      return;
    }
    switch (component.type) {
      case 'box':
        if (component.layout !== 'horizontal' && component.layout !== 'vertical' && component.layout !== 'baseline') this.fail(`${property}.layout`, 'must be horizontal, vertical or baseline');
        if (!Array.isArray(component.contents)) this.fail(`${property}.contents`, 'must be specified');
        else component.contents.forEach((c, i) => this.flexComponent(c, `${property}.contents[${i}]`));
        break;
      case 'text': {
        const spans = Array.isArray(component.contents) && component.contents.length > 0;
        if (!spans) this.text(component.text, `${property}.text`, Number.MAX_SAFE_INTEGER);
        if (spans) (component.contents as unknown[]).forEach((s, i) => this.flexComponent(s, `${property}.contents[${i}]`));
        break;
      }
      case 'span':
        this.text(component.text, `${property}.text`, Number.MAX_SAFE_INTEGER);
        break;
      case 'button':
        this.action(component.action, `${property}.action`, 'flexButton');
        break;
      case 'image':
      case 'icon':
        this.url(component.url, `${property}.url`, /^https:\/\//i, IMAGE_URL_CHARS);
        break;
      case 'separator':
      case 'filler':
      case 'video':
        break;
      default:
        this.fail(`${property}.type`, `unknown component type ${JSON.stringify(component.type)}`);
    }
    if (component.type !== 'button' && component.action !== undefined) this.action(component.action, `${property}.action`, 'flex');
  }

  bubble(bubble: unknown, property: string): void {
    if (!isObject(bubble) || bubble.type !== 'bubble') {
      this.fail(`${property}.type`, 'must be bubble');
      return;
    }
    if (Buffer.byteLength(JSON.stringify(bubble)) > BUBBLE_JSON_BYTES) this.fail(property, 'The size of a bubble must be 30KB or less');
    for (const block of ['header', 'body', 'footer'] as const) {
      const box = bubble[block];
      if (box === undefined) continue;
      if (!isObject(box) || box.type !== 'box') this.fail(`${property}.${block}`, 'must be a box');
      else this.flexComponent(box, `${property}.${block}`);
    }
    if (bubble.hero !== undefined) this.flexComponent(bubble.hero, `${property}.hero`);
    if (bubble.action !== undefined) this.action(bubble.action, `${property}.action`, 'flex');
  }

  template(template: unknown, property: string): void {
    if (!isObject(template)) {
      this.fail(property, 'must be specified');
      return;
    }
    const actions = (list: unknown, where: string, max: number) => {
      if (!Array.isArray(list) || list.length < 1 || list.length > max) this.fail(where, `Size must be between 1 and ${max}`);
      else list.forEach((a, i) => this.action(a, `${where}[${i}]`, 'template'));
    };
    switch (template.type) {
      case 'buttons':
        this.text(template.text, `${property}.text`, template.thumbnailImageUrl || template.title ? 60 : 160);
        actions(template.actions, `${property}.actions`, 4);
        break;
      case 'confirm':
        this.text(template.text, `${property}.text`, 240);
        actions(template.actions, `${property}.actions`, 2);
        break;
      case 'carousel':
      case 'image_carousel':
        if (!Array.isArray(template.columns) || template.columns.length < 1 || template.columns.length > 10) this.fail(`${property}.columns`, 'Size must be between 1 and 10');
        else
          template.columns.forEach((col, i) => {
            if (!isObject(col)) return this.fail(`${property}.columns[${i}]`, 'must be an object');
            if (template.type === 'carousel') actions(col.actions, `${property}.columns[${i}].actions`, 3);
            else this.action(col.action, `${property}.columns[${i}].action`, 'template');
          });
        break;
      default:
        this.fail(`${property}.type`, `unknown template type ${JSON.stringify(template.type)}`);
    }
  }

  message(message: unknown, property: string): void {
    if (!isObject(message)) {
      this.fail(property, 'must be an object');
      return;
    }
    switch (message.type) {
      case 'text':
        this.text(message.text, `${property}.text`, LINE_LIMITS.textChars);
        break;
      case 'image':
        this.url(message.originalContentUrl, `${property}.originalContentUrl`, /^https:\/\//i, IMAGE_URL_CHARS);
        this.url(message.previewImageUrl, `${property}.previewImageUrl`, /^https:\/\//i, IMAGE_URL_CHARS);
        break;
      case 'sticker':
        this.text(message.packageId, `${property}.packageId`, 100);
        this.text(message.stickerId, `${property}.stickerId`, 100);
        break;
      case 'location':
        this.text(message.title, `${property}.title`, 100);
        this.text(message.address, `${property}.address`, 100);
        if (typeof message.latitude !== 'number') this.fail(`${property}.latitude`, 'must be a number');
        if (typeof message.longitude !== 'number') this.fail(`${property}.longitude`, 'must be a number');
        break;
      case 'flex': {
        this.text(message.altText, `${property}.altText`, LINE_LIMITS.altTextChars);
        const contents = message.contents;
        if (isObject(contents) && contents.type === 'carousel') {
          if (!Array.isArray(contents.contents) || contents.contents.length < 1 || contents.contents.length > CAROUSEL_BUBBLES) {
            this.fail(`${property}.contents.contents`, `Size must be between 1 and ${CAROUSEL_BUBBLES}`);
          } else contents.contents.forEach((b, i) => this.bubble(b, `${property}.contents.contents[${i}]`));
        } else this.bubble(contents, `${property}.contents`);
        break;
      }
      case 'template':
        this.text(message.altText, `${property}.altText`, TEMPLATE_ALT_TEXT_CHARS);
        this.template(message.template, `${property}.template`);
        break;
      default:
        this.fail(`${property}.type`, `unknown message type ${JSON.stringify(message.type)}`);
        return;
    }
    this.quickReply(message.quickReply, `${property}.quickReply`);
  }

  messages(messages: unknown): void {
    if (!Array.isArray(messages)) {
      this.fail('messages', 'must be specified');
      return;
    }
    if (messages.length < 1 || messages.length > LINE_LIMITS.messagesPerRequest) this.fail('messages', `Size must be between 1 and ${LINE_LIMITS.messagesPerRequest}`);
    messages.forEach((m, i) => this.message(m, `messages[${i}]`));
  }

  richMenu(menu: unknown): void {
    if (!isObject(menu)) {
      this.fail('', 'must be an object');
      return;
    }
    const size = menu.size;
    let width = 0;
    let height = 0;
    if (!isObject(size) || !Number.isInteger(size.width) || !Number.isInteger(size.height)) this.fail('size', 'must be specified');
    else {
      width = size.width as number;
      height = size.height as number;
      if (width < 800 || width > 2500) this.fail('size.width', 'must be between 800 and 2500');
      if (height < 250) this.fail('size.height', 'must be 250 or more');
      if (width / height < 1.45) this.fail('size', 'width / height must be 1.45 or more');
    }
    if (typeof menu.selected !== 'boolean') this.fail('selected', 'must be specified');
    this.text(menu.name, 'name', 300);
    this.text(menu.chatBarText, 'chatBarText', RICH_MENU_CHAT_BAR_CHARS);
    if (!Array.isArray(menu.areas)) {
      this.fail('areas', 'must be specified');
      return;
    }
    if (menu.areas.length > RICH_MENU_AREAS) this.fail('areas', `Size must be between 0 and ${RICH_MENU_AREAS}`);
    menu.areas.forEach((area, i) => {
      const where = `areas[${i}]`;
      if (!isObject(area)) return this.fail(where, 'must be an object');
      const b = area.bounds;
      if (!isObject(b) || ![b.x, b.y, b.width, b.height].every((n) => Number.isInteger(n) && (n as number) >= 0)) this.fail(`${where}.bounds`, 'must be specified');
      else if ((b.x as number) + (b.width as number) > width || (b.y as number) + (b.height as number) > height) this.fail(`${where}.bounds`, 'must be inside the rich menu');
      this.action(area.action, `${where}.action`, 'richmenu');
    });
  }

  throwIfAny(): void {
    if (this.problems.length > 0) {
      throw new LineApiError(400, { message: `The request body has ${this.problems.length} error(s)`, details: this.problems });
    }
  }
}

/**
 * What LINE would object to in a reply or push `messages` array, as `{ property, message }` pairs;
 * empty when LINE would accept it. The same checks the fake's reply and push endpoints make.
 */
export function lineMessageProblems(messages: unknown): LineProblem[] {
  const check = new Checker();
  check.messages(messages);
  return check.problems;
}

/**
 * Width and height from a PNG (IHDR) or baseline/progressive JPEG (SOFn) header; null when unreadable,
 * including a file cut short (a PNG must end with its IEND chunk, a JPEG with the EOI marker).
 */
function imageSize(bytes: Buffer): { width: number; height: number } | null {
  const png = bytes.length >= 24 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.toString('ascii', 12, 16) === 'IHDR';
  const jpeg = bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8;
  if (png && bytes.toString('ascii', bytes.length - 8, bytes.length - 4) !== 'IEND') return null;
  if (jpeg && !(bytes[bytes.length - 2] === 0xff && bytes[bytes.length - 1] === 0xd9)) return null;
  if (png) {
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  if (jpeg) {
    let i = 2;
    while (i + 9 < bytes.length) {
      if (bytes[i] !== 0xff) return null;
      const marker = bytes[i + 1]!;
      const length = bytes.readUInt16BE(i + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: bytes.readUInt16BE(i + 5), width: bytes.readUInt16BE(i + 7) };
      }
      i += 2 + length;
    }
  }
  return null;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function notFound(): LineApiError {
  return new LineApiError(404, { message: 'Not found' });
}

const ROUTES: { method: string; pattern: RegExp; kind: LineApiKind }[] = [
  { method: 'POST', pattern: /^\/v2\/bot\/message\/reply$/, kind: 'reply' },
  { method: 'POST', pattern: /^\/v2\/bot\/message\/push$/, kind: 'push' },
  { method: 'GET', pattern: /^\/v2\/bot\/profile\/([^/]+)$/, kind: 'profile' },
  { method: 'POST', pattern: /^\/v2\/bot\/richmenu$/, kind: 'richmenu.create' },
  { method: 'GET', pattern: /^\/v2\/bot\/richmenu\/list$/, kind: 'richmenu.list' },
  { method: 'POST', pattern: /^\/v2\/bot\/richmenu\/([^/]+)\/content$/, kind: 'richmenu.content' },
  { method: 'GET', pattern: /^\/v2\/bot\/richmenu\/([^/]+)$/, kind: 'richmenu.get' },
  { method: 'DELETE', pattern: /^\/v2\/bot\/richmenu\/([^/]+)$/, kind: 'richmenu.delete' },
  { method: 'POST', pattern: /^\/v2\/bot\/user\/all\/richmenu\/([^/]+)$/, kind: 'richmenu.setDefault' },
  { method: 'GET', pattern: /^\/v2\/bot\/user\/all\/richmenu$/, kind: 'richmenu.getDefault' },
  { method: 'DELETE', pattern: /^\/v2\/bot\/user\/all\/richmenu$/, kind: 'richmenu.cancelDefault' },
  // After the `all` routes: a user ID is never "all".
  { method: 'POST', pattern: /^\/v2\/bot\/user\/([^/]+)\/richmenu\/([^/]+)$/, kind: 'richmenu.link' },
  { method: 'GET', pattern: /^\/v2\/bot\/user\/([^/]+)\/richmenu$/, kind: 'richmenu.getUser' },
  { method: 'DELETE', pattern: /^\/v2\/bot\/user\/([^/]+)\/richmenu$/, kind: 'richmenu.unlink' },
  { method: 'POST', pattern: /^\/v2\/bot\/richmenu\/bulk\/link$/, kind: 'richmenu.bulkLink' },
  { method: 'GET', pattern: /^\/v2\/bot\/message\/([^/]+)\/content$/, kind: 'content' },
];

/** Starts the fake on 127.0.0.1 with an ephemeral port. */
export async function startFakeLineApi(opts: FakeLineApiOptions = {}): Promise<FakeLineApi> {
  const channelAccessToken = opts.channelAccessToken ?? TEST_LINE_TOKEN;
  const now = opts.now ?? Date.now;
  const requests: LineRecordedRequest[] = [];
  const sends: LineAcceptedSend[] = [];
  const replyTokens = new Map<string, { userId: string | null; expiresAt: number; used: boolean }>();
  const retryKeys = new Map<string, { requestId: string; at: number }>();
  const profiles = new Map<string, { displayName: string; language?: string | null; pictureUrl?: string }>();
  const richMenus = new Map<string, LineRichMenu>();
  const failures = new Map<string, LineFailureSpec & { left: number }>();
  const drops = new Map<string, number>();
  const slows = new Map<string, { ms: number; left: number }>();
  const userRichMenus = new Map<string, string>();
  const contents = new Map<string, { bytes: Buffer; contentType: string }>();
  const linkLimit = opts.linkRequestsPerSecond ?? OTHER_ENDPOINTS_PER_SECOND;
  let linkWindow = { second: -1, count: 0 };
  /** Times of the pushes taken within the last second, oldest first. */
  const recentPushes: number[] = [];
  let defaultRichMenuId: string | null = null;

  function sentMessages(messages: Record<string, unknown>[]) {
    return messages.map(() => ({ id: String(BigInt(`0x${randomBytes(7).toString('hex')}`)), quoteToken: randomBytes(16).toString('base64url') }));
  }

  function takeFrom<T extends { left: number }>(map: Map<string, T>, kind: LineApiKind, path: string): T | undefined {
    for (const [target, spec] of map) {
      if (target === kind || path.startsWith(target)) {
        spec.left -= 1;
        if (spec.left <= 0) map.delete(target);
        return spec;
      }
    }
    return undefined;
  }

  function takeDrop(kind: LineApiKind, path: string): boolean {
    for (const [target, left] of drops) {
      if (target === kind || path.startsWith(target)) {
        if (left <= 1) drops.delete(target);
        else drops.set(target, left - 1);
        return true;
      }
    }
    return false;
  }

  function jsonBody(raw: Buffer): Record<string, unknown> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new LineApiError(400, { message: 'The request body has 1 error(s)', details: [{ message: 'Invalid JSON', property: '' }] });
    }
    if (!isObject(parsed)) throw new LineApiError(400, { message: 'The request body has 1 error(s)', details: [{ message: 'must be an object', property: '' }] });
    return parsed;
  }

  function menuOr404(id: string): LineRichMenu {
    const menu = richMenus.get(id);
    if (!menu) throw new LineApiError(404, { message: 'richmenu not found' });
    return menu;
  }

  /** A menu a user can be given: it exists and has its picture, as LINE requires before applying it to users. */
  function linkableMenu(id: string): LineRichMenu {
    const menu = menuOr404(id);
    if (!menu.image) throw new LineApiError(400, { message: 'must upload richmenu image before applying it to user' });
    return menu;
  }

  function countLinkRequest(): void {
    const second = Math.floor(now() / 1000);
    if (linkWindow.second !== second) linkWindow = { second, count: 0 };
    linkWindow.count += 1;
    if (linkWindow.count > linkLimit) throw new LineApiError(429, { message: 'The API rate limit has been exceeded. Try again later.' });
  }

  function handle(kind: LineApiKind, match: RegExpExecArray, headers: Record<string, string>, raw: Buffer): { status: number; body: unknown; headers?: Record<string, string>; binary?: { bytes: Buffer; contentType: string } } {
    const requestId = randomUUID();
    switch (kind) {
      case 'reply': {
        const body = jsonBody(raw);
        const check = new Checker();
        check.text(body.replyToken, 'replyToken', 256);
        check.messages(body.messages);
        check.throwIfAny();
        const token = replyTokens.get(body.replyToken as string);
        if (!token || token.used || now() >= token.expiresAt) throw new LineApiError(400, { message: 'Invalid reply token' });
        token.used = true;
        const messages = body.messages as Record<string, unknown>[];
        sends.push({ kind: 'reply', to: token.userId, messages, retryKey: null, requestId, at: now() });
        return { status: 200, body: { sentMessages: sentMessages(messages) }, headers: { 'x-line-request-id': requestId } };
      }
      case 'push': {
        // One instant for the rate check and the record, so a report of the accepted pushes sees what the limit saw.
        const t = now();
        if (opts.pushesPerSecond !== undefined) {
          while (recentPushes.length > 0 && recentPushes[0]! <= t - 1000) recentPushes.shift();
          if (recentPushes.length >= opts.pushesPerSecond) {
            throw new LineApiError(429, { message: 'The API rate limit has been exceeded. Try again later.' }, { 'retry-after': String(Math.max(1, Math.ceil((recentPushes[0]! + 1000 - t) / 1000))) });
          }
        }
        const retryKey = headers['x-line-retry-key'] ?? null;
        if (retryKey !== null && !UUID.test(retryKey)) throw new LineApiError(400, { message: 'The retry key must be a UUID', details: [{ message: 'invalid format', property: 'X-Line-Retry-Key' }] });
        const previous = retryKey ? retryKeys.get(retryKey.toLowerCase()) : undefined;
        if (previous && now() - previous.at < 24 * 3600_000) {
          throw new LineApiError(409, { message: 'The retry key is already accepted', sentMessages: [] }, { 'x-line-accepted-request-id': previous.requestId });
        }
        const body = jsonBody(raw);
        const check = new Checker();
        check.text(body.to, 'to', 100);
        check.messages(body.messages);
        check.throwIfAny();
        const messages = body.messages as Record<string, unknown>[];
        if (retryKey) retryKeys.set(retryKey.toLowerCase(), { requestId, at: now() });
        if (opts.pushesPerSecond !== undefined) recentPushes.push(t);
        sends.push({ kind: 'push', to: body.to as string, messages, retryKey, requestId, at: t });
        return { status: 200, body: { sentMessages: sentMessages(messages) }, headers: { 'x-line-request-id': requestId } };
      }
      case 'profile': {
        const userId = decodeURIComponent(match[1]!);
        const profile = profiles.get(userId);
        if (!profile) throw notFound();
        return {
          status: 200,
          body: {
            userId,
            displayName: profile.displayName,
            ...(profile.pictureUrl ? { pictureUrl: profile.pictureUrl } : {}),
            ...(profile.language ? { language: profile.language } : {}),
          },
        };
      }
      case 'richmenu.create': {
        const body = jsonBody(raw);
        const check = new Checker();
        check.richMenu(body);
        check.throwIfAny();
        const richMenuId = `richmenu-${randomBytes(16).toString('hex')}`;
        richMenus.set(richMenuId, {
          richMenuId,
          size: body.size as LineRichMenu['size'],
          selected: body.selected as boolean,
          name: body.name as string,
          chatBarText: body.chatBarText as string,
          areas: body.areas as LineRichMenu['areas'],
          image: null,
        });
        return { status: 200, body: { richMenuId } };
      }
      case 'richmenu.list':
        return { status: 200, body: { richmenus: [...richMenus.values()].map(({ image: _image, ...menu }) => menu) } };
      case 'richmenu.get': {
        const { image: _image, ...menu } = menuOr404(match[1]!);
        return { status: 200, body: menu };
      }
      case 'richmenu.delete': {
        menuOr404(match[1]!);
        richMenus.delete(match[1]!);
        if (defaultRichMenuId === match[1]) defaultRichMenuId = null;
        // Users who had it linked see the default menu again.
        for (const [userId, menuId] of userRichMenus) if (menuId === match[1]) userRichMenus.delete(userId);
        return { status: 200, body: {} };
      }
      case 'richmenu.content': {
        const menu = menuOr404(match[1]!);
        const contentType = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (contentType !== 'image/png' && contentType !== 'image/jpeg') throw new LineApiError(415, { message: 'Unsupported Media Type: use image/png or image/jpeg' });
        if (raw.length === 0) throw new LineApiError(400, { message: 'The request body is empty' });
        if (raw.length > RICH_MENU_IMAGE_BYTES) throw new LineApiError(413, { message: 'Image size must be 1MB or less' });
        if (menu.image) throw new LineApiError(400, { message: 'An image has already been uploaded to the richmenu' });
        const size = imageSize(raw);
        if (!size) throw new LineApiError(400, { message: 'The image could not be read as PNG or JPEG' });
        if (size.width !== menu.size.width || size.height !== menu.size.height) {
          throw new LineApiError(400, { message: `The image is ${size.width}x${size.height}; the rich menu is ${menu.size.width}x${menu.size.height}` });
        }
        menu.image = { contentType, bytes: raw.length, ...size };
        return { status: 200, body: {} };
      }
      case 'richmenu.setDefault': {
        const menu = menuOr404(match[1]!);
        if (!menu.image) throw new LineApiError(400, { message: 'must upload richmenu image before applying it to user' });
        defaultRichMenuId = menu.richMenuId;
        return { status: 200, body: {} };
      }
      case 'richmenu.getDefault':
        if (!defaultRichMenuId) throw new LineApiError(404, { message: 'no default richmenu' });
        return { status: 200, body: { richMenuId: defaultRichMenuId } };
      case 'richmenu.cancelDefault':
        defaultRichMenuId = null;
        return { status: 200, body: {} };
      case 'richmenu.link': {
        countLinkRequest();
        const userId = decodeURIComponent(match[1]!);
        if (!USER_ID.test(userId)) throw new LineApiError(400, { message: 'The value for the "userId" parameter is invalid' });
        const menu = linkableMenu(decodeURIComponent(match[2]!));
        userRichMenus.set(userId, menu.richMenuId);
        return { status: 200, body: {} };
      }
      case 'richmenu.bulkLink': {
        countLinkRequest();
        const body = jsonBody(raw);
        const check = new Checker();
        check.text(body.richMenuId, 'richMenuId', 100);
        if (!Array.isArray(body.userIds)) check.fail('userIds', 'must be specified');
        else {
          if (body.userIds.length < 1 || body.userIds.length > BULK_LINK_USERS) check.fail('userIds', `Size must be between 1 and ${BULK_LINK_USERS}`);
          body.userIds.forEach((id, i) => {
            if (typeof id !== 'string' || !USER_ID.test(id)) check.fail(`userIds[${i}]`, 'invalid user ID');
          });
        }
        check.throwIfAny();
        const menu = linkableMenu(body.richMenuId as string);
        // LINE links asynchronously after answering 202; the fake links at once, which a caller cannot tell apart.
        for (const userId of body.userIds as string[]) userRichMenus.set(userId, menu.richMenuId);
        return { status: 202, body: {} };
      }
      case 'richmenu.getUser': {
        const linked = userRichMenus.get(decodeURIComponent(match[1]!));
        if (!linked) throw new LineApiError(404, { message: 'the user has no richmenu' });
        return { status: 200, body: { richMenuId: linked } };
      }
      case 'richmenu.unlink':
        userRichMenus.delete(decodeURIComponent(match[1]!));
        return { status: 200, body: {} };
      case 'content': {
        const content = contents.get(decodeURIComponent(match[1]!));
        if (!content) throw notFound();
        return { status: 200, body: null, binary: content };
      }
    }
  }

  function answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', 'x-line-request-id': headers['x-line-request-id'] ?? randomUUID(), ...headers });
    res.end(JSON.stringify(body));
  }

  const server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://fake').pathname;
      const method = req.method ?? 'GET';
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name.toLowerCase()] = value;
      const raw = await readBody(req);
      const route = ROUTES.find((r) => r.method === method && r.pattern.test(path));
      const kind = route?.kind ?? null;
      const isJson = (headers['content-type'] ?? '').startsWith('application/json');
      let body: unknown = null;
      if (raw.length > 0) {
        if (isJson) {
          try {
            body = JSON.parse(raw.toString('utf8'));
          } catch {
            body = raw.toString('utf8');
          }
        } else body = { contentType: headers['content-type'] ?? null, bytes: raw.length };
      }
      const record: LineRecordedRequest = { method, path, kind, headers, body, status: 0, response: null, at: now() };
      requests.push(record);

      if (kind && takeDrop(kind, path)) {
        req.socket.destroy();
        return;
      }
      let status: number;
      let response: unknown;
      let extraHeaders: Record<string, string> = {};
      let binary: { bytes: Buffer; contentType: string } | undefined;
      try {
        if (headers.authorization !== `Bearer ${channelAccessToken}`) {
          throw new LineApiError(401, { message: 'Authentication failed. Confirm that the access token in the authorization header is valid.' });
        }
        if (!route || !kind) throw notFound();
        const failure = takeFrom(failures, kind, path);
        if (failure && !failure.afterAccepting) throw new LineApiError(failure.status, (failure.body as Record<string, unknown>) ?? { message: `injected ${failure.status}` }, failure.headers);
        const result = handle(kind, route.pattern.exec(path)!, headers, raw);
        if (failure) throw new LineApiError(failure.status, (failure.body as Record<string, unknown>) ?? { message: `injected ${failure.status}` }, failure.headers);
        ({ status, body: response, binary } = result);
        extraHeaders = result.headers ?? {};
      } catch (err) {
        if (!(err instanceof LineApiError)) throw err;
        status = err.status;
        response = err.body;
        extraHeaders = err.headers;
      }
      record.status = status;
      record.response = response;
      if (binary) {
        res.writeHead(status, { 'content-type': binary.contentType, 'content-length': String(binary.bytes.length), 'x-line-request-id': randomUUID() });
        res.end(binary.bytes);
        return;
      }
      const slow = kind ? takeFrom(slows, kind, path) : undefined;
      if (slow) await new Promise((resolve) => setTimeout(resolve, slow.ms));
      answer(res, status, response, extraHeaders);
    })().catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `fake LINE API failed: ${err instanceof Error ? err.message : String(err)}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    channelAccessToken,
    requests,
    accepted: {
      all: () => [...sends],
      replies: () => sends.filter((s) => s.kind === 'reply'),
      pushes: () => sends.filter((s) => s.kind === 'push'),
      messagesTo: (userId) => sends.filter((s) => s.to === userId).flatMap((s) => s.messages),
    },
    richMenus,
    get defaultRichMenuId() {
      return defaultRichMenuId;
    },
    linkedRichMenu: (userId) => userRichMenus.get(userId) ?? null,
    issueReplyToken(tokenOpts = {}) {
      const token = randomBytes(16).toString('hex');
      replyTokens.set(token, { userId: tokenOpts.userId ?? null, expiresAt: now() + (tokenOpts.ttlMs ?? LINE_LIMITS.replyTokenTtlMs), used: false });
      return token;
    },
    setProfile(userId, profile) {
      profiles.set(userId, profile);
    },
    setContent(messageId, bytes, contentType = 'image/jpeg') {
      contents.set(messageId, { bytes: Buffer.from(bytes), contentType });
    },
    failNext(target, failure) {
      failures.set(target, { ...failure, left: failure.times ?? 1 });
    },
    slowNext(target, ms, times = 1) {
      slows.set(target, { ms, left: times });
    },
    dropNext(target, times = 1) {
      drops.set(target, times);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
