import type { Transaction } from 'kysely';
import { saveBay, saveBookingSettings, saveServiceType } from '../booking/capacity';
import { DEMO_BAYS, STANDARD_SERVICE_TYPES } from '../booking/standard-service-types';
import type { Config } from '../config';
import { DEFAULT_BOOKING_SETTINGS, type OpeningHours } from '../domain/booking-rules';
import { newId } from '../ids';
import type { Database } from './schema';
import type { Store } from './store';

/** Mon–Sat 09:00–18:00, the demo branch's hours. */
export const DEMO_OPENING_HOURS: OpeningHours = {
  mon: [['09:00', '18:00']],
  tue: [['09:00', '18:00']],
  wed: [['09:00', '18:00']],
  thu: [['09:00', '18:00']],
  fri: [['09:00', '18:00']],
  sat: [['09:00', '18:00']],
  sun: [],
};

/**
 * A fresh database gets one branch marked as a demo, so every customer flow works in /chat right after
 * the first start; staff edit or replace it in the console. A database that has any branch is left alone.
 */
export async function seedFreshDatabase(store: Store, config: Config, now: Date): Promise<boolean> {
  return store.transaction(async (tx) => {
    const existing = await tx.selectFrom('branches').select('id').limit(1).executeTakeFirst();
    if (existing) return false;
    const nowIso = now.toISOString();
    const branchId = newId();
    await tx
      .insertInto('branches')
      .values({
        id: branchId,
        name: `${config.dealer.name} (demo branch)`,
        address: null,
        phone: null,
        map_url: null,
        time_zone: config.dealer.timeZone,
        opening_hours: JSON.stringify(DEMO_OPENING_HOURS),
        holidays: JSON.stringify([]),
        is_demo: 1,
        created_at: nowIso,
        updated_at: nowIso,
      })
      .execute();
    await seedDemoCapacity(tx, branchId, nowIso);
    return true;
  });
}

/** The demo branch's booking capacity: default settings, the standard service types and a few bays. */
async function seedDemoCapacity(tx: Transaction<Database>, branchId: string, nowIso: string): Promise<void> {
  await saveBookingSettings(tx, branchId, DEFAULT_BOOKING_SETTINGS, nowIso);
  for (const [i, t] of STANDARD_SERVICE_TYPES.entries()) {
    await saveServiceType(tx, branchId, { code: t.code, durationMinutes: t.durationMinutes, names: t.names, active: true, sortOrder: (i + 1) * 10 }, nowIso);
  }
  for (const [i, b] of DEMO_BAYS.entries()) {
    await saveBay(tx, branchId, { name: b.name, serviceTypes: [...b.serviceTypes], active: true, sortOrder: (i + 1) * 10 }, nowIso);
  }
}

/**
 * A secret kept in the database, made on first use: the web chat's cookie key when WEB_CHAT_SECRET is not
 * set, so visitors keep their conversation across restarts and across instances sharing the database.
 */
export async function ensureSecret(store: Store, key: string): Promise<string> {
  const found = await store.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
  if (found) return found.value;
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const value = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  await store.db.insertInto('settings').values({ key, value }).onConflict((oc) => oc.column('key').doNothing()).execute();
  const stored = await store.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirstOrThrow();
  return stored.value;
}
