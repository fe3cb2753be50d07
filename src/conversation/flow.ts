import type { Transaction } from 'kysely';
import type { Choice, Input, Reply, TextRef } from '../channels/types';
import type { TranslateParams } from '../i18n';
import type { Locale } from '../i18n/locales';
import type { Country } from '../domain/countries';
import { addDays, localDateOf } from '../domain/local-time';
import type { ChannelName, Customer, Database } from '../store/schema';
import type { Intent } from './intents';
import type { Words } from './words';

/**
 * The clock a step reads: one instant, seen in one time zone. It starts in the dealership's zone; a step
 * that works for a branch calls `at(branch zone)` once and passes that clock on, so the days it lists and
 * the "tomorrow" a customer types are read in the same zone.
 */
export interface FlowClock {
  readonly now: Date;
  readonly timeZone: string;
  /** The local date (`YYYY-MM-DD`) in this zone. */
  today(): string;
  /** `days` after today, in this zone. */
  inDays(days: number): string;
  /** The same instant in another zone (a branch's). */
  at(timeZone: string): FlowClock;
}

export function flowClock(now: Date, timeZone: string): FlowClock {
  return {
    now,
    timeZone,
    today: () => localDateOf(now, timeZone),
    inDays: (days) => addDays(localDateOf(now, timeZone), days),
    at: (zone) => (zone === timeZone ? flowClock(now, timeZone) : flowClock(now, zone)),
  };
}

/**
 * What a flow step may use, and nothing else.
 *
 * `tx` is the transaction the engine commits together with the new conversation state and the outbox rows,
 * so a step's writes and its replies stand or fall together. Keep decisions in pure functions
 * (`src/domain`) and use `tx` to read what they decide on and to write the result.
 *
 * **Reads do not see the step's own writes on Cloudflare D1.** D1 has no interactive transactions: writes
 * are buffered and sent as one atomic batch at commit, while reads run at once against what was committed
 * before. So within one step, never read back a row you just wrote (carry the value you wrote instead),
 * and never decide on a count that includes your own insert. Across steps (the next message) everything
 * is visible. The engine and flow suites run on D1 to hold every flow to this.
 */
export interface FlowContext {
  readonly tx: Transaction<Database>;
  readonly customer: Customer;
  readonly channel: ChannelName;
  /** The language replies are written in (after `setLocale`, the new one only from the next message). */
  readonly locale: Locale;
  readonly clock: FlowClock;
  /** Renders a key in the customer's language, for the rare text a step must compose itself. */
  t(key: string, params?: TranslateParams): string;
  /** The words customers type as answers, from `locales/<lng>/words.json` (read them with the kit's helpers). */
  readonly words: Words;
  readonly dealer: {
    readonly name: string;
    readonly defaultLocale: Locale;
    /** Whose plate and mobile number formats answers are read in (DEALER_COUNTRY). */
    readonly countries: readonly Country[];
    /** Where a web chat customer may continue, so reminders reach them (null: not offered). */
    readonly continueOn: { readonly telegramBotUsername: string | null; readonly lineAccountId: string | null };
  };
  /** The main menu's buttons, for steps that end by offering it. */
  menuChoices(): Choice[];
  /** A link that adds a booking to the customer's calendar (.ics), or null when their channel could not open it. */
  calendarLink(reference: string): Promise<string | null>;
  /** Changes the customer's language for every later reply. */
  setLocale(locale: Locale): void;
}

/** Where the conversation waits next. `flow` hands it to another flow (my bookings → booking, to move one). */
export interface Next {
  step: string;
  state: unknown;
  flow?: string;
}

export interface StepResult {
  replies: Reply[];
  /** null when the flow is finished and the conversation is back at the menu. */
  next: Next | null;
  /**
   * The step could not read the answer and asks again. The engine counts these per step; after a few in a
   * row it adds a way out (the question's own buttons, a person, the menu) instead of asking the same thing.
   */
  reask?: boolean;
}

/** How the engine treats a conversation while it is in a flow. */
export interface FlowSettings {
  /**
   * A conversation idle longer than this starts over with a short note. `'default'` takes the dealer's
   * `CONVERSATION_TIMEOUT_MINUTES`; `null` never times out (a flow that waits for a person, not for the
   * customer).
   */
  readonly idleTimeoutMs: number | null | 'default';
  /**
   * Staff hold the conversation while it is in this flow: the bot answers nothing of its own accord and the
   * console lists the customer as waiting for a person.
   */
  readonly staffHold: boolean;
}

export const DEFAULT_FLOW_SETTINGS: FlowSettings = { idleTimeoutMs: 'default', staffHold: false };

/** A flow as the engine runs it. Write flows with `defineFlow` (src/conversation/kit.ts), not by hand. */
export interface Flow {
  /** The name saved with the conversation; also the prefix of the flow's button ids (see button-ids.ts). */
  readonly name: string;
  /** Bumped whenever the saved state's shape changes; older saved states restart the flow politely. */
  readonly stateVersion: number;
  /** The word customers use to start it (shown in the main menu in `menuOrder`). */
  readonly intent?: Intent;
  readonly menuOrder?: number;
  readonly settings: FlowSettings;
  /** The names of the flow's steps, so the console can say where a customer is in their own language. */
  readonly stepNames?: readonly string[];
  /**
   * Enters the flow. `input` is what started it: null for a menu button or an intent word, or one of this
   * flow's own buttons pressed when the flow was not the current one (an old message, a reminder).
   */
  start(ctx: FlowContext, input: Input | null): Promise<StepResult>;
  step(ctx: FlowContext, step: string, state: unknown, input: Input): Promise<StepResult>;
  /** The question the flow waits for an answer to at `step`, to ask again after an aside; null when unknown. */
  question?(step: string, state: unknown): Reply[] | null;
  /** What to say when the customer stops the flow at `step`, or null for the usual "I've stopped that". */
  stopped?(ctx: FlowContext, step: string, state: unknown): Promise<TextRef | null>;
}
