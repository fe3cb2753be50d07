import type { Hono } from 'hono';
import type { Arrival, Recent, Waiting, WhoIs } from '../dashboard';
import type { ConsoleContext } from './deps';
import { ChannelBadge, consoleRoutes, customerName, DataTable, formatTime, type ConsoleEnv, type Page } from './kit';

/*
 * "Today": the first page after signing in, what an advisor at a busy dealership looks at first. The
 * people waiting for a person come first (name, plate, what they wrote, for how long), then the day's
 * arrivals (time, name, plate, service), then the counts of the other pages and the latest messages.
 */

const DASHBOARD_STYLES = `
  .today-stats { display:grid; gap:12px; grid-template-columns:repeat(auto-fit,minmax(150px,1fr)); margin-bottom:8px; }
  .today-stats .card { margin:0; padding:12px 14px; }
  .today-stats .stat { font-size:1.6rem; }
  .who-line { font-weight:600; }
  .today-table .badge, .today-table .muted { white-space:nowrap; }
  .svc { display:inline-block; min-width:9em; }
  .said { min-width:12em; max-width:36ch; overflow:hidden; text-overflow:ellipsis; display:-webkit-box; -webkit-line-clamp:2; -webkit-box-orient:vertical; overflow-wrap:anywhere; }
  .plate { font-family:ui-monospace,Menlo,Consolas,monospace; white-space:nowrap; }
  .waited { white-space:nowrap; font-weight:600; }
`;

const unitFormats = new Map<string, Intl.NumberFormat>();
function unit(locale: string, u: 'minute' | 'hour' | 'day', n: number): string {
  const key = `${locale}|${u}`;
  let f = unitFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { style: 'unit', unit: u, unitDisplay: 'short' });
    unitFormats.set(key, f);
  }
  return f.format(n);
}

/** How long since `iso`, as staff say it: "8 min", "1 hr 20 min", "2 days". */
export function waitedFor(locale: string, iso: string, now: Date): string {
  const minutes = Math.max(0, Math.floor((now.getTime() - new Date(iso).getTime()) / 60_000));
  if (minutes < 60) return unit(locale, 'minute', minutes);
  if (minutes < 48 * 60) {
    const rest = minutes % 60;
    return rest ? `${unit(locale, 'hour', Math.floor(minutes / 60))} ${unit(locale, 'minute', rest)}` : unit(locale, 'hour', minutes / 60);
  }
  return unit(locale, 'day', Math.floor(minutes / (24 * 60)));
}

/** Who someone is, never their id: the name, else the phone number, else the plate, else "(no name)". */
function Person({ page, who }: { page: Page; who: WhoIs }) {
  const label = who.name ?? who.phone ?? who.plate ?? customerName(page, null);
  return (
    <>
      <a class="who-line" href={`/console/customers/${who.customerId}/conversation`}>
        {label}
      </a>
      {who.name && who.phone ? <div class="muted" style="font-size:.85rem">{who.phone}</div> : null}
    </>
  );
}

const Plate = ({ plate }: { plate: string | null }) => (plate ? <span class="plate">{plate}</span> : <span class="muted">—</span>);

/** A time of today as just the time ("09:30"); another day's with its date. */
function when(page: Page, iso: string, today: string): string {
  const full = formatTime(page, iso);
  const local = new Intl.DateTimeFormat('en-CA', { timeZone: page.timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
  if (local !== today) return full;
  return new Intl.DateTimeFormat(page.locale, { timeZone: page.timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
}

function said(page: Page, m: { text: string | null; kind: string } | null): string {
  if (!m) return '';
  if (m.text) return m.text;
  return page.has(`console-customers:kind.${m.kind}`) ? page.t(`console-customers:kind.${m.kind}`) : '';
}

function Stat({ label, value, href }: { label: string; value: number; href?: string | null }) {
  return (
    <div class="card">
      <div class="muted">{label}</div>
      <div class="stat">{href ? <a href={href}>{value}</a> : value}</div>
    </div>
  );
}

/** The first page after signing in. */
export function registerDashboardPage(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  consoleRoutes(app, ctx).get('/console', 'console.use', async (page) => {
    const now = page.action.now;
    const today = await ctx.services.dashboard.today(page.principal, { now, locale: page.locale });
    const dateLabel = new Intl.DateTimeFormat(page.locale, { timeZone: 'UTC', weekday: 'long', month: 'long', day: 'numeric' }).format(new Date(`${today.date}T12:00:00Z`));
    const waitingNow = today.waiting.filter((w) => !w.answered).length;

    return page.render(
      { title: page.t('dashboard.title') },
      <>
        <style>{DASHBOARD_STYLES}</style>
        <h1>
          {page.t('dashboard.title')} <span class="muted" style="font-weight:400;font-size:1rem">{dateLabel}</span>
        </h1>
        <div class="today-stats">
          <Stat label={page.t('dashboard.waiting')} value={waitingNow} href={today.waiting.length ? '#waiting' : null} />
          <Stat label={page.t('dashboard.arrivals')} value={today.arrivals.length} href={today.arrivals.length ? '#arrivals' : null} />
          {page.can('repair_orders.read') ? <Stat label={page.t('dashboard.openRepairOrders')} value={today.openRepairOrders} href="/console/repair-orders" /> : null}
          {page.can('complaints.read') ? <Stat label={page.t('dashboard.openComplaints')} value={today.openComplaints} href="/console/complaints" /> : null}
          {page.can('outbox.read') ? <Stat label={page.t('dashboard.dead')} value={today.deadMessages} href="/console/outbox" /> : null}
        </div>

        <h2 id="waiting">{page.t('dashboard.waiting')}</h2>
        <div class="today-table">
          <DataTable<Waiting>
            rows={today.waiting}
            empty={page.t('dashboard.nobodyWaiting')}
            columns={[
              { label: page.t('dashboard.columns.customer'), cell: (w) => <Person page={page} who={w} /> },
              {
                label: page.t('dashboard.columns.waited'),
                cell: (w) =>
                  w.answered ? (
                    <span class="badge ok">{page.t('dashboard.answered')}</span>
                  ) : (
                    <span class="waited" title={formatTime(page, w.since)}>
                      {waitedFor(page.locale, w.since, now)}
                    </span>
                  ),
              },
              { label: page.t('dashboard.columns.plate'), cell: (w) => <Plate plate={w.plate} /> },
              {
                label: page.t('dashboard.columns.lastMessage'),
                cell: (w) => (
                  <>
                    <div class="said">{said(page, w.lastMessage)}</div>
                    {w.lastMessage ? <div class="muted" style="font-size:.8rem">{when(page, w.lastMessage.at, today.date)}</div> : null}
                  </>
                ),
              },
              { cell: (w) => (w.channel ? <ChannelBadge page={page} channel={w.channel} /> : null) },
            ]}
          />
        </div>

        <h2 id="arrivals">{page.t('dashboard.arrivals')}</h2>
        <div class="today-table">
          <DataTable<Arrival>
            rows={today.arrivals}
            empty={page.t('dashboard.noArrivals')}
            columns={[
              { label: page.t('dashboard.columns.time'), style: 'white-space:nowrap', cell: (a) => (page.can('appointments.read') ? <a href={`/console/appointments/${a.appointmentId}`}>{a.time}</a> : a.time) },
              { label: page.t('dashboard.columns.customer'), cell: (a) => <Person page={page} who={a} /> },
              { label: page.t('dashboard.columns.plate'), cell: (a) => <Plate plate={a.plate} /> },
              {
                label: page.t('dashboard.columns.service'),
                cell: (a) => (
                  <>
                    <span class="svc">{a.service}</span>
                    {a.loaner ? <div class="muted" style="font-size:.8rem">{page.t('dashboard.loaner')}</div> : null}
                  </>
                ),
              },
              { label: page.t('dashboard.columns.status'), cell: (a) => <span class={a.status === 'booked' ? 'badge' : a.status === 'no_show' ? 'badge bad' : 'badge ok'}>{page.t(`console-booking:status.${a.status}`)}</span> },
              { label: page.t('dashboard.columns.branch'), class: 'muted', cell: (a) => a.branchName },
            ]}
          />
        </div>

        <h2 id="recent">{page.t('dashboard.recent')}</h2>
        <div class="today-table">
          <DataTable<Recent>
            rows={today.recent}
            empty={page.t('common.none')}
            columns={[
              { label: page.t('dashboard.columns.customer'), cell: (m) => <Person page={page} who={m} /> },
              { label: page.t('dashboard.columns.plate'), cell: (m) => <Plate plate={m.plate} /> },
              { label: page.t('dashboard.columns.message'), cell: (m) => <div class="said">{said(page, m)}</div> },
              { label: page.t('dashboard.columns.time'), class: 'muted', style: 'white-space:nowrap', cell: (m) => when(page, m.at, today.date) },
              { cell: (m) => <ChannelBadge page={page} channel={m.channel} /> },
            ]}
          />
        </div>
      </>,
    );
  });
}
