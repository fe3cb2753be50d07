import type { Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { AuditChange, AuditEntryView, AuditValue } from '../audit-log';
import { at } from './admin-format';
import type { ConsoleContext } from './deps';
import { ButtonLink, consoleRoutes, customerName, DataTable, formatTime, Pager, type ConsoleEnv, type Page } from './kit';

/*
 * The audit log: who changed what and when, newest first, in words: the action's name, the record by its
 * name, each changed field as "field: before → after" in the dealership's local time. The raw record stays
 * one click away for the rare question the words do not answer. Read-only by design; entries are written
 * by the actions themselves, in the same transaction as the change.
 */

/** Where the console shows an entity, so an entry links to what it changed. */
function entityHref(entity: string, id: string | null): string | null {
  if (!id) return null;
  switch (entity) {
    case 'branch':
      return `/console/branches/${id}`;
    case 'staff_user':
    case 'staff':
      return `/console/staff/${id}`;
    case 'customer':
      return `/console/customers/${id}`;
    case 'appointment':
      return `/console/appointments/${id}`;
    case 'repair_order':
      return `/console/repair-orders/${id}`;
    case 'complaint':
      return `/console/complaints/${id}`;
    default:
      return null;
  }
}

/** A name the console has for a key under `audit.<group>`, else the key in plain words ("mileage_in" → "mileage in"). */
function named(page: Page, group: 'actions' | 'entities' | 'fields', key: string): string {
  const full = `console-admin:audit.${group}.${key}`;
  if (page.has(full)) return page.t(full);
  return key
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/[._]/g, ' ')
    .toLowerCase();
}

/** Where a record kind's status words live, so "booked" reads as the console says it. */
const STATUS_TEXTS: Record<string, string> = { appointment: 'console-booking:status', repair_order: 'console-repair-orders:status', complaint: 'console-complaints:status' };

function valueText(page: Page, v: AuditValue, field?: string, entity?: string): string {
  if (v.kind === 'text' && field === 'status' && entity && STATUS_TEXTS[entity] && page.has(`${STATUS_TEXTS[entity]}.${v.text}`)) return page.t(`${STATUS_TEXTS[entity]}.${v.text}`);
  switch (v.kind) {
    case 'none':
      return '—';
    case 'bool':
      return page.t(v.value ? 'common.yes' : 'common.no');
    case 'time':
      return formatTime(page, v.iso);
    case 'ref':
      return v.name ?? (v.found ? customerName(page, null) : at(page, 'audit.deleted'));
    case 'text':
      return v.text;
  }
}

const Change: FC<{ page: Page; change: AuditChange; entity: string }> = ({ page, change, entity }) => {
  const label = named(page, 'fields', change.field);
  const value = (v: AuditValue) => valueText(page, v, change.field, entity);
  if (change.before === null) return <li>{`${label}: ${change.after ? value(change.after) : '—'}`}</li>;
  if (change.after === null) return <li>{`${label}: ${value(change.before)} (${at(page, 'audit.removed')})`}</li>;
  return (
    <li>
      {`${label}: `}
      <span class="muted">
        <s>{value(change.before)}</s>
      </span>
      {` → ${value(change.after)}`}
    </li>
  );
};

const Changes: FC<{ page: Page; view: AuditEntryView }> = ({ page, view }) => {
  const { entry, changes } = view;
  const raw = [entry.before, entry.after].filter((x) => x !== null);
  return (
    <>
      {changes.length > 0 ? (
        <ul style="margin:0;padding-left:18px;overflow-wrap:anywhere">
          {changes.map((c) => (
            <Change page={page} change={c} entity={entry.entity} />
          ))}
        </ul>
      ) : raw.length > 0 ? (
        <span class="muted">{at(page, 'audit.noChanges')}</span>
      ) : null}
      {raw.length > 0 ? (
        <details style="margin-top:4px">
          <summary class="muted" style="font-size:.8rem">
            {at(page, 'audit.full')}
          </summary>
          <div style="font-size:.8rem">
            {at(page, 'audit.before')}: <code style="white-space:pre-wrap;word-break:break-all">{entry.before ?? '—'}</code>
          </div>
          <div style="font-size:.8rem">
            {at(page, 'audit.after')}: <code style="white-space:pre-wrap;word-break:break-all">{entry.after ?? '—'}</code>
          </div>
        </details>
      ) : null}
    </>
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
    const onlyName = entityId ? (result.items.find((i) => i.entry.entity_id === entityId)?.entityName ?? null) : null;

    return page.render(
      { title: at(page, 'audit.title') },
      <>
        <h1>{at(page, 'audit.title')}</h1>
        <form method="get" action="/console/audit" class="toolbar">
          <label for="audit-entity" style="margin:0">
            {at(page, 'audit.entity')}
          </label>
          <select id="audit-entity" name="entity" style="max-width:220px">
            <option value="">{at(page, 'audit.allEntities')}</option>
            {entities.map((e) => (
              <option value={e} selected={e === entity}>
                {named(page, 'entities', e)}
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
        {entityId ? <p class="muted">{at(page, 'audit.onlyEntity', { id: onlyName ?? entityId })}</p> : null}
        <p class="muted" style="font-size:.85rem">
          {at(page, 'audit.timeZone', { zone: page.timeZone })}
        </p>
        <DataTable rows={result.items} empty={page.t('common.none')} columns={columns(page)} />
        <Pager page={page} base={base} current={result.page} hasNext={result.hasNext} />
      </>,
    );
  });
}

function columns(page: Page) {
  return [
    { label: at(page, 'audit.time'), style: 'white-space:nowrap', cell: (v: AuditEntryView) => <time datetime={v.entry.created_at}>{formatTime(page, v.entry.created_at)}</time> },
    {
      label: at(page, 'audit.actor'),
      cell: (v: AuditEntryView) => (
        <>
          {v.entry.actor_label}
          <div class="muted" style="font-size:.8rem">
            {at(page, `audit.actorType.${v.entry.actor_type}`)}
            {v.entry.ip ? ` · ${v.entry.ip}` : ''}
          </div>
        </>
      ),
    },
    {
      label: at(page, 'audit.action'),
      cell: (v: AuditEntryView) => {
        const { entry } = v;
        const href = entityHref(entry.entity, entry.entity_id);
        const name = v.entityName ?? (!entry.entity_id ? null : v.entityFound ? (entry.entity === 'customer' ? customerName(page, null) : null) : at(page, 'audit.deleted'));
        return (
          <>
            <strong data-action={entry.action}>{named(page, 'actions', entry.action)}</strong>
            <div style="font-size:.85rem">
              <span class="muted">{named(page, 'entities', entry.entity)}</span>
              {name ? <> · {href ? <a href={href}>{name}</a> : name}</> : null}
            </div>
          </>
        );
      },
    },
    { label: at(page, 'audit.changes'), cell: (v: AuditEntryView) => <Changes page={page} view={v} /> },
  ];
}
