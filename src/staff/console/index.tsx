import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { sql } from 'kysely';
import { BODY_LIMITS, limitBody } from '../../http/body-limit';
import { recordAudit } from '../audit';
import { createSession, endSession, principalFromSession, SESSION_COOKIE, SESSION_MAX_MS } from '../auth/sessions';
import { clearLoginFailures, loginBlockedFor, recordLoginFailure } from '../auth/login-limit';
import { verifyPassword } from '../auth/password';
import { clientIp, consoleRoute, publicConsoleRoute, type StaffEnv } from '../guard';
import { findStaffByEmail } from '../staff-users';
import { registerAdminPages } from './admin-pages';
import { registerApiDocsPage } from './api-docs';
import { registerBookingPages } from './appointments';
import { registerCustomerPages } from './customers';
import { ChannelBadge, formatTime } from './customer-format';
import { anonymousLocale, Layout, pageOf, STYLES, type ConsoleDeps } from './layout';

export type { ConsoleDeps } from './layout';

/** A password check of similar cost runs for unknown emails, so response time does not reveal which accounts exist. */
const DUMMY_HASH = 'pbkdf2-sha256$600000$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

/** Only same-site paths under /console may be returned to after login. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/console(\/|$|\?)/.test(next) && !next.startsWith('//') ? next : '/console';
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
            {props.error ? <div class="flash error">{props.error}</div> : null}
            {props.info ? <div class="flash">{props.info}</div> : null}
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
 * (see guard.ts), so the registry lists every route and what protects it.
 */
export function createConsole(deps: ConsoleDeps): Hono<StaffEnv> {
  const app = new Hono<StaffEnv>();
  app.use('/console/*', limitBody({ maxBytes: BODY_LIMITS.console }));
  const { registry } = deps;

  publicConsoleRoute(app, registry, 'GET', '/console/login', async (c) => {
    const locale = anonymousLocale(c, deps);
    const t = (key: string, params?: Record<string, string | number>) => deps.translator.t(locale, `console:${key}`, params);
    if (await principalFromSession(deps.store.db, getCookie(c, SESSION_COOKIE), deps.clock.now())) return c.redirect(safeNext(c.req.query('next')));
    c.header('Cache-Control', 'no-store');
    return c.html(<LoginPage t={t} locale={locale} dealerName={deps.config.dealer.name} next={safeNext(c.req.query('next'))} info={c.req.query('signedOut') ? t('login.signedOut') : null} />);
  });

  publicConsoleRoute(app, registry, 'POST', '/console/login', async (c) => {
    const locale = anonymousLocale(c, deps);
    const t = (key: string, params?: Record<string, string | number>) => deps.translator.t(locale, `console:${key}`, params);
    const origin = c.req.header('origin');
    if (origin && origin !== new URL(c.req.url).origin) return c.json({ error: 'cross-site request refused' }, 403);
    const form = await c.req.parseBody();
    const email = String(form['email'] ?? '').slice(0, 320);
    const password = String(form['password'] ?? '').slice(0, 1000);
    const next = safeNext(form['next']);
    const now = deps.clock.now();
    const ip = clientIp(c);
    const render = (status: 401 | 429, error: string) => c.html(<LoginPage t={t} locale={locale} dealerName={deps.config.dealer.name} next={next} email={email} error={error} />, status);

    const wait = await loginBlockedFor(deps.store.db, email, ip, now);
    if (wait > 0) return render(429, t('login.tooMany', { minutes: Math.ceil(wait / 60_000) }));
    const staff = await findStaffByEmail(deps.store.db, email);
    const ok = await verifyPassword(password, staff?.password_hash ?? DUMMY_HASH);
    if (!staff || !ok || staff.active !== 1) {
      await recordLoginFailure(deps.store.db, email, ip, now);
      return render(401, t('login.failed'));
    }
    await clearLoginFailures(deps.store.db, email);
    const session = await deps.store.transaction(async (tx) => {
      const created = await createSession(tx, staff.id, { ip, userAgent: c.req.header('user-agent') ?? null, now });
      await tx.updateTable('staff_users').set({ last_login_at: now.toISOString() }).where('id', '=', staff.id).execute();
      await recordAudit(tx, { actor: { kind: 'staff', id: staff.id, email: staff.email, name: staff.name, role: staff.role, locale: staff.locale, branchIds: [], sessionId: created.sessionId }, action: 'login', entity: 'staff_session', entityId: created.sessionId, ip, now: now.toISOString() });
      return created;
    });
    setCookie(c, SESSION_COOKIE, session.token, { httpOnly: true, sameSite: 'Lax', secure: isHttps(c), path: '/', maxAge: Math.floor(SESSION_MAX_MS / 1000) });
    return c.redirect(next, 303);
  });

  consoleRoute(app, registry, deps, 'POST', '/console/logout', 'console.use', async (c) => {
    const principal = c.get('principal');
    if (principal.kind === 'staff') {
      await deps.store.transaction(async (tx) => {
        await endSession(tx, principal.sessionId);
        await recordAudit(tx, { actor: principal, action: 'logout', entity: 'staff_session', entityId: principal.sessionId, ip: clientIp(c), now: deps.clock.now().toISOString() });
      });
    }
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/console/login?signedOut=1', 303);
  });

  consoleRoute(app, registry, deps, 'GET', '/console', 'console.use', async (c) => {
    const page = pageOf(c, deps);
    const db = deps.store.db;
    const customers = await db.selectFrom('customers').select(sql<number>`count(*)`.as('n')).where('merged_into_id', 'is', null).where('erased_at', 'is', null).executeTakeFirstOrThrow();
    const waiting = await db
      .selectFrom('conversations')
      .innerJoin('customers', 'customers.id', 'conversations.customer_id')
      .select(['customers.id', 'customers.display_name', 'conversations.updated_at'])
      .where('conversations.flow', '=', 'handoff')
      .orderBy('conversations.updated_at', 'asc')
      .limit(20)
      .execute();
    const dead = await db.selectFrom('outbox').select(sql<number>`count(*)`.as('n')).where('status', '=', 'dead').executeTakeFirstOrThrow();
    const recent = await db
      .selectFrom('messages')
      .innerJoin('customers', 'customers.id', 'messages.customer_id')
      .select(['messages.id', 'messages.customer_id', 'messages.channel', 'messages.direction', 'messages.text', 'messages.created_at', 'customers.display_name'])
      .where('messages.direction', '=', 'in')
      // Follows and blocks are not messages anyone needs to read on the dashboard.
      .where('messages.kind', 'not in', ['start', 'stop'])
      .orderBy('messages.id', 'desc')
      .limit(10)
      .execute();
    return c.html(
      <Layout page={page} title={page.t('dashboard.title')}>
        <h1>{page.t('dashboard.title')}</h1>
        <div class="grid">
          <div class="card">
            <div class="muted">{page.t('dashboard.customers')}</div>
            <div class="stat">{Number(customers.n)}</div>
          </div>
          <div class="card">
            <div class="muted">{page.t('dashboard.waiting')}</div>
            <div class="stat">{waiting.length}</div>
          </div>
          {page.can('outbox.read') ? (
            <div class="card">
              <div class="muted">{page.t('dashboard.dead')}</div>
              <div class="stat">
                <a href="/console/outbox">{Number(dead.n)}</a>
              </div>
            </div>
          ) : null}
        </div>
        {waiting.length > 0 ? (
          <>
            <h2>{page.t('dashboard.waiting')}</h2>
            <table>
              <tbody>
                {waiting.map((w) => (
                  <tr>
                    <td>{w.display_name ?? w.id.slice(0, 8)}</td>
                    <td class="muted">{formatTime(page, deps, w.updated_at)}</td>
                    <td>
                      <a href={`/console/customers/${w.id}/conversation`}>{page.t('dashboard.open')}</a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ) : null}
        <h2>{page.t('dashboard.recent')}</h2>
        {recent.length === 0 ? (
          <p class="muted">{page.t('common.none')}</p>
        ) : (
          <table>
            <tbody>
              {recent.map((m) => (
                <tr>
                  <td>{m.display_name ?? m.customer_id.slice(0, 8)}</td>
                  <td>
                    <ChannelBadge page={page} channel={m.channel} />
                  </td>
                  <td>{m.text ?? ''}</td>
                  <td class="muted">{formatTime(page, deps, m.created_at)}</td>
                  <td>
                    <a href={`/console/customers/${m.customer_id}/conversation`}>{page.t('dashboard.open')}</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Layout>,
    );
  });

  // customer pages
  registerCustomerPages(app, deps);

  // admin pages
  registerAdminPages(app, deps);
  registerBookingPages(app, deps);

  // API documentation
  registerApiDocsPage(app, deps);

  return app;
}
