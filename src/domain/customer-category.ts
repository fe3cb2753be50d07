import type { CustomerCategory } from '../store/schema';

/** What the category suggestion is decided on; read from the customer's records, never typed in. */
export interface CategoryFacts {
  /** Vehicles on the profile that still carry a plate (an erased vehicle keeps its make but not its plate). */
  registeredVehicles: number;
}

/**
 * The category the records point to, in the trade's words: a **base customer** owns a car of the brand
 * (at least one registered vehicle on the profile), a **prospect** does not yet. A **key influencer** is
 * never derived: being well connected and mobilising others is something staff know and no record shows,
 * so only a staff member's choice makes someone one, and the suggestion then leaves that choice alone
 * rather than "correcting" it back to base or prospect.
 *
 * Pure: staff see the suggestion next to the stored category and decide; nothing is changed behind them.
 */
export function suggestCategory(current: CustomerCategory, facts: CategoryFacts): CustomerCategory {
  if (current === 'key_influencer') return current;
  return facts.registeredVehicles > 0 ? 'base' : 'prospect';
}

export const CUSTOMER_CATEGORIES: readonly CustomerCategory[] = ['prospect', 'base', 'key_influencer'];

export function isCustomerCategory(value: unknown): value is CustomerCategory {
  return typeof value === 'string' && (CUSTOMER_CATEGORIES as readonly string[]).includes(value);
}
