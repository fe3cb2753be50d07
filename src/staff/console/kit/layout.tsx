import type { Child, FC } from 'hono/jsx';
import type { Permission } from '../../permissions';
import { CsrfField } from './components';
import type { Page } from './context';

/** A note at the top of a page: what a post did, or why it was refused. */
export interface Flash {
  text: string;
  error?: boolean;
}

/**
 * The console's navigation. Each entry names its page with the very key the page's title and heading use,
 * so a page is called the same in the menu and on the page in every language (tests/staff/console-names.test.ts).
 */
export const NAV: readonly { href: string; key: string; permission: Permission }[] = [
  { href: '/console', key: 'dashboard.title', permission: 'console.use' },
  { href: '/console/customers', key: 'console-customers:list.title', permission: 'customers.read' },
  { href: '/console/appointments', key: 'console-booking:list.title', permission: 'appointments.read' },
  { href: '/console/complaints', key: 'console-complaints:title', permission: 'complaints.read' },
  { href: '/console/repair-orders', key: 'console-repair-orders:title', permission: 'repair_orders.read' },
  { href: '/console/csi', key: 'console-csi:title', permission: 'csi.read' },
  { href: '/console/outbox', key: 'console-customers:outbox.title', permission: 'outbox.read' },
  { href: '/console/branches', key: 'console-admin:branches.title', permission: 'branches.read' },
  { href: '/console/staff', key: 'console-admin:staff.title', permission: 'staff.manage' },
  { href: '/console/tokens', key: 'console-admin:tokens.title', permission: 'tokens.manage' },
  { href: '/console/audit', key: 'console-admin:audit.title', permission: 'audit.read' },
];

export const STYLES = `
  :root { --brand:#0b5cad; --ink:#1d2733; --muted:#66727f; --line:#dfe4ea; --bg:#f5f7fa; --ok:#1f7a3a; --warn:#a15c00; --bad:#b42318; }
  * { box-sizing: border-box; }
  [hidden] { display:none !important; }
  .skip { position:absolute; left:8px; top:-48px; z-index:10; background:#fff; color:var(--brand); padding:8px 12px; border:2px solid var(--brand); border-radius:6px; }
  .skip:focus { top:8px; }
  main:focus { outline:none; }
  body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK TC","Noto Sans Thai",sans-serif; color:var(--ink); background:var(--bg); }
  a { color:var(--brand); }
  header.top { display:flex; align-items:center; gap:16px; padding:10px 20px; background:#fff; border-bottom:1px solid var(--line); flex-wrap:wrap; }
  header.top .brand { font-weight:700; color:var(--ink); text-decoration:none; }
  nav.main { display:flex; gap:2px; flex-wrap:wrap; flex:1; }
  nav.main a { padding:6px 8px; border-radius:6px; text-decoration:none; color:var(--ink); white-space:nowrap; }
  @media (max-width: 1000px) { nav.main { order:3; flex-basis:100%; } }
  nav.main a.active, nav.main a:hover { background:#e8f0fa; color:var(--brand); }
  .who { color:var(--muted); font-size:.9rem; display:flex; gap:10px; align-items:center; }
  main { max-width:1180px; margin:0 auto; padding:20px; }
  h1 { font-size:1.4rem; margin:0 0 16px; }
  h2 { font-size:1.1rem; margin:24px 0 10px; }
  .card { background:#fff; border:1px solid var(--line); border-radius:10px; padding:16px; margin-bottom:16px; }
  .grid { display:grid; gap:16px; grid-template-columns:repeat(auto-fit,minmax(220px,1fr)); }
  .stat { font-size:2rem; font-weight:700; }
  table { width:100%; border-collapse:collapse; background:#fff; }
  th, td { text-align:left; padding:8px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
  th { font-size:.85rem; color:var(--muted); font-weight:600; }
  form.inline { display:inline; }
  label { display:block; font-size:.9rem; color:var(--muted); margin:10px 0 4px; }
  input[type=text], input[type=email], input[type=password], input[type=search], input[type=number], input[type=date], input[type=time], select, textarea { width:100%; max-width:520px; font:inherit; padding:7px 9px; border:1px solid #c7ced6; border-radius:6px; background:#fff; }
  textarea { min-height:80px; }
  button, .button { font:inherit; background:var(--brand); color:#fff; border:0; border-radius:6px; padding:7px 14px; cursor:pointer; text-decoration:none; display:inline-block; }
  button.secondary, .button.secondary { background:#fff; color:var(--brand); border:1px solid var(--brand); }
  button.danger { background:var(--bad); }
  .muted { color:var(--muted); }
  .flash { padding:10px 14px; border-radius:8px; margin-bottom:14px; background:#e9f6ee; color:var(--ok); }
  .flash.error { background:#fdecea; color:var(--bad); }
  .toast { padding:10px 14px; border-radius:8px; margin-bottom:14px; background:#fff4e5; color:var(--warn); }
  .badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:.8rem; background:#eef1f5; }
  .badge.ok { background:#e9f6ee; color:var(--ok); } .badge.warn { background:#fff4e5; color:var(--warn); } .badge.bad { background:#fdecea; color:var(--bad); }
  .toolbar { display:flex; gap:8px; align-items:center; flex-wrap:wrap; margin-bottom:12px; }
  .toolbar input[type=search] { max-width:340px; }
  @media (max-width: 720px) { main { padding:12px; } th, td { padding:6px; } }
`;

const COMPLAINTS = '/console/complaints';
/** Pages that are documents without any script (the API reference works offline and is printed). */
const SCRIPTLESS = ['/console/api'];

/**
 * Live notices on every page for staff who handle complaints: the number of unread ones beside
 * "Complaints", and a note with a link when a new one arrives (a ticket given to them, a missed deadline).
 */
const NOTICE_SCRIPT = `(function () {
  var badge = document.getElementById('complaint-notices');
  var toast = document.getElementById('complaint-toast');
  if (!badge || !window.fetch) return;
  var seen = null;
  function tick() {
    fetch('/console/complaints/notifications.json', { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        badge.hidden = data.count === 0;
        badge.textContent = String(data.count);
        var newest = data.items[0];
        if (newest && seen !== null && newest.id > seen && toast) {
          toast.textContent = '';
          var link = document.createElement('a');
          link.href = newest.href;
          link.textContent = newest.text;
          toast.appendChild(link);
          toast.hidden = false;
        }
        seen = newest ? Math.max(newest.id, seen || 0) : (seen || 0);
      })
      .catch(function () {})
      .then(function () { setTimeout(tick, 10000); });
  }
  tick();
})();`;

/** The note at the top of a page, green or (for a refusal) red. */
export const FlashMessage: FC<{ flash?: Flash | null }> = ({ flash }) => (flash ? <div class={flash.error ? 'flash error' : 'flash'}>{flash.text}</div> : null);

/** The console's frame: the navigation the staff member's role allows, who is signed in, sign out, and the page. */
export const Layout: FC<{ page: Page; title: string; children?: Child; flash?: Flash | null }> = ({ page, title, children, flash }) => (
  <html lang={page.locale}>
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${title} · ${page.t('title')}`}</title>
      <style dangerouslySetInnerHTML={{ __html: STYLES }} />
    </head>
    <body>
      <a class="skip" href="#main">
        {page.t('skipToContent')}
      </a>
      <header class="top">
        <a class="brand" href="/console">
          {page.dealerName}
        </a>
        <nav class="main">
          {NAV.filter((n) => page.can(n.permission)).map((n) => (
            <a href={n.href} class={page.path === n.href || (n.href !== '/console' && page.path.startsWith(n.href)) ? 'active' : ''}>
              {page.t(n.key)}
              {n.href === COMPLAINTS ? <span id="complaint-notices" class="badge bad" style="margin-left:4px" hidden></span> : null}
            </a>
          ))}
        </nav>
        <div class="who">
          <a href="/console/api">{page.t('nav.apiDocs')}</a>
          <span>{page.t('signedInAs', { name: page.principal.name, role: page.t(`roles.${page.principal.role}`) })}</span>
          <form class="inline" method="post" action="/console/logout">
            <CsrfField page={page} />
            <button class="secondary" type="submit">
              {page.t('logout')}
            </button>
          </form>
        </div>
      </header>
      <main id="main" tabindex={-1}>
        <FlashMessage flash={flash} />
        <div id="complaint-toast" class="toast" role="status" hidden></div>
        {children}
      </main>
      {page.can('complaints.read') && !SCRIPTLESS.includes(page.path) ? <script dangerouslySetInnerHTML={{ __html: NOTICE_SCRIPT }} /> : null}
    </body>
  </html>
);

