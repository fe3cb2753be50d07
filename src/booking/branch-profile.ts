import type { Kysely } from 'kysely';
import { parseHolidays, parseOpeningHours, type OpeningHours } from '../domain/booking-rules';
import { inLocale, parseLocalized } from '../domain/localized';
import type { Database } from '../store/schema';

/*
 * A branch as customers see it: its name and address in their language (from `branch_translations`,
 * migration 0008), its phone and map link, its hours and holidays.
 */

/** What a customer is told about a branch: its names and address per language, how to reach it, its hours. */
export interface BranchProfile {
  id: string;
  /** The name as staff entered it, and per locale where translated. */
  name: string;
  names: Record<string, string>;
  address: string | null;
  addresses: Record<string, string>;
  phone: string | null;
  mapUrl: string | null;
  timeZone: string;
  openingHours: OpeningHours;
  holidays: string[];
}

function branchProfileQuery(db: Kysely<Database>) {
  return db
    .selectFrom('branches as b')
    .leftJoin('branch_translations as t', 't.branch_id', 'b.id')
    .select(['b.id', 'b.name', 'b.address', 'b.phone', 'b.map_url', 'b.time_zone', 'b.opening_hours', 'b.holidays', 'b.updated_at', 't.names', 't.addresses', 't.updated_at as translated_at']);
}

function toProfile(r: Awaited<ReturnType<ReturnType<typeof branchProfileQuery>['executeTakeFirstOrThrow']>>): BranchProfile {
  // Translations older than the branch's last edit may name it as it was: the branch's own words are safer.
  const fresh = r.translated_at !== null && r.translated_at >= r.updated_at;
  return {
    id: r.id,
    name: r.name,
    names: fresh ? parseLocalized(r.names) : {},
    address: r.address,
    addresses: fresh ? parseLocalized(r.addresses) : {},
    phone: r.phone,
    mapUrl: r.map_url,
    timeZone: r.time_zone,
    openingHours: parseOpeningHours(r.opening_hours),
    holidays: parseHolidays(r.holidays),
  };
}

/** Every branch, by name: where a customer can book, and what they can ask about. */
export async function branchProfiles(db: Kysely<Database>): Promise<BranchProfile[]> {
  return (await branchProfileQuery(db).orderBy('b.name').execute()).map(toProfile);
}

/** One branch, or null. */
export async function branchProfile(db: Kysely<Database>, branchId: string): Promise<BranchProfile | null> {
  const row = await branchProfileQuery(db).where('b.id', '=', branchId).executeTakeFirst();
  return row ? toProfile(row) : null;
}

/** The branch's name in `locale`. */
export const branchNameIn = (b: Pick<BranchProfile, 'name' | 'names'>, locale: string): string => inLocale(b.names, locale, b.name);

/** The branch's address in `locale`, or null when it has none. */
export const branchAddressIn = (b: Pick<BranchProfile, 'address' | 'addresses'>, locale: string): string | null => inLocale(b.addresses, locale, b.address);

/** A link that shows the branch on a map: its own, else a map search for its address. */
export function mapLinkOf(b: Pick<BranchProfile, 'mapUrl' | 'address' | 'addresses'>, locale: string): string | null {
  if (b.mapUrl) return b.mapUrl;
  const address = branchAddressIn(b, locale);
  return address ? `https://www.google.com/maps/search/?api=1&query=${encodeURIComponent(address)}` : null;
}
