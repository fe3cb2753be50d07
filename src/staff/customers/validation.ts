import { z } from 'zod';
import { CUSTOMER_CATEGORIES } from '../../domain/customer-category';
import { SUPPORTED_LOCALES } from '../../i18n/locales';
import type { CustomerCategory } from '../../store/schema';
import { isPhoneLike, isValidPlate, isValidVin, normalizePhone, normalizePlate, normalizeVin } from './normalize';
import type { FieldError } from './result';

/*
 * What staff may write into a profile and a vehicle, as zod schemas so the console (form strings) and the
 * API (JSON) validate alike. Every message is a problem code (see FieldError); blank text means "none".
 */

export const MAX_NAME_CHARS = 100;
export const MAX_NOTES_CHARS = 4000;
export const MAX_VEHICLE_TEXT_CHARS = 60;
export const MIN_VEHICLE_YEAR = 1950;

const blankToNull = (value: unknown) => {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
};

/** Form fields arrive as text; an API sends numbers. Blank is "none"; anything not a number stays as is and fails. */
const toNumberOrNull = (value: unknown) => {
  const v = blankToNull(value);
  if (typeof v !== 'string') return v;
  const n = Number(v.normalize('NFKC').replace(/[,\s]/g, ''));
  return Number.isFinite(n) ? n : v;
};

/** Checkboxes send "1"/"on" when ticked and nothing otherwise; an API sends booleans. */
const toBoolean = (value: unknown) => (typeof value === 'string' ? ['1', 'on', 'true', 'yes'].includes(value.trim().toLowerCase()) : value);

const optionalText = (max: number, code: string) => z.preprocess(blankToNull, z.string({ error: code }).max(max, code).nullable());

/** A profile change; a field left out stays as it is. */
export const customerUpdateSchema = z.object({
  displayName: optionalText(MAX_NAME_CHARS, 'nameTooLong').optional(),
  phone: z
    .preprocess(blankToNull, z.string({ error: 'phoneInvalid' }).refine(isPhoneLike, 'phoneInvalid').transform(normalizePhone).nullable())
    .optional(),
  locale: z.enum(SUPPORTED_LOCALES, { error: 'localeInvalid' }).optional(),
  category: z.enum(CUSTOMER_CATEGORIES as [CustomerCategory, ...CustomerCategory[]], { error: 'categoryInvalid' }).optional(),
  /** Consent to be contacted: given (kept from when it was first given) or withdrawn. */
  consent: z.preprocess(toBoolean, z.boolean({ error: 'consentInvalid' })).optional(),
  optedOut: z.preprocess(toBoolean, z.boolean({ error: 'optedOutInvalid' })).optional(),
  notes: optionalText(MAX_NOTES_CHARS, 'notesTooLong').optional(),
});
export type CustomerUpdateInput = z.output<typeof customerUpdateSchema>;

/** A vehicle as staff enter it; `now` sets the newest model year accepted (next year's models sell this year). */
export function vehicleSchema(now: Date) {
  const maxYear = now.getUTCFullYear() + 1;
  return z.object({
    /** Kept as typed (trimmed) for display; searches use its normalised form. */
    plate: z.preprocess(
      blankToNull,
      z
        .string({ error: 'plateRequired' })
        .max(20, 'plateInvalid')
        .refine((typed) => isValidPlate(normalizePlate(typed)), 'plateInvalid'),
    ),
    make: optionalText(MAX_VEHICLE_TEXT_CHARS, 'makeTooLong').optional(),
    model: optionalText(MAX_VEHICLE_TEXT_CHARS, 'modelTooLong').optional(),
    year: z.preprocess(toNumberOrNull, z.number({ error: 'yearInvalid' }).int('yearInvalid').min(MIN_VEHICLE_YEAR, 'yearRange').max(maxYear, 'yearRange').nullable()).optional(),
    vin: z.preprocess(blankToNull, z.string({ error: 'vinInvalid' }).transform(normalizeVin).refine(isValidVin, 'vinInvalid').nullable()).optional(),
    mileageKm: z.preprocess(toNumberOrNull, z.number({ error: 'mileageInvalid' }).int('mileageInvalid').min(0, 'mileageRange').max(10_000_000, 'mileageRange').nullable()).optional(),
  });
}
export type VehicleInput = z.output<ReturnType<typeof vehicleSchema>>;

/** Parameters the problem codes' texts mention. */
export function errorParams(code: string, now: Date): Record<string, string | number> {
  switch (code) {
    case 'yearRange':
      return { min: MIN_VEHICLE_YEAR, max: now.getUTCFullYear() + 1 };
    case 'nameTooLong':
      return { max: MAX_NAME_CHARS };
    case 'notesTooLong':
      return { max: MAX_NOTES_CHARS };
    case 'makeTooLong':
    case 'modelTooLong':
      return { max: MAX_VEHICLE_TEXT_CHARS };
    default:
      return {};
  }
}

/** zod's issues as FieldErrors, one per field (the first problem is the one worth fixing first). */
export function fieldErrors(error: z.ZodError, now: Date): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? '');
    if (out.some((e) => e.field === field)) continue;
    // Our schemas name every problem; anything else (a wrong type zod caught first) is just "not valid".
    const code = /^[a-zA-Z]+$/.test(issue.message) ? issue.message : 'invalidValue';
    out.push({ field, code, params: errorParams(code, now) });
  }
  return out;
}
