import type { Kysely } from 'kysely';
import type { Database } from './schema';

/*
 * Running instances and their heartbeats. Instances sharing one database (several Node processes on
 * Postgres) beat every few seconds; one whose beat is older than a few intervals is taken for dead, and
 * what it had claimed is taken back without waiting for its leases. Instances that never register (a
 * Worker's isolates) rely on the leases alone. Times are the instances' own clocks, which must agree
 * within a second or two (NTP), well below the interval after which an instance counts as dead.
 */

/** Records that an instance is alive now (registering it on its first beat). */
export async function beatInstance(db: Kysely<Database>, id: string, now: string): Promise<void> {
  await db
    .insertInto('instances')
    .values({ id, started_at: now, heartbeat_at: now })
    .onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_at: now }))
    .execute();
}

/** A clean stop: the instance holds nothing any more. */
export async function removeInstance(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('instances').where('id', '=', id).execute();
}

/** Forgets instances silent since `before`; their claims have long been taken back by then. */
export async function pruneInstances(db: Kysely<Database>, before: string): Promise<void> {
  await db.deleteFrom('instances').where('heartbeat_at', '<', before).execute();
}

/** The instances alive as of `deadBefore` (their last beat is not older), for /metrics and tests. */
export async function liveInstances(db: Kysely<Database>, deadBefore: string): Promise<string[]> {
  const rows = await db.selectFrom('instances').select('id').where('heartbeat_at', '>=', deadBefore).orderBy('id').execute();
  return rows.map((r) => r.id);
}
