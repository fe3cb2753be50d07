import type { Choice, Reply, TextRef } from '../channels/types';
import { surveyButtons } from '../conversation/button-ids';
import { ASPECT_CODES, isAspectCode, RECOMMEND_LEVELS, RECOMMEND_NAMES, REPURCHASE_LEVELS, REPURCHASE_NAMES, SATISFACTION_LEVELS, SATISFACTION_NAMES, type AspectCode } from '../domain/csi';
import type { SurveyRow } from '../store/schema';

/*
 * The survey's questions as messages: which one comes next for a survey as it stands, and the question with
 * one native button per answer. Overall satisfaction first (it is what the makers pay on, and what a
 * half-done survey should have), then the two loyalty questions, the aspects the dealer asks about, and an
 * optional comment.
 */

export type Question = 'sat' | 'rep' | 'rec' | AspectCode | 'comment';

/** The survey's answers as read from its row. */
export interface SurveyState {
  id: string;
  satisfaction: number | null;
  repurchase: number | null;
  recommend: number | null;
  aspectCodes: AspectCode[];
  aspects: Partial<Record<AspectCode, number>>;
  comment: string | null;
  commentSkipped: boolean;
}

export function surveyState(row: Pick<SurveyRow, 'id' | 'satisfaction' | 'repurchase' | 'recommend' | 'aspect_codes' | 'aspects' | 'comment' | 'comment_skipped'>): SurveyState {
  const aspects = JSON.parse(row.aspects) as Record<string, unknown>;
  return {
    id: row.id,
    satisfaction: row.satisfaction,
    repurchase: row.repurchase,
    recommend: row.recommend,
    aspectCodes: (JSON.parse(row.aspect_codes) as unknown[]).filter(isAspectCode),
    aspects: Object.fromEntries(Object.entries(aspects).filter(([k, v]) => isAspectCode(k) && typeof v === 'number')) as Partial<Record<AspectCode, number>>,
    comment: row.comment,
    commentSkipped: row.comment_skipped === 1,
  };
}

/** The values each question takes, in the order its buttons are shown. */
export function levelsOf(q: Exclude<Question, 'comment'>): readonly number[] {
  if (q === 'rep') return REPURCHASE_LEVELS;
  if (q === 'rec') return RECOMMEND_LEVELS;
  return SATISFACTION_LEVELS;
}

export function isQuestion(value: string): value is Question {
  return value === 'sat' || value === 'rep' || value === 'rec' || value === 'comment' || isAspectCode(value);
}

export function answered(s: SurveyState, q: Question): boolean {
  switch (q) {
    case 'sat':
      return s.satisfaction !== null;
    case 'rep':
      return s.repurchase !== null;
    case 'rec':
      return s.recommend !== null;
    case 'comment':
      return s.comment !== null || s.commentSkipped;
    default:
      return s.aspects[q] !== undefined;
  }
}

/** The questions of this survey in order. */
export function questionsOf(s: SurveyState): Question[] {
  return ['sat', 'rep', 'rec', ...ASPECT_CODES.filter((a) => s.aspectCodes.includes(a)), 'comment'];
}

/** The first question not yet answered, or null when the survey is complete. */
export function nextQuestion(s: SurveyState): Question | null {
  return questionsOf(s).find((q) => !answered(s, q)) ?? null;
}

/** The label key of one answer button. */
export function answerLabel(q: Exclude<Question, 'comment'>, level: number): TextRef {
  if (q === 'rep') return { key: `survey:answer.repurchase.${REPURCHASE_NAMES[level]}` };
  if (q === 'rec') return { key: `survey:answer.recommend.${RECOMMEND_NAMES[level]}` };
  if (q === 'sat') return { key: `survey:answer.satisfaction.${SATISFACTION_NAMES[level]}` };
  return { key: `survey:answer.aspect.${level}` };
}

function questionText(q: Question): TextRef {
  if (q === 'sat') return { key: 'survey:question.satisfaction' };
  if (q === 'rep') return { key: 'survey:question.repurchase' };
  if (q === 'rec') return { key: 'survey:question.recommend' };
  if (q === 'comment') return { key: 'survey:question.comment' };
  return { key: `survey:question.aspect.${q}` };
}

/** One question with its buttons; `lead` comes first in the same message (the survey's greeting, a thank-you). */
export function questionReply(surveyId: string, q: Question, lead: TextRef[] = []): Reply {
  if (q === 'comment') {
    return { type: 'text', text: [...lead, questionText(q)], choices: [{ kind: 'postback', id: surveyButtons.id('skipComment', surveyId), label: { key: 'survey:skipComment' } }] };
  }
  const choices: Choice[] = levelsOf(q).map((level) => ({ kind: 'postback', id: surveyButtons.id('answer', surveyId, q, level), label: answerLabel(q, level) }));
  return { type: 'text', text: [...lead, questionText(q)], choices };
}
