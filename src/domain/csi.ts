/*
 * CSI and loyalty, as pure rules over one survey's answers (see "Satisfaction survey" in the README).
 *
 * Satisfaction is coded 5 (very satisfied) … 1 (very dissatisfied); repurchase 3 (above 70 %), 2 (30–70 %),
 * 1 (below 30 %); recommend 3 (very likely), 2 (possible), 1 (unlikely); an aspect rating 5 … 1 like
 * satisfaction. Each measure maps evenly onto 0–100.
 *
 * - CSI (0–100): the overall satisfaction's points; when aspects were rated, 60 % overall and 40 % the mean
 *   of the aspects' points. No overall answer, no CSI (aspects alone do not make one).
 * - Loyalty index (0–100): the mean of the points of the three loyalty measures answered (overall
 *   satisfaction, repurchase, recommend); none answered, none.
 */

export const SATISFACTION_LEVELS = [5, 4, 3, 2, 1] as const;
export const REPURCHASE_LEVELS = [3, 2, 1] as const;
export const RECOMMEND_LEVELS = [3, 2, 1] as const;

export const SATISFACTION_NAMES: Record<number, string> = { 5: 'very_satisfied', 4: 'fairly_satisfied', 3: 'satisfied', 2: 'dissatisfied', 1: 'very_dissatisfied' };
export const REPURCHASE_NAMES: Record<number, string> = { 3: 'above_70', 2: 'between_30_70', 1: 'below_30' };
export const RECOMMEND_NAMES: Record<number, string> = { 3: 'very_likely', 2: 'possible', 1: 'unlikely' };

/** The aspects a dealer may ask to be rated, in the order they are asked. */
export const ASPECT_CODES = ['advisor', 'work', 'waiting', 'price', 'cleanliness'] as const;
export type AspectCode = (typeof ASPECT_CODES)[number];

export function isAspectCode(value: unknown): value is AspectCode {
  return typeof value === 'string' && (ASPECT_CODES as readonly string[]).includes(value);
}

export interface SurveyAnswers {
  satisfaction: number | null;
  repurchase: number | null;
  recommend: number | null;
  aspects: Partial<Record<AspectCode, number>>;
}

const fivePoints = (level: number) => ((level - 1) / 4) * 100;
const threePoints = (level: number) => ((level - 1) / 2) * 100;

/** CSI 0–100 of one survey, or null without an overall answer. */
export function csiOf(a: SurveyAnswers): number | null {
  if (a.satisfaction === null) return null;
  const overall = fivePoints(a.satisfaction);
  const rated = Object.values(a.aspects).filter((v): v is number => typeof v === 'number');
  if (rated.length === 0) return overall;
  const aspects = rated.reduce((s, v) => s + fivePoints(v), 0) / rated.length;
  return 0.6 * overall + 0.4 * aspects;
}

/** Loyalty index 0–100 of one survey, or null when none of the three measures was answered. */
export function loyaltyOf(a: SurveyAnswers): number | null {
  const points = [a.satisfaction === null ? null : fivePoints(a.satisfaction), a.repurchase === null ? null : threePoints(a.repurchase), a.recommend === null ? null : threePoints(a.recommend)].filter(
    (p): p is number => p !== null,
  );
  return points.length === 0 ? null : points.reduce((s, p) => s + p, 0) / points.length;
}

/** True when at least one question was answered (a "response"). */
export function hasAnswer(a: SurveyAnswers, comment: string | null): boolean {
  return a.satisfaction !== null || a.repurchase !== null || a.recommend !== null || Object.keys(a.aspects).length > 0 || (comment !== null && comment !== '');
}

/** Unhappy enough that a person follows it up: dissatisfied or very dissatisfied. */
export const isUnhappy = (satisfaction: number | null) => satisfaction !== null && satisfaction <= 2;

/** Happy enough to be asked for a public review: very satisfied and very likely to recommend. */
export const isDelighted = (a: Pick<SurveyAnswers, 'satisfaction' | 'recommend'>) => a.satisfaction === 5 && a.recommend === 3;
