import type { Transaction } from 'kysely';
import type { Clock } from '../ops/clock';
import type { Logger } from '../ops/logger';
import type { ComplaintRow, Database } from '../store/schema';
import type { Store } from '../store/store';
import { recordAudit } from '../staff/audit';
import { loadComplaintBranch } from './branch';
import { OPEN_STATUSES } from './model';
import { escalationContacts, notifyStaff, queueGroupAlerts, takeNextAssignee } from './staffing';
import { changeComplaint, findComplaint, isComplaintConflict } from './tickets';

/*
 * The complaint clocks, once a minute (Node's scheduler, the Workers cron): a ticket past its first-response
 * or resolution deadline (counted in business hours when it was opened) is escalated to the branch's
 * managers, once per deadline, with a console notice, a staff group alert and an entry in its timeline;
 * a ticket nobody could take when it came in goes to the first care staff member who comes on duty; and a
 * resolved ticket the customer never answered about is closed after a week.
 */

export type Deadline = 'first_response' | 'resolution';

const PER_PASS = 100;
/** A resolved ticket waits this long for the customer's "is it resolved?" before it is closed. */
export const RESOLVED_CLOSE_AFTER_MS = 7 * 24 * 3600_000;

export interface EscalationDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Wakes the alert sender after group alerts were queued. */
  onAlerts?: () => void;
}

export function createComplaintClock(deps: EscalationDeps) {
  const db = deps.store.db;
  const log = deps.logger.child({ component: 'complaint-clock' });

  /** Runs `change` on a fresh read of the ticket in one transaction; a ticket changed meanwhile waits for the next pass. */
  async function onFresh(id: string, change: (tx: Transaction<Database>, current: ComplaintRow) => Promise<boolean>): Promise<boolean> {
    try {
      return await deps.store.transaction(async (tx) => {
        const current = await findComplaint(tx, id);
        return current ? change(tx, current) : false;
      });
    } catch (err) {
      if (isComplaintConflict(err)) return false;
      throw err;
    }
  }

  async function escalate(id: string, deadline: Deadline, now: Date): Promise<boolean> {
    const nowIso = now.toISOString();
    return onFresh(id, async (tx, c) => {
      if (!OPEN_STATUSES.includes(c.status)) return false;
      const breached =
        deadline === 'first_response'
          ? c.first_responded_at === null && c.first_response_escalated_at === null && c.first_response_due_at <= nowIso
          : c.resolution_escalated_at === null && c.resolution_due_at <= nowIso;
      if (!breached) return false;
      const contacts = await escalationContacts(tx, c.branch_id);
      const branch = await loadComplaintBranch(tx, c.branch_id);
      await changeComplaint(
        tx,
        c,
        deadline === 'first_response' ? { first_response_escalated_at: nowIso } : { resolution_escalated_at: nowIso },
        {
          kind: 'escalated',
          actor: { type: 'system' },
          details: { deadline, dueAt: deadline === 'first_response' ? c.first_response_due_at : c.resolution_due_at, to: contacts.map((s) => s.id), toNames: contacts.map((s) => s.name) },
        },
        nowIso,
      );
      await notifyStaff(tx, contacts.map((s) => s.id), c.id, 'escalated', nowIso);
      await recordAudit(tx, { actor: { kind: 'system', label: 'complaint clock' }, action: 'complaint.escalate', entity: 'complaint', entityId: c.id, after: { deadline, to: contacts.map((s) => s.id) }, now: nowIso });
      if (branch) await queueGroupAlerts(tx, branch.settings, c.id, 'escalated', nowIso);
      log.warn({ complaintId: c.id, reference: c.reference, deadline, to: contacts.map((s) => s.id) }, 'complaint deadline missed; escalated to the branch managers');
      return true;
    });
  }

  async function assignWaiting(id: string, now: Date): Promise<boolean> {
    const nowIso = now.toISOString();
    return onFresh(id, async (tx, c) => {
      if (c.assignee_id !== null || !OPEN_STATUSES.includes(c.status)) return false;
      const assignee = await takeNextAssignee(tx, c.branch_id, nowIso);
      if (!assignee) return false;
      await changeComplaint(
        tx,
        c,
        { assignee_id: assignee.id, assigned_at: nowIso, status: c.status === 'new' ? 'assigned' : c.status },
        { kind: 'assigned', actor: { type: 'system' }, details: { to: assignee.id, toName: assignee.name, how: 'round_robin' } },
        nowIso,
      );
      await notifyStaff(tx, [assignee.id], c.id, 'assigned', nowIso);
      return true;
    });
  }

  async function closeUnanswered(id: string, now: Date): Promise<boolean> {
    const nowIso = now.toISOString();
    return onFresh(id, async (tx, c) => {
      if (c.status !== 'resolved' || !c.resolved_at || Date.parse(c.resolved_at) > now.getTime() - RESOLVED_CLOSE_AFTER_MS) return false;
      await changeComplaint(tx, c, { status: 'closed', closed_at: nowIso }, { kind: 'closed', actor: { type: 'system' }, details: { reason: 'no_answer', status: { from: 'resolved', to: 'closed' } } }, nowIso);
      return true;
    });
  }

  return {
    async runOnce(): Promise<number> {
      const now = deps.clock.now();
      const nowIso = now.toISOString();
      const [firstDue, resolutionDue, unassigned, resolved] = await Promise.all([
        db
          .selectFrom('complaints')
          .select('id')
          .where('first_response_due_at', '<=', nowIso)
          .where('first_responded_at', 'is', null)
          .where('first_response_escalated_at', 'is', null)
          .where('status', 'in', OPEN_STATUSES)
          .limit(PER_PASS)
          .execute(),
        db.selectFrom('complaints').select('id').where('resolution_due_at', '<=', nowIso).where('resolution_escalated_at', 'is', null).where('status', 'in', OPEN_STATUSES).limit(PER_PASS).execute(),
        db.selectFrom('complaints').select('id').where('assignee_id', 'is', null).where('status', 'in', OPEN_STATUSES).orderBy('created_at').limit(PER_PASS).execute(),
        db
          .selectFrom('complaints')
          .select('id')
          .where('status', '=', 'resolved')
          .where('resolved_at', '<=', new Date(now.getTime() - RESOLVED_CLOSE_AFTER_MS).toISOString())
          .limit(PER_PASS)
          .execute(),
      ]);
      let done = 0;
      for (const { id } of firstDue) if (await escalate(id, 'first_response', now)) done += 1;
      for (const { id } of resolutionDue) if (await escalate(id, 'resolution', now)) done += 1;
      for (const { id } of unassigned) if (await assignWaiting(id, now)) done += 1;
      for (const { id } of resolved) if (await closeUnanswered(id, now)) done += 1;
      if (done > 0) deps.onAlerts?.();
      return done;
    },
  };
}
