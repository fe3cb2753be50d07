import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import { principalLabel, type Principal } from './permissions';

export type AuditActor = Principal | { kind: 'cli'; label: string } | { kind: 'system'; label: string };

/**
 * Writes who changed what, with the record before and after. Called inside the transaction that makes
 * the change, so there is never a change without its audit entry or an entry for a change that failed.
 */
export async function recordAudit(
  db: Kysely<Database>,
  entry: { actor: AuditActor; action: string; entity: string; entityId: string | null; before?: unknown; after?: unknown; ip?: string | null; now: string },
): Promise<void> {
  const { actor } = entry;
  await db
    .insertInto('audit_log')
    .values({
      actor_type: actor.kind === 'staff' ? 'staff' : actor.kind === 'api_token' ? 'api_token' : actor.kind,
      actor_id: actor.kind === 'staff' || actor.kind === 'api_token' ? actor.id : null,
      actor_label: actor.kind === 'staff' || actor.kind === 'api_token' ? principalLabel(actor) : actor.label,
      action: entry.action,
      entity: entry.entity,
      entity_id: entry.entityId,
      before: entry.before === undefined ? null : JSON.stringify(redact(entry.before)),
      after: entry.after === undefined ? null : JSON.stringify(redact(entry.after)),
      ip: entry.ip ?? null,
      created_at: entry.now,
    })
    .execute();
}

/** Secrets never go into the audit log, even as hashes. */
function redact(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(redact);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = /password|token_hash|secret/i.test(k) ? '[redacted]' : redact(v);
  return out;
}
