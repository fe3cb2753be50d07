import type { Hono } from 'hono';
import { registerTokenPages } from './api-tokens';
import { registerAuditPages } from './audit';
import { registerBranchPages } from './branches';
import type { ConsoleContext } from './deps';
import type { ConsoleEnv } from './kit';
import { registerStaffPages } from './staff-users';

/** The admin side of the console: branches, staff accounts, API tokens and the audit log. */
export function registerAdminPages(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  registerBranchPages(app, ctx);
  registerStaffPages(app, ctx);
  registerTokenPages(app, ctx);
  registerAuditPages(app, ctx);
}
