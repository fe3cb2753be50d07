import { csiOf, hasAnswer, loyaltyOf, RECOMMEND_NAMES, REPURCHASE_NAMES, SATISFACTION_NAMES, type SurveyAnswers } from '../../domain/csi';
import { addDays, weekdayOf } from '../../domain/local-time';

/*
 * The report's figures, as pure sums over survey rows: what a manager reads and what the API returns.
 *
 * - surveysSent: surveys sent in the period (the response rate's denominator; skipped ones never reached anyone);
 * - responses: sent surveys with at least one answer; responseRate = responses / surveysSent;
 * - csi: the mean CSI of the responses that rated the visit overall; loyaltyIndex likewise;
 * - satisfaction / repurchase / recommend: how many chose each answer; verySatisfiedPercent: "very satisfied"
 *   out of those who answered the overall question (the figure makers pay on).
 */

export interface FigureRow {
  sent: boolean;
  answers: SurveyAnswers;
  comment: string | null;
  completed: boolean;
}

export interface Figures {
  surveysSent: number;
  responses: number;
  completed: number;
  /** 0–1; null when nothing was sent. */
  responseRate: number | null;
  /** 0–100; null without an overall answer. */
  csi: number | null;
  loyaltyIndex: number | null;
  /** 0–100. */
  verySatisfiedPercent: number | null;
  satisfaction: Record<string, number>;
  repurchase: Record<string, number>;
  recommend: Record<string, number>;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const counts = (names: Record<number, string>) => Object.fromEntries(Object.keys(names).sort((a, b) => Number(b) - Number(a)).map((k) => [names[Number(k)]!, 0])) as Record<string, number>;

export function figuresOf(rows: readonly FigureRow[]): Figures {
  const f: Figures = { surveysSent: 0, responses: 0, completed: 0, responseRate: null, csi: null, loyaltyIndex: null, verySatisfiedPercent: null, satisfaction: counts(SATISFACTION_NAMES), repurchase: counts(REPURCHASE_NAMES), recommend: counts(RECOMMEND_NAMES) };
  let csiSum = 0;
  let csiN = 0;
  let loyaltySum = 0;
  let loyaltyN = 0;
  let satN = 0;
  for (const r of rows) {
    if (!r.sent) continue;
    f.surveysSent += 1;
    if (!hasAnswer(r.answers, r.comment)) continue;
    f.responses += 1;
    if (r.completed) f.completed += 1;
    const csi = csiOf(r.answers);
    if (csi !== null) {
      csiSum += csi;
      csiN += 1;
    }
    const loyalty = loyaltyOf(r.answers);
    if (loyalty !== null) {
      loyaltySum += loyalty;
      loyaltyN += 1;
    }
    if (r.answers.satisfaction !== null) {
      satN += 1;
      f.satisfaction[SATISFACTION_NAMES[r.answers.satisfaction]!]! += 1;
    }
    if (r.answers.repurchase !== null) f.repurchase[REPURCHASE_NAMES[r.answers.repurchase]!]! += 1;
    if (r.answers.recommend !== null) f.recommend[RECOMMEND_NAMES[r.answers.recommend]!]! += 1;
  }
  f.responseRate = f.surveysSent > 0 ? round(f.responses / f.surveysSent, 4) : null;
  f.csi = csiN > 0 ? round(csiSum / csiN) : null;
  f.loyaltyIndex = loyaltyN > 0 ? round(loyaltySum / loyaltyN) : null;
  f.verySatisfiedPercent = satN > 0 ? round((f.satisfaction.very_satisfied! / satN) * 100) : null;
  return f;
}

export type Granularity = 'week' | 'month';

/** The trend bucket of a local date: its month ('2026-11') or the Monday its week starts on ('2026-11-30'). */
export function bucketOf(localDate: string, granularity: Granularity): string {
  if (granularity === 'month') return localDate.slice(0, 7);
  const offset = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].indexOf(weekdayOf(localDate));
  return addDays(localDate, -offset);
}

/** Every bucket from `from` to `to` (local dates), in order, so empty weeks or months show as gaps. */
export function bucketsBetween(from: string, to: string, granularity: Granularity): string[] {
  const out: string[] = [];
  let date = from;
  for (let i = 0; i < 800 && date <= to; i++) {
    const b = bucketOf(date, granularity);
    if (out.at(-1) !== b) out.push(b);
    date = granularity === 'week' ? addDays(bucketOf(date, 'week'), 7) : `${nextMonth(date.slice(0, 7))}-01`;
  }
  return out;
}

function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

/** The first and last local dates of the month `date` falls in. */
export function monthOf(date: string): { from: string; to: string } {
  const from = `${date.slice(0, 7)}-01`;
  return { from, to: addDays(`${nextMonth(date.slice(0, 7))}-01`, -1) };
}
