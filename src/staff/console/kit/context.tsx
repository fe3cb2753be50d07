import type { Context, Env, Hono, MiddlewareHandler } from 'hono';
import type { Child } from 'hono/jsx';
import { isLocale, localeFromAcceptLanguage, type Locale } from '../../../i18n/locales';
import { clientIp, requireConsole, type RouteRegistry, type StaffVariables } from '../../guard';
import { can, type Permission, type Principal } from '../../permissions';
import type { ActionContext } from '../../result';
import type { ConsoleDeps } from '../deps';
import { Layout, type Flash } from './layout';

/**
 * Everything a console page renders and acts with, built once per request by `pageContext` after the
 * guard let the staff member in: who they are, their language and texts, the form token, the note a
 * redirect asked for, and the action context the services record in the audit log.
 */
export interface Page {
  /** A console text in the staff member's language: `ns:key`, or a key of the `console` texts. */
  t: (key: string, params?: Record<string, string | number>) => string;
  /** Whether the staff member's language has this text (flow and kind names are not all translated). */
  has: (key: string) => boolean;
  locale: Locale;
  principal: Principal & { kind: 'staff' };
  csrfToken: string;
  dealerName: string;
  /** The dealership's time zone, in which the console shows times. */
  timeZone: string;
  /** The request's path, for the navigation. */
  path: string;
  can: (permission: Permission) => boolean;
  /** The word of `?flash=…` a redirect after a post added, when it is one (letters only); else null. */
  flash: string | null;
  /** A query parameter, trimmed and cut to `max` characters ('' when absent). */
  query: (name: string, max?: number) => string;
  /** A path parameter of the route (always present: the route declares it). */
  param: (name: string) => string;
  /** Who acts, from where, now: what the services write into the audit log. */
  readonly action: ActionContext;
  /** The page in the console's frame, with the given title, note and status. */
  render: (view: { title: string; flash?: Flash | null; status?: 200 | 400 | 404 | 409 }, body: Child) => Response | Promise<Response>;
}

export type ConsoleEnv = { Variables: StaffVariables & { page: Page } };
export type PageHandler = (page: Page, c: Context<ConsoleEnv>) => Response | Promise<Response>;

/** The texts of one console namespace (`console-booking` …): `(page, key, params)` in the staff member's language. */
export function textsOf(ns: string): (page: Pick<Page, 't'>, key: string, params?: Record<string, string | number>) => string {
  return (page, key, params) => page.t(`${ns}:${key}`, params);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** An ISO time as staff read it: the dealership's time zone, the staff member's way of writing dates. */
export function formatTime(page: Pick<Page, 'locale' | 'timeZone'>, iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const key = `${page.locale}|${page.timeZone}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(page.locale, { timeZone: page.timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(key, f);
  }
  return f.format(date);
}

/** The console language for someone not signed in: their browser's, else the dealership's. */
export function anonymousLocale(c: Context, deps: ConsoleDeps): Locale {
  return localeFromAcceptLanguage(c.req.header('accept-language'), deps.config.dealer.defaultLocale) ?? deps.config.dealer.defaultLocale;
}

/** The middleware that builds the page context; it runs after the guard, which set the principal and form token. */
export function pageContext(deps: ConsoleDeps): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const principal = c.get('principal') as Principal & { kind: 'staff' };
    const locale: Locale = isLocale(principal.locale) ? principal.locale : deps.config.dealer.defaultLocale;
    const fullKey = (key: string) => (key.includes(':') ? key : `console:${key}`);
    const flash = c.req.query('flash');
    const page: Page = {
      t: (key, params) => deps.translator.t(locale, fullKey(key), params),
      has: (key) => deps.translator.has(locale, fullKey(key)),
      locale,
      principal,
      csrfToken: c.get('csrfToken'),
      dealerName: deps.config.dealer.name,
      timeZone: deps.config.dealer.timeZone,
      path: new URL(c.req.url).pathname,
      can: (permission) => can(principal.role, permission),
      flash: flash && /^[A-Za-z]{1,40}$/.test(flash) ? flash : null,
      query: (name, max = 100) => (c.req.query(name) ?? '').trim().slice(0, max),
      param: (name) => c.req.param(name) ?? '',
      get action() {
        return { actor: principal, ip: clientIp(c), now: deps.clock.now() };
      },
      render: (view, body) =>
        c.html(
          <Layout page={page} title={view.title} flash={view.flash ?? null}>
            {body}
          </Layout>,
          view.status ?? 200,
        ),
    };
    c.set('page', page);
    await next();
  };
}

type Method = 'GET' | 'POST';

/**
 * Declares a console route: its permission (recorded in the route registry, so a test can prove no route
 * was left open), the guard, the page context, and the handler. Routes are only ever added this way.
 */
export function consoleRoute(app: Hono<ConsoleEnv>, deps: ConsoleDeps, method: Method, path: string, permission: Permission, handler: PageHandler): void {
  deps.registry.add({ method, path, permission });
  app.on(method, path, requireConsole(deps, permission) as unknown as MiddlewareHandler<ConsoleEnv>, pageContext(deps), (c) => handler(c.get('page'), c));
}

/** The `get` and `post` of one page module's routes. */
export function consoleRoutes(app: Hono<ConsoleEnv>, deps: ConsoleDeps) {
  return {
    get: (path: string, permission: Permission, handler: PageHandler) => consoleRoute(app, deps, 'GET', path, permission, handler),
    post: (path: string, permission: Permission, handler: PageHandler) => consoleRoute(app, deps, 'POST', path, permission, handler),
  };
}

/** The console's routes open to anyone (the login page itself). */
export function publicConsoleRoute<E extends Env>(app: Hono<E>, registry: RouteRegistry, method: Method, path: string, handler: (c: Context<E>) => Response | Promise<Response>): void {
  registry.add({ method, path, permission: 'public' });
  app.on(method, path, handler);
}
