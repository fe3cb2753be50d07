import type { Choice, Input, Reply, TextRef } from '../channels/types';
import { LINE_LIMITS } from '../channels/limits';
import { intentButtons, type AnswerButton } from './button-ids';
import { DEFAULT_FLOW_SETTINGS, type Flow, type FlowContext, type FlowSettings, type StepResult } from './flow';
import type { Intent } from './intents';
import { normalizeWords } from './intents';
import { isPlainRequest } from './understanding';
import type { Words } from './words';

/*
 * The flow kit: how a flow is written.
 *
 *   type Steps = { vehicle: { serviceCode: string }; plate: { serviceCode: string; ... } };
 *   const { ask, reask, done } = stepKit<Steps>();
 *   export const myFlow = defineFlow<Steps>({
 *     name: 'book', stateVersion: 2, intent: 'book', menuOrder: 10,
 *     start: (ctx) => ask('vehicle', { serviceCode: 'maint' }, question),
 *     steps: { vehicle: (ctx, state, input) => …, plate: (ctx, state, input) => … },
 *   });
 *
 * Each step gets its own typed state, and `ask('plate', state)` only compiles with the plate step's state.
 * The kit saves a small envelope around the state (`{ v: state, r: re-asks }`), restarts a flow politely at
 * an unknown step, and after a few re-asks of the same question in a row adds a way out instead of asking
 * again (the question's own buttons, a person, the menu), so nobody is ever stuck or dropped.
 *
 * Answers are read with the helpers below (`yesNo`, `isSkip`, `isDone`, `isConfirm`, `pickOne`, `freeText`);
 * the words they accept come from `locales/<lng>/words.json`, the buttons from the flow's table in
 * button-ids.ts.
 */

/** Re-asks of one question in a row before the way out is offered. */
export const MAX_REASKS = 2;

/** What a step returns, with the next step's state checked against that step. */
export type Outcome<Steps> = {
  replies: Reply[];
  next: NextOf<Steps> | { flow: string; step: string; state: unknown } | null;
  reask?: boolean;
};
/** An outcome that hands the conversation to another flow (or finishes): it fits any flow's steps. */
export type Handover = { replies: Reply[]; next: { flow: string; step: string; state: unknown } | null };
type NextOf<Steps> = { [K in keyof Steps & string]: { step: K; state: Steps[K]; flow?: undefined } }[keyof Steps & string];

type Awaitable<T> = T | Promise<T>;
export type StepHandler<Steps, K extends keyof Steps> = (ctx: FlowContext, state: Steps[K], input: Input) => Awaitable<Outcome<Steps>>;

export interface FlowDefinition<Steps> {
  /** Saved with the conversation and used as its buttons' prefix (see button-ids.ts). */
  name: string;
  /** Bump when a step's state changes shape: conversations saved with the old shape restart politely. */
  stateVersion: number;
  intent?: Intent;
  menuOrder?: number;
  settings?: Partial<FlowSettings>;
  /** Entered from the menu or an intent word (`input` null), or by one of its buttons pressed from an old message. */
  start(ctx: FlowContext, input: Input | null): Awaitable<Outcome<Steps>>;
  steps: { [K in keyof Steps & string]: StepHandler<Steps, K> };
  /**
   * A button of another question of this flow pressed while it waits at `step` (the customer scrolled up):
   * answer it here, or return null to let the current step read it.
   */
  earlierButton?(ctx: FlowContext, step: keyof Steps & string, state: Steps[keyof Steps & string], input: Extract<Input, { type: 'choice' }>): Awaitable<Outcome<Steps> | null>;
  /**
   * What to say when the customer stops the flow at `step` ("cancel", the Cancel button), instead of the
   * plain "I've stopped that": moving a booking says the booking still stands as it was.
   */
  stopped?(ctx: FlowContext, step: keyof Steps & string, state: Steps[keyof Steps & string]): Awaitable<TextRef | null>;
}

interface Envelope {
  v: unknown;
  r: number;
  /** The question as last asked (not a re-ask), to ask it again after an aside ("when are you open?"). */
  q?: Reply[];
}

/** A state as the kit saves it, for code outside a flow that puts a conversation at a step (staff taking it over). */
export function savedState(state: unknown): unknown {
  const envelope: Envelope = { v: state, r: 0 };
  return envelope;
}

function isEnvelope(raw: unknown): raw is Envelope {
  return typeof raw === 'object' && raw !== null && 'v' in raw && typeof (raw as Envelope).r === 'number';
}

const wayOutText: TextRef = { key: 'stillNotUnderstood' };

/** The reply after too many re-asks: the question's own buttons, plus a person and the menu. */
function wayOut(ctx: FlowContext, replies: Reply[]): Reply {
  const own = replies.flatMap((r) => (r.type === 'text' || r.type === 'card' ? (r.choices ?? []) : [])).filter((c) => c.kind !== 'url');
  const extra: Choice[] = [
    { kind: 'postback', id: intentButtons.id('human'), label: { key: 'menu.human' } },
    { kind: 'postback', id: intentButtons.id('menu'), label: { key: 'labels.menu' } },
  ];
  // A calendar laid out in rows (Telegram's inline keyboard, 7 columns) is kept whole, with a person and
  // the menu on a row of their own; quick replies are cut to what LINE shows.
  const columns = replies.map((r) => (r.type === 'text' ? r.columns : undefined)).find((c) => c !== undefined);
  if (columns) return { type: 'text', text: wayOutText, choices: [...own, ...extra], columns };
  const room = LINE_LIMITS.quickReplyItems - extra.length;
  return { type: 'text', text: wayOutText, choices: [...own.slice(0, room), ...extra] };
}

/** Wraps a flow written as a step table into what the engine runs. */
export function defineFlow<Steps>(def: FlowDefinition<Steps>): Flow {
  const steps = def.steps as unknown as Record<string, StepHandler<Steps, keyof Steps>>;

  const seal = (ctx: FlowContext, outcome: Outcome<Steps>, current: { step: string; reasks: number; question?: Reply[] } | null): StepResult => {
    const next = outcome.next;
    if (!next) return { replies: outcome.replies, next: null };
    const sameQuestion = outcome.reask === true && current !== null && next.flow === undefined && next.step === current.step;
    const reasks = sameQuestion ? current.reasks + 1 : 0;
    const replies = reasks > MAX_REASKS ? [wayOut(ctx, outcome.replies)] : outcome.replies;
    // A re-ask (or a silent stay, a calendar's heading pressed) keeps the question as first asked; a new
    // question is kept as it is asked now.
    const keep = (outcome.reask === true || outcome.replies.length === 0) && current?.question && next.flow === undefined && next.step === current.step;
    const question = keep ? current.question! : outcome.replies;
    const envelope: Envelope = { v: next.state, r: reasks, ...(question.length > 0 ? { q: question } : {}) };
    return { replies, next: next.flow !== undefined && next.flow !== def.name ? { flow: next.flow, step: next.step, state: envelope } : { step: next.step, state: envelope }, reask: outcome.reask === true };
  };

  return {
    name: def.name,
    stateVersion: def.stateVersion,
    ...(def.intent ? { intent: def.intent } : {}),
    ...(def.menuOrder !== undefined ? { menuOrder: def.menuOrder } : {}),
    settings: { ...DEFAULT_FLOW_SETTINGS, ...def.settings },
    stepNames: Object.keys(steps),
    async start(ctx, input) {
      return seal(ctx, await def.start(ctx, input), null);
    },
    async step(ctx, step, raw, input) {
      const handler = steps[step];
      if (!handler || !isEnvelope(raw)) return seal(ctx, await def.start(ctx, null), null);
      const state = raw.v as Steps[keyof Steps];
      const current = { step, reasks: raw.r, ...(raw.q ? { question: raw.q } : {}) };
      if (input.type === 'choice' && def.earlierButton) {
        const answered = await def.earlierButton(ctx, step as keyof Steps & string, state as Steps[keyof Steps & string], input);
        if (answered) return seal(ctx, answered, current);
      }
      return seal(ctx, await handler(ctx, state, input), current);
    },
    question(_step, raw) {
      return isEnvelope(raw) && Array.isArray(raw.q) ? raw.q : null;
    },
    async stopped(ctx, step, raw) {
      if (!def.stopped || !isEnvelope(raw) || !steps[step]) return null;
      return def.stopped(ctx, step as keyof Steps & string, raw.v as Steps[keyof Steps & string]);
    },
  };
}

/** Typed outcome builders for one flow's steps. */
export function stepKit<Steps>() {
  return {
    /** Asks the question of `step` and waits there. */
    ask<K extends keyof Steps & string>(step: K, state: Steps[K], ...replies: Reply[]): Outcome<Steps> {
      return { replies, next: { step, state } as NextOf<Steps> };
    },
    /** The answer could not be read: asks again (counted; see MAX_REASKS). */
    reask<K extends keyof Steps & string>(step: K, state: Steps[K], ...replies: Reply[]): Outcome<Steps> {
      return { replies, next: { step, state } as NextOf<Steps>, reask: true };
    },
    /** The flow is finished; the conversation is back at the menu. */
    done(...replies: Reply[]): Outcome<Steps> {
      return { replies, next: null };
    },
    /** Hands the conversation to another flow's step (its state is that flow's business). */
    handTo(flow: string, step: string, state: unknown, ...replies: Reply[]): Handover {
      return { replies, next: { flow, step, state } };
    },
  };
}

/** A finished flow's common endings (they fit any flow's outcome). */
type Ending = { replies: Reply[]; next: null };
export const endings = {
  /** "That can't be done in the chat yet" with the menu. */
  notAvailable: (ctx: FlowContext): Ending => ({ replies: [{ type: 'text', text: { key: 'notAvailable' }, choices: ctx.menuChoices() }], next: null }),
  /** A button from an earlier conversation that cannot be trusted any more. */
  staleButton: (ctx: FlowContext): Ending => ({ replies: [{ type: 'text', text: { key: 'staleButton' }, choices: ctx.menuChoices() }], next: null }),
  /** A plain message with the menu under it. */
  withMenu: (ctx: FlowContext, text: TextRef | TextRef[]): Ending => ({ replies: [{ type: 'text', text, choices: ctx.menuChoices() }], next: null }),
};

// ——— answers ———

/** The part of a flow's button table the answer helpers need. */
export interface AnswerIds<N extends AnswerButton> {
  id(name: N): string;
  is(id: string, name: N): boolean;
}

/** Whole-message text of an input, or null for anything that is not text. */
export function typedText(input: Input): string | null {
  return input.type === 'text' ? input.text : null;
}

/**
 * Yes, no, or null when the answer is neither. `lists` adds the question's own words (a loaner car is
 * answered 需要/不需要 as well as 是/否): `{ yes: 'booking.loanerYes', no: 'booking.loanerNo' }`.
 */
export function yesNo(words: Words, input: Input, buttons: AnswerIds<'yes' | 'no'>, lists: { yes?: string; no?: string } = {}): boolean | null {
  if (input.type === 'choice') return buttons.is(input.id, 'yes') ? true : buttons.is(input.id, 'no') ? false : null;
  const text = typedText(input);
  if (text === null) return null;
  const yes = words.is('yes', text) || (lists.yes !== undefined && words.is(lists.yes, text));
  const no = words.is('no', text) || (lists.no !== undefined && words.is(lists.no, text));
  return yes === no ? null : yes;
}

/** The Yes / No buttons of a flow, with the question's own labels when it has them (需要 / 不需要). */
export function yesNoChoices(buttons: AnswerIds<'yes' | 'no'>, labels: { yes: TextRef; no: TextRef } = { yes: { key: 'answers.yes' }, no: { key: 'answers.no' } }): Choice[] {
  return [
    { kind: 'postback', id: buttons.id('yes'), label: labels.yes },
    { kind: 'postback', id: buttons.id('no'), label: labels.no },
  ];
}

/** The customer pressed the flow's `name` button, or typed one of the words of `list` on its own. */
function pressedOrSaid<N extends AnswerButton>(words: Words, input: Input, buttons: AnswerIds<N>, name: N, list: string): boolean {
  if (input.type === 'choice') return buttons.is(input.id, name);
  const text = typedText(input);
  return text !== null && words.is(list, text);
}

const answerChoice = <N extends AnswerButton>(buttons: AnswerIds<N>, name: N, label: string): Choice => ({ kind: 'postback', id: buttons.id(name), label: { key: `answers.${label}` } });

/** Skip, or a word that means "nothing" (skip, 不用, なし, ไม่มี). */
export const isSkip = (words: Words, input: Input, buttons: AnswerIds<'skip'>) => pressedOrSaid(words, input, buttons, 'skip', 'skip');
export const skipChoice = (buttons: AnswerIds<'skip'>) => answerChoice(buttons, 'skip', 'skip');

/** Done, or a word that ends a list of messages (done, 完成, 以上, เสร็จ). */
export const isDone = (words: Words, input: Input, buttons: AnswerIds<'done'>) => pressedOrSaid(words, input, buttons, 'done', 'done');
export const doneChoice = (buttons: AnswerIds<'done'>) => answerChoice(buttons, 'done', 'done');

/** Confirm, or a word that confirms (confirm, 確認, ยืนยัน, yes). */
export const isConfirm = (words: Words, input: Input, buttons: AnswerIds<'confirm'>) => pressedOrSaid(words, input, buttons, 'confirm', 'confirm');
export const confirmChoice = (buttons: AnswerIds<'confirm'>) => answerChoice(buttons, 'confirm', 'confirm');

/** One of the things a question offers: its button, the names it may be typed as, and what it stands for. */
export interface Option<T> {
  id: string;
  label: TextRef;
  /** Names a customer may type for it (every language's name of a service type, a branch's name). */
  names: readonly string[];
  value: T;
}

/** The options as buttons, as many as LINE shows (13 quick replies, fewer when `reserve` are added after). */
export function optionChoices<T>(options: readonly Option<T>[], reserve = 0): Choice[] {
  return options.slice(0, LINE_LIMITS.quickReplyItems - reserve).map((o) => ({ kind: 'postback', id: o.id, label: o.label }));
}

/**
 * Which option the customer chose: its button, its number in the list ("2"), its name, or a part of one
 * name that fits no other ("內湖" for "台北內湖廠"). Null when none, or more than one, fits.
 */
export function pickOne<T>(input: Input, options: readonly Option<T>[]): T | null {
  if (input.type === 'choice') return options.find((o) => o.id === input.id)?.value ?? null;
  const text = typedText(input);
  if (text === null) return null;
  const words = normalizeWords(text);
  if (!words) return null;
  if (/^\d{1,2}$/.test(words)) return options[Number(words) - 1]?.value ?? null;
  const exact = options.filter((o) => o.names.some((n) => normalizeWords(n) === words));
  if (exact.length === 1) return exact[0]!.value;
  if (words.length < 2) return null;
  const partial = options.filter((o) => o.names.some((n) => normalizeWords(n).includes(words) || words.includes(normalizeWords(n))));
  return partial.length === 1 ? partial[0]!.value : null;
}

/**
 * A typed answer checked by `validate` (a plate, a phone number, a note): its value, or null when the input
 * is not text, is empty or longer than `maxChars`, or the validator refuses it. A message that is plainly
 * a request ("can I speak to someone please", 「你們幾點開門」, "BK-7K3QXM") is not taken as the answer
 * either, so the engine can act on it; a question that takes anything at all (a note for the advisor)
 * passes `{ requests: 'accept' }`.
 */
export function freeText<T>(input: Input, validate: (text: string) => T | null, maxChars = 500, opts: { requests?: 'refuse' | 'accept' } = {}): T | null {
  const text = typedText(input)?.trim();
  if (!text || [...text].length > maxChars) return null;
  if (opts.requests !== 'accept' && isPlainRequest(text)) return null;
  return validate(text);
}
