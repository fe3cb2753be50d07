import type { Transaction } from 'kysely';
import type { z } from 'zod';
import { newId } from '../../ids';
import type { Customer, Database, Vehicle } from '../../store/schema';
import type { Store } from '../../store/store';
import { recordAudit } from '../audit';
import { normalizePlate } from './normalize';
import { invalid, liveCustomer, ok, type ActionContext, type CustomerResult } from './result';
import { customerUpdateSchema, fieldErrors, vehicleSchema } from './validation';

type ProfileFields = Pick<Customer, 'display_name' | 'phone' | 'locale' | 'category' | 'notes' | 'consent_at' | 'opted_out_at'>;

/** Only what changed, so the audit entry says what was done rather than repeating the whole profile. */
function changedFields<T extends object>(before: T, after: Partial<T>): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(after) as (keyof T)[]) if (after[key] !== undefined && after[key] !== before[key]) out[key] = after[key];
  return out;
}

function pick<T extends object, K extends keyof T>(row: T, keys: K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) out[k] = row[k];
  return out;
}

/** Checks `raw` with `schema`, then runs `change` in one transaction on the customer, who must be live. */
async function changeLiveCustomer<S extends z.ZodType, T>(
  store: Store,
  ctx: ActionContext,
  customerId: string,
  schema: S,
  raw: unknown,
  change: (tx: Transaction<Database>, customer: Customer, input: z.output<S>, now: string) => Promise<CustomerResult<T>>,
): Promise<CustomerResult<T>> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return invalid(fieldErrors(parsed.error, ctx.now));
  const now = ctx.now.toISOString();
  return store.transaction(async (tx) => {
    const found = await liveCustomer(tx, customerId);
    if (!found.ok) return found;
    return change(tx, found.value, parsed.data as z.output<S>, now);
  });
}

/**
 * Changes a profile's details: name, phone (stored normalised), language, category, consent, opt-out and
 * notes; fields left out stay as they are. Consent and opt-out keep the time they were first given, so
 * saving the form again does not move them. One transaction with its audit entry.
 */
export async function updateCustomerProfile(store: Store, ctx: ActionContext, id: string, raw: unknown): Promise<CustomerResult<Customer>> {
  return changeLiveCustomer(store, ctx, id, customerUpdateSchema, raw, async (tx, before, input, now) => {
    const wanted: Partial<ProfileFields> = {
      display_name: input.displayName,
      phone: input.phone,
      locale: input.locale,
      category: input.category,
      notes: input.notes,
      consent_at: input.consent === undefined ? undefined : input.consent ? (before.consent_at ?? now) : null,
      opted_out_at: input.optedOut === undefined ? undefined : input.optedOut ? (before.opted_out_at ?? now) : null,
    };
    const changes = changedFields<ProfileFields>(before, wanted);
    if (Object.keys(changes).length === 0) return ok(before);
    await tx.updateTable('customers').set({ ...changes, updated_at: now }).where('id', '=', id).execute();
    await recordAudit(tx, {
      actor: ctx.actor,
      action: 'customer.update',
      entity: 'customer',
      entityId: id,
      before: pick(before, Object.keys(changes) as (keyof ProfileFields)[]),
      after: changes,
      ip: ctx.ip,
      now,
    });
    return ok({ ...before, ...changes, updated_at: now });
  });
}

const VEHICLE_AUDIT_FIELDS = ['plate', 'make', 'model', 'year', 'vin', 'mileage_km'] as const;

/** Adds a vehicle to a profile (plate required); one transaction with its audit entry. */
export async function addVehicle(store: Store, ctx: ActionContext, customerId: string, raw: unknown): Promise<CustomerResult<Vehicle>> {
  return changeLiveCustomer(store, ctx, customerId, vehicleSchema(ctx.now), raw, async (tx, _customer, input, now) => {
    const vehicle: Vehicle = {
      id: newId(),
      customer_id: customerId,
      plate: input.plate,
      plate_normalized: normalizePlate(input.plate),
      make: input.make ?? null,
      model: input.model ?? null,
      year: input.year ?? null,
      vin: input.vin ?? null,
      mileage_km: input.mileageKm ?? null,
      created_at: now,
      updated_at: now,
    };
    await tx.insertInto('vehicles').values(vehicle).execute();
    await recordAudit(tx, { actor: ctx.actor, action: 'vehicle.create', entity: 'vehicle', entityId: vehicle.id, after: { customerId, ...pick(vehicle, [...VEHICLE_AUDIT_FIELDS]) }, ip: ctx.ip, now });
    return ok(vehicle);
  });
}

/** Changes a vehicle of this profile; fields left out stay as they are. */
export async function updateVehicle(store: Store, ctx: ActionContext, customerId: string, vehicleId: string, raw: unknown): Promise<CustomerResult<Vehicle>> {
  return changeLiveCustomer(store, ctx, customerId, vehicleSchema(ctx.now).partial(), raw, async (tx, _customer, input, now) => {
    const before = await tx.selectFrom('vehicles').selectAll().where('id', '=', vehicleId).where('customer_id', '=', customerId).executeTakeFirst();
    if (!before) return { ok: false, reason: 'not_found' };
    const wanted: Partial<Vehicle> = {
      plate: input.plate,
      plate_normalized: input.plate === undefined ? undefined : normalizePlate(input.plate),
      make: input.make,
      model: input.model,
      year: input.year,
      vin: input.vin,
      mileage_km: input.mileageKm,
    };
    const changes = changedFields<Vehicle>(before, wanted);
    if (Object.keys(changes).length === 0) return ok(before);
    await tx.updateTable('vehicles').set({ ...changes, updated_at: now }).where('id', '=', vehicleId).execute();
    const audited = (Object.keys(changes) as (keyof Vehicle)[]).filter((k) => k !== 'plate_normalized');
    await recordAudit(tx, { actor: ctx.actor, action: 'vehicle.update', entity: 'vehicle', entityId: vehicleId, before: { customerId, ...pick(before, audited) }, after: { customerId, ...pick({ ...before, ...changes }, audited) }, ip: ctx.ip, now });
    return ok({ ...before, ...changes, updated_at: now });
  });
}
