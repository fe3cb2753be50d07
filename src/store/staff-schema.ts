import type { Generated, Selectable } from 'kysely';

/* Staff accounts, sessions, API tokens and the audit log (migration 0002_staff). */

export type StaffRole = 'advisor' | 'care' | 'manager' | 'admin';

export interface StaffUsersTable {
  id: string;
  email: string;
  name: string;
  role: StaffRole;
  /** The language the console is shown in. */
  locale: string;
  password_hash: string;
  active: number;
  last_login_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface StaffBranchesTable {
  staff_id: string;
  branch_id: string;
}

export interface StaffSessionsTable {
  id: string;
  /** SHA-256 of the cookie value; the value itself is never stored. */
  token_hash: string;
  staff_id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
}

export interface ApiTokensTable {
  id: string;
  name: string;
  token_hash: string;
  /** The first characters of the token, shown in the console so staff can tell tokens apart. */
  prefix: string;
  role: StaffRole;
  branch_ids: string | null;
  created_by: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  actor_type: 'staff' | 'api_token' | 'cli' | 'system';
  actor_id: string | null;
  actor_label: string;
  action: string;
  entity: string;
  entity_id: string | null;
  before: string | null;
  after: string | null;
  ip: string | null;
  created_at: string;
}

export interface LoginAttemptsTable {
  id: Generated<number>;
  key: string;
  at: string;
}

export interface StaffTables {
  staff_users: StaffUsersTable;
  staff_branches: StaffBranchesTable;
  staff_sessions: StaffSessionsTable;
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
  login_attempts: LoginAttemptsTable;
}

export type StaffUser = Selectable<StaffUsersTable>;
export type ApiToken = Selectable<ApiTokensTable>;
export type AuditEntry = Selectable<AuditLogTable>;
