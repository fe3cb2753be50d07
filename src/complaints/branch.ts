import type { Kysely } from 'kysely';
import { parseHolidays, parseOpeningHours } from '../domain/booking-rules';
import type { ComplaintSettingsTable, Database } from '../store/schema';
import type { BusinessCalendar } from './business-hours';
import { DEFAULT_COMPLAINT_SLA } from './model';

/* A branch as complaints see it: its business hours, its response times and its staff group chats. */

export interface ComplaintSettings {
  firstResponseMinutes: number;
  resolutionMinutes: number;
  telegramChatId: string | null;
  lineGroupId: string | null;
}

export interface ComplaintBranch {
  id: string;
  name: string;
  calendar: BusinessCalendar;
  settings: ComplaintSettings;
}

function settingsOf(row: Pick<ComplaintSettingsTable, 'first_response_minutes' | 'resolution_minutes' | 'telegram_chat_id' | 'line_group_id'> | undefined): ComplaintSettings {
  return {
    firstResponseMinutes: row?.first_response_minutes ?? DEFAULT_COMPLAINT_SLA.firstResponseMinutes,
    resolutionMinutes: row?.resolution_minutes ?? DEFAULT_COMPLAINT_SLA.resolutionMinutes,
    telegramChatId: row?.telegram_chat_id ?? null,
    lineGroupId: row?.line_group_id ?? null,
  };
}

export async function loadComplaintBranch(db: Kysely<Database>, branchId: string): Promise<ComplaintBranch | null> {
  const [branch, settings] = await Promise.all([
    db.selectFrom('branches').select(['id', 'name', 'time_zone', 'opening_hours', 'holidays']).where('id', '=', branchId).executeTakeFirst(),
    db.selectFrom('complaint_settings').selectAll().where('branch_id', '=', branchId).executeTakeFirst(),
  ]);
  if (!branch) return null;
  return {
    id: branch.id,
    name: branch.name,
    calendar: { timeZone: branch.time_zone, openingHours: parseOpeningHours(branch.opening_hours), holidays: parseHolidays(branch.holidays) },
    settings: settingsOf(settings),
  };
}

/** Saves a branch's complaint settings (the caller has validated them and writes the audit entry). */
export async function saveComplaintSettings(db: Kysely<Database>, branchId: string, settings: ComplaintSettings, now: string): Promise<void> {
  const values = {
    first_response_minutes: settings.firstResponseMinutes,
    resolution_minutes: settings.resolutionMinutes,
    telegram_chat_id: settings.telegramChatId,
    line_group_id: settings.lineGroupId,
    updated_at: now,
  };
  await db
    .insertInto('complaint_settings')
    .values({ branch_id: branchId, ...values })
    .onConflict((oc) => oc.column('branch_id').doUpdateSet(values))
    .execute();
}

/**
 * The branch a customer's complaint goes to: that of their latest visit (a repair order or a booking), or
 * else the dealership's first branch. Null only when there is no branch at all.
 */
export async function branchOfCustomer(db: Kysely<Database>, customerId: string): Promise<string | null> {
  const [order, appointment] = await Promise.all([
    db.selectFrom('repair_orders').select(['branch_id', 'created_at']).where('customer_id', '=', customerId).orderBy('created_at', 'desc').limit(1).executeTakeFirst(),
    db.selectFrom('appointments').select(['branch_id', 'created_at']).where('customer_id', '=', customerId).orderBy('created_at', 'desc').limit(1).executeTakeFirst(),
  ]);
  const latest = [order, appointment].filter((v) => v !== undefined).sort((a, b) => (a.created_at < b.created_at ? 1 : -1))[0];
  if (latest) return latest.branch_id;
  const first = await db.selectFrom('branches').select('id').orderBy('created_at', 'asc').orderBy('id', 'asc').limit(1).executeTakeFirst();
  return first?.id ?? null;
}
