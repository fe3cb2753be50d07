import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { BODY_LIMITS, limitBody } from '../../http/body-limit';
import { SESSION_COOKIE, SESSION_MAX_MS } from '../auth/sessions';
import { clientIp } from '../guard';
import { createStaffServices } from '../services';
import { registerAdminPages } from './admin-pages';
import { registerApiDocsPage } from './api-docs';
import { registerBookingPages } from './appointments';
import { registerComplaintPages } from './complaints';
import { registerCustomerPages } from './customers';
import { registerDashboardPage } from './dashboard';
import { registerRepairOrderPages } from './repair-orders';
import { registerCsiPages } from './csi';
import type { ConsoleContext, ConsoleDeps } from './deps';
import { anonymousLocale, consoleRoutes, FlashMessage, publicConsoleRoute, STYLES, type ConsoleEnv } from './kit';

export type { ConsoleDeps } from './deps';

/** What console pages may load and where they may be shown (see the middleware in createConsole). */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

/**
 * Only same-site paths under /console may be returned to after login, written in plain URL characters
 * (no spaces, control characters or backslashes: a CR/LF would split the Location header).
 */
function safeNext(next: unknown): string {
  return typeof next === 'string' && next.length <= 2000 && /^\/console(?:[/?][\x21-\x5b\x5d-\x7e]*)?$/.test(next) ? next : '/console';
}

function LoginPage(props: { t: (k: string, p?: Record<string, string | number>) => string; locale: string; dealerName: string; next: string; email?: string; error?: string | null; info?: string | null }) {
  return (
    <html lang={props.locale}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.t('login.title')} · ${props.dealerName}`}</title>
        <style dangerouslySetInnerHTML={{ __html: STYLES }} />
      </head>
      <body>
        <main style="max-width:420px;margin-top:8vh">
          <div class="card">
            <h1>
              {props.dealerName} · {props.t('login.title')}
            </h1>
            <FlashMessage flash={props.error ? { text: props.error, error: true } : props.info ? { text: props.info } : null} />
            <form method="post" action="/console/login">
              <input type="hidden" name="next" value={props.next} />
              <label for="email">{props.t('login.email')}</label>
              <input id="email" name="email" type="email" autocomplete="username" required value={props.email ?? ''} />
              <label for="password">{props.t('login.password')}</label>
              <input id="password" name="password" type="password" autocomplete="current-password" required />
              <p>
                <button type="submit">{props.t('login.submit')}</button>
              </p>
            </form>
          </div>
        </main>
      </body>
    </html>
  );
}

/**
 * The staff console: server-rendered pages under /console, each declared with the permission it needs
 * (see kit/context.tsx), so the registry lists every route and what protects it. Pages call the staff
 * services for everything they read and change.
 */
export function createConsole(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  const formLimit = limitBody({ maxBytes: BODY_LIMITS.console });
  // A staff photo for a customer is a picture, not a form: its route streams it under the photo limit instead.
  app.use('/console/*', (c, next) => (/^\/console\/complaints\/[^/]+\/photo$/.test(c.req.path) ? next() : formLimit(c, next)));
  // Console pages are never shown inside another site's frame (staff actions cannot be clicked through a
  // disguise), and scripts, styles and form posts come only from here. The pages' scripts and handlers are inline.
  app.use('/console/*', async (c, next) => {
    await next();
    c.res.headers.set('Content-Security-Policy', CONSOLE_CSP);
    c.res.headers.set('X-Frame-Options', 'DENY');
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
    c.res.headers.set('Referrer-Policy', 'same-origin');
  });
  const { registry } = deps;
  const ctx: ConsoleContext = {
    ...deps,
    services: createStaffServices({
      store: deps.store,
      clock: deps.clock,
      defaultLocale: deps.config.dealer.defaultLocale,
      passwordIterations: deps.passwordIterations,
      menuChoices: deps.menuChoices,
      blobs: deps.blobs,
      mediaLinks: deps.mediaLinks,
      onOutbox: deps.onOutbox,
      timeZone: deps.config.dealer.timeZone,
    }),
  };
  const { sessions } = ctx.services;
  const loginTexts = (c: Context) => {
    const locale = anonymousLocale(c, deps);
    return { locale, t: (key: string, params?: Record<string, string | number>) => deps.translator.t(locale, `console:${key}`, params) };
  };

  publicConsoleRoute(app, registry, 'GET', '/console/login', async (c) => {
    const { locale, t } = loginTexts(c);
    if (await sessions.principal(getCookie(c, SESSION_COOKIE), deps.clock.now())) return c.redirect(safeNext(c.req.query('next')));
    c.header('Cache-Control', 'no-store');
    return c.html(<LoginPage t={t} locale={locale} dealerName={deps.config.dealer.name} next={safeNext(c.req.query('next'))} info={c.req.query('signedOut') ? t('login.signedOut') : null} />);
  });

  publicConsoleRoute(app, registry, 'POST', '/console/login', async (c) => {
    const { locale, t } = loginTexts(c);
    const origin = c.req.header('origin');
    if (origin && origin !== new URL(c.req.url).origin) return c.json({ error: 'cross-site request refused' }, 403);
    const form = await c.req.parseBody();
    const email = String(form['email'] ?? '').slice(0, 320);
    const next = safeNext(form['next']);
    const render = (status: 401 | 429, error: string) => c.html(<LoginPage t={t} locale={locale} dealerName={deps.config.dealer.name} next={next} email={email} error={error} />, status);
    const result = await sessions.signIn({ email, password: String(form['password'] ?? '').slice(0, 1000), ip: clientIp(c), userAgent: c.req.header('user-agent') ?? null, now: deps.clock.now() });
    if (!result.ok) return result.reason === 'blocked' ? render(429, t('login.tooMany', { minutes: Math.ceil(result.waitMs / 60_000) })) : render(401, t('login.failed'));
    setCookie(c, SESSION_COOKIE, result.token, { httpOnly: true, sameSite: 'Lax', secure: isHttps(c), path: '/', maxAge: Math.floor(SESSION_MAX_MS / 1000) });
    return c.redirect(next, 303);
  });

  consoleRoutes(app, deps).post('/console/logout', 'console.use', async (page, c) => {
    const { actor, ip, now } = page.action;
    await sessions.signOut(actor, ip, now);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/console/login?signedOut=1', 303);
  });

  registerDashboardPage(app, ctx);
  registerCustomerPages(app, ctx);
  registerAdminPages(app, ctx);
  registerBookingPages(app, ctx);
  registerComplaintPages(app, ctx);
  registerRepairOrderPages(app, ctx);
  registerCsiPages(app, ctx);
  registerApiDocsPage(app, ctx);
  return app;
}
