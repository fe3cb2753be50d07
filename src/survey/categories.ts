import type { Kysely } from 'kysely';
import { deriveCategory, type HistoryFacts } from '../domain/customer-category';
import type { CustomerCategory, Database } from '../store/schema';

/*
 * Keeps each customer's category in step with their history (src/domain/customer-category.ts), recomputed
 * when a visit is collected, a survey answered or a referral recorded. A category staff chose by hand wins:
 * the profile's category as each recompute left it is kept beside it, so a different one found later was
 * set by staff. If that is not what the records say, it is a staff choice and stays, whatever the records
 * say after, until staff set the category again (to the derived one, which hands it back to the records).
 * Before any derivation, only "key influencer" can have come from staff, so only that counts as theirs.
 */

/** The answers of a survey being written in the caller's transaction (D1 cannot read them back there). */
export interface FreshAnswers {
  surveyId: string;
  collectedAt: string;
  satisfaction: number | null;
  repurchase: number | null;
  recommend: number | null;
}

export async function historyFacts(db: Kysely<Database>, customerId: string, fresh: FreshAnswers | null, extra: { visit?: boolean; referral?: boolean } = {}): Promise<HistoryFacts> {
  const [visits, surveys, referrals] = await Promise.all([
    db.selectFrom('repair_orders').select((eb) => eb.fn.countAll<number>().as('n')).where('customer_id', '=', customerId).where('status', '=', 'collected').executeTakeFirst(),
    db
      .selectFrom('surveys')
      .select(['id', 'collected_at', 'satisfaction', 'repurchase', 'recommend'])
      .where('customer_id', '=', customerId)
      .where((eb) => eb.or([eb('satisfaction', 'is not', null), eb('repurchase', 'is not', null), eb('recommend', 'is not', null)]))
      .execute(),
    db.selectFrom('customer_referrals').select((eb) => eb.fn.countAll<number>().as('n')).where('customer_id', '=', customerId).executeTakeFirst(),
  ]);
  const answered = surveys.filter((s) => s.id !== fresh?.surveyId).map((s) => ({ id: s.id, collectedAt: s.collected_at, satisfaction: s.satisfaction, repurchase: s.repurchase, recommend: s.recommend }));
  if (fresh && (fresh.satisfaction !== null || fresh.repurchase !== null || fresh.recommend !== null)) answered.push({ id: fresh.surveyId, ...fresh });
  answered.sort((a, b) => (a.collectedAt < b.collectedAt ? -1 : a.collectedAt > b.collectedAt ? 1 : a.id < b.id ? -1 : 1));
  const latest = answered.at(-1) ?? null;
  return {
    completedVisits: Number(visits?.n ?? 0) + (extra.visit ? 1 : 0),
    recommendVeryLikely: answered.filter((s) => s.recommend === 3).length,
    referrals: Number(referrals?.n ?? 0) + (extra.referral ? 1 : 0),
    latest: latest ? { satisfaction: latest.satisfaction, repurchase: latest.repurchase, recommend: latest.recommend } : null,
  };
}

/** The category decision for a profile, without writing it. */
export function categoryDecision(current: CustomerCategory, previous: { seen: CustomerCategory; staffChoice: boolean } | null, derived: CustomerCategory): { staffChoice: boolean; write: boolean } {
  const setByStaff = previous ? current !== previous.seen : current === 'key_influencer';
  const staffChoice = setByStaff ? current !== derived : (previous?.staffChoice ?? false);
  return { staffChoice, write: !staffChoice && current !== derived };
}

/**
 * Recomputes a customer's category in the caller's transaction and writes it unless staff chose another.
 * `extraVisit` / `extraReferral`: the caller's transaction has just written a visit or a referral the query cannot see yet (D1).
 * Returns the category the records point to.
 */
export async function recomputeCategory(db: Kysely<Database>, customerId: string, now: string, opts: { fresh?: FreshAnswers | null; extraVisit?: boolean; extraReferral?: boolean } = {}): Promise<CustomerCategory | null> {
  const [customer, previous] = await Promise.all([
    db.selectFrom('customers').select(['category', 'erased_at', 'merged_into_id']).where('id', '=', customerId).executeTakeFirst(),
    db.selectFrom('customer_category_derivations').select(['seen', 'staff_choice']).where('customer_id', '=', customerId).executeTakeFirst(),
  ]);
  if (!customer || customer.erased_at !== null || customer.merged_into_id !== null) return null;
  const facts = await historyFacts(db, customerId, opts.fresh ?? null, { visit: opts.extraVisit ?? false, referral: opts.extraReferral ?? false });
  const derived = deriveCategory(facts);
  const decision = categoryDecision(customer.category, previous ? { seen: previous.seen, staffChoice: previous.staff_choice === 1 } : null, derived);
  if (decision.write) await db.updateTable('customers').set({ category: derived, updated_at: now }).where('id', '=', customerId).execute();
  const values = { derived, seen: decision.write ? derived : customer.category, staff_choice: decision.staffChoice ? 1 : 0, facts: JSON.stringify(facts), derived_at: now };
  await db
    .insertInto('customer_category_derivations')
    .values({ customer_id: customerId, ...values })
    .onConflict((oc) => oc.column('customer_id').doUpdateSet(values))
    .execute();
  return derived;
}
