import type { Kysely } from 'kysely';
import { checkInAppointment, type ChangeRefusal, type ChangeRequest } from '../booking/booking';
import type { Appointment } from '../booking/appointments';
import type { Locale } from '../i18n/locales';
import type { BookingChannel, Database, RepairOrderChannel } from '../store/schema';
import { openOrder } from './operations';
import type { OpenRepairOrder, RepairOrder } from './repair-orders';

export type CheckInResult = { ok: true; appointment: Appointment; repairOrder: RepairOrder } | ChangeRefusal;

function orderChannel(channel: BookingChannel | null): RepairOrderChannel {
  return channel === null ? 'system' : channel === 'walk_in' ? 'console' : channel;
}

/**
 * Checks a booked appointment in and opens its repair order, in the caller's transaction: both commit or
 * neither does, with the order's first timeline entry and the "checked in" notice when the branch sends
 * one. A second check-in is refused by the booking rules (the appointment is no longer booked), and two
 * racing ones cannot both pass (appointment_changes' key), so an appointment has at most one repair order.
 * Lost races throw; the caller runs this again (isBookingConflict / isRepairOrderConflict). `extra` carries
 * what the DMS knows when its check-in opens the order.
 */
export async function checkInWithRepairOrder(
  db: Kysely<Database>,
  request: ChangeRequest & { mileageIn: number | null },
  now: Date,
  extra: Partial<Pick<OpenRepairOrder, 'dmsNumber' | 'promisedAt' | 'estimatedAmount' | 'finalAmount' | 'workSummary' | 'status'>> & { actorLabel?: string | null; defaultLocale?: Locale; force?: boolean } = {},
): Promise<CheckInResult> {
  // The order's own check-in notice tells the customer (once), not the booking's.
  const checked = await checkInAppointment(db, request, now, { tellCustomer: false });
  if (!checked.ok) return checked;
  const a = checked.appointment;
  const actor = request.actor;
  const opened = await openOrder(
    { db, now, defaultLocale: extra.defaultLocale ?? 'en' },
    {
      appointmentId: a.id,
      branchId: a.branchId,
      customerId: a.customerId,
      vehicleId: a.vehicleId,
      advisorId: a.advisorId,
      mileageIn: request.mileageIn,
      status: extra.status,
      dmsNumber: extra.dmsNumber,
      promisedAt: extra.promisedAt,
      estimatedAmount: extra.estimatedAmount,
      finalAmount: extra.finalAmount,
      workSummary: extra.workSummary,
    },
    { type: actor.type === 'staff' ? 'staff' : actor.type === 'customer' ? 'customer' : 'system', id: actor.type === 'staff' ? actor.staffId : null, label: extra.actorLabel ?? null, channel: orderChannel(request.channel) },
    { force: extra.force },
  );
  return { ok: true, appointment: a, repairOrder: opened.order };
}
