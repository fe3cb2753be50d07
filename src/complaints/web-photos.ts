import { Hono, type Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { html, raw } from 'hono/html';
import type { BlobStore } from '../blobs/blob-store';
import { verifyVisitor, VISITOR_COOKIE } from '../channels/web/visitor-cookie';
import type { InboundEvent } from '../channels/types';
import type { Config } from '../config';
import type { Engine } from '../conversation/engine';
import type { Translator } from '../i18n';
import { isLocale, localeFromAcceptLanguage, type Locale } from '../i18n/locales';
import type { Clock } from '../ops/clock';
import type { Store } from '../store/store';
import { BLOB_MEDIA_PREFIX, FLOWS_KEEPING_PHOTOS } from './media';
import { INTAKE_LIMITS, PHOTO_MAX_BYTES } from './model';

/*
 * Photos from the web chat. The chat page has no attachment button of its own, so a complaint offers a
 * link to this small page (/chat/photos, under the chat's cookie), which sends each picture the visitor
 * picks as its own request. The body is streamed into the blob store, counted as it arrives and refused
 * past the photo limit (413) or when it is not a picture (415); a kept photo reaches the conversation as
 * the visitor's message, exactly like a photo sent on LINE or Telegram.
 */

export interface WebPhotoDeps {
  engine: Engine;
  store: Store;
  blobs: BlobStore;
  config: Config;
  translator: Translator;
  clock: Clock;
  secret: string;
  /** Runs after a photo was taken in (Node: wake the loops; Workers: drain in waitUntil). */
  afterEvents?: (c: Context) => void;
}

/** Client-made ids, as the chat's own messages use: a retried upload carries the same id and is kept once. */
const CLIENT_ID = /^[A-Za-z0-9_-]{8,64}$/;

function page(locale: Locale, t: (key: string, params?: Record<string, string | number>) => string) {
  const texts = JSON.stringify({
    sending: t('complaint:upload.sending'),
    sent: t('complaint:upload.sent'),
    tooLarge: t('complaint:upload.tooLarge', { mb: PHOTO_MAX_BYTES / 1024 / 1024 }),
    notImage: t('complaint:upload.notImage'),
    failed: t('complaint:upload.failed'),
    notNow: t('complaint:upload.notNow'),
  }).replace(/</g, '\\u003c');
  return html`<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t('complaint:upload.title')}</title>
<style>
  body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK TC", "Noto Sans Thai", sans-serif; margin: 0; padding: 20px; background: #f3f5f8; color: #1d2733; }
  main { max-width: 480px; margin: 0 auto; background: #fff; border-radius: 12px; padding: 20px; }
  h1 { font-size: 1.2rem; margin-top: 0; }
  label.pick { display: block; border: 2px dashed #0b5cad; border-radius: 12px; padding: 24px; text-align: center; color: #0b5cad; cursor: pointer; }
  input[type=file] { display: block; margin: 12px auto 0; }
  ul { list-style: none; padding: 0; }
  li { padding: 6px 0; border-bottom: 1px solid #eef1f5; }
  a.back { display: inline-block; margin-top: 16px; background: #0b5cad; color: #fff; padding: 8px 18px; border-radius: 20px; text-decoration: none; }
</style>
</head>
<body>
<main>
<h1>${t('complaint:upload.title')}</h1>
<p>${t('complaint:upload.hint', { max: INTAKE_LIMITS.photos, mb: PHOTO_MAX_BYTES / 1024 / 1024 })}</p>
<label class="pick">${t('complaint:upload.choose')}<input id="files" type="file" accept="image/*" multiple></label>
<ul id="results" aria-live="polite"></ul>
<a class="back" href="/chat">${t('complaint:upload.back')}</a>
</main>
<script>
(() => {
  const TEXTS = ${raw(texts)};
  const list = document.getElementById('results');
  const newId = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2)).replace(/[^A-Za-z0-9_-]/g, '');
  document.getElementById('files').addEventListener('change', async (e) => {
    for (const file of Array.from(e.target.files || [])) {
      const item = document.createElement('li');
      item.textContent = file.name + ' — ' + TEXTS.sending;
      list.append(item);
      try {
        const res = await fetch('/chat/photos?id=' + newId(), { method: 'POST', body: file, headers: { 'content-type': file.type || 'application/octet-stream' }, credentials: 'same-origin' });
        item.textContent = file.name + ' — ' + (res.ok ? TEXTS.sent : res.status === 413 ? TEXTS.tooLarge : res.status === 415 ? TEXTS.notImage : res.status === 409 ? TEXTS.notNow : TEXTS.failed);
      } catch (err) {
        item.textContent = file.name + ' — ' + TEXTS.failed;
      }
    }
    e.target.value = '';
  });
})();
</script>
</body>
</html>`;
}

export function webPhotoRoutes(deps: WebPhotoDeps): Hono {
  const app = new Hono();

  async function visitorOf(c: Context): Promise<string | null> {
    return verifyVisitor(deps.secret, getCookie(c, VISITOR_COOKIE));
  }

  async function localeOf(c: Context, visitorId: string | null): Promise<Locale> {
    const fallback = deps.config.dealer.defaultLocale;
    if (visitorId) {
      const row = await deps.store.db
        .selectFrom('channel_identities')
        .innerJoin('customers', 'customers.id', 'channel_identities.customer_id')
        .select('customers.locale')
        .where('channel_identities.channel', '=', 'web')
        .where('channel_identities.external_id', '=', visitorId)
        .executeTakeFirst();
      if (row && isLocale(row.locale)) return row.locale;
    }
    return localeFromAcceptLanguage(c.req.header('accept-language'), fallback) ?? fallback;
  }

  app.get('/chat/photos', async (c) => {
    const visitorId = await visitorOf(c);
    if (!visitorId) return c.redirect('/chat', 302);
    const locale = await localeOf(c, visitorId);
    c.header('Cache-Control', 'no-store');
    c.header('Content-Security-Policy', "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'");
    return c.html(page(locale, (key, params) => deps.translator.t(locale, key, params)));
  });

  app.post('/chat/photos', async (c) => {
    const visitorId = await visitorOf(c);
    if (!visitorId) return c.json({ error: 'no valid chat visitor cookie: open /chat first' }, 401);
    const id = c.req.query('id') ?? '';
    if (!CLIENT_ID.test(id)) return c.json({ error: 'id must be 8–64 characters of A-Z, a-z, 0-9, _ and -' }, 400);
    // A picture's own type: what a browser sends for a file. No other site can post one without asking first (CORS).
    if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('image/')) return c.json({ error: 'expected a picture (Content-Type: image/…)' }, 415);
    const declared = Number(c.req.header('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > PHOTO_MAX_BYTES) return c.json({ error: `a photo may be at most ${PHOTO_MAX_BYTES} bytes` }, 413, { connection: 'close' });
    const body = c.req.raw.body;
    if (!body) return c.json({ error: 'the photo is empty' }, 400);
    // Photos are kept while a complaint is made or a person answers, as on LINE and Telegram; not otherwise.
    const conversation = await deps.store.db
      .selectFrom('channel_identities')
      .innerJoin('conversations', 'conversations.customer_id', 'channel_identities.customer_id')
      .select('conversations.flow')
      .where('channel_identities.channel', '=', 'web')
      .where('channel_identities.external_id', '=', visitorId)
      .executeTakeFirst();
    if (!(FLOWS_KEEPING_PHOTOS as readonly (string | null | undefined)[]).includes(conversation?.flow)) {
      return c.json({ error: 'photos are taken while you make a complaint or talk to a person; start one in the chat first' }, 409);
    }
    const key = `photos/web/${visitorId.replace(/[^A-Za-z0-9_-]/g, '')}/${id}`;
    const stored = await deps.blobs.put(key, body, { maxBytes: PHOTO_MAX_BYTES });
    if (!stored.ok) {
      if (stored.reason === 'too_large') return c.json({ error: `a photo may be at most ${PHOTO_MAX_BYTES} bytes` }, 413, { connection: 'close' });
      if (stored.reason === 'not_an_image') return c.json({ error: 'that file is not a picture (JPEG, PNG, GIF, WebP or HEIC)' }, 415);
      return c.json({ error: 'photos cannot be kept here at the moment' }, 503);
    }
    const event: InboundEvent = {
      channel: 'web',
      eventId: `photo-${id}`,
      externalId: visitorId,
      occurredAt: deps.clock.now().toISOString(),
      replyToken: null,
      profile: null,
      input: { type: 'image', mediaId: `${BLOB_MEDIA_PREFIX}${key}` },
    };
    const result = await deps.engine.handle(event);
    deps.afterEvents?.(c);
    return c.json({ ok: true, duplicate: result === 'duplicate', size: stored.size, contentType: stored.contentType });
  });

  return app;
}
