import type { Input, Reply, TextRef } from '../../channels/types';
import { openComplaintFromSurvey } from '../../complaints/open';
import { insertEvents } from '../../complaints/tickets';
import { isDelighted, type AspectCode } from '../../domain/csi';
import { recomputeCategory } from '../../survey/categories';
import { answered, answerLabel, isQuestion, levelsOf, nextQuestion, questionReply, surveyState, type Question, type SurveyState } from '../../survey/questions';
import { loadSurveySettings } from '../../survey/settings';
import type { SurveyRow, SurveysTable } from '../../store/schema';
import { surveyButtons as buttons } from '../button-ids';
import type { FlowContext } from '../flow';
import { defineFlow, endings, freeText, pickOne, savedState, stepKit, type Option, type Outcome } from '../kit';

/*
 * The satisfaction survey after a visit (sent by src/survey/jobs.ts): one tap a question, each answer saved
 * as it comes, so a survey left half done still counts. Every button names its survey, so a tap days later
 * finds it — or says politely that it has closed. "Dissatisfied" or worse opens a complaint at once (the
 * customer is told a person will contact them) and the survey goes on; "very satisfied" with "very likely
 * to recommend" may be invited to leave a public review, never anyone less happy.
 */

type Steps = { question: { surveyId: string; question: Question } };
const { ask, reask, done } = stepKit<Steps>();

export const SURVEY_FLOW = buttons.prefix;
export const SURVEY_STATE_VERSION = 1;

/** Where a conversation waits for a survey's question, for the job that sends it. */
export function surveyPosition(state: Steps['question']): { flow: string; step: string; state: unknown; stateVersion: number } {
  return { flow: SURVEY_FLOW, step: 'question', state: savedState(state), stateVersion: SURVEY_STATE_VERSION };
}

const s = (key: string, params?: Record<string, string | number>): TextRef => ({ key: `survey:${key}`, ...(params ? { params } : {}) });

const COMMENT_MAX_CHARS = 1000;

async function loadOwn(ctx: FlowContext, surveyId: string): Promise<SurveyRow | null> {
  return (await ctx.tx.selectFrom('surveys').selectAll().where('id', '=', surveyId).where('customer_id', '=', ctx.customer.id).executeTakeFirst()) ?? null;
}

/** Why a survey takes no more answers, or null while it does. */
function closedReason(ctx: FlowContext, row: SurveyRow): 'gone' | 'closed' | 'complete' | null {
  if (row.status !== 'sent') return 'gone';
  if (row.completed_at) return 'complete';
  if (row.expires_at && Date.parse(row.expires_at) <= ctx.clock.now.getTime()) return 'closed';
  return null;
}

function closedOutcome(ctx: FlowContext, reason: 'gone' | 'closed' | 'complete'): Outcome<Steps> {
  if (reason === 'gone') return endings.staleButton(ctx);
  return endings.withMenu(ctx, s(reason === 'closed' ? 'closed' : 'alreadyDone'));
}

function options(ctx: FlowContext, surveyId: string, q: Exclude<Question, 'comment'>): Option<number>[] {
  return levelsOf(q).map((level) => {
    const label = answerLabel(q, level);
    return { id: buttons.id('answer', surveyId, q, level), label, names: 'key' in label ? [ctx.t(label.key)] : [], value: level };
  });
}

type Answer = { q: Exclude<Question, 'comment'>; level: number } | { q: 'comment'; text: string | null };

/** Saves one answer (a question already answered keeps its first answer) and asks the next question, or thanks. */
async function record(ctx: FlowContext, row: SurveyRow, answer: Answer): Promise<Outcome<Steps>> {
  const reason = closedReason(ctx, row);
  if (reason) return closedOutcome(ctx, reason);
  const before = surveyState(row);
  const now = ctx.clock.now.toISOString();
  const after: SurveyState = { ...before, aspects: { ...before.aspects } };
  const set: Partial<SurveysTable> = {};
  const replies: Reply[] = [];
  if (!answered(before, answer.q)) {
    if (answer.q === 'comment') {
      if (answer.text === null) {
        set.comment_skipped = 1;
        after.commentSkipped = true;
      } else set.comment = after.comment = answer.text;
    } else if (answer.q === 'sat') set.satisfaction = after.satisfaction = answer.level;
    else if (answer.q === 'rep') set.repurchase = after.repurchase = answer.level;
    else if (answer.q === 'rec') set.recommend = after.recommend = answer.level;
    else after.aspects[answer.q as AspectCode] = answer.level;
    if (answer.q !== 'comment' && answer.q !== 'sat' && answer.q !== 'rep' && answer.q !== 'rec') set.aspects = JSON.stringify(after.aspects);
    if (!row.first_answer_at) set.first_answer_at = now;

    // A low overall score is acted on at once, before the rest of the survey.
    if (answer.q === 'sat' && !row.complaint_id) {
      const opened = await openComplaintFromSurvey(
        ctx.tx,
        { customerId: ctx.customer.id, score: answer.level, comment: null, repairOrderId: row.repair_order_id, channel: ctx.channel, locale: ctx.locale },
        ctx.clock.now,
      );
      if (opened) {
        set.complaint_id = opened.complaint.id;
        replies.push(...opened.replies);
      }
    }
    // What an unhappy customer writes afterwards goes to the complaint a person is following up.
    if (answer.q === 'comment' && answer.text !== null && (row.complaint_id ?? set.complaint_id)) {
      await insertEvents(ctx.tx, (row.complaint_id ?? set.complaint_id)!, [{ kind: 'customer_message', actor: { type: 'customer', id: ctx.customer.id, label: ctx.customer.display_name, channel: ctx.channel }, text: answer.text }], now);
    }
    if (answer.q === 'sat' || answer.q === 'rep' || answer.q === 'rec') {
      await recomputeCategory(ctx.tx, ctx.customer.id, now, { fresh: { surveyId: row.id, collectedAt: row.collected_at, satisfaction: after.satisfaction, repurchase: after.repurchase, recommend: after.recommend } });
    }
  }

  const next = nextQuestion(after);
  if (next) {
    if (Object.keys(set).length > 0) await ctx.tx.updateTable('surveys').set({ ...set, updated_at: now }).where('id', '=', row.id).execute();
    return ask('question', { surveyId: row.id, question: next }, ...replies, questionReply(row.id, next, replies.length === 0 ? [s('noted')] : []));
  }

  // Complete: thanks, and for a delighted customer the dealer's review invitation.
  set.completed_at = now;
  const settings = await loadSurveySettings(ctx.tx);
  const invite = settings.reviewInvite && settings.reviewUrl && isDelighted(after) && !row.review_invited_at && !row.complaint_id && !set.complaint_id;
  if (invite) set.review_invited_at = now;
  await ctx.tx.updateTable('surveys').set({ ...set, updated_at: now }).where('id', '=', row.id).execute();
  if (invite) {
    return done(...replies, { type: 'text', text: [s('thanks'), s('review')], choices: [{ kind: 'url', url: settings.reviewUrl!, label: s('reviewButton') }, ...ctx.menuChoices().slice(0, 12)] });
  }
  const unhappy = row.complaint_id ?? set.complaint_id;
  return done(...replies, { type: 'text', text: s(unhappy ? 'thanksFollowUp' : 'thanks'), choices: ctx.menuChoices() });
}

/** A survey button, from the message the job sent or any later question, whenever it is pressed. */
async function pressed(ctx: FlowContext, input: Extract<Input, { type: 'choice' }>): Promise<Outcome<Steps>> {
  const button = buttons.parse(input.id);
  if (!button) return endings.staleButton(ctx);
  const row = await loadOwn(ctx, button.args.surveyId);
  if (!row) return endings.staleButton(ctx);
  if (button.name === 'skipComment') return record(ctx, row, { q: 'comment', text: null });
  const { question, value } = button.args;
  const level = Number(value);
  if (!isQuestion(question) || question === 'comment' || !levelsOf(question).includes(level)) return endings.staleButton(ctx);
  return record(ctx, row, { q: question, level });
}

/** "rate" typed or chosen: the open survey's next question, or word that there is nothing to rate now. */
async function resume(ctx: FlowContext): Promise<Outcome<Steps>> {
  const row = await ctx.tx
    .selectFrom('surveys')
    .selectAll()
    .where('customer_id', '=', ctx.customer.id)
    .where('status', '=', 'sent')
    .where('completed_at', 'is', null)
    .where('expires_at', '>', ctx.clock.now.toISOString())
    .orderBy('sent_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const next = row ? nextQuestion(surveyState(row)) : null;
  if (!row || !next) return endings.withMenu(ctx, s('none'));
  return ask('question', { surveyId: row.id, question: next }, questionReply(row.id, next));
}

/** See the file comment. */
export const surveyFlow = defineFlow<Steps>({
  name: buttons.prefix,
  stateVersion: SURVEY_STATE_VERSION,
  intent: 'rate',
  start: (ctx, input) => (input && input.type === 'choice' ? pressed(ctx, input) : resume(ctx)),
  steps: {
    async question(ctx, state, input) {
      if (input.type === 'choice' && buttons.owns(input.id)) return pressed(ctx, input);
      const row = await loadOwn(ctx, state.surveyId);
      if (!row) return resume(ctx);
      const reason = closedReason(ctx, row);
      if (reason) return closedOutcome(ctx, reason);
      const q = state.question;
      if (q === 'comment') {
        if (input.type === 'text' && ctx.words.is('skip', input.text)) return record(ctx, row, { q: 'comment', text: null });
        const text = freeText(input, (t) => t, COMMENT_MAX_CHARS, { requests: 'accept' });
        if (text === null) return reask('question', state, { type: 'text', text: s('commentAgain', { max: COMMENT_MAX_CHARS }) }, questionReply(row.id, 'comment'));
        return record(ctx, row, { q: 'comment', text });
      }
      const level = pickOne(input, options(ctx, row.id, q));
      if (level === null) return reask('question', state, questionReply(row.id, q, [s('pickOne')]));
      return record(ctx, row, { q, level });
    },
  },
});
