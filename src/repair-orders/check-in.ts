import type { Kysely } from 'kysely';
import { checkInAppointment, type ChangeRefusal, type ChangeRequest } from '../booking/booking';
import type { Appointment } from '../booking/appointments';
import type { Database } from '../store/schema';
import { openRepairOrder, type RepairOrder } from './repair-orders';

export type CheckInResult = { ok: true; appointment: Appointment; repairOrder: RepairOrder } | ChangeRefusal;

/**
 * Checks a booked appointment in and opens its repair order, in the caller's transaction: both commit or
 * neither does. A second check-in is refused by the booking rules (the appointment is no longer booked),
 * and two racing ones cannot both pass (appointment_changes' key), so an appointment has at most one
 * repair order. Lost races throw; the caller runs this again (isBookingConflict / isRepairOrderConflict).
 */
export async function checkInWithRepairOrder(db: Kysely<Database>, request: ChangeRequest & { mileageIn: number | null }, now: Date): Promise<CheckInResult> {
  const checked = await checkInAppointment(db, request, now);
  if (!checked.ok) return checked;
  const a = checked.appointment;
  const repairOrder = await openRepairOrder(
    db,
    { appointmentId: a.id, branchId: a.branchId, customerId: a.customerId, vehicleId: a.vehicleId, advisorId: a.advisorId, mileageIn: request.mileageIn },
    now.toISOString(),
  );
  return { ok: true, appointment: a, repairOrder };
}
