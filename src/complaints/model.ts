import { newBookingReference, normalizeBookingReference } from '../domain/booking-reference';
import type { ComplaintCategory, ComplaintPriority, ComplaintStatus } from '../store/schema';

/*
 * The words of a complaint ticket, shared by the intake flow, the console, the API and the jobs.
 */

export const COMPLAINT_CATEGORIES: readonly ComplaintCategory[] = ['service_quality', 'staff_attitude', 'price_invoice', 'waiting_time', 'vehicle_quality', 'damage', 'other'];
export const COMPLAINT_PRIORITIES: readonly ComplaintPriority[] = ['high', 'normal', 'low'];
export const COMPLAINT_STATUSES: readonly ComplaintStatus[] = ['new', 'assigned', 'waiting_customer', 'resolved', 'closed', 'reopened'];

/** Statuses in which someone still owes the customer something. */
export const OPEN_STATUSES: readonly ComplaintStatus[] = ['new', 'assigned', 'waiting_customer', 'reopened'];

export function isOpenStatus(status: ComplaintStatus): boolean {
  return OPEN_STATUSES.includes(status);
}

export function isCategory(value: unknown): value is ComplaintCategory {
  return typeof value === 'string' && (COMPLAINT_CATEGORIES as readonly string[]).includes(value);
}

export function isPriority(value: unknown): value is ComplaintPriority {
  return typeof value === 'string' && (COMPLAINT_PRIORITIES as readonly string[]).includes(value);
}

export function isStatus(value: unknown): value is ComplaintStatus {
  return typeof value === 'string' && (COMPLAINT_STATUSES as readonly string[]).includes(value);
}

const PREFIX = 'CP-';

/**
 * A new complaint reference such as 'CP-7K3QXM': the booking references' alphabet and length (no look-alike
 * characters, read aloud and typed back safely) under its own prefix, so a customer quoting one is never
 * mistaken for the other.
 */
export function newComplaintReference(): string {
  return PREFIX + newBookingReference().slice(PREFIX.length);
}

/** Reads a complaint reference as a customer might type it ("cp 7k3qxm"); null when it cannot be one. */
export function normalizeComplaintReference(text: string): string | null {
  const body = text.normalize('NFKC').trim().replace(/^cp[\s\-_.]*/i, '');
  const booking = normalizeBookingReference(body);
  return booking ? PREFIX + booking.slice(PREFIX.length) : null;
}

/** Business minutes a branch without its own settings gives: a first answer within 30, a resolution within two working days. */
export const DEFAULT_COMPLAINT_SLA = { firstResponseMinutes: 30, resolutionMinutes: 2 * 9 * 60 } as const;

/** The most photos one complaint takes from the intake, and the longest description (in characters). */
export const INTAKE_LIMITS = { photos: 5, descriptionChars: 4000, descriptionMessages: 20 } as const;

/** The largest photo kept, from any channel: LINE and Telegram photos are well under this. */
export const PHOTO_MAX_BYTES = 10 * 1024 * 1024;
