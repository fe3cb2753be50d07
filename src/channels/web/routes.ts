import { Hono, type Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import type { Config } from '../../config';
import type { Engine } from '../../conversation/engine';
import { AppError } from '../../errors';
import type { Translator } from '../../i18n';
import { isLocale, localeFromAcceptLanguage, resolveLocale, type Locale } from '../../i18n/locales';
import type { Clock } from '../../ops/clock';
import type { Store } from '../../store/store';
import { messagesAfter } from '../../store/transcript';
import type { InboundEvent, Input } from '../types';
import { renderChatPage } from './page';
import { signVisitor, verifyVisitor, VISITOR_COOKIE } from './visitor-cookie';

export interface WebChatDeps {
  engine: Engine;
  store: Store;
  config: Config;
  translator: Translator;
  clock: Clock;
  secret: string;
}

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

async function readJson<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  if (!(c.req.header('content-type') ?? '').includes('application/json')) {
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

function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

/** The web chat: a page at /chat and the small JSON API it talks to, on the same engine as LINE and Telegram. */
export function webChatRoutes(deps: WebChatDeps): Hono {
  const app = new Hono();

  async function visitorOf(c: Context): Promise<string> {
    const id = await verifyVisitor(deps.secret, getCookie(c, VISITOR_COOKIE));
    if (!id) throw new AppError('unauthorized', 'no valid chat visitor cookie: open /chat first');
    return id;
  }

  function languageHint(c: Context, explicit?: string): string | null {
    const fallback = deps.config.dealer.defaultLocale;
    return (explicit && resolveLocale(explicit, fallback)) || localeFromAcceptLanguage(c.req.header('accept-language'), fallback);
  }

  async function submit(c: Context, visitorId: string, eventId: string, input: Input, language?: string) {
    const event: InboundEvent = {
      channel: 'web',
      eventId,
      externalId: visitorId,
      occurredAt: deps.clock.now().toISOString(),
      replyToken: null,
      profile: { displayName: null, languageHint: languageHint(c, language) },
      input,
    };
    const result = await deps.engine.handle(event);
    return c.json({ ok: true, duplicate: result === 'duplicate' });
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
    const locale: Locale = localeFromAcceptLanguage(c.req.header('accept-language'), deps.config.dealer.defaultLocale) ?? deps.config.dealer.defaultLocale;
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
    const after = Number(c.req.query('after') ?? 0);
    if (!Number.isInteger(after) || after < 0) throw new AppError('bad_request', 'after must be a whole number');
    const identity = await deps.store.db
      .selectFrom('channel_identities')
      .innerJoin('customers', 'customers.id', 'channel_identities.customer_id')
      .select(['channel_identities.customer_id', 'customers.locale'])
      .where('channel', '=', 'web')
      .where('external_id', '=', visitorId)
      .executeTakeFirst();
    if (!identity) return c.json({ messages: [], cursor: after, locale: null });
    const rows = await messagesAfter(deps.store.db, identity.customer_id, after);
    const messages = rows
      // The page shows what went out on the web and everything the customer wrote here.
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
    c.header('Cache-Control', 'no-store');
    return c.json({ messages, cursor: rows.at(-1)?.id ?? after, locale: isLocale(identity.locale) ? identity.locale : null });
  });

  return app;
}
