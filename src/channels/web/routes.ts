import { Hono, type Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { Config } from '../../config';
import type { Engine } from '../../conversation/engine';
import { AppError } from '../../errors';
import { clientAddress } from '../../http/client-address';
import { createRateLimiter, type RateLimit } from '../../http/rate-limit';
import type { Translator } from '../../i18n';
import { isLocale, localeFromAcceptLanguage, resolveLocale, type Locale } from '../../i18n/locales';
import type { Clock } from '../../ops/clock';
import type { Metrics } from '../../ops/metrics';
import type { Store } from '../../store/store';
import type { MessageRow } from '../../store/schema';
import type { InboundEvent, Input } from '../types';
import { pageTexts, renderChatPage } from './page';
import { signVisitor, verifyVisitor, VISITOR_COOKIE } from './visitor-cookie';

export interface WebChatDeps {
  engine: Engine;
  store: Store;
  config: Config;
  translator: Translator;
  clock: Clock;
  secret: string;
  /** How often an open stream looks for new messages; tests shorten it. */
  streamPollMs?: number;
  /** How long one stream stays open before the page reconnects (Workers and proxies end long requests). */
  streamMaxMs?: number;
  /** Counts refusals over the limits. */
  metrics?: Metrics;
  /** The limits on what one visitor and one address may send; the config's unless a test gives others. */
  limits?: WebChatLimits;
}

export interface WebChatLimits {
  /** Messages and button taps of one visitor. */
  messagesPerVisitor: RateLimit;
  /** Messages and taps of all visitors from one address together (a showroom's or an office's shared address). */
  messagesPerAddress: RateLimit;
  /** New visitors (each becomes a customer with their first message) from one address. */
  newVisitorsPerAddress: RateLimit;
}

/**
 * The limits the config sets. Its defaults (60 and 240 a minute, 20 new visitors in 10 minutes) are far
 * above what a person typing or tapping through a booking does (a tap a second is 60 a minute), far below a
 * script's flood. SECURITY.md lists them.
 */
export function webChatLimits(config: Config): WebChatLimits {
  const l = config.webChatLimits;
  return {
    messagesPerVisitor: { limit: l.messagesPerVisitorPerMinute, windowMs: 60_000 },
    messagesPerAddress: { limit: l.messagesPerAddressPerMinute, windowMs: 60_000 },
    newVisitorsPerAddress: { limit: l.newVisitorsPerAddressPer10Minutes, windowMs: 10 * 60_000 },
  };
}

/** Messages a page asks for at once; a reload shows the latest this many. */
const PAGE_SIZE = 60;

/** Client-made ids for each thing the visitor does; a retried POST carries the same id and is dropped. */
const clientId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'expected 8–64 characters of A-Z, a-z, 0-9, _ and -');

const startBody = z.object({ id: clientId, language: z.string().max(35).optional() });
const messageBody = z.union([
  z.object({ id: clientId, text: z.string().trim().min(1, 'expected some text').max(2000, 'at most 2,000 characters') }),
  z.object({
    id: clientId,
    choice: z.string().min(1).max(300),
    params: z
      .object({
        date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
        time: z.string().regex(/^\d{2}:\d{2}$/).optional(),
        datetime: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/).optional(),
      })
      .optional(),
  }),
]);

/** The media type of a Content-Type header, without its parameters, in lower case (`Application/JSON; charset=utf-8` → `application/json`). */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

async function readJson<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  if (mediaType(c.req.header('content-type')) !== 'application/json') {
    // Requiring JSON keeps other sites from posting into a visitor's chat with a plain form.
    throw new AppError('bad_request', 'expected Content-Type: application/json');
  }
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new AppError('bad_request', 'the body is not valid JSON');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new AppError('bad_request', 'the body does not have the expected fields', parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })));
  }
  return parsed.data;
}

/** Streams one visitor may hold open at once (tabs), and one address (a household, an office behind one address). */
const STREAMS_PER_VISITOR = 4;
const STREAMS_PER_ADDRESS = 40;
/** For this long after a visitor wrote, their stream looks for new messages at the full rate. */
const ACTIVE_MS = 60_000;
/** How much less often an idle stream looks. */
const IDLE_POLL_FACTOR = 4;

/** Counts what is open per key, against a limit. */
function openCounter(limit: number) {
  const open = new Map<string, number>();
  return {
    limit,
    count: (key: string) => open.get(key) ?? 0,
    open: (key: string) => void open.set(key, (open.get(key) ?? 0) + 1),
    close(key: string) {
      const n = (open.get(key) ?? 1) - 1;
      if (n <= 0) open.delete(key);
      else open.set(key, n);
    },
  };
}

function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

/** The web chat: a page at /chat and the small JSON API it talks to, on the same engine as LINE and Telegram. */
export function webChatRoutes(deps: WebChatDeps): Hono {
  const app = new Hono();
  const limits = deps.limits ?? webChatLimits(deps.config);
  const now = () => deps.clock.now().getTime();
  const perVisitor = createRateLimiter(limits.messagesPerVisitor, { now });
  const perAddress = createRateLimiter(limits.messagesPerAddress, { now });
  const newPerAddress = createRateLimiter(limits.newVisitorsPerAddress, { now });
  const streams = { visitor: openCounter(STREAMS_PER_VISITOR), address: openCounter(STREAMS_PER_ADDRESS) };
  /** When each visitor last wrote (bounded): their stream looks for the answer more often for a while. */
  const lastActive = new Map<string, number>();
  /** Visitors already counted as new (oldest first, bounded). */
  const countedNew = new Map<string, true>();

  /**
   * Counts a message against the visitor's and the address's limits (and, for a visitor who is not a
   * customer yet, against the new visitors of the address); throws a 429 the page shows in the visitor's
   * language when one is full. An unknown address is not counted: it would pool strangers together.
   */
  async function admit(c: Context, visitorId: string): Promise<void> {
    lastActive.delete(visitorId);
    lastActive.set(visitorId, Date.now());
    if (lastActive.size > 50_000) lastActive.delete(lastActive.keys().next().value!);
    const address = clientAddress(c);
    const customer = await customerOf(visitorId);
    const refusals: [string, ReturnType<typeof perVisitor.take>][] = [['visitor', perVisitor.take(visitorId)]];
    if (address) {
      refusals.push(['address', perAddress.take(address)]);
      // A visitor counts as new once, also when several first messages arrive before their profile is made.
      if (!customer && !countedNew.has(visitorId)) {
        const taken = newPerAddress.take(address);
        refusals.push(['new_visitors', taken]);
        if (taken.ok) {
          countedNew.set(visitorId, true);
          if (countedNew.size > 50_000) countedNew.delete(countedNew.keys().next().value!);
        }
      }
    }
    const refused = refusals.find(([, taken]) => !taken.ok);
    if (!refused) return;
    const [limit, taken] = refused as [string, { ok: false; retryAfterMs: number }];
    slowDown(c, customer?.locale ?? null, limit, Math.ceil(taken.retryAfterMs / 1000));
  }

  /** Refuses over a limit with a 429 the page shows in the visitor's language, and counts it. */
  function slowDown(c: Context, customerLocale: Locale | null, limit: string, retryAfter: number): never {
    deps.metrics?.rateLimited.inc({ limit: `web_chat_${limit}` });
    const locale: Locale = customerLocale ?? localeFromAcceptLanguage(c.req.header('accept-language'), deps.config.dealer.defaultLocale) ?? deps.config.dealer.defaultLocale;
    throw new AppError('rate_limited', deps.translator.t(locale, 'web.slowDown'), { retryAfter });
  }

  async function visitorOf(c: Context): Promise<string> {
    const id = await verifyVisitor(deps.secret, getCookie(c, VISITOR_COOKIE));
    if (!id) throw new AppError('unauthorized', 'no valid chat visitor cookie: open /chat first');
    return id;
  }

  function languageHint(c: Context, explicit?: string): string | null {
    const fallback = deps.config.dealer.defaultLocale;
    return (explicit && resolveLocale(explicit, fallback)) || localeFromAcceptLanguage(c.req.header('accept-language'), fallback);
  }

  async function submit(c: Context, visitorId: string, clientMessageId: string, input: Input, language?: string) {
    await admit(c, visitorId);
    const event: InboundEvent = {
      channel: 'web',
      // The page makes the ids; each visitor's are their own, so one visitor can never shadow another's message.
      eventId: `${visitorId}:${clientMessageId}`,
      externalId: visitorId,
      occurredAt: deps.clock.now().toISOString(),
      replyToken: null,
      profile: { displayName: null, languageHint: languageHint(c, language) },
      input,
    };
    const result = await deps.engine.handle(event);
    return c.json({ ok: true, duplicate: result === 'duplicate' });
  }

  /** The visitor's customer and language, or null before their first message. */
  async function customerOf(visitorId: string): Promise<{ customerId: string; locale: Locale | null } | null> {
    const identity = await deps.store.db
      .selectFrom('channel_identities')
      .innerJoin('customers', 'customers.id', 'channel_identities.customer_id')
      .select(['channel_identities.customer_id', 'customers.locale'])
      .where('channel', '=', 'web')
      .where('external_id', '=', visitorId)
      .executeTakeFirst();
    return identity ? { customerId: identity.customer_id, locale: isLocale(identity.locale) ? identity.locale : null } : null;
  }

  /** The page's view of transcript rows: what went out on the web and everything the customer wrote here. */
  function shown(rows: MessageRow[]) {
    return rows
      .filter((r) => r.channel === 'web' && !(r.direction === 'in' && (r.kind === 'start' || r.kind === 'stop')))
      .map((r) => {
        let message: unknown = null;
        if (r.direction === 'out' && r.payload) {
          try {
            message = (JSON.parse(r.payload) as { message?: unknown }).message ?? null;
          } catch {
            message = null;
          }
        }
        return { id: r.id, direction: r.direction, sender: r.sender, kind: r.kind, text: r.text, message, createdAt: r.created_at };
      });
  }

  /** Web messages after `after`, oldest first; or, with `latest`, the newest page of them. */
  async function messagesOf(customerId: string, after: number, latest: boolean): Promise<{ rows: MessageRow[]; cursor: number }> {
    let query = deps.store.db.selectFrom('messages').selectAll().where('customer_id', '=', customerId).where('channel', '=', 'web').where('id', '>', after);
    if (latest) {
      const rows = (await query.orderBy('id', 'desc').limit(PAGE_SIZE).execute()).reverse();
      return { rows, cursor: rows.at(-1)?.id ?? after };
    }
    query = query.orderBy('id', 'asc').limit(PAGE_SIZE * 2);
    const rows = await query.execute();
    return { rows, cursor: rows.at(-1)?.id ?? after };
  }

  async function batch(visitorId: string, after: number, latest: boolean) {
    const customer = await customerOf(visitorId);
    if (!customer) return { messages: [], cursor: after, locale: null, texts: null };
    const { rows, cursor } = await messagesOf(customer.customerId, after, latest);
    // The page's own words follow the language chosen in the chat, also after a reload.
    const texts = customer.locale ? pageTexts((key) => deps.translator.t(customer.locale!, key), deps.config.dealer.name) : null;
    return { messages: shown(rows), cursor, locale: customer.locale, texts };
  }

  function cursorOf(value: string | undefined): number {
    const after = Number(value ?? 0);
    if (!Number.isInteger(after) || after < 0) throw new AppError('bad_request', 'after must be a whole number');
    // Message ids are 32-bit on Postgres: nothing lies past the largest, and the database must not be asked.
    return Math.min(after, 2_147_483_647);
  }

  app.get('/', async (c) => {
    let visitorId = await verifyVisitor(deps.secret, getCookie(c, VISITOR_COOKIE));
    if (!visitorId) {
      visitorId = crypto.randomUUID();
      setCookie(c, VISITOR_COOKIE, await signVisitor(deps.secret, visitorId), {
        httpOnly: true,
        sameSite: 'Lax',
        secure: isHttps(c),
        path: '/chat',
        maxAge: 60 * 60 * 24 * 365,
      });
    }
    const chosen = (await customerOf(visitorId))?.locale ?? null;
    const locale: Locale = chosen ?? localeFromAcceptLanguage(c.req.header('accept-language'), deps.config.dealer.defaultLocale) ?? deps.config.dealer.defaultLocale;
    c.header('Cache-Control', 'no-store');
    c.header('Content-Security-Policy', "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'self' https: data:");
    return c.html(renderChatPage({ locale, dealerName: deps.config.dealer.name, t: (key) => deps.translator.t(locale, key) }));
  });

  app.post('/api/start', async (c) => {
    const visitorId = await visitorOf(c);
    const body = await readJson(c, startBody);
    return submit(c, visitorId, body.id, { type: 'start', payload: null }, body.language);
  });

  app.post('/api/messages', async (c) => {
    const visitorId = await visitorOf(c);
    const body = await readJson(c, messageBody);
    const input: Input = 'text' in body ? { type: 'text', text: body.text } : { type: 'choice', id: body.choice, params: body.params ?? null };
    return submit(c, visitorId, body.id, input);
  });

  app.get('/api/messages', async (c) => {
    const visitorId = await visitorOf(c);
    const latest = c.req.query('latest') !== undefined;
    const data = await batch(visitorId, latest ? 0 : cursorOf(c.req.query('after')), latest);
    c.header('Cache-Control', 'no-store');
    return c.json(data);
  });

  /**
   * New messages as server-sent events while the page is open: an event whenever something arrives, its id
   * the cursor, so the browser's automatic reconnect (Last-Event-ID) carries on where it left off. A stream
   * ends after `streamMaxMs`; the page hides it while in the background.
   */
  app.get('/api/stream', async (c) => {
    const visitorId = await visitorOf(c);
    let after = cursorOf(c.req.header('last-event-id') ?? c.req.query('after'));
    const pollMs = deps.streamPollMs ?? 700;
    const maxMs = deps.streamMaxMs ?? 25_000;
    const address = clientAddress(c);
    // Each open stream reads the database while it lasts: one visitor has a few tabs at most, one address a
    // household or an office. More is refused like too many messages, and the page tries again later.
    const held = [{ counter: streams.visitor, key: visitorId, limit: 'streams_visitor' }, ...(address ? [{ counter: streams.address, key: address, limit: 'streams_address' }] : [])];
    const full = held.find(({ counter, key }) => counter.count(key) >= counter.limit);
    if (full) slowDown(c, (await customerOf(visitorId))?.locale ?? null, full.limit, 10);
    for (const { counter, key } of held) counter.open(key);
    c.header('Cache-Control', 'no-store');
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(c, async (stream) => {
      let open = true;
      stream.onAbort(() => {
        open = false;
      });
      try {
        await stream.writeSSE({ event: 'ready', data: '', retry: 1000 });
        const started = Date.now();
        let quiet = 0;
        while (open && Date.now() - started < maxMs) {
          const data = await batch(visitorId, after, false);
          if (data.messages.length > 0 || data.cursor > after) {
            after = data.cursor;
            await stream.writeSSE({ event: 'messages', id: String(after), data: JSON.stringify(data) });
            quiet = 0;
          } else if ((quiet += pollMs) >= 15_000) {
            // A comment now and then keeps proxies from closing an idle connection.
            await stream.write(': keep-alive\n\n');
            quiet = 0;
          }
          // Right after the visitor wrote, an answer is on its way: look often. A page left open with
          // nothing happening (a staff reply may still come) is looked at less often.
          const recentlyActive = Date.now() - (lastActive.get(visitorId) ?? 0) < ACTIVE_MS;
          await stream.sleep(recentlyActive || quiet === 0 ? pollMs : pollMs * IDLE_POLL_FACTOR);
        }
      } finally {
        for (const { counter, key } of held) counter.close(key);
      }
    });
  });

  return app;
}
