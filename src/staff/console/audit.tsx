import type { Hono } from 'hono';
import type { FC } from 'hono/jsx';
import { sql } from 'kysely';
import { consoleRoute, type StaffEnv } from '../guard';
import { at, formatTime } from './admin-format';
import { Layout, Pager, pageOf, type ConsoleDeps, type Page } from './layout';

/*
 * The audit log: who changed what and when, newest first. Read-only by design; entries are written by
 * the actions themselves, in the same transaction as the change.
 */

const PAGE_SIZE = 50;
/** Longer before/after values are folded, so one large record does not push the rest of the page away. */
const FOLD_AT = 240;

/** Where the console shows an entity, so an entry links to what it changed. */
function entityHref(entity: string, id: string | null): string | null {
  if (!id) return null;
  switch (entity) {
    case 'branch':
      return `/console/branches/${id}`;
    case 'staff_user':
      return `/console/staff/${id}`;
    case 'customer':
      return `/console/customers/${id}`;
    default:
      return null;
  }
}

/** LIKE treats % and _ as wildcards; a typed name is matched as written. */
function likeContains(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

const Json: FC<{ page: Page; value: string | null }> = ({ page, value }) => {
  if (value === null) return <span class="muted">—</span>;
  const style = 'font-size:.8rem;white-space:pre-wrap;word-break:break-all';
  return value.length <= FOLD_AT ? (
    <code style={style}>{value}</code>
  ) : (
    <details>
      <summary>
        <code style={style}>{`${value.slice(0, FOLD_AT)}…`}</code>
      </summary>
      <code style={style}>{value}</code>
      <span class="muted"> ({at(page, 'audit.full')})</span>
    </details>
  );
};

/** The audit log page: filters by entity, entity id and actor; 50 entries a page. */
export function registerAuditPages(app: Hono<StaffEnv>, deps: ConsoleDeps): void {
  consoleRoute(app, deps.registry, deps, 'GET', '/console/audit', 'audit.read', async (c) => {
    const page = pageOf(c, deps);
    const db = deps.store.db;
    const entity = (c.req.query('entity') ?? '').trim().slice(0, 60);
    const entityId = (c.req.query('entityId') ?? '').trim().slice(0, 100);
    const actor = (c.req.query('actor') ?? '').trim().slice(0, 320);
    const pageNumber = Math.min(Math.max(1, Number.parseInt(c.req.query('page') ?? '1', 10) || 1), 10_000);

    let query = db.selectFrom('audit_log').selectAll();
    if (entity) query = query.where('entity', '=', entity);
    if (entityId) query = query.where('entity_id', '=', entityId);
    // Lower-cased on both sides: SQLite's LIKE ignores ASCII case, Postgres' does not.
    if (actor) query = query.where(sql<boolean>`lower(actor_label) like ${likeContains(actor)} escape '\\'`);
    const rows = await query
      .orderBy('id', 'desc')
      .limit(PAGE_SIZE + 1)
      .offset((pageNumber - 1) * PAGE_SIZE)
      .execute();
    const entries = rows.slice(0, PAGE_SIZE);
    const entities = (await db.selectFrom('audit_log').select('entity').distinct().orderBy('entity').execute()).map((r) => r.entity);

    const params = new URLSearchParams();
    if (entity) params.set('entity', entity);
    if (entityId) params.set('entityId', entityId);
    if (actor) params.set('actor', actor);
    const filters = params.toString();
    const base = filters ? `/console/audit?${filters}` : '/console/audit';

    return c.html(
      <Layout page={page} title={at(page, 'audit.title')}>
        <h1>{at(page, 'audit.title')}</h1>
        <form method="get" action="/console/audit" class="toolbar">
          <label for="audit-entity" style="margin:0">
            {at(page, 'audit.entity')}
          </label>
          <select id="audit-entity" name="entity" style="max-width:200px">
            <option value="">{at(page, 'audit.allEntities')}</option>
            {entities.map((e) => (
              <option value={e} selected={e === entity}>
                {e}
              </option>
            ))}
          </select>
          <label for="audit-actor" style="margin:0">
            {at(page, 'audit.actor')}
          </label>
          <input id="audit-actor" type="search" name="actor" value={actor} placeholder={at(page, 'audit.actorPlaceholder')} style="max-width:260px" />
          {entityId ? <input type="hidden" name="entityId" value={entityId} /> : null}
          <button type="submit">{page.t('common.search')}</button>
          {base !== '/console/audit' ? (
            <a class="button secondary" href="/console/audit">
              {at(page, 'audit.clear')}
            </a>
          ) : null}
        </form>
        {entityId ? <p class="muted">{at(page, 'audit.onlyEntity', { id: entityId })}</p> : null}
        {entries.length === 0 ? (
          <p class="muted">{page.t('common.none')}</p>
        ) : (
          <div style="overflow-x:auto">
            <table>
              <thead>
                <tr>
                  <th>{at(page, 'audit.time')}</th>
                  <th>{at(page, 'audit.actor')}</th>
                  <th>{at(page, 'audit.action')}</th>
                  <th>{at(page, 'audit.entity')}</th>
                  <th>{at(page, 'audit.before')}</th>
                  <th>{at(page, 'audit.after')}</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => {
                  const href = entityHref(e.entity, e.entity_id);
                  return (
                    <tr>
                      <td style="white-space:nowrap">{formatTime(page, deps, e.created_at)}</td>
                      <td>
                        {e.actor_label}
                        <div class="muted" style="font-size:.8rem">
                          {at(page, `audit.actorType.${e.actor_type}`)}
                          {e.ip ? ` · ${e.ip}` : ''}
                        </div>
                      </td>
                      <td>
                        <code>{e.action}</code>
                      </td>
                      <td>
                        {e.entity}
                        {e.entity_id ? (
                          <div style="font-size:.8rem">
                            {href ? <a href={href}>{e.entity_id.slice(0, 8)}</a> : <span class="muted">{e.entity_id.slice(0, 8)}</span>}
                          </div>
                        ) : null}
                      </td>
                      <td>
                        <Json page={page} value={e.before} />
                      </td>
                      <td>
                        <Json page={page} value={e.after} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        <Pager page={page} base={base} current={pageNumber} hasNext={rows.length > PAGE_SIZE} />
      </Layout>,
    );
  });
}
