import type { Transaction } from 'kysely';
import { saveBay, saveBookingSettings, saveServiceType } from '../booking/capacity';
import { DEMO_BAYS, STANDARD_SERVICE_TYPES } from '../booking/standard-service-types';
import type { Config } from '../config';
import { LINK_SECRET_SETTING } from '../conversation/channel-link';
import type { Country } from '../domain/countries';
import { SUPPORTED_LOCALES, type Locale } from '../i18n/locales';
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
 * Where the demo branch is, per the dealership's home country, in every language: demo data staff replace
 * in the console, so that "where are you" and "what is your number" have an answer from the first start.
 */
const DEMO_PLACES: Record<Country, { addresses: Record<Locale, string>; phone: string }> = {
  TW: {
    addresses: {
      'zh-TW': '台北市內湖區瑞光路 100 號',
      'zh-CN': '台北市内湖区瑞光路 100 号',
      en: 'No. 100, Ruiguang Rd., Neihu Dist., Taipei City',
      ja: '台北市内湖区瑞光路100号',
      th: 'เลขที่ 100 ถนนรุ่ยกวง เขตเน่ยหู ไทเป',
    },
    phone: '+886 2 2345 6789',
  },
  JP: {
    addresses: {
      'zh-TW': '東京都品川區東品川 1-2-3',
      'zh-CN': '东京都品川区东品川 1-2-3',
      en: '1-2-3 Higashi-Shinagawa, Shinagawa-ku, Tokyo',
      ja: '東京都品川区東品川1-2-3',
      th: '1-2-3 ฮิงาชิชินางาวะ ชินางาวะ โตเกียว',
    },
    phone: '+81 3 1234 5678',
  },
  TH: {
    addresses: {
      'zh-TW': '曼谷素坤逸路 99 號',
      'zh-CN': '曼谷素坤逸路 99 号',
      en: '99 Sukhumvit Rd., Bangkok',
      ja: 'バンコク スクンビット通り99',
      th: '99 ถนนสุขุมวิท กรุงเทพมหานคร',
    },
    phone: '+66 2 123 4567',
  },
};

/** The demo branch's name per language, around the dealership's own name. */
const DEMO_NAMES: Record<Locale, (dealer: string) => string> = {
  'zh-TW': (d) => `${d}（示範據點）`,
  'zh-CN': (d) => `${d}（演示网点）`,
  en: (d) => `${d} (demo branch)`,
  ja: (d) => `${d}（デモ店舗）`,
  th: (d) => `${d} (สาขาตัวอย่าง)`,
};

/**
 * A fresh database gets one branch marked as a demo, so every customer flow works in /chat right after
 * the first start; staff edit or replace it in the console. A database that has any branch is left alone.
 * Every start also makes the secrets the chat needs if they are missing.
 */
export async function seedFreshDatabase(store: Store, config: Config, now: Date): Promise<boolean> {
  // Made at start, not on first use: a chat step cannot read back a secret it has just written (D1).
  await ensureSecret(store, LINK_SECRET_SETTING);
  return store.transaction(async (tx) => {
    // Instances sharing a fresh Postgres database may start together: one of them seeds it.
    await store.lock(tx, 'seed-fresh-database');
    const existing = await tx.selectFrom('branches').select('id').limit(1).executeTakeFirst();
    if (existing) return false;
    const nowIso = now.toISOString();
    const branchId = newId();
    const place = DEMO_PLACES[config.dealer.countries[0] ?? 'TW'];
    const home = config.dealer.defaultLocale;
    await tx
      .insertInto('branches')
      .values({
        id: branchId,
        name: DEMO_NAMES.en(config.dealer.name),
        address: place.addresses[home],
        phone: place.phone,
        map_url: `https://www.google.com/maps/search/?api=1&query=${encodeURIComponent(place.addresses[home])}`,
        time_zone: config.dealer.timeZone,
        opening_hours: JSON.stringify(DEMO_OPENING_HOURS),
        holidays: JSON.stringify([]),
        is_demo: 1,
        created_at: nowIso,
        updated_at: nowIso,
      })
      .execute();
    await tx
      .insertInto('branch_translations')
      .values({
        branch_id: branchId,
        names: JSON.stringify(Object.fromEntries(SUPPORTED_LOCALES.map((l) => [l, DEMO_NAMES[l](config.dealer.name)]))),
        addresses: JSON.stringify(place.addresses),
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
