import { z } from 'zod';
import { isLocalDate, isTimeZone, minutesOfDay, WEEKDAYS, type Weekday } from './local-time';

/*
 * What a branch's capacity is made of, as plain values: the inputs of the availability rules. The booking
 * repositories turn database rows into these; the console validates a manager's edits with the schemas.
 */

/**
 * Every time a booking claims is a whole number of these minutes (the capacity claims' grain). Slot
 * interval, durations, buffer and opening times must be multiples of it, so claims stay exact when a
 * manager later changes the slot interval or the buffer: a booking keeps the real minutes it holds.
 */
export const BLOCK_MINUTES = 5;

const multipleOfBlock = (min: number, max: number) =>
  z
    .number()
    .int()
    .min(min)
    .max(max)
    .refine((n) => n % BLOCK_MINUTES === 0, `expected a multiple of ${BLOCK_MINUTES} minutes`);

const clock = z.string().refine((t) => {
  const m = minutesOfDay(t);
  return m !== null && m < 1440;
}, 'expected a time HH:mm');

/** A branch's booking settings; times are minutes unless the name says otherwise. */
export const bookingSettingsSchema = z
  .object({
    slotIntervalMinutes: multipleOfBlock(BLOCK_MINUTES, 240),
    minNoticeMinutes: z.number().int().min(0).max(60 * 24 * 30),
    /** The last bookable local date is today plus this many days. */
    horizonDays: z.number().int().min(0).max(366),
    /** Time a bay is kept free after a job (clean-up, paperwork), within the same opening interval. */
    bufferMinutes: multipleOfBlock(0, 240),
    /** Customers the service advisors can receive at one slot start. */
    advisorsPerSlot: z.number().int().min(1).max(100),
    /** Appointments a day, whatever the bays could hold. */
    dailyCap: z.number().int().min(1).max(10_000),
    loanerCars: z.number().int().min(0).max(1000),
    /** A customer may reschedule or cancel until this many hours before the slot; staff always may. */
    changeCutoffHours: z.number().int().min(0).max(24 * 14),
    /** Local time the day-before reminder goes out, or null for none. */
    reminderDayBeforeAt: clock.nullable(),
    /** Hours before the slot for the same-day reminder, or null for none. */
    reminderHoursBefore: z.number().int().min(1).max(48).nullable(),
    /** Local times between which no reminder is sent (may wrap midnight, e.g. 21:00–09:00), or null. */
    quietHoursStart: clock.nullable(),
    quietHoursEnd: clock.nullable(),
  })
  .refine((s) => (s.quietHoursStart === null) === (s.quietHoursEnd === null), {
    message: 'quiet hours need both a start and an end',
    path: ['quietHoursEnd'],
  });

export type BookingSettings = z.infer<typeof bookingSettingsSchema>;

/** What a branch without its own booking settings uses: a small workshop's usual numbers. */
export const DEFAULT_BOOKING_SETTINGS: BookingSettings = {
  slotIntervalMinutes: 30,
  minNoticeMinutes: 120,
  horizonDays: 60,
  bufferMinutes: 15,
  advisorsPerSlot: 2,
  dailyCap: 24,
  loanerCars: 2,
  changeCutoffHours: 24,
  reminderDayBeforeAt: '18:00',
  reminderHoursBefore: 3,
  quietHoursStart: '21:00',
  quietHoursEnd: '09:00',
};

/** One open interval, local wall times 'HH:mm'; '24:00' closes at midnight. */
export type OpenInterval = [string, string];
/** Open intervals per weekday, as stored in `branches.opening_hours`; a day without intervals is closed. */
export type OpeningHours = Record<Weekday, OpenInterval[]>;

const interval = z.tuple([z.string(), z.string()]).superRefine(([from, to], ctx) => {
  const a = minutesOfDay(from);
  const b = minutesOfDay(to);
  if (a === null || b === null || a >= 1440) ctx.addIssue({ code: 'custom', message: `expected ["HH:mm","HH:mm"], got ["${from}","${to}"]` });
  else if (a >= b) ctx.addIssue({ code: 'custom', message: `an interval must end after it starts (${from}–${to}); overnight hours are not supported` });
  else if (a % BLOCK_MINUTES !== 0 || b % BLOCK_MINUTES !== 0) ctx.addIssue({ code: 'custom', message: `opening times must be multiples of ${BLOCK_MINUTES} minutes` });
});

const day = z
  .array(interval)
  .default([])
  .superRefine((intervals, ctx) => {
    const sorted = [...intervals].sort((x, y) => minutesOfDay(x[0])! - minutesOfDay(y[0])!);
    for (let i = 1; i < sorted.length; i++) {
      if (minutesOfDay(sorted[i]![0])! < minutesOfDay(sorted[i - 1]![1])!) ctx.addIssue({ code: 'custom', message: 'open intervals of a day must not overlap' });
    }
  })
  .transform((intervals) => [...intervals].sort((x, y) => minutesOfDay(x[0])! - minutesOfDay(y[0])!) as OpenInterval[]);

export const openingHoursSchema = z.object(Object.fromEntries(WEEKDAYS.map((d) => [d, day])) as Record<Weekday, typeof day>);

export const holidaysSchema = z.array(z.string().refine(isLocalDate, 'expected a date YYYY-MM-DD'));

export const timeZoneSchema = z.string().refine(isTimeZone, 'expected an IANA time zone such as Asia/Taipei');

/** Reads `branches.opening_hours`; a branch row with unreadable hours is a data fault, so this throws. */
export function parseOpeningHours(json: string): OpeningHours {
  return openingHoursSchema.parse(JSON.parse(json));
}

/** Reads `branches.holidays`. */
export function parseHolidays(json: string): string[] {
  return holidaysSchema.parse(JSON.parse(json));
}

/** A bay as the rules see it. */
export interface Bay {
  id: string;
  /** Codes of the service types this bay takes. */
  serviceTypes: readonly string[];
  active: boolean;
}

/** A service type as the rules see it. */
export interface ServiceTypeRule {
  code: string;
  durationMinutes: number;
}

export const serviceDurationSchema = multipleOfBlock(BLOCK_MINUTES, 24 * 60);

/** Everything about a branch the availability rules read, besides what is already booked. */
export interface BranchRules {
  timeZone: string;
  openingHours: OpeningHours;
  holidays: readonly string[];
  settings: BookingSettings;
  bays: readonly Bay[];
}

/**
 * Capacity one live appointment holds, as stored on its row: the bay from its start until `busyUntil`
 * (end plus buffer), one advisor unit at its start, one unit of the day's cap, one loaner car if asked.
 */
export interface HeldCapacity {
  localDate: string;
  bayId: string;
  /** UTC ISO. */
  startsAt: string;
  /** UTC ISO. */
  busyUntil: string;
  advisorUnit: number;
  dayUnit: number;
  loanerUnit: number | null;
}

/**
 * True when a customer may no longer change or cancel a visit starting at `startsAt` themselves: it starts
 * within the branch's change cutoff (or has started). Staff are not bound by it.
 */
export function withinChangeCutoff(startsAt: string, changeCutoffHours: number, now: Date): boolean {
  return now.getTime() > Date.parse(startsAt) - changeCutoffHours * 3_600_000;
}
