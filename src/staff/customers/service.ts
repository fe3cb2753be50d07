import type { BlobStore } from '../../blobs/blob-store';
import type { Choice } from '../../channels/types';
import type { Locale } from '../../i18n/locales';
import type { CustomerCategory } from '../../store/schema';
import type { Principal } from '../permissions';
import type { Store } from '../../store/store';
import { answeringOf, conversationSidePanel, conversationStanding, handBackToBot, latestMessages, sendStaffMessage, staffNamesOf, transcriptAfter, undeliveredStaffMessages, type StaffMessageInput } from './conversation';
import { createCustomer } from './create';
import { listDeliveryProblems, retryDeadMessage } from './delivery-problems';
import { eraseCustomer } from './erase';
import { exportCustomer } from './export';
import { mergeCustomers } from './merge';
import { loadCustomerProfile } from './profile';
import { liveCustomer, type ActionContext } from './result';
import { canSeeCustomer } from './scope';
import { listCustomersAfter, searchCustomers, type CustomerPosition } from './search';
import { addVehicle, updateCustomerProfile, updateVehicle } from './update';
import { customerWithVehicles, findVehiclesByPlate, listVehicles, updateVehicleById } from './vehicles';


export interface CustomerServiceDeps {
  store: Store;
  /** The language a customer registered without a chat gets. */
  defaultLocale: Locale;
  /** The customer's main menu, offered when staff hand a conversation back to the bot. */
  menuChoices?: () => Choice[];
  /** Where complaint photos are kept: an erasure removes the customer's. */
  blobs?: BlobStore;
}

/**
 * The customer operations bound to one store, for the console and the API: the functions of this folder,
 * which tests may also call directly with a store or a transaction.
 */
export function createCustomerService(deps: CustomerServiceDeps) {
  const { store } = deps;
  const db = store.db;
  return {
    /** Customers matching a search, only those `visibleTo` may see (customerScope). */
    search: (args: Parameters<typeof searchCustomers>[1] & { visibleTo: Principal }) => searchCustomers(db, args),
    listAfter: (args: { q?: string; category?: CustomerCategory; updatedSince?: string; after: CustomerPosition | null; limit: number; visibleTo: Principal }) => listCustomersAfter(db, args),
    /** Whether `principal` may see this customer (the guard asks before any route with a customer in its path). */
    canSee: (principal: Principal, customerId: string) => canSeeCustomer(db, principal, customerId),
    profile: (id: string) => loadCustomerProfile(db, id),
    live: (id: string) => liveCustomer(db, id),
    withVehicles: (id: string) => customerWithVehicles(db, id),
    create: (ctx: ActionContext, raw: unknown) => createCustomer(store, ctx, raw, { locale: deps.defaultLocale }),
    update: (ctx: ActionContext, id: string, raw: unknown) => updateCustomerProfile(store, ctx, id, raw),
    // Both profiles must be the actor's to see: the one in the path is checked by the guard, the other here.
    merge: async (ctx: ActionContext, args: { mergeId: string; keepId: string }): Promise<Awaited<ReturnType<typeof mergeCustomers>>> => {
      if (!(await canSeeCustomer(db, ctx.actor, args.mergeId))) return { ok: false, reason: 'not_found' };
      if (args.keepId && !(await canSeeCustomer(db, ctx.actor, args.keepId))) return { ok: false, reason: 'invalid', errors: [{ field: 'into', code: 'mergeTargetMissing' }] };
      return mergeCustomers(store, ctx, args);
    },
    export: (ctx: ActionContext, id: string) => exportCustomer(store, ctx, id),
    erase: (ctx: ActionContext, id: string, args: { confirmation: string }) => eraseCustomer(store, ctx, id, args, { blobs: deps.blobs }),

    vehicles: (customerId: string) => listVehicles(db, customerId),
    vehiclesByPlate: async (plate: string, visibleTo: Principal) => {
      const found = await findVehiclesByPlate(db, plate);
      const seen = await Promise.all(found.map((v) => canSeeCustomer(db, visibleTo, v.customer_id)));
      return found.filter((_, i) => seen[i]);
    },
    addVehicle: (ctx: ActionContext, customerId: string, raw: unknown) => addVehicle(store, ctx, customerId, raw),
    updateVehicle: (ctx: ActionContext, customerId: string, vehicleId: string, raw: unknown) => updateVehicle(store, ctx, customerId, vehicleId, raw),
    updateVehicleById: (ctx: ActionContext, vehicleId: string, raw: unknown) => updateVehicleById(store, ctx, vehicleId, raw),

    /** The latest messages, oldest first, and the staff messages still on their way. */
    transcript: async (customerId: string) => {
      const [messages, undelivered, conversation] = await Promise.all([
        latestMessages(db, customerId),
        undeliveredStaffMessages(db, customerId),
        db.selectFrom('conversations').select(['flow', 'state']).where('customer_id', '=', customerId).executeTakeFirst(),
      ]);
      const [staffNames, answeredBy] = await Promise.all([staffNamesOf(db, messages), answeringOf(db, conversation)]);
      return { messages, undelivered, staffNames, answeredBy };
    },
    /** Bookings, cars and open repair orders beside the conversation (see conversationSidePanel). */
    sidePanel: (principal: Principal, customerId: string, opts: { now: Date; locale: Locale }) => conversationSidePanel(db, principal, customerId, opts),
    transcriptAfter: (customerId: string, afterId: number) => transcriptAfter(db, customerId, afterId),
    standing: (customerId: string) => conversationStanding(db, customerId),
    sendMessage: (ctx: ActionContext, customerId: string, input: StaffMessageInput) => sendStaffMessage(store, ctx, customerId, input),
    handBack: (ctx: ActionContext, customerId: string) => handBackToBot(store, ctx, customerId, { menuChoices: deps.menuChoices }),

    deliveryProblems: (args: { page?: number }) => listDeliveryProblems(db, args),
    retryDelivery: (ctx: ActionContext, outboxId: number) => retryDeadMessage(store, ctx, outboxId),
  };
}

export type CustomerService = ReturnType<typeof createCustomerService>;
