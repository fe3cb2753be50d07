import type { Hono } from 'hono';
import { ct, customerFlash, failureMessage } from './customer-format';
import type { ConsoleContext } from './deps';
import { consoleRoutes, customerName, DataTable, formatTime, Pager, PostButton, type ConsoleEnv, type Flash, type Page } from './kit';

/** Messages that did not reach customers (given up, or failing and being retried), and retrying them. */
export function registerOutboxPages(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  const { customers } = ctx.services;
  const pages = consoleRoutes(app, ctx);

  const render = async (page: Page, flash: Flash | null, status: 200 | 400 | 404 | 409 = 200) => {
    const result = await customers.deliveryProblems({ page: Number(page.query('page') || '1') });
    return page.render(
      { title: ct(page, 'outbox.title'), flash, status },
      <>
        <h1>{ct(page, 'outbox.title')}</h1>
        <p class="muted">{ct(page, 'outbox.help')}</p>
        <DataTable
          rows={result.items}
          empty={ct(page, 'outbox.empty')}
          columns={[
            { label: ct(page, 'outbox.columns.created'), class: 'muted', cell: (row) => formatTime(page, row.createdAt) },
            { label: ct(page, 'outbox.columns.customer'), cell: (row) => <a href={`/console/customers/${row.customerId}/conversation`}>{row.customerErased ? ct(page, 'profile.erasedBadge') : customerName(page, row.customerName)}</a> },
            { label: ct(page, 'outbox.columns.channel'), cell: (row) => <span class="badge">{ct(page, `channel.${row.channel}`)}</span> },
            {
              label: ct(page, 'outbox.columns.status'),
              cell: (row) => (
                <>
                  <span class={row.status === 'dead' ? 'badge bad' : 'badge warn'} style="white-space:nowrap">
                    {ct(page, `outbox.status.${row.status}`)}
                  </span>
                  {row.status === 'pending' ? (
                    <div class="muted" style="font-size:.8rem">
                      {ct(page, 'outbox.nextAttempt', { time: formatTime(page, row.nextAttemptAt) })}
                    </div>
                  ) : null}
                </>
              ),
            },
            { label: ct(page, 'outbox.columns.attempts'), cell: (row) => row.attempts },
            { label: ct(page, 'outbox.columns.error'), style: 'overflow-wrap:anywhere;max-width:280px', cell: (row) => <code>{row.lastError ?? ''}</code> },
            {
              label: ct(page, 'outbox.columns.message'),
              style: 'white-space:pre-wrap;overflow-wrap:anywhere;max-width:280px',
              cell: (row) => (
                <>
                  <span class="badge">{ct(page, `sender.${row.source === 'staff' ? 'staff' : row.source === 'system' ? 'system' : 'bot'}`)}</span> {row.summary.join('\n')}
                </>
              ),
            },
            {
              label: '',
              cell: (row) => (row.status === 'dead' && page.can('outbox.retry') && !row.customerErased ? <PostButton page={page} action={`/console/outbox/${row.id}/retry`} label={ct(page, 'outbox.retry')} /> : null),
            },
          ]}
        />
        <Pager page={page} base="/console/outbox" current={result.page} hasNext={result.hasNext} />
      </>,
      );
  };

  pages.get('/console/outbox', 'outbox.read', (page) => render(page, customerFlash(page)));

  pages.post('/console/outbox/:id/retry', 'outbox.retry', async (page, c) => {
    const id = Number(page.param('id'));
    const result = Number.isSafeInteger(id) && id > 0 ? await customers.retryDelivery(page.action, id) : ({ ok: false, reason: 'not_found' } as const);
    if (!result.ok) {
      const { text, status } = failureMessage(page, result);
      return render(page, { text, error: true }, status);
    }
    ctx.onOutbox?.();
    return c.redirect('/console/outbox?flash=retried', 303);
  });
}
