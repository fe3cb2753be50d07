import type { Kysely } from 'kysely';
import { newId } from '../ids';
import type { ComplaintAlertsTable, Database, StaffNotificationKind } from '../store/schema';
import type { StaffRole } from '../store/staff-schema';
import type { ComplaintSettings } from './branch';

/*
 * Who answers complaints: the branch's customer-care staff who are on duty, given new tickets in turn;
 * who hears of them: the console's live notices, and the staff group chats a branch names; who is told
 * when a deadline is missed: the branch's managers.
 */

export interface StaffRef {
  id: string;
  name: string;
}

/** Active staff of one role who belong to the branch. */
export async function staffOfBranch(db: Kysely<Database>, branchId: string, role: StaffRole): Promise<StaffRef[]> {
  return db
    .selectFrom('staff_users')
    .innerJoin('staff_branches', 'staff_branches.staff_id', 'staff_users.id')
    .select(['staff_users.id', 'staff_users.name'])
    .where('staff_branches.branch_id', '=', branchId)
    .where('staff_users.role', '=', role)
    .where('staff_users.active', '=', 1)
    .orderBy('staff_users.id')
    .execute();
}

/** The branch's managers, or the dealership's admins when the branch has none: whoever an escalation reaches. */
export async function escalationContacts(db: Kysely<Database>, branchId: string): Promise<StaffRef[]> {
  const managers = await staffOfBranch(db, branchId, 'manager');
  if (managers.length > 0) return managers;
  return db.selectFrom('staff_users').select(['id', 'name']).where('role', '=', 'admin').where('active', '=', 1).orderBy('id').execute();
}

/**
 * The next care staff member of the branch to take a ticket: among those on duty, whoever was given one
 * longest ago (never first), ties by id. Marks them as just given one, in the caller's transaction, so the
 * next ticket goes to the next person. Null when nobody is on duty.
 */
export async function takeNextAssignee(db: Kysely<Database>, branchId: string, now: string): Promise<StaffRef | null> {
  const onDuty = await db
    .selectFrom('staff_users')
    .innerJoin('staff_branches', 'staff_branches.staff_id', 'staff_users.id')
    .innerJoin('staff_duty', 'staff_duty.staff_id', 'staff_users.id')
    .select(['staff_users.id', 'staff_users.name', 'staff_duty.last_assigned_at'])
    .where('staff_branches.branch_id', '=', branchId)
    .where('staff_users.role', '=', 'care')
    .where('staff_users.active', '=', 1)
    .where('staff_duty.on_duty', '=', 1)
    .execute();
  if (onDuty.length === 0) return null;
  const next = onDuty.sort((a, b) => {
    if (a.last_assigned_at !== b.last_assigned_at) {
      if (a.last_assigned_at === null) return -1;
      if (b.last_assigned_at === null) return 1;
      return a.last_assigned_at < b.last_assigned_at ? -1 : 1;
    }
    return a.id < b.id ? -1 : 1;
  })[0]!;
  await db.updateTable('staff_duty').set({ last_assigned_at: now }).where('staff_id', '=', next.id).execute();
  return { id: next.id, name: next.name };
}

/** Whether a staff member is on duty (no row: not yet). */
export async function isOnDuty(db: Kysely<Database>, staffId: string): Promise<boolean> {
  const row = await db.selectFrom('staff_duty').select('on_duty').where('staff_id', '=', staffId).executeTakeFirst();
  return row?.on_duty === 1;
}

/** Puts a staff member on or off duty. */
export async function setOnDuty(db: Kysely<Database>, staffId: string, onDuty: boolean, now: string): Promise<void> {
  await db
    .insertInto('staff_duty')
    .values({ staff_id: staffId, on_duty: onDuty ? 1 : 0, last_assigned_at: null, updated_at: now })
    .onConflict((oc) => oc.column('staff_id').doUpdateSet({ on_duty: onDuty ? 1 : 0, updated_at: now }))
    .execute();
}

/** Console notices, one per staff member, shown live until read. */
export async function notifyStaff(db: Kysely<Database>, staffIds: readonly string[], complaintId: string, kind: StaffNotificationKind, now: string): Promise<void> {
  const unique = [...new Set(staffIds)];
  if (unique.length === 0) return;
  await db
    .insertInto('staff_notifications')
    .values(unique.map((staffId) => ({ staff_id: staffId, complaint_id: complaintId, kind, created_at: now, read_at: null })))
    .execute();
}

/** Queues a notice for each staff group chat the branch names; the alert job sends them (with retries). */
export async function queueGroupAlerts(db: Kysely<Database>, settings: ComplaintSettings, complaintId: string, kind: ComplaintAlertsTable['kind'], now: string): Promise<number> {
  const targets: { channel: 'line' | 'telegram'; target: string }[] = [];
  if (settings.telegramChatId) targets.push({ channel: 'telegram', target: settings.telegramChatId });
  if (settings.lineGroupId) targets.push({ channel: 'line', target: settings.lineGroupId });
  if (targets.length === 0) return 0;
  await db
    .insertInto('complaint_alerts')
    .values(
      targets.map((t) => ({
        key: newId(),
        complaint_id: complaintId,
        channel: t.channel,
        target: t.target,
        kind,
        status: 'pending' as const,
        attempts: 0,
        next_attempt_at: now,
        lease_until: null,
        last_error: null,
        created_at: now,
        sent_at: null,
      })),
    )
    .execute();
  return targets.length;
}
