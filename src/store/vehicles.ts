import type { Kysely } from 'kysely';
import { newId } from '../ids';
import type { Database, Vehicle } from './schema';

export async function vehiclesOf(db: Kysely<Database>, customerId: string): Promise<Vehicle[]> {
  return db.selectFrom('vehicles').selectAll().where('customer_id', '=', customerId).orderBy('created_at', 'asc').execute();
}

/** Registers a car a customer told us about in the chat; the caller has validated and normalised the plate. */
export async function addVehicle(
  db: Kysely<Database>,
  customerId: string,
  fields: { plate: string; plateNormalized: string; make: string | null; model: string | null; year: number | null; mileageKm: number | null },
  now: string,
): Promise<Vehicle> {
  const vehicle: Vehicle = {
    id: newId(),
    customer_id: customerId,
    plate: fields.plate,
    plate_normalized: fields.plateNormalized,
    make: fields.make,
    model: fields.model,
    year: fields.year,
    vin: null,
    mileage_km: fields.mileageKm,
    created_at: now,
    updated_at: now,
  };
  await db.insertInto('vehicles').values(vehicle).execute();
  return vehicle;
}

/** One of a customer's cars, or null when the id is not theirs. */
export async function vehicleOf(db: Kysely<Database>, customerId: string, vehicleId: string): Promise<Vehicle | null> {
  return (await db.selectFrom('vehicles').selectAll().where('id', '=', vehicleId).where('customer_id', '=', customerId).executeTakeFirst()) ?? null;
}
