import type { Principal } from './permissions';

/*
 * What every staff service answers: the value, or an expected failure the console and the API each turn
 * into a page or a status. Exceptions stay for bugs and infrastructure faults.
 */

/**
 * One field a staff member or an integration got wrong. `code` names the problem (a key of the feature's
 * console texts), so the console shows it in the staff member's language and the API returns it as is.
 */
export interface FieldError {
  field: string;
  code: string;
  params?: Record<string, string | number>;
}

export type NotFound = { ok: false; reason: 'not_found' };
export type Invalid = { ok: false; reason: 'invalid'; errors: FieldError[] };
/** The request is well-formed but the records do not allow it now (`code` says why). */
export type Conflict = { ok: false; reason: 'conflict'; code: string };

/** The failures most staff operations can end in. */
export type StaffFailure = NotFound | Invalid | Conflict;

export type Ok<T> = { ok: true; value: T };
export type Result<T, F = StaffFailure> = Ok<T> | F;

/** Who acts, from where and when: what every change's audit entry records. */
export interface ActionContext {
  actor: Principal;
  ip: string | null;
  now: Date;
}

export const ok = <T>(value: T): Ok<T> => ({ ok: true, value });
export const notFound = (): NotFound => ({ ok: false, reason: 'not_found' });
export const invalid = (errors: FieldError[]): Invalid => ({ ok: false, reason: 'invalid', errors });
export const conflict = (code: string): Conflict => ({ ok: false, reason: 'conflict', code });

/** The highest page number a list is read at; beyond it nobody pages by hand, and the offset stays a small whole number. */
export const MAX_PAGE = 10_000;

/** A page number from what a query string said: a whole number from 1 to MAX_PAGE (`1e309`, `-3`, `x` → the nearest sensible page). */
export function pageNumber(value: unknown): number {
  const n = Math.floor(Number(value ?? 1));
  return Number.isFinite(n) ? Math.min(Math.max(1, n), MAX_PAGE) : n > 0 ? MAX_PAGE : 1;
}
