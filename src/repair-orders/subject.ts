import type { Kysely } from 'kysely';
import { branchAddressIn, branchNameIn, branchProfile, mapLinkOf } from '../booking/branch-profile';
import { DEFAULT_BOOKING_SETTINGS } from '../domain/booking-rules';
import { isLocale, type Locale } from '../i18n/locales';
import type { Database, ItemDecision, ItemUrgency, RepairOrderChannel } from '../store/schema';
import type { BranchHours } from './pickup-hours';
import type { RepairOrder } from './repair-orders';
import { loadRepairOrderSettings, type RepairOrderSettings } from './settings';

/*
 * Everything a message about a repair order is written from, read in one place: the order, its branch
 * (hours, address, quiet hours), the branch's settings, the customer, the car and the added items with
 * their answers. Callers that have just changed the order in their transaction pass the order as it now
 * is (D1 cannot read it back); the rest is read as committed.
 */

export interface ItemView {
  id: string;
  requestId: string;
  position: number;
  description: string;
  /** Minor units. */
  price: number;
  urgency: ItemUrgency;
  photoUrl: string | null;
  createdAt: string;
  decision: ItemDecision | null;
  decidedAt: string | null;
  decidedVia: RepairOrderChannel | null;
  decidedBy: { type: 'customer' | 'staff'; label: string | null } | null;
  shownText: string | null;
  note: string | null;
}

export interface BranchView extends BranchHours {
  id: string;
  name: string;
  /** Read defensively: a branch may have none of these. */
  address: string | null;
  phone: string | null;
  mapUrl: string | null;
  quietHoursStart: string | null;
  quietHoursEnd: string | null;
}

export interface OrderSubject {
  order: RepairOrder;
  branch: BranchView;
  settings: RepairOrderSettings;
  customer: { id: string; locale: Locale; phone: string | null; displayName: string | null; optedOut: boolean };
  vehicle: { plate: string; make: string | null; model: string | null } | null;
  /** The booked service's names per language, for an order opened from an appointment. */
  serviceNames: Record<string, string> | null;
  items: ItemView[];
}

/** The order's added items with their answers, in the order they were added. */
export async function loadItems(db: Kysely<Database>, orderId: string): Promise<ItemView[]> {
  const rows = await db
    .selectFrom('repair_order_items as i')
    .leftJoin('repair_order_decisions as d', 'd.item_id', 'i.id')
    .select([
      'i.id',
      'i.request_id',
      'i.position',
      'i.description',
      'i.price',
      'i.urgency',
      'i.photo_url',
      'i.created_at',
      'd.decision',
      'd.decided_at',
      'd.channel',
      'd.actor_type',
      'd.actor_label',
      'd.shown_text',
      'd.note',
    ])
    .where('i.repair_order_id', '=', orderId)
    .orderBy('i.position')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    requestId: r.request_id,
    position: r.position,
    description: r.description,
    price: r.price,
    urgency: r.urgency,
    photoUrl: r.photo_url,
    createdAt: r.created_at,
    decision: r.decision ?? null,
    decidedAt: r.decided_at ?? null,
    decidedVia: r.channel ?? null,
    decidedBy: r.actor_type ? { type: r.actor_type, label: r.actor_label ?? null } : null,
    shownText: r.shown_text ?? null,
    note: r.note ?? null,
  }));
}

/**
 * The branch as messages and pickup rules need it, or null when it is gone: its name and address in
 * `locale` (the branch's translations, else the words staff entered), and a map link (its own, else a map
 * search for that address).
 */
export async function loadBranchView(db: Kysely<Database>, branchId: string, locale?: Locale): Promise<BranchView | null> {
  const [branch, booking] = await Promise.all([
    branchProfile(db, branchId),
    db.selectFrom('branch_settings').select(['quiet_hours_start', 'quiet_hours_end']).where('branch_id', '=', branchId).executeTakeFirst(),
  ]);
  if (!branch) return null;
  const trimmed = (value: string | null) => (value && value.trim() ? value.trim() : null);
  return {
    id: branch.id,
    name: locale ? branchNameIn(branch, locale) : branch.name,
    address: trimmed(locale ? branchAddressIn(branch, locale) : branch.address),
    phone: trimmed(branch.phone),
    mapUrl: trimmed(locale ? mapLinkOf(branch, locale) : branch.mapUrl),
    timeZone: branch.timeZone,
    openingHours: branch.openingHours,
    holidays: branch.holidays,
    quietHoursStart: booking ? booking.quiet_hours_start : DEFAULT_BOOKING_SETTINGS.quietHoursStart,
    quietHoursEnd: booking ? booking.quiet_hours_end : DEFAULT_BOOKING_SETTINGS.quietHoursEnd,
  };
}

/** See the module comment; null when the branch or the customer is gone. */
export async function loadSubject(db: Kysely<Database>, order: RepairOrder, defaultLocale: Locale, items?: ItemView[]): Promise<OrderSubject | null> {
  const [customer, vehicle, appointment, loadedItems] = await Promise.all([
    db.selectFrom('customers').select(['id', 'locale', 'phone', 'display_name', 'opted_out_at', 'erased_at']).where('id', '=', order.customerId).executeTakeFirst(),
    order.vehicleId ? db.selectFrom('vehicles').select(['plate', 'make', 'model']).where('id', '=', order.vehicleId).executeTakeFirst() : Promise.resolve(undefined),
    order.appointmentId
      ? db.selectFrom('appointments as a').innerJoin('service_types as st', 'st.id', 'a.service_type_id').select(['st.names']).where('a.id', '=', order.appointmentId).executeTakeFirst()
      : Promise.resolve(undefined),
    items ? Promise.resolve(items) : loadItems(db, order.id),
  ]);
  if (!customer) return null;
  const locale = isLocale(customer.locale) ? customer.locale : defaultLocale;
  // The branch as this customer reads it: its name and address in their language.
  const branch = await loadBranchView(db, order.branchId, locale);
  if (!branch) return null;
  const settings = await loadRepairOrderSettings(db, order.branchId, branch.timeZone);
  return {
    order,
    branch,
    settings,
    customer: {
      id: customer.id,
      locale,
      phone: customer.phone,
      displayName: customer.display_name,
      optedOut: customer.opted_out_at !== null || customer.erased_at !== null,
    },
    vehicle: vehicle ? { plate: vehicle.plate, make: vehicle.make, model: vehicle.model } : null,
    serviceNames: appointment ? (JSON.parse(appointment.names) as Record<string, string>) : null,
    items: loadedItems,
  };
}

/** Sum of the approved items' prices (minor units). */
export function approvedTotal(items: readonly ItemView[]): number {
  return items.filter((i) => i.decision === 'approved').reduce((sum, i) => sum + i.price, 0);
}

/** What the customer pays at pickup: the final amount, else the estimate plus approved items; null when nothing is known. */
export function amountDue(s: Pick<OrderSubject, 'order' | 'items'>): number | null {
  if (s.order.finalAmount !== null) return s.order.finalAmount;
  const approved = approvedTotal(s.items);
  if (s.order.estimatedAmount === null && approved === 0) return null;
  return (s.order.estimatedAmount ?? 0) + approved;
}
