import type { StaffRole } from '../store/staff-schema';

export const STAFF_ROLES: readonly StaffRole[] = ['advisor', 'care', 'manager', 'admin'];

/**
 * What each role may do. Advisors and customer-care staff work with customers and their conversations;
 * managers also see delivery problems, merge and export profiles and run their branches; the admin runs
 * the system (branches, staff, API tokens).
 */
export const PERMISSIONS = {
  'customers.read': ['advisor', 'care', 'manager', 'admin'],
  'customers.write': ['advisor', 'care', 'manager', 'admin'],
  'customers.merge': ['manager', 'admin'],
  'customers.export': ['manager', 'admin'],
  'customers.erase': ['manager', 'admin'],
  'conversations.read': ['advisor', 'care', 'manager', 'admin'],
  'conversations.reply': ['advisor', 'care', 'manager', 'admin'],
  'outbox.read': ['manager', 'admin'],
  'outbox.retry': ['manager', 'admin'],
  'branches.read': ['advisor', 'care', 'manager', 'admin'],
  'branches.write': ['admin'],
  'branches.capacity': ['manager', 'admin'],
  'appointments.read': ['advisor', 'care', 'manager', 'admin'],
  'appointments.write': ['advisor', 'manager', 'admin'],
  /** The complaints inbox and tickets: read by everyone who meets customers, handled by customer care and managers. */
  'complaints.read': ['advisor', 'care', 'manager', 'admin'],
  'complaints.write': ['care', 'manager', 'admin'],
  /** A branch's response times and staff group chats. */
  'complaints.settings': ['manager', 'admin'],
  'repair_orders.read': ['advisor', 'care', 'manager', 'admin'],
  'repair_orders.write': ['advisor', 'manager', 'admin'],
  'repair_orders.settings': ['manager', 'admin'],
  /** CSI and loyalty reports, and turning a survey comment into a complaint. */
  'csi.read': ['manager', 'admin'],
  /** The dealer's survey settings (delay, expiry, aspects, review invitation). */
  'csi.settings': ['manager', 'admin'],
  'staff.manage': ['admin'],
  'tokens.manage': ['admin'],
  'audit.read': ['manager', 'admin'],
  /** Any signed-in staff member: their own dashboard, profile, logout. */
  'console.use': ['advisor', 'care', 'manager', 'admin'],
} as const satisfies Record<string, readonly StaffRole[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(role: StaffRole, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly StaffRole[]).includes(role);
}

export function isStaffRole(value: unknown): value is StaffRole {
  return typeof value === 'string' && (STAFF_ROLES as readonly string[]).includes(value);
}

/** Who is asking: a signed-in staff member or an integration's API token. */
export type Principal =
  | {
      kind: 'staff';
      id: string;
      email: string;
      name: string;
      role: StaffRole;
      locale: string;
      /** 'all' for the admin; otherwise the branches the staff member belongs to. */
      branchIds: string[] | 'all';
      sessionId: string;
    }
  | { kind: 'api_token'; id: string; name: string; role: StaffRole; branchIds: string[] | 'all' };

export function canSeeBranch(principal: Principal, branchId: string): boolean {
  return principal.branchIds === 'all' || principal.branchIds.includes(branchId);
}

export function principalLabel(principal: Principal): string {
  return principal.kind === 'staff' ? principal.email : `token:${principal.name}`;
}

/**
 * Which customers a principal may see and change. Admins, and anyone whose branches are all of them, see
 * every customer. Staff and tokens of some branches see the customers who have an appointment, a repair
 * order or a complaint at one of their branches, and the customers not yet tied to any branch (new chats,
 * walk-ins just registered), whom any branch may take up. The rule is applied in src/staff/customers/scope.ts,
 * which the console and the API both go through.
 */
export type CustomerScope = { kind: 'all' } | { kind: 'branches'; branchIds: readonly string[] };

export function customerScope(principal: Principal): CustomerScope {
  if (principal.role === 'admin' || principal.branchIds === 'all') return { kind: 'all' };
  return { kind: 'branches', branchIds: principal.branchIds };
}
