import type { Hono } from 'hono';
import type { ConsoleContext } from './deps';
import { ChannelBadge, consoleRoutes, DataTable, formatTime, type ConsoleEnv } from './kit';

/** The first page after signing in: how many customers, who waits for a person, what failed, what came in. */
export function registerDashboardPage(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  consoleRoutes(app, ctx).get('/console', 'console.use', async (page) => {
    const figures = await ctx.services.dashboard.figures();
    const open = (customerId: string) => <a href={`/console/customers/${customerId}/conversation`}>{page.t('dashboard.open')}</a>;
    return page.render(
      { title: page.t('dashboard.title') },
      <>
        <h1>{page.t('dashboard.title')}</h1>
        <div class="grid">
          <div class="card">
            <div class="muted">{page.t('dashboard.customers')}</div>
            <div class="stat">{figures.customers}</div>
          </div>
          <div class="card">
            <div class="muted">{page.t('dashboard.waiting')}</div>
            <div class="stat">{figures.waiting.length}</div>
          </div>
          {page.can('outbox.read') ? (
            <div class="card">
              <div class="muted">{page.t('dashboard.dead')}</div>
              <div class="stat">
                <a href="/console/outbox">{figures.deadMessages}</a>
              </div>
            </div>
          ) : null}
        </div>
        {figures.waiting.length > 0 ? (
          <>
            <h2>{page.t('dashboard.waiting')}</h2>
            <DataTable
              scroll={false}
              rows={figures.waiting}
              columns={[{ cell: (w) => w.displayName ?? w.customerId.slice(0, 8) }, { class: 'muted', cell: (w) => formatTime(page, w.since) }, { cell: (w) => open(w.customerId) }]}
            />
          </>
        ) : null}
        <h2>{page.t('dashboard.recent')}</h2>
        <DataTable
          scroll={false}
          rows={figures.recent}
          empty={page.t('common.none')}
          columns={[
            { cell: (m) => m.displayName ?? m.customerId.slice(0, 8) },
            { cell: (m) => <ChannelBadge page={page} channel={m.channel} /> },
            { cell: (m) => m.text ?? '' },
            { class: 'muted', cell: (m) => formatTime(page, m.at) },
            { cell: (m) => open(m.customerId) },
          ]}
        />
      </>,
    );
  });
}
