import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { clientAddress } from '../http/client-address';
import type { Store } from '../store/store';
import type { Clock } from '../ops/clock';
import { principalFromApiToken } from './auth/api-tokens';
import { constantTimeEqual, hmacBase64Url } from './auth/crypto';
import { principalFromSession, SESSION_COOKIE } from './auth/sessions';
import { canSeeCustomer, canSeeVehicle } from './customers/scope';
import { can, type Permission, type Principal } from './permissions';

export interface StaffVariables {
  principal: Principal;
  /** The form token of this session, for pages to put in every form. */
  csrfToken: string;
}
export type StaffEnv = { Variables: StaffVariables };

export interface GuardDeps {
  store: Store;
  clock: Clock;
  /** Key for the per-session form tokens (CSRF). */
  csrfSecret: string;
}

/**
 * One row per protected route, so a test can prove no console or API route was left open. Console routes
 * are declared with the kit's consoleRoute (console/kit/context.tsx), API routes with apiRoute (api/route.ts).
 */
export interface GuardedRoute {
  method: string;
  path: string;
  permission: Permission | 'public';
}

export class RouteRegistry {
  readonly routes: GuardedRoute[] = [];
  add(route: GuardedRoute): void {
    this.routes.push(route);
  }
  find(method: string, path: string): GuardedRoute | undefined {
    return this.routes.find((r) => r.method === method && r.path === path);
  }
}

/**
 * The address a request came from, for the audit log and the sign-in limits: the connection's, or what a
 * trusted proxy forwarded (src/http/client-address.ts); never a header a client wrote itself.
 */
export function clientIp(c: Context): string | null {
  return clientAddress(c);
}

/** Who acts, from where and when: what every change's audit entry records, in the console and the API alike. */
export function actionContext(c: Context<StaffEnv>, clock: Clock): { actor: Principal; ip: string | null; now: Date } {
  return { actor: c.get('principal'), ip: clientIp(c), now: clock.now() };
}

export function csrfTokenFor(secret: string, sessionId: string): Promise<string> {
  return hmacBase64Url(secret, `csrf:${sessionId}`);
}

/**
 * Whether the route names a customer (or a customer's vehicle) the principal may not see (customerScope):
 * every console and API route with a customer or vehicle id in its path is checked here, before its handler.
 */
async function outOfScope(deps: GuardDeps, c: Context, principal: Principal): Promise<'customer' | 'vehicle' | null> {
  const route = c.req.routePath;
  const id = c.req.param('id');
  if (!id) return null;
  if (/^\/(console|api)\/customers\/:id(\/|$)/.test(route)) return (await canSeeCustomer(deps.store.db, principal, id)) ? null : 'customer';
  if (/^\/(console|api)\/vehicles\/:id(\/|$)/.test(route)) return (await canSeeVehicle(deps.store.db, principal, id)) ? null : 'vehicle';
  return null;
}

function notFoundHtml(c: Context) {
  return c.html(
    `<!doctype html><meta charset="utf-8"><title>404</title><body style="font-family:system-ui;padding:2rem"><h1>404</h1><p>No such customer in your branches.</p><p><a href="/console/customers">Back to the customers</a></p></body>`,
    404,
  );
}

function forbiddenHtml(c: Context, permission: Permission) {
  return c.html(
    `<!doctype html><meta charset="utf-8"><title>403</title><body style="font-family:system-ui;padding:2rem"><h1>403</h1><p>Your role may not do this (${permission}).</p><p><a href="/console">Back to the console</a></p></body>`,
    403,
  );
}

/**
 * Console guard: a signed-in staff member whose role has `permission`. Without a session, a page
 * request is sent to the login (302) and anything else gets 401; with the wrong role, 403. Every form
 * post must also carry this session's form token, and a cross-site Origin is refused.
 */
export function requireConsole(deps: GuardDeps, permission: Permission): MiddlewareHandler<StaffEnv> {
  return async (c, next) => {
    const principal = await principalFromSession(deps.store.db, getCookie(c, SESSION_COOKIE), deps.clock.now());
    if (!principal) {
      if (c.req.method === 'GET') {
        const url = new URL(c.req.url);
        return c.redirect(`/console/login?next=${encodeURIComponent(url.pathname + url.search)}`, 302);
      }
      return c.json({ error: 'sign in first' }, 401);
    }
    if (!can(principal.role, permission)) return forbiddenHtml(c, permission);
    if (await outOfScope(deps, c, principal)) return notFoundHtml(c);
    const csrfToken = await csrfTokenFor(deps.csrfSecret, (principal as Extract<Principal, { kind: 'staff' }>).sessionId);
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const origin = c.req.header('origin');
      if (origin && origin !== new URL(c.req.url).origin) return c.json({ error: 'cross-site request refused' }, 403);
      const sent = c.req.header('x-csrf-token') ?? String((await c.req.parseBody({ all: false }))['_csrf'] ?? '');
      const enc = new TextEncoder();
      if (!constantTimeEqual(enc.encode(sent), enc.encode(csrfToken))) return c.json({ error: 'the form has expired or did not come from this site; reload the page' }, 403);
    }
    c.set('principal', principal);
    c.set('csrfToken', csrfToken);
    await next();
  };
}

/** API guard: `Authorization: Bearer <token>` of a token whose role has `permission`; else 401 or 403. */
export function requireApi(deps: GuardDeps, permission: Permission): MiddlewareHandler<StaffEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const principal = await principalFromApiToken(deps.store.db, match?.[1], deps.clock.now());
    if (!principal) {
      c.header('WWW-Authenticate', 'Bearer realm="dealer-chat"');
      return c.json({ error: 'a valid API token is required: Authorization: Bearer <token>' }, 401);
    }
    if (!can(principal.role, permission)) return c.json({ error: `this token's role may not do this (${permission})` }, 403);
    // The same answer as for an id that does not exist: a token does not learn of customers outside its branches.
    const hidden = await outOfScope(deps, c, principal);
    if (hidden) return c.json({ error: `no such ${hidden}` }, 404);
    c.set('principal', principal);
    await next();
  };
}
