import type { Context, Hono } from 'hono';
import { actionContext, consoleRoute, type StaffEnv } from '../guard';
import { listDeliveryProblems, retryDeadMessage } from '../customers/delivery-problems';
import { ct, customerName, failureMessage, flashFrom, formatTime, pathParam, type CustomerPagesDeps } from './customer-format';
import { CsrfField, Layout, Pager, pageOf } from './layout';

/** Messages that did not reach customers (given up, or failing and being retried), and retrying them. */
export function registerOutboxPages(app: Hono<StaffEnv>, deps: CustomerPagesDeps): void {
  const { registry } = deps;

  const render = async (c: Context<StaffEnv>, flash: { text: string; error?: boolean } | null, status: 200 | 400 | 404 | 409 = 200) => {
    const page = pageOf(c, deps);
    const result = await listDeliveryProblems(deps.store.db, { page: Number(c.req.query('page') ?? '1') });
    return c.html(
      <Layout page={page} title={ct(page, 'outbox.title')} flash={flash}>
        <h1>{ct(page, 'outbox.title')}</h1>
        <p class="muted">{ct(page, 'outbox.help')}</p>
        {result.items.length === 0 ? (
          <p class="muted">{ct(page, 'outbox.empty')}</p>
        ) : (
          <div style="overflow-x:auto">
            <table>
              <thead>
                <tr>
                  <th>{ct(page, 'outbox.columns.created')}</th>
                  <th>{ct(page, 'outbox.columns.customer')}</th>
                  <th>{ct(page, 'outbox.columns.channel')}</th>
                  <th>{ct(page, 'outbox.columns.status')}</th>
                  <th>{ct(page, 'outbox.columns.attempts')}</th>
                  <th>{ct(page, 'outbox.columns.error')}</th>
                  <th>{ct(page, 'outbox.columns.message')}</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                {result.items.map((row) => (
                  <tr>
                    <td class="muted">{formatTime(page, deps, row.createdAt)}</td>
                    <td>
                      <a href={`/console/customers/${row.customerId}/conversation`}>{row.customerErased ? ct(page, 'profile.erasedBadge') : customerName(page, row.customerName)}</a>
                    </td>
                    <td>
                      <span class="badge">{ct(page, `channel.${row.channel}`)}</span>
                    </td>
                    <td>
                      <span class={row.status === 'dead' ? 'badge bad' : 'badge warn'} style="white-space:nowrap">{ct(page, `outbox.status.${row.status}`)}</span>
                      {row.status === 'pending' ? <div class="muted" style="font-size:.8rem">{ct(page, 'outbox.nextAttempt', { time: formatTime(page, deps, row.nextAttemptAt) })}</div> : null}
                    </td>
                    <td>{row.attempts}</td>
                    <td style="overflow-wrap:anywhere;max-width:280px">
                      <code>{row.lastError ?? ''}</code>
                    </td>
                    <td style="white-space:pre-wrap;overflow-wrap:anywhere;max-width:280px">
                      <span class="badge">{ct(page, `sender.${row.source === 'staff' ? 'staff' : row.source === 'system' ? 'system' : 'bot'}`)}</span> {row.summary.join('\n')}
                    </td>
                    <td>
                      {row.status === 'dead' && page.can('outbox.retry') && !row.customerErased ? (
                        <form class="inline" method="post" action={`/console/outbox/${row.id}/retry`}>
                          <CsrfField page={page} />
                          <button class="secondary" type="submit">
                            {ct(page, 'outbox.retry')}
                          </button>
                        </form>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager page={page} base="/console/outbox" current={result.page} hasNext={result.hasNext} />
      </Layout>,
      status,
    );
  };

  consoleRoute(app, registry, deps, 'GET', '/console/outbox', 'outbox.read', async (c) => render(c, flashFrom(pageOf(c, deps), c.req.query('flash'))));

  consoleRoute(app, registry, deps, 'POST', '/console/outbox/:id/retry', 'outbox.retry', async (c) => {
    const id = Number(pathParam(c, 'id'));
    const result = Number.isSafeInteger(id) && id > 0 ? await retryDeadMessage(deps.store, actionContext(c, deps.clock), id) : ({ ok: false, reason: 'not_found' } as const);
    if (!result.ok) {
      const { text, status } = failureMessage(pageOf(c, deps), result);
      return render(c, { text, error: true }, status);
    }
    deps.onOutbox?.();
    return c.redirect('/console/outbox?flash=retried', 303);
  });
}
