import type { Hono } from 'hono';
import type { StaffEnv } from '../guard';
import { registerTokenPages } from './api-tokens';
import { registerAuditPages } from './audit';
import { registerBranchPages } from './branches';
import type { ConsoleDeps } from './layout';
import { registerStaffPages } from './staff-users';

/** The admin side of the console: branches, staff accounts, API tokens and the audit log. */
export function registerAdminPages(app: Hono<StaffEnv>, deps: ConsoleDeps): void {
  registerBranchPages(app, deps);
  registerStaffPages(app, deps);
  registerTokenPages(app, deps);
  registerAuditPages(app, deps);
}
