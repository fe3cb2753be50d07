import { sql } from 'kysely';
import type { AuditEntry } from '../../store/staff-schema';
import type { Store } from '../../store/store';

/*
 * Reading the audit log: who changed what and when, newest first. Entries are written by the actions
 * themselves (recordAudit, in the same transaction as the change); nothing here changes them. What an
 * entry changed is read out of its before/after records field by field (see changesOf), and the records
 * it names are looked up by their names (a customer's name, a booking's reference), so staff read words
 * rather than JSON and ids.
 */

export const AUDIT_PAGE_SIZE = 50;
const MAX_PAGE = 10_000;

/** Every action the services record; the console has a name for each in every language (a test checks). */
export const AUDIT_ACTIONS = [
  'survey.settings',
  'survey.flag_comment',
  'customer.referral',
  'login',
  'logout',
  'appointment.assign_advisor',
  'appointment.cancel',
  'appointment.check_in',
  'appointment.create',
  'appointment.no_show',
  'appointment.reschedule',
  'bay.create',
  'bay.update',
  'branch.create',
  'branch.update',
  'capacity.settings',
  'complaint.assign',
  'complaint.escalate',
  'complaint.note',
  'complaint.resolve',
  'complaint.status',
  'complaint.take',
  'complaints.settings',
  'conversation.handback',
  'conversation.reply',
  'customer.create',
  'customer.erase',
  'customer.export',
  'customer.merge',
  'customer.update',
  'outbox.retry',
  'repair_order.alert_resolve',
  'repair_order.decision',
  'repair_order.items_add',
  'repair_order.open',
  'repair_order.settings',
  'repair_order.status',
  'repair_order.update',
  'service_type.create',
  'service_type.update',
  'staff.create',
  'staff.duty',
  'staff.password_reset',
  'staff.update',
  'token.create',
  'token.revoke',
  'vehicle.create',
  'vehicle.update',
] as const;

/** Every kind of record entries are about; each has a name in the console too. */
export const AUDIT_ENTITIES = ['api_token', 'appointment', 'bay', 'branch', 'branch_settings', 'complaint', 'customer', 'outbox', 'repair_order', 'service_type', 'staff', 'staff_session', 'staff_user', 'survey', 'survey_settings', 'vehicle'] as const;

export interface AuditFilter {
  entity?: string;
  entityId?: string;
  /** Part of the actor's label (an email, `token:<name>`), in any case. */
  actor?: string;
  page?: number;
}

/** One value of a changed field, typed so the page can write it the staff member's way. */
export type AuditValue =
  | { kind: 'none' }
  | { kind: 'text'; text: string }
  | { kind: 'time'; iso: string }
  | { kind: 'bool'; value: boolean }
  /** An id of a record the log could name (a staff member, a branch, a customer…). */
  | { kind: 'ref'; id: string; name: string | null; found: boolean };

/** One field an entry changed: set (no before), removed (no after), or changed. */
export interface AuditChange {
  field: string;
  before: AuditValue | null;
  after: AuditValue | null;
}

export interface AuditEntryView {
  entry: AuditEntry;
  /** What the entry changed, field by field (for a creation: what was set). */
  changes: AuditChange[];
  /** The record the entry is about, by its name (null when it no longer exists or has none). */
  entityName: string | null;
  /** Whether the record the entry is about is still there (a customer without a name still is). */
  entityFound: boolean;
}

/** LIKE treats % and _ as wildcards; a typed name is matched as written. */
function likeContains(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** More than this many characters of one value are cut: the full record is one click away. */
const VALUE_CHARS = 160;

function parse(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function asRecord(value: unknown): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  return { value };
}

function plain(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))).join(', ');
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** A field's value as the page writes it; ids are named later (see names). */
export function auditValue(value: unknown): AuditValue {
  if (value === null || value === undefined || value === '') return { kind: 'none' };
  if (typeof value === 'boolean') return { kind: 'bool', value };
  if (typeof value === 'string' && ISO_TIME.test(value)) return { kind: 'time', iso: value };
  if (typeof value === 'string' && UUID.test(value)) return { kind: 'ref', id: value, name: null, found: false };
  const text = plain(value);
  return { kind: 'text', text: [...text].length > VALUE_CHARS ? `${[...text].slice(0, VALUE_CHARS).join('')}…` : text };
}

/**
 * What an entry changed, field by field: for a change, the fields whose value differs; for a creation (no
 * before), every field set; for a removal (no after), every field there was. Field order is the record's.
 */
export function changesOf(entry: Pick<AuditEntry, 'before' | 'after'>): AuditChange[] {
  const before = asRecord(parse(entry.before));
  const after = asRecord(parse(entry.after));
  const fields = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])];
  const changes: AuditChange[] = [];
  for (const field of fields) {
    // The record's version only counts edits (it guards against two people saving at once): not news to staff.
    if (field === 'version') continue;
    const was = before ? before[field] : undefined;
    const is = after ? after[field] : undefined;
    if (before && after && JSON.stringify(was) === JSON.stringify(is)) continue;
    if (!before && (is === null || is === undefined || is === '')) continue;
    changes.push({ field, before: before ? auditValue(was) : null, after: after ? auditValue(is) : null });
  }
  return changes;
}

export function createAuditLogService(deps: { store: Store }) {
  const db = deps.store.db;

  /** Names of the records some ids belong to, whichever kind they are: staff, branches, customers, bookings… */
  async function names(ids: readonly string[]): Promise<Map<string, string | null>> {
    const unique = [...new Set(ids)].slice(0, 500);
    const found = new Map<string, string | null>();
    if (unique.length === 0) return found;
    const lists = await Promise.all([
      db.selectFrom('staff_users').select(['id', 'name']).where('id', 'in', unique).execute(),
      db.selectFrom('branches').select(['id', 'name']).where('id', 'in', unique).execute(),
      db.selectFrom('customers').select(['id', sql<string | null>`coalesce(display_name, phone)`.as('name')]).where('id', 'in', unique).execute(),
      db.selectFrom('appointments').select(['id', 'reference as name']).where('id', 'in', unique).execute(),
      db.selectFrom('repair_orders').select(['id', 'number as name']).where('id', 'in', unique).execute(),
      db.selectFrom('complaints').select(['id', 'reference as name']).where('id', 'in', unique).execute(),
      db.selectFrom('vehicles').select(['id', 'plate as name']).where('id', 'in', unique).execute(),
      db.selectFrom('api_tokens').select(['id', 'name']).where('id', 'in', unique).execute(),
      db.selectFrom('bays').select(['id', 'name']).where('id', 'in', unique).execute(),
    ]);
    for (const list of lists) for (const row of list) found.set(row.id, row.name || null);
    return found;
  }

  return {
    /** One page of entries matching the filter, newest first, each with its changes and names read out. */
    async list(filter: AuditFilter): Promise<{ items: AuditEntryView[]; page: number; hasNext: boolean }> {
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
      const entries = rows.slice(0, AUDIT_PAGE_SIZE).map((entry) => ({ entry, changes: changesOf(entry) }));
      const ids: string[] = [];
      for (const { entry, changes } of entries) {
        if (entry.entity_id) ids.push(entry.entity_id);
        for (const c of changes) for (const v of [c.before, c.after]) if (v?.kind === 'ref') ids.push(v.id);
      }
      const named = await names(ids);
      const name = (v: AuditValue | null): AuditValue | null => (v?.kind === 'ref' ? { ...v, name: named.get(v.id) ?? null, found: named.has(v.id) } : v);
      return {
        items: entries.map(({ entry, changes }) => ({
          entry,
          entityName: entry.entity_id ? (named.get(entry.entity_id) ?? null) : null,
          entityFound: entry.entity_id !== null && named.has(entry.entity_id),
          changes: changes.map((c) => ({ field: c.field, before: name(c.before), after: name(c.after) })),
        })),
        page,
        hasNext: rows.length > AUDIT_PAGE_SIZE,
      };
    },

    /** The kinds of record the log has entries for, by name: the choices of the entity filter. */
    async entities(): Promise<string[]> {
      return (await db.selectFrom('audit_log').select('entity').distinct().orderBy('entity').execute()).map((r) => r.entity);
    },
  };
}

export type AuditLogService = ReturnType<typeof createAuditLogService>;
