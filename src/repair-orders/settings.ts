import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database, RepairOrderStatus } from '../store/schema';
import { REPAIR_ORDER_STATUSES } from './statuses';

/** A branch's repair-order settings: what the customer is told, in which currency, when to chase an answer. */
export interface RepairOrderSettings {
  /** Statuses whose change the customer is told about ('ready' sends the pickup card). */
  notifyStatuses: RepairOrderStatus[];
  /** Tell the customer when the promised time moves later. */
  notifyDelay: boolean;
  /** ISO 4217 code of the branch's amounts. */
  currency: string;
  /** Minutes after an unanswered consent request is sent before it is reminded once. */
  consentReminderMinutes: number;
  /** Minutes after that reminder before the advisor is told to phone. */
  consentFlagMinutes: number;
}

/** The currency a branch in this time zone most likely charges in, until a manager says otherwise. */
const CURRENCY_BY_ZONE: Record<string, string> = {
  'Asia/Taipei': 'TWD',
  'Asia/Tokyo': 'JPY',
  'Asia/Bangkok': 'THB',
  'Asia/Shanghai': 'CNY',
  'Asia/Chongqing': 'CNY',
  'Asia/Urumqi': 'CNY',
  'Asia/Hong_Kong': 'HKD',
  'Asia/Macau': 'MOP',
  'Asia/Singapore': 'SGD',
  'Asia/Kuala_Lumpur': 'MYR',
};

export function defaultRepairOrderSettings(timeZone: string): RepairOrderSettings {
  return { notifyStatuses: ['checked_in', 'awaiting_approval', 'ready'], notifyDelay: true, currency: CURRENCY_BY_ZONE[timeZone] ?? 'TWD', consentReminderMinutes: 60, consentFlagMinutes: 60 };
}

/** ISO 4217 codes the runtime knows (Intl accepts any three letters when formatting, so it cannot tell). */
const CURRENCIES: ReadonlySet<string> = new Set(typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('currency') : ['TWD', 'JPY', 'THB', 'CNY', 'HKD', 'MOP', 'SGD', 'MYR', 'USD', 'EUR']);

function isCurrency(code: string): boolean {
  return CURRENCIES.has(code);
}

export const repairOrderSettingsSchema = z.object({
  notifyStatuses: z.array(z.enum(REPAIR_ORDER_STATUSES as [RepairOrderStatus, ...RepairOrderStatus[]])).transform((list) => REPAIR_ORDER_STATUSES.filter((s) => list.includes(s))),
  notifyDelay: z.boolean(),
  currency: z
    .string()
    .transform((s) => s.trim().toUpperCase())
    .refine((s) => /^[A-Z]{3}$/.test(s) && isCurrency(s), 'currency'),
  consentReminderMinutes: z.number().int().min(5, 'minutes').max(7 * 24 * 60, 'minutes'),
  consentFlagMinutes: z.number().int().min(5, 'minutes').max(7 * 24 * 60, 'minutes'),
});

/** The branch's settings, or the defaults for its time zone when a manager never saved any. */
export async function loadRepairOrderSettings(db: Kysely<Database>, branchId: string, timeZone: string): Promise<RepairOrderSettings> {
  const row = await db.selectFrom('repair_order_settings').selectAll().where('branch_id', '=', branchId).executeTakeFirst();
  if (!row) return defaultRepairOrderSettings(timeZone);
  const statuses = JSON.parse(row.notify_statuses) as unknown;
  return {
    notifyStatuses: Array.isArray(statuses) ? REPAIR_ORDER_STATUSES.filter((s) => statuses.includes(s)) : defaultRepairOrderSettings(timeZone).notifyStatuses,
    notifyDelay: row.notify_delay === 1,
    currency: row.currency,
    consentReminderMinutes: row.consent_reminder_minutes,
    consentFlagMinutes: row.consent_flag_minutes,
  };
}

/** Stores a branch's settings (already validated with repairOrderSettingsSchema). */
export async function saveRepairOrderSettings(db: Kysely<Database>, branchId: string, s: RepairOrderSettings, now: string): Promise<void> {
  const row = {
    notify_statuses: JSON.stringify(s.notifyStatuses),
    notify_delay: s.notifyDelay ? 1 : 0,
    currency: s.currency,
    consent_reminder_minutes: s.consentReminderMinutes,
    consent_flag_minutes: s.consentFlagMinutes,
    updated_at: now,
  };
  await db
    .insertInto('repair_order_settings')
    .values({ branch_id: branchId, ...row })
    .onConflict((oc) => oc.column('branch_id').doUpdateSet(row))
    .execute();
}
