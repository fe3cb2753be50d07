import type { BlobStore } from '../blobs/blob-store';
import type { Choice } from '../channels/types';
import type { MediaLinks } from '../complaints/media-links';
import type { Locale } from '../i18n/locales';
import type { Clock } from '../ops/clock';
import type { Store } from '../store/store';
import { createApiTokenService } from './api-tokens';
import { createAppointmentService } from './appointments';
import { createAuditLogService } from './audit-log';
import { createSessionService } from './auth/sign-in';
import { createBranchService } from './branches';
import { createCapacityService } from './capacity';
import { createComplaintService } from './complaints/service';
import { createCsiService } from './csi';
import { createCustomerService } from './customers/service';
import { createDashboardService } from './dashboard';
import { createRepairOrderService } from './repair-orders';
import { createStaffUserService } from './staff-users';

export interface StaffServiceDeps {
  store: Store;
  clock: Clock;
  /** The language of customers registered without a chat. */
  defaultLocale: Locale;
  /** PBKDF2 iterations for new passwords (tests lower it; production keeps the default). */
  passwordIterations?: number;
  /** The customer's main menu, offered when staff hand a conversation back to the bot. */
  menuChoices?: () => Choice[];
  /** Where photos are kept and links to them (complaints); without them photos cannot be sent or shown. */
  blobs?: BlobStore;
  mediaLinks?: MediaLinks;
  /** Wakes the outbox sender after a change queued messages for a customer. */
  onOutbox?: () => void;
  /** The dealer's time zone (DEALER_TIMEZONE): report periods are its local dates. */
  timeZone?: string;
}

/**
 * Every staff feature's service, built once per app: the console pages and the API routes call these and
 * nothing else for data, so each query and rule lives in one place (see docs/console.md).
 */
export function createStaffServices(deps: StaffServiceDeps) {
  const { store, clock } = deps;
  return {
    sessions: createSessionService({ store }),
    dashboard: createDashboardService({ store }),
    customers: createCustomerService({ store, defaultLocale: deps.defaultLocale, menuChoices: deps.menuChoices, blobs: deps.blobs }),
    branches: createBranchService({ store }),
    capacity: createCapacityService({ store }),
    appointments: createAppointmentService({ store, clock }),
    repairOrders: createRepairOrderService({ store, clock, defaultLocale: deps.defaultLocale, onOutbox: deps.onOutbox }),
    staff: createStaffUserService({ store, passwordIterations: deps.passwordIterations }),
    tokens: createApiTokenService({ store }),
    audit: createAuditLogService({ store }),
    complaints: createComplaintService({ store, clock, blobs: deps.blobs, links: deps.mediaLinks, menuChoices: deps.menuChoices }),
    csi: createCsiService({ store, clock, timeZone: deps.timeZone ?? 'Asia/Taipei' }),
  };
}

export type StaffServices = ReturnType<typeof createStaffServices>;
