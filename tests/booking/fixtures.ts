import { saveBay, saveBookingSettings, saveServiceType } from '../../src/booking/capacity';
import { STANDARD_SERVICE_TYPES } from '../../src/booking/standard-service-types';
import { DEFAULT_BOOKING_SETTINGS, type BookingSettings, type OpeningHours } from '../../src/domain/booking-rules';
import { zonedInstant } from '../../src/domain/local-time';
import { newId } from '../../src/ids';
import { DEMO_OPENING_HOURS } from '../../src/store/seed';
import { resolveCustomer } from '../../src/store/customers';
import type { Store } from '../../src/store/store';

/** Mon–Sat 09:00–18:00. */
export const MON_SAT: OpeningHours = DEMO_OPENING_HOURS;

export const GENERAL_WORK = ['periodic_maintenance', 'repair_diagnosis', 'inspection', 'statutory_inspection', 'tyres_battery', 'recall'];

export interface BranchSpec {
  timeZone?: string;
  hours?: OpeningHours;
  holidays?: string[];
  settings?: Partial<BookingSettings>;
  bays?: { name: string; serviceTypes: string[]; active?: boolean }[];
}

/** A branch with the standard service types and the given bays and settings; returns its id and bay ids. */
export async function createBranch(store: Store, spec: BranchSpec, now: Date): Promise<{ branchId: string; bayIds: string[] }> {
  const branchId = newId();
  const nowIso = now.toISOString();
  const bays = spec.bays ?? [
    { name: 'Bay 1', serviceTypes: GENERAL_WORK },
    { name: 'Body shop', serviceTypes: ['bodywork_claim'] },
  ];
  const bayIds: string[] = [];
  await store.transaction(async (tx) => {
    await tx
      .insertInto('branches')
      .values({
        id: branchId,
        name: 'Test branch',
        address: null,
        phone: null,
        map_url: null,
        time_zone: spec.timeZone ?? 'Asia/Taipei',
        opening_hours: JSON.stringify(spec.hours ?? MON_SAT),
        holidays: JSON.stringify(spec.holidays ?? []),
        is_demo: 0,
        created_at: nowIso,
        updated_at: nowIso,
      })
      .execute();
    await saveBookingSettings(tx, branchId, { ...DEFAULT_BOOKING_SETTINGS, ...spec.settings }, nowIso);
    for (const [i, t] of STANDARD_SERVICE_TYPES.entries()) {
      await saveServiceType(tx, branchId, { code: t.code, durationMinutes: t.durationMinutes, names: t.names, active: true, sortOrder: i }, nowIso);
    }
    for (const [i, b] of bays.entries()) {
      bayIds.push(await saveBay(tx, branchId, { name: b.name, serviceTypes: b.serviceTypes, active: b.active ?? true, sortOrder: i }, nowIso));
    }
  });
  return { branchId, bayIds };
}

/** A chat customer with one registered vehicle. */
export async function createCustomer(store: Store, now: Date, name = 'Customer'): Promise<{ customerId: string; vehicleId: string }> {
  return store.transaction(async (tx) => {
    const { customer } = await resolveCustomer(tx, { channel: 'web', externalId: newId(), displayName: name, locale: 'en', now: now.toISOString() });
    const vehicleId = newId();
    await tx
      .insertInto('vehicles')
      .values({
        id: vehicleId,
        customer_id: customer.id,
        plate: 'ABC-1234',
        plate_normalized: 'ABC1234',
        make: null,
        model: null,
        year: null,
        vin: null,
        mileage_km: null,
        created_at: now.toISOString(),
        updated_at: now.toISOString(),
      })
      .execute();
    return { customerId: customer.id, vehicleId };
  });
}

/** UTC ISO of a local date and wall time in `timeZone`. */
export function localIso(date: string, time: string, timeZone = 'Asia/Taipei'): string {
  const [h, m] = time.split(':').map(Number);
  return new Date(zonedInstant(date, h! * 60 + m!, timeZone)).toISOString();
}
