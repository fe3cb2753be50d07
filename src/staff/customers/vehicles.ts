import type { Kysely } from 'kysely';
import type { Customer, Database, Vehicle } from '../../store/schema';
import type { Store } from '../../store/store';
import { normalizePlate } from './normalize';
import { liveCustomer, ok, type ActionContext, type CustomerResult } from './result';
import { updateVehicle } from './update';

/** A live customer's vehicles, oldest first. */
export async function listVehicles(db: Kysely<Database>, customerId: string): Promise<CustomerResult<Vehicle[]>> {
  const found = await liveCustomer(db, customerId);
  if (!found.ok) return found;
  return ok(await db.selectFrom('vehicles').selectAll().where('customer_id', '=', customerId).orderBy('created_at').orderBy('id').execute());
}

/** Vehicles with this whole plate (compared normalised) of customers who are neither merged nor erased. */
export async function findVehiclesByPlate(db: Kysely<Database>, plate: string): Promise<Vehicle[]> {
  return db
    .selectFrom('vehicles')
    .innerJoin('customers', 'customers.id', 'vehicles.customer_id')
    .selectAll('vehicles')
    .where('vehicles.plate_normalized', '=', normalizePlate(plate))
    .where('customers.merged_into_id', 'is', null)
    .where('customers.erased_at', 'is', null)
    .orderBy('vehicles.created_at')
    .orderBy('vehicles.id')
    .limit(100)
    .execute();
}

/**
 * Changes a vehicle known only by its id (an integration does not say whose it is). A merge can move the
 * vehicle to another profile between reading its owner and changing it; then the owner is read again, once.
 */
export async function updateVehicleById(store: Store, ctx: ActionContext, vehicleId: string, raw: unknown): Promise<CustomerResult<Vehicle>> {
  for (let attempt = 0; ; attempt++) {
    const owner = await store.db.selectFrom('vehicles').select('customer_id').where('id', '=', vehicleId).executeTakeFirst();
    if (!owner) return { ok: false, reason: 'not_found' };
    const updated = await updateVehicle(store, ctx, owner.customer_id, vehicleId, raw);
    if (updated.ok || attempt > 0 || (updated.reason !== 'merged' && updated.reason !== 'not_found')) return updated;
  }
}

/** A live customer and the vehicles with a plate: what booking for them offers to choose from. */
export async function customerWithVehicles(db: Kysely<Database>, customerId: string): Promise<CustomerResult<{ customer: Customer; vehicles: Vehicle[] }>> {
  const found = await liveCustomer(db, customerId);
  if (!found.ok) return found;
  const vehicles = await db.selectFrom('vehicles').selectAll().where('customer_id', '=', customerId).where('plate', '<>', '').orderBy('created_at').execute();
  return ok({ customer: found.value, vehicles });
}
