import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import { branchProfiles, type BranchProfile } from './branch-profile';
import { loadBranchCapacity, type BranchCapacity } from './capacity';
import { anyCapacityGeneration, capacityGeneration } from './capacity-generation';

/*
 * What the booking flow shows a customer of a branch (its service types, bays, hours, the branches to
 * choose from) barely changes and is read on nearly every step. This process keeps it for a short while
 * per database: staff edits made through this process (capacity, service types, bays, booking settings)
 * are seen at once, edits made elsewhere (another instance, a branch's name or hours) within
 * CACHE_TTL_MS. A booking itself is checked against fresh reads in its transaction (src/booking/booking.ts),
 * so a stale view can offer a time that is no longer free but can never book it.
 */
export const CACHE_TTL_MS = 2_000;
const MAX_ENTRIES = 1_000;

interface Entry<T> {
  at: number;
  generation: number;
  value: T;
}

/** One cache per database: the Kysely adapter is made once per database and shared by its transactions. */
const byDatabase = new WeakMap<object, { capacity: Map<string, Entry<BranchCapacity | null>>; profiles: Entry<BranchProfile[]> | null }>();

function cacheOf(db: Kysely<Database>) {
  const key = db.getExecutor().adapter as object;
  let cache = byDatabase.get(key);
  if (!cache) {
    cache = { capacity: new Map(), profiles: null };
    byDatabase.set(key, cache);
  }
  return cache;
}

const fresh = <T>(entry: Entry<T> | null | undefined, generation: number, now: number): entry is Entry<T> => !!entry && entry.generation === generation && now - entry.at < CACHE_TTL_MS && now >= entry.at;

/** loadBranchCapacity, kept for CACHE_TTL_MS. */
export async function cachedBranchCapacity(db: Kysely<Database>, branchId: string): Promise<BranchCapacity | null> {
  const cache = cacheOf(db);
  const now = Date.now();
  const generation = capacityGeneration(branchId);
  const entry = cache.capacity.get(branchId);
  if (fresh(entry, generation, now)) return entry.value;
  const value = await loadBranchCapacity(db, branchId);
  if (cache.capacity.size >= MAX_ENTRIES) cache.capacity.clear();
  cache.capacity.set(branchId, { at: now, generation, value });
  return value;
}

/** branchProfiles, kept for CACHE_TTL_MS. */
export async function cachedBranchProfiles(db: Kysely<Database>): Promise<BranchProfile[]> {
  const cache = cacheOf(db);
  const now = Date.now();
  if (fresh(cache.profiles, anyCapacityGeneration(), now)) return cache.profiles.value;
  const value = await branchProfiles(db);
  cache.profiles = { at: now, generation: anyCapacityGeneration(), value };
  return value;
}
