import { sql } from 'kysely';
import type { AuditEntry } from '../../store/staff-schema';
import type { Store } from '../../store/store';

/*
 * Reading the audit log: who changed what and when, newest first. Entries are written by the actions
 * themselves (recordAudit, in the same transaction as the change); nothing here changes them.
 */

export const AUDIT_PAGE_SIZE = 50;
const MAX_PAGE = 10_000;

export interface AuditFilter {
  entity?: string;
  entityId?: string;
  /** Part of the actor's label (an email, `token:<name>`), in any case. */
  actor?: string;
  page?: number;
}

/** LIKE treats % and _ as wildcards; a typed name is matched as written. */
function likeContains(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

export function createAuditLogService(deps: { store: Store }) {
  const db = deps.store.db;
  return {
    /** One page of entries matching the filter, newest first. */
    async list(filter: AuditFilter): Promise<{ items: AuditEntry[]; page: number; hasNext: boolean }> {
      const page = Math.min(Math.max(1, Math.floor(filter.page ?? 1) || 1), MAX_PAGE);
      let query = db.selectFrom('audit_log').selectAll();
      if (filter.entity) query = query.where('entity', '=', filter.entity);
      if (filter.entityId) query = query.where('entity_id', '=', filter.entityId);
      // Lower-cased on both sides: SQLite's LIKE ignores ASCII case, Postgres' does not.
      if (filter.actor) query = query.where(sql<boolean>`lower(actor_label) like ${likeContains(filter.actor)} escape '\\'`);
      const rows = await query
        .orderBy('id', 'desc')
        .limit(AUDIT_PAGE_SIZE + 1)
        .offset((page - 1) * AUDIT_PAGE_SIZE)
        .execute();
      return { items: rows.slice(0, AUDIT_PAGE_SIZE), page, hasNext: rows.length > AUDIT_PAGE_SIZE };
    },

    /** The kinds of record the log has entries for, by name: the choices of the entity filter. */
    async entities(): Promise<string[]> {
      return (await db.selectFrom('audit_log').select('entity').distinct().orderBy('entity').execute()).map((r) => r.entity);
    },
  };
}

export type AuditLogService = ReturnType<typeof createAuditLogService>;
