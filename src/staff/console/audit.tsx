import type { Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { AuditEntry } from '../../store/staff-schema';
import { at } from './admin-format';
import type { ConsoleContext } from './deps';
import { ButtonLink, consoleRoutes, DataTable, formatTime, Pager, type ConsoleEnv, type Page } from './kit';

/*
 * The audit log: who changed what and when, newest first. Read-only by design; entries are written by
 * the actions themselves, in the same transaction as the change.
 */

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
export function registerAuditPages(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  consoleRoutes(app, ctx).get('/console/audit', 'audit.read', async (page) => {
    const entity = page.query('entity', 60);
    const entityId = page.query('entityId', 100);
    const actor = page.query('actor', 320);
    const [result, entities] = await Promise.all([ctx.services.audit.list({ entity, entityId, actor, page: Number.parseInt(page.query('page') || '1', 10) }), ctx.services.audit.entities()]);

    const params = new URLSearchParams();
    if (entity) params.set('entity', entity);
    if (entityId) params.set('entityId', entityId);
    if (actor) params.set('actor', actor);
    const filters = params.toString();
    const base = filters ? `/console/audit?${filters}` : '/console/audit';

    return page.render(
      { title: at(page, 'audit.title') },
      <>
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
            <ButtonLink secondary href="/console/audit">
              {at(page, 'audit.clear')}
            </ButtonLink>
          ) : null}
        </form>
        {entityId ? <p class="muted">{at(page, 'audit.onlyEntity', { id: entityId })}</p> : null}
        <DataTable rows={result.items} empty={page.t('common.none')} columns={columns(page)} />
        <Pager page={page} base={base} current={result.page} hasNext={result.hasNext} />
      </>,
    );
  });
}

function columns(page: Page) {
  return [
    { label: at(page, 'audit.time'), style: 'white-space:nowrap', cell: (e: AuditEntry) => formatTime(page, e.created_at) },
    {
      label: at(page, 'audit.actor'),
      cell: (e: AuditEntry) => (
        <>
          {e.actor_label}
          <div class="muted" style="font-size:.8rem">
            {at(page, `audit.actorType.${e.actor_type}`)}
            {e.ip ? ` · ${e.ip}` : ''}
          </div>
        </>
      ),
    },
    { label: at(page, 'audit.action'), cell: (e: AuditEntry) => <code>{e.action}</code> },
    {
      label: at(page, 'audit.entity'),
      cell: (e: AuditEntry) => {
        const href = entityHref(e.entity, e.entity_id);
        return (
          <>
            {e.entity}
            {e.entity_id ? <div style="font-size:.8rem">{href ? <a href={href}>{e.entity_id.slice(0, 8)}</a> : <span class="muted">{e.entity_id.slice(0, 8)}</span>}</div> : null}
          </>
        );
      },
    },
    { label: at(page, 'audit.before'), cell: (e: AuditEntry) => <Json page={page} value={e.before} /> },
    { label: at(page, 'audit.after'), cell: (e: AuditEntry) => <Json page={page} value={e.after} /> },
  ];
}
