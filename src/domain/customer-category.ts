import type { CustomerCategory } from '../store/schema';

/** What the category suggestion is decided on; read from the customer's records, never typed in. */
export interface CategoryFacts {
  /** Vehicles on the profile that still carry a plate (an erased vehicle keeps its make but not its plate). */
  registeredVehicles: number;
}

/**
 * The category the profile's records point to, in the trade's words: a **base customer** owns a car of the
 * brand (at least one registered vehicle on the profile), a **prospect** does not yet. A **key influencer**
 * is left as staff chose it here: the visit and survey history decides it in `deriveCategory`.
 *
 * Pure: staff see the suggestion next to the stored category and decide; nothing is changed behind them.
 */
export function suggestCategory(current: CustomerCategory, facts: CategoryFacts): CustomerCategory {
  if (current === 'key_influencer' || current === 'at_risk') return current;
  return facts.registeredVehicles > 0 ? 'base' : 'prospect';
}

/** What the visit and survey history says about a customer (see deriveCategory). */
export interface HistoryFacts {
  /** Repair orders collected. */
  completedVisits: number;
  /** Surveys with "very likely" to recommend. */
  recommendVeryLikely: number;
  /** Referrals staff recorded for the customer. */
  referrals: number;
  /** The latest answered survey's answers (null when none). */
  latest: { satisfaction: number | null; repurchase: number | null; recommend: number | null } | null;
}

/** Surveys recommending "very likely" before someone counts as a key influencer (with a referral recorded). */
export const KEY_INFLUENCER_RECOMMENDS = 2;

/**
 * The category the history points to, recomputed whenever a visit is collected or a survey answered:
 *
 * 1. **prospect** — no completed visit yet;
 * 2. **at-risk** — the latest answered survey says dissatisfied or worse, below 30 % to come back, or
 *    unlikely to recommend;
 * 3. **key influencer** — recommended us "very likely" in at least two surveys and referred someone
 *    (recorded by staff);
 * 4. **base customer** — everyone else who has come back to us.
 *
 * Staff may set another category by hand; see src/survey/categories.ts for how that choice is kept.
 */
export function deriveCategory(facts: HistoryFacts): CustomerCategory {
  if (facts.completedVisits === 0) return 'prospect';
  const l = facts.latest;
  if (l && ((l.satisfaction !== null && l.satisfaction <= 2) || l.repurchase === 1 || l.recommend === 1)) return 'at_risk';
  if (facts.recommendVeryLikely >= KEY_INFLUENCER_RECOMMENDS && facts.referrals >= 1) return 'key_influencer';
  return 'base';
}

export const CUSTOMER_CATEGORIES: readonly CustomerCategory[] = ['prospect', 'base', 'key_influencer', 'at_risk'];

export function isCustomerCategory(value: unknown): value is CustomerCategory {
  return typeof value === 'string' && (CUSTOMER_CATEGORIES as readonly string[]).includes(value);
}
