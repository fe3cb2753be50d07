import type { Kysely } from 'kysely';
import { deriveCategory, type HistoryFacts } from '../domain/customer-category';
import type { CustomerCategory, Database } from '../store/schema';

/*
 * Keeps each customer's category in step with their history (src/domain/customer-category.ts), recomputed
 * when a visit is collected and when a survey is answered. A category staff chose by hand wins: the last
 * category the records wrote is kept beside the profile, and a profile category that differs from both it
 * and what the records now say is a staff choice, left alone (staff end it by choosing the derived one).
 * Before any derivation, only "key influencer" can have come from staff, so only that is kept.
 */

/** The answers of a survey being written in the caller's transaction (D1 cannot read them back there). */
export interface FreshAnswers {
  surveyId: string;
  collectedAt: string;
  satisfaction: number | null;
  repurchase: number | null;
  recommend: number | null;
}

export async function historyFacts(db: Kysely<Database>, customerId: string, fresh: FreshAnswers | null, extraVisit = false): Promise<HistoryFacts> {
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
    completedVisits: Number(visits?.n ?? 0) + (extraVisit ? 1 : 0),
    recommendVeryLikely: answered.filter((s) => s.recommend === 3).length,
    referrals: Number(referrals?.n ?? 0),
    latest: latest ? { satisfaction: latest.satisfaction, repurchase: latest.repurchase, recommend: latest.recommend } : null,
  };
}

/** The category decision for a profile, without writing it. */
export function categoryDecision(current: CustomerCategory, previous: { derived: CustomerCategory; written: CustomerCategory } | null, derived: CustomerCategory): { staffChoice: boolean; write: boolean } {
  const staffChoice = previous ? current !== previous.written && current !== derived : current === 'key_influencer' && derived !== 'key_influencer';
  return { staffChoice, write: !staffChoice && current !== derived };
}

/**
 * Recomputes a customer's category in the caller's transaction and writes it unless staff chose another.
 * `extraVisit`: the caller's transaction has just collected a visit the query cannot see yet (D1).
 * Returns the category the records point to.
 */
export async function recomputeCategory(db: Kysely<Database>, customerId: string, now: string, opts: { fresh?: FreshAnswers | null; extraVisit?: boolean } = {}): Promise<CustomerCategory | null> {
  const [customer, previous] = await Promise.all([
    db.selectFrom('customers').select(['category', 'erased_at', 'merged_into_id']).where('id', '=', customerId).executeTakeFirst(),
    db.selectFrom('customer_category_derivations').select(['derived', 'written']).where('customer_id', '=', customerId).executeTakeFirst(),
  ]);
  if (!customer || customer.erased_at !== null || customer.merged_into_id !== null) return null;
  const facts = await historyFacts(db, customerId, opts.fresh ?? null, opts.extraVisit ?? false);
  const derived = deriveCategory(facts);
  const decision = categoryDecision(customer.category, previous ?? null, derived);
  if (decision.write) await db.updateTable('customers').set({ category: derived, updated_at: now }).where('id', '=', customerId).execute();
  const written = decision.staffChoice ? (previous?.written ?? derived) : derived;
  const values = { derived, written, facts: JSON.stringify(facts), derived_at: now };
  await db
    .insertInto('customer_category_derivations')
    .values({ customer_id: customerId, ...values })
    .onConflict((oc) => oc.column('customer_id').doUpdateSet(values))
    .execute();
  return derived;
}
