import type { Transaction } from 'kysely';
import type { Choice, Input, Reply } from '../channels/types';
import type { Config } from '../config';
import type { Translator } from '../i18n';
import type { Locale } from '../i18n/locales';
import type { ChannelIdentity, ChannelName, Customer, Database } from '../store/schema';
import type { Store } from '../store/store';
import type { Intent } from './intents';

/**
 * What a flow step may use. `tx` is the transaction the engine commits together with the new state and
 * the outbox rows, so a flow's writes and its replies stand or fall together. Flows keep their decisions
 * in pure functions (src/domain) and use `tx` only to read what they decide on and to write the result.
 */
export interface FlowContext {
  readonly tx: Transaction<Database>;
  readonly store: Store;
  readonly customer: Customer;
  readonly identity: ChannelIdentity;
  readonly channel: ChannelName;
  readonly locale: Locale;
  readonly now: Date;
  readonly config: Config;
  readonly translator: Translator;
  /** The main menu's buttons, for flows that end by offering it. */
  readonly menuChoices: () => Choice[];
  /** A link that adds a booking to the customer's calendar (.ics), or null when their channel could not open it. */
  readonly calendarLink: (reference: string) => Promise<string | null>;
  /** Changes the customer's language for this and every later reply. */
  setLocale(locale: Locale): void;
}

export interface StepResult {
  replies: Reply[];
  /**
   * Where the conversation waits next; null when the flow is finished. `flow` hands the conversation to
   * another flow (my bookings → the booking flow, to move a booking).
   */
  next: { step: string; state: unknown; flow?: string } | null;
}

export interface Flow {
  /** Also the prefix of this flow's button ids (`lang:ja`), so a button can find its flow later. */
  readonly name: string;
  /** Bumped whenever the saved state's shape changes; older saved states restart the flow. */
  readonly stateVersion: number;
  /** The word customers use to start it (shown in the main menu in `menuOrder`). */
  readonly intent?: Intent;
  readonly menuOrder?: number;
  /**
   * Enters the flow. `input` is what started it: null for a menu button or an intent word, or one of this
   * flow's own buttons pressed when the flow was not the current one (an old message, a reminder).
   */
  start(ctx: FlowContext, input: Input | null): Promise<StepResult>;
  step(ctx: FlowContext, step: string, state: unknown, input: Input): Promise<StepResult>;
}

export function flowChoiceId(flow: Pick<Flow, 'name'>, ...parts: (string | number)[]): string {
  return [flow.name, ...parts].join(':');
}
