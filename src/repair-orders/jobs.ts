import { sql } from 'kysely';
import { afterQuietHours } from '../domain/reminder-times';
import type { Locale } from '../i18n/locales';
import type { Clock } from '../ops/clock';
import type { Logger } from '../ops/logger';
import type { Store } from '../store/store';
import { raiseAlert } from './alerts';
import { createNotice, queueDueNotices, settleQueuedNotices, type NoticeJobsDeps } from './notices';
import { collectDeadline, nextOpening } from './pickup-hours';
import { findRepairOrder, isRepairOrderConflict, toRepairOrder } from './repair-orders';
import { loadRepairOrderSettings, type RepairOrderSettings } from './settings';
import { loadBranchView, loadSubject, type BranchView } from './subject';

/*
 * The repair-order work that comes due with time: an unanswered added-items request is reminded once and
 * then flagged to the advisor; a car not collected by closing time gets one friendly reminder the next
 * morning; notices waiting out quiet hours are queued; queued notices are followed to their end. Each
 * pass claims what it does under unique keys, so instances running it side by side never do it twice.
 */

export interface RepairOrderJobsDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  defaultLocale: Locale;
  onOutbox?: () => void;
}

const MINUTE_MS = 60_000;

function branchCache(store: Store) {
  const branches = new Map<string, Promise<{ branch: BranchView; settings: RepairOrderSettings } | null>>();
  return (branchId: string) => {
    let found = branches.get(branchId);
    if (!found) {
      found = (async () => {
        const branch = await loadBranchView(store.db, branchId);
        return branch ? { branch, settings: await loadRepairOrderSettings(store.db, branchId, branch.timeZone) } : null;
      })();
      branches.set(branchId, found);
    }
    return found;
  };
}

/** Reminds open requests once, then flags them to the advisor; returns how many it did either to. */
export async function chaseUnansweredRequests(deps: RepairOrderJobsDeps, now: Date): Promise<number> {
  const nowIso = now.toISOString();
  const open = await deps.store.db
    .selectFrom('repair_order_requests as r')
    .innerJoin('repair_orders as o', 'o.id', 'r.repair_order_id')
    .select(['r.id', 'r.repair_order_id', 'r.sent_at', 'r.reminded_at', 'o.branch_id'])
    .where('r.closed_at', 'is', null)
    .where('r.sent_at', 'is not', null)
    .where('r.flagged_at', 'is', null)
    .orderBy('r.sent_at')
    .limit(500)
    .execute();
  const branchOf = branchCache(deps.store);
  let done = 0;
  for (const r of open) {
    const b = await branchOf(r.branch_id);
    if (!b) continue;
    const remind = !r.reminded_at && now.getTime() >= Date.parse(r.sent_at!) + b.settings.consentReminderMinutes * MINUTE_MS;
    const flag = r.reminded_at !== null && r.reminded_at <= nowIso && now.getTime() >= Date.parse(r.reminded_at) + b.settings.consentFlagMinutes * MINUTE_MS;
    if (!remind && !flag) continue;
    try {
      const acted = await deps.store.transaction(async (tx) => {
        const current = await tx.selectFrom('repair_order_requests').selectAll().where('id', '=', r.id).executeTakeFirst();
        if (!current || current.closed_at || current.flagged_at || (remind && current.reminded_at)) return false;
        const order = await findRepairOrder(tx, r.repair_order_id);
        if (!order) return false;
        if (remind) {
          const s = await loadSubject(tx, order, deps.defaultLocale);
          if (!s) return false;
          await createNotice(tx, s, { kind: 'consent_reminder', requestId: r.id, dedupeKey: `${r.id}:reminder`, urgent: false }, now);
          // Counted from when the reminder really goes out: one waiting for quiet hours to end flags later.
          const goesOut = afterQuietHours(now.getTime(), b.branch.timeZone, b.branch.quietHoursStart, b.branch.quietHoursEnd);
          await tx.updateTable('repair_order_requests').set({ reminded_at: new Date(goesOut).toISOString() }).where('id', '=', r.id).execute();
          return true;
        }
        const customer = await tx.selectFrom('customers').select(['phone']).where('id', '=', order.customerId).executeTakeFirst();
        await raiseAlert(tx, { orderId: order.id, branchId: order.branchId, kind: 'consent_unanswered', dedupeKey: `${r.id}:unanswered`, details: { requestId: r.id, phone: customer?.phone ?? null } }, nowIso);
        await tx.updateTable('repair_order_requests').set({ flagged_at: nowIso }).where('id', '=', r.id).execute();
        return true;
      });
      if (acted) done += 1;
    } catch (err) {
      if (!isRepairOrderConflict(err)) throw err;
    }
  }
  return done;
}

/** Schedules the next morning's reminder for each car not collected by closing time; returns how many. */
export async function remindUncollected(deps: RepairOrderJobsDeps, now: Date): Promise<number> {
  // The reminder's dedupe key names the order and when it became ready: one reminder for each time it is ready.
  const ready = await deps.store.db
    .selectFrom('repair_orders as o')
    // `||` joins text alike on SQLite, D1 and Postgres.
    .leftJoin('repair_order_notices as n', (join) => join.on((eb) => eb('n.dedupe_key', '=', sql<string>`o.id || ':pickup_reminder:' || o.ready_at`)))
    .selectAll('o')
    .where('o.status', '=', 'ready')
    .where('o.ready_at', 'is not', null)
    .where('n.id', 'is', null)
    .limit(500)
    .execute();
  const branchOf = branchCache(deps.store);
  let scheduled = 0;
  for (const row of ready) {
    const order = toRepairOrder(row);
    const b = await branchOf(order.branchId);
    if (!b) continue;
    const deadline = collectDeadline(b.branch, Date.parse(order.readyAt!), order.pickupPlannedAt ? Date.parse(order.pickupPlannedAt) : null);
    if (deadline === null || now.getTime() < deadline) continue;
    const morning = nextOpening(b.branch, deadline);
    try {
      const outcome = await deps.store.transaction(async (tx) => {
        const current = await findRepairOrder(tx, order.id);
        if (!current || current.status !== 'ready' || current.readyAt !== order.readyAt) return null;
        const s = await loadSubject(tx, current, deps.defaultLocale);
        if (!s) return null;
        return createNotice(tx, s, { kind: 'pickup_reminder', status: 'ready', dedupeKey: `${order.id}:pickup_reminder:${order.readyAt}`, urgent: false, ...(morning ? { notBefore: new Date(morning) } : {}) }, now);
      });
      if (outcome && outcome !== 'duplicate') scheduled += 1;
    } catch (err) {
      if (!isRepairOrderConflict(err)) throw err;
    }
  }
  return scheduled;
}

/** The scheduled jobs of repair orders, in the order one pass runs them. */
export function repairOrderJobs(deps: RepairOrderJobsDeps): { name: string; runOnce(): Promise<number> }[] {
  const noticeDeps: NoticeJobsDeps = { store: deps.store, defaultLocale: deps.defaultLocale, logger: deps.logger.child({ component: 'repair-orders' }), onOutbox: deps.onOutbox };
  return [
    {
      name: 'repair-order-reminders',
      runOnce: async () => {
        const now = deps.clock.now();
        return (await chaseUnansweredRequests(deps, now)) + (await remindUncollected(deps, now));
      },
    },
    { name: 'repair-order-notices', runOnce: () => queueDueNotices(noticeDeps, deps.clock.now()) },
    { name: 'repair-order-deliveries', runOnce: () => settleQueuedNotices(noticeDeps, deps.clock.now()) },
  ];
}
