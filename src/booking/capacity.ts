import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import {
  bookingSettingsSchema,
  DEFAULT_BOOKING_SETTINGS,
  parseHolidays,
  parseOpeningHours,
  serviceDurationSchema,
  type BookingSettings,
  type BranchRules,
  type HeldCapacity,
} from '../domain/booking-rules';
import { newId } from '../ids';
import { forgetBranchCapacity } from './capacity-generation';
import type { AppointmentStatus, BranchSettingsTable, Database } from '../store/schema';

/*
 * Reading and writing a branch's capacity: its settings, service types and bays. Everything here runs on
 * a Kysely instance or transaction the caller passes in, so the chat flows can use it inside the engine's
 * transaction and the console inside its own.
 */

/** Statuses whose appointment still holds its bay, advisor, day and loaner units. */
export const HOLDING_STATUSES: readonly AppointmentStatus[] = ['booked', 'checked_in', 'completed'];

export interface ServiceType {
  id: string;
  code: string;
  durationMinutes: number;
  /** Name per locale, as the manager entered them. */
  names: Record<string, string>;
  active: boolean;
  sortOrder: number;
}

export interface BayInfo {
  id: string;
  name: string;
  serviceTypes: string[];
  active: boolean;
  sortOrder: number;
}

/** A branch's capacity, loaded once per request and handed to the availability rules. */
export interface BranchCapacity {
  branchId: string;
  branchName: string;
  rules: BranchRules;
  /** Every service type, inactive ones included (the console lists them); in sort order. */
  serviceTypes: ServiceType[];
  bays: BayInfo[];
}

const namesSchema = z.record(z.string(), z.string().min(1));
const codesSchema = z.array(z.string().min(1));

function settingsOf(row: BranchSettingsTable | undefined): BookingSettings {
  if (!row) return DEFAULT_BOOKING_SETTINGS;
  return {
    slotIntervalMinutes: row.slot_interval_minutes,
    minNoticeMinutes: row.min_notice_minutes,
    horizonDays: row.horizon_days,
    bufferMinutes: row.buffer_minutes,
    advisorsPerSlot: row.advisors_per_slot,
    dailyCap: row.daily_cap,
    loanerCars: row.loaner_cars,
    changeCutoffHours: row.change_cutoff_hours,
    reminderDayBeforeAt: row.reminder_day_before_at,
    reminderHoursBefore: row.reminder_hours_before,
    quietHoursStart: row.quiet_hours_start,
    quietHoursEnd: row.quiet_hours_end,
  };
}

/** The branch's capacity, or null when there is no such branch. Four small reads by primary or branch key. */
export async function loadBranchCapacity(db: Kysely<Database>, branchId: string): Promise<BranchCapacity | null> {
  const [branch, settings, types, bays] = await Promise.all([
    db.selectFrom('branches').select(['id', 'name', 'time_zone', 'opening_hours', 'holidays']).where('id', '=', branchId).executeTakeFirst(),
    db.selectFrom('branch_settings').selectAll().where('branch_id', '=', branchId).executeTakeFirst(),
    db.selectFrom('service_types').selectAll().where('branch_id', '=', branchId).orderBy('sort_order').orderBy('code').execute(),
    db.selectFrom('bays').selectAll().where('branch_id', '=', branchId).orderBy('sort_order').orderBy('name').execute(),
  ]);
  if (!branch) return null;
  const bayInfos: BayInfo[] = bays.map((b) => ({ id: b.id, name: b.name, serviceTypes: codesSchema.parse(JSON.parse(b.service_types)), active: b.active === 1, sortOrder: b.sort_order }));
  return {
    branchId: branch.id,
    branchName: branch.name,
    rules: {
      timeZone: branch.time_zone,
      openingHours: parseOpeningHours(branch.opening_hours),
      holidays: parseHolidays(branch.holidays),
      settings: settingsOf(settings),
      bays: bayInfos.map((b) => ({ id: b.id, serviceTypes: b.serviceTypes, active: b.active })),
    },
    serviceTypes: types.map((t) => ({
      id: t.id,
      code: t.code,
      durationMinutes: t.duration_minutes,
      names: namesSchema.parse(JSON.parse(t.names)),
      active: t.active === 1,
      sortOrder: t.sort_order,
    })),
    bays: bayInfos,
  };
}

/** The active service type with `code`, or null (unknown, or switched off by a manager). */
export function activeServiceType(capacity: BranchCapacity, code: string): ServiceType | null {
  return capacity.serviceTypes.find((t) => t.code === code && t.active) ?? null;
}

/**
 * What live appointments hold on local dates `from`..`to` (inclusive): one indexed range read that the
 * availability rules need and nothing more. `excludeAppointmentId` leaves out an appointment being moved.
 */
export async function loadHeldCapacity(
  db: Kysely<Database>,
  branchId: string,
  from: string,
  to: string,
  excludeAppointmentId: string | null = null,
): Promise<HeldCapacity[]> {
  // The columns come joined into one text per row: a busy day has hundreds of rows, and drivers spend most
  // of the read building row objects column by column, so one joined column reads about twice as fast as
  // seven (BENCHMARKS.md). `||` joins text the same way on SQLite, D1 and Postgres.
  let query = db
    .selectFrom('appointments')
    .select(
      sql<string>`local_date || ' ' || bay_id || ' ' || starts_at || ' ' || busy_until || ' ' || advisor_unit || ' ' || day_unit || ' ' || coalesce(loaner_unit, -1)`.as('held'),
    )
    .where('branch_id', '=', branchId)
    .where('local_date', '>=', from)
    .where('local_date', '<=', to)
    .where('status', 'in', HOLDING_STATUSES);
  if (excludeAppointmentId) query = query.where('id', '<>', excludeAppointmentId);
  const rows = await query.execute();
  return rows.map((r) => unpackHeld(r.held));
}

function unpackHeld(text: string): HeldCapacity {
  const [localDate, bayId, startsAt, busyUntil, advisorUnit, dayUnit, loanerUnit] = text.split(' ');
  return {
    localDate: localDate!,
    bayId: bayId!,
    startsAt: startsAt!,
    busyUntil: busyUntil!,
    advisorUnit: Number(advisorUnit),
    dayUnit: Number(dayUnit),
    loanerUnit: loanerUnit === '-1' ? null : Number(loanerUnit),
  };
}

/**
 * Stores a branch's booking settings (validated; throws a ZodError on bad input, which the console shows).
 * Lowering a cap does not cancel bookings already made: they keep their units until they end.
 */
export async function saveBookingSettings(db: Kysely<Database>, branchId: string, settings: BookingSettings, now: string): Promise<void> {
  const s = bookingSettingsSchema.parse(settings);
  forgetBranchCapacity(branchId);
  const row = {
    slot_interval_minutes: s.slotIntervalMinutes,
    min_notice_minutes: s.minNoticeMinutes,
    horizon_days: s.horizonDays,
    buffer_minutes: s.bufferMinutes,
    advisors_per_slot: s.advisorsPerSlot,
    daily_cap: s.dailyCap,
    loaner_cars: s.loanerCars,
    change_cutoff_hours: s.changeCutoffHours,
    reminder_day_before_at: s.reminderDayBeforeAt,
    reminder_hours_before: s.reminderHoursBefore,
    quiet_hours_start: s.quietHoursStart,
    quiet_hours_end: s.quietHoursEnd,
    updated_at: now,
  };
  await db
    .insertInto('branch_settings')
    .values({ branch_id: branchId, ...row })
    .onConflict((oc) => oc.column('branch_id').doUpdateSet(row))
    .execute();
}

export const serviceTypeInputSchema = z.object({
  code: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'expected a code of lower-case letters, digits and _'),
  durationMinutes: serviceDurationSchema,
  names: namesSchema.refine((n) => Object.keys(n).length > 0, 'expected a name in at least one language'),
  active: z.boolean(),
  sortOrder: z.number().int(),
});
export type ServiceTypeInput = z.infer<typeof serviceTypeInputSchema>;

/**
 * Creates a service type, or updates the one with `id`. Returns its id. A code already used at the branch
 * is a unique violation (`service_types`), which the console reports as a conflict. Changing a duration
 * applies to new bookings; existing ones keep the time they hold.
 */
export async function saveServiceType(db: Kysely<Database>, branchId: string, input: ServiceTypeInput, now: string, id: string | null = null): Promise<string> {
  const t = serviceTypeInputSchema.parse(input);
  forgetBranchCapacity(branchId);
  const values = { code: t.code, duration_minutes: t.durationMinutes, names: JSON.stringify(t.names), active: t.active ? 1 : 0, sort_order: t.sortOrder, updated_at: now };
  if (id) {
    await db.updateTable('service_types').set(values).where('id', '=', id).where('branch_id', '=', branchId).execute();
    return id;
  }
  const newTypeId = newId();
  await db.insertInto('service_types').values({ id: newTypeId, branch_id: branchId, created_at: now, ...values }).execute();
  return newTypeId;
}

export const bayInputSchema = z.object({
  name: z.string().trim().min(1).max(60),
  serviceTypes: codesSchema,
  active: z.boolean(),
  sortOrder: z.number().int(),
});
export type BayInput = z.infer<typeof bayInputSchema>;

/**
 * Creates a bay, or updates the one with `id`. Returns its id. A bay switched off takes no new bookings;
 * its existing ones stay where they are for staff to move.
 */
export async function saveBay(db: Kysely<Database>, branchId: string, input: BayInput, now: string, id: string | null = null): Promise<string> {
  const b = bayInputSchema.parse(input);
  forgetBranchCapacity(branchId);
  const values = { name: b.name, service_types: JSON.stringify(b.serviceTypes), active: b.active ? 1 : 0, sort_order: b.sortOrder, updated_at: now };
  if (id) {
    await db.updateTable('bays').set(values).where('id', '=', id).where('branch_id', '=', branchId).execute();
    return id;
  }
  const bayId = newId();
  await db.insertInto('bays').values({ id: bayId, branch_id: branchId, created_at: now, ...values }).execute();
  return bayId;
}

/**
 * Bays name the service types they take by code: when a type's code changes, the bays of the branch that
 * took the old code take the new one. Returns the ids of the bays changed.
 */
export async function renameServiceTypeInBays(db: Kysely<Database>, branchId: string, from: string, to: string, now: string): Promise<string[]> {
  if (from === to) return [];
  forgetBranchCapacity(branchId);
  const bays = await db.selectFrom('bays').select(['id', 'service_types']).where('branch_id', '=', branchId).execute();
  const renamed: string[] = [];
  for (const bay of bays) {
    const codes = codesSchema.parse(JSON.parse(bay.service_types));
    if (!codes.includes(from)) continue;
    await db
      .updateTable('bays')
      .set({ service_types: JSON.stringify(codes.map((code) => (code === from ? to : code))), updated_at: now })
      .where('id', '=', bay.id)
      .execute();
    renamed.push(bay.id);
  }
  return renamed;
}
