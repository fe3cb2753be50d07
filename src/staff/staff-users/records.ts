import type { Kysely } from 'kysely';
import { newId } from '../../ids';
import type { Database } from '../../store/schema';
import type { StaffRole, StaffUser } from '../../store/staff-schema';
import { hashPassword } from '../auth/password';

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function findStaffByEmail(db: Kysely<Database>, email: string): Promise<StaffUser | null> {
  return (await db.selectFrom('staff_users').selectAll().where('email', '=', normalizeEmail(email)).executeTakeFirst()) ?? null;
}

export interface NewStaff {
  email: string;
  name: string;
  role: StaffRole;
  locale: string;
  password: string;
  branchIds: string[];
}

/** Creates a staff account; the caller has checked the password's strength and writes the audit entry. */
export async function createStaffUser(db: Kysely<Database>, staff: NewStaff, now: Date, iterations?: number): Promise<StaffUser> {
  const nowIso = now.toISOString();
  const row: StaffUser = {
    id: newId(),
    email: normalizeEmail(staff.email),
    name: staff.name,
    role: staff.role,
    locale: staff.locale,
    password_hash: await hashPassword(staff.password, iterations),
    active: 1,
    last_login_at: null,
    created_at: nowIso,
    updated_at: nowIso,
  };
  await db.insertInto('staff_users').values(row).execute();
  if (staff.branchIds.length > 0) {
    await db
      .insertInto('staff_branches')
      .values(staff.branchIds.map((branchId) => ({ staff_id: row.id, branch_id: branchId })))
      .execute();
  }
  return row;
}

export async function setStaffBranches(db: Kysely<Database>, staffId: string, branchIds: string[]): Promise<void> {
  await db.deleteFrom('staff_branches').where('staff_id', '=', staffId).execute();
  if (branchIds.length > 0) await db.insertInto('staff_branches').values(branchIds.map((branchId) => ({ staff_id: staffId, branch_id: branchId }))).execute();
}

/** What the console and audit log show of an account: never the password hash. */
export function publicStaff(user: StaffUser) {
  const { password_hash: _hidden, ...rest } = user;
  return rest;
}
