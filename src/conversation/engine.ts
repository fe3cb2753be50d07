import { sql, type Transaction } from 'kysely';
import { LINE_LIMITS } from '../channels/limits';
import type { Choice, InboundEvent, Input, Reply } from '../channels/types';
import type { Config } from '../config';
import type { Translator } from '../i18n';
import { isLocale, resolveLocale, type Locale } from '../i18n/locales';
import type { Clock } from '../ops/clock';
import type { Logger } from '../ops/logger';
import type { Metrics } from '../ops/metrics';
import { enqueueReplies } from '../outbox/outbox';
import { ConversationConflict, loadConversation, loadConversations, saveConversation, type ConversationPosition } from '../store/conversations';
import { resolveCustomer, resolveCustomers, setIdentityReachable, updateCustomer, type ResolvedCustomer } from '../store/customers';
import { isUniqueViolation } from '../store/errors';
import { claimEvent, claimEvents, isEventProcessed } from '../store/events';
import { acceptEvents, customersWithPendingEvents, EVENTS_PER_INSERT, headOfQueue, markEventAttemptFailed, markEventDone, oldestPending, takePending } from '../store/inbox';
import type { ChannelName, Conversation, Database, InboundEventRow, NewMessageRow } from '../store/schema';
import type { Store } from '../store/store';
import { appendMessage, appendMessages, labelOfChoice } from '../store/transcript';
import { KeyedMutex } from '../util/keyed-mutex';
import { createBatcher } from '../util/batcher';
import { createWorkLoop } from '../util/work-loop';
import type { Flow, FlowContext, StepResult } from './flow';
import { createWords } from './words';
import { intentButtons, intentOfChoice, prefixOf } from './button-ids';
import { flowClock } from './flow';
import { linkCodeInText, linkCodeOfPayload, redeemLinkCode } from './channel-link';
import { COMMAND_INTENTS, createIntentMatcher, type Intent } from './intents';
import { createUnderstanding, type Understood } from './understanding';

export interface EngineDeps {
  store: Store;
  flows: Flow[];
  translator: Translator;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  config: Config;
  /** Called after a commit that wrote outbox rows, so the sender can go at once. */
  onOutbox?: () => void;
  /**
   * Errors that mean "another writer got there first; run the step again on fresh reads", beyond the
   * engine's own (a booking's capacity claim lost to a concurrent booking).
   */
  isRetryable?: (err: unknown) => boolean;
  /** Calendar (.ics) links for bookings; see src/booking/calendar-link.ts. */
  calendarLink?: (reference: string, channel: ChannelName) => Promise<string | null>;
  /** Adds what a platform can tell about the sender (LINE profile) before the event is processed. */
  enrich?: (event: InboundEvent) => Promise<InboundEvent>;
  idlePollMs?: number;
}

export type HandleResult = 'processed' | 'duplicate';
type StepOutcome = 'processed' | 'duplicate' | 'taken';

export interface Engine {
  /**
   * Keeps an event from a webhook so it can be acknowledged: 'duplicate' when the platform had delivered
   * it before. The event is processed afterwards by drain() or the background loop, in order per customer.
   */
  accept(event: InboundEvent): Promise<'accepted' | 'duplicate'>;
  /** Accepts and processes at once (web chat, tests): a redelivery of the same event id has no effect. */
  handle(event: InboundEvent): Promise<HandleResult>;
  /** Processes every accepted event that is due (Workers: inside waitUntil after a webhook). */
  drain(): Promise<number>;
  /**
   * Processes one customer's due events, oldest first; returns how many were handled. Workers call it from
   * the customer's Durable Object, the one place their events are processed.
   */
  processCustomer(channel: ChannelName, externalId: string): Promise<number>;
  /** Node: keeps processing accepted events in the background until stop(). */
  start(): void;
  /** Wakes the background loop now (a webhook just accepted events). */
  kick(): void;
  /** Finishes the events in progress and stops the background loop; waiting events stay queued. */
  stop(): Promise<void>;
  /** Resolves when no event is being processed (graceful shutdown). */
  idle(): Promise<void>;
  /** The main menu's buttons, as flows and staff tools offer them. */
  menuChoices(): Choice[];
}

const MAX_CONFLICT_RETRIES = 8;
/** Attempts before an event the store keeps failing on is set aside as failed (visible to staff). */
const MAX_EVENT_ATTEMPTS = 10;
/** Customers processed side by side; one customer's events are always one at a time. */
const QUEUE_CONCURRENCY = 8;
/** Customers whose oldest waiting events are processed in one write transaction. */
export const BATCH_CUSTOMERS = 64;
/** Postgres: batches of different customers committed side by side, and the fewest customers worth a lane. */
const POSTGRES_LANES = 4;
const MIN_CUSTOMERS_PER_LANE = 8;
/**
 * SQLite: a batch holds the one connection until it commits, and webhooks wait behind it to keep their
 * events. So a batch takes as many events as fit in SQLITE_BATCH_MS at the pace of recent ones, between
 * SQLITE_BATCH_EVENTS_MIN and SQLITE_BATCH_EVENTS.
 */
const SQLITE_BATCH_EVENTS = 32;
const SQLITE_BATCH_EVENTS_MIN = 4;
const SQLITE_BATCH_MS = 10;
/** A customer's events in one batch, at most. */
const EVENTS_PER_CUSTOMER = 4;
/** Waiting events read to find them (several of one customer count once). */
const BATCH_READ = 256;
/** After a batch smaller than this, the background loop waits GATHER_MS before the next one. */
const GATHER_BELOW = 16;
const GATHER_MS = 5;

interface Turn {
  replies: Reply[];
  position: ConversationPosition;
  locale: Locale | null;
}

/** A step of one customer failed inside a batch: the batch is rolled back and runs again without them. */
class BatchItemFailed extends Error {
  constructor(
    readonly item: { row: InboundEventRow; event: InboundEvent },
    override readonly cause: unknown,
  ) {
    super('a step failed in a batch');
  }
}

const IDLE: ConversationPosition = { flow: null, step: null, state: null, stateVersion: 0 };

/**
 * What a sentence may ask for in the middle of a flow and be taken away from its question: reaching a
 * person. Stopping, the menu or another flow take the whole-message words ("cancel", 「選單」), so a
 * sentence that merely mentions one is never read as it.
 */
const LEAVES_A_FLOW: ReadonlySet<Intent> = new Set(['human']);

/** What a date/time picker gave, as the customer's own words in the transcript: "2026-12-01", "2026-12-01 10:30". */
function pickedValue(params: Extract<Input, { type: 'choice' }>['params']): string | null {
  return params?.date ?? params?.datetime?.replace('T', ' ') ?? params?.time ?? null;
}

function describeInput(input: Input): { kind: string; text: string | null; payload: unknown } {
  switch (input.type) {
    case 'text':
      return { kind: 'text', text: input.text, payload: null };
    case 'command':
      return { kind: 'command', text: `/${input.command}${input.payload ? ` ${input.payload}` : ''}`, payload: null };
    case 'choice':
      // A date or time picked in a picker is what the customer said, not the picker's label ("Pick a date").
      return { kind: 'choice', text: pickedValue(input.params), payload: { id: input.id, params: input.params } };
    case 'start':
      return { kind: 'start', text: null, payload: { payload: input.payload } };
    case 'stop':
      return { kind: 'stop', text: null, payload: null };
    case 'contact':
      return { kind: 'contact', text: input.phone, payload: null };
    case 'image':
      return { kind: 'image', text: null, payload: { mediaId: input.mediaId } };
    case 'location':
      return { kind: 'location', text: input.address ?? input.title, payload: { latitude: input.latitude, longitude: input.longitude } };
    case 'sticker':
      return { kind: 'sticker', text: null, payload: null };
  }
}

/**
 * The conversation engine: for each event, in one transaction, it records the event as handled, finds or
 * creates the customer, runs the current flow's step, saves the new state and writes the replies to the
 * outbox. Events of one customer run one at a time and in order (in this process by a keyed mutex,
 * across instances by the store's lock). A step that throws is rolled back and the customer gets an
 * apology and the menu instead, so no conversation is ever stuck.
 */
export function createEngine(deps: EngineDeps): Engine {
  const { store, translator, clock, metrics, config } = deps;
  const log = deps.logger.child({ component: 'engine' });
  const flowsByName = new Map(deps.flows.map((f) => [f.name, f]));
  const flowsByIntent = new Map(deps.flows.filter((f) => f.intent).map((f) => [f.intent!, f]));
  const matchIntent = createIntentMatcher(translator);
  const understand = createUnderstanding();
  const words = createWords();
  const dealer = { name: config.dealer.name, defaultLocale: config.dealer.defaultLocale, countries: config.dealer.countries, continueOn: config.continueOn };
  const mutex = new KeyedMutex();
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];

  const menuChoices = (): Choice[] =>
    deps.flows
      .filter((f) => f.intent && f.menuOrder !== undefined)
      .sort((a, b) => a.menuOrder! - b.menuOrder!)
      .slice(0, LINE_LIMITS.quickReplyItems)
      .map((f) => ({ kind: 'postback', id: intentButtons.id(f.intent!), label: { key: `menu.${f.intent}` } }));

  const menuReply = (key = 'menu.prompt'): Reply => ({ type: 'text', text: { key }, choices: menuChoices() });

  function flowOfChoice(id: string): Flow | null {
    return flowsByName.get(prefixOf(id)) ?? null;
  }

  async function startIntent(ctx: FlowContext, intent: Intent, current: ConversationPosition): Promise<{ result: StepResult; flow: Flow | null; keep?: boolean }> {
    switch (intent) {
      case 'menu':
        return { result: { replies: [menuReply()], next: null }, flow: null };
      case 'cancel': {
        // The flow that was stopped may have more to say than "stopped" (a booking being moved still stands).
        const stoppedFlow = current.flow ? flowsByName.get(current.flow) : undefined;
        const said = stoppedFlow?.stopped && current.step ? await stoppedFlow.stopped(ctx, current.step, current.state) : null;
        if (said) return { result: { replies: [{ type: 'text', text: [said, { key: 'menu.prompt' }], choices: menuChoices() }], next: null }, flow: null };
        return { result: { replies: [menuReply('cancelled')], next: null }, flow: null };
      }
      case 'help':
        return { result: { replies: [{ type: 'text', text: { key: 'help' }, choices: menuChoices() }], next: null }, flow: null, keep: current.flow !== null };
      default: {
        const flow = flowsByIntent.get(intent);
        if (!flow) return { result: { replies: [menuReply('notAvailable')], next: null }, flow: null };
        return { result: await flow.start(ctx, null), flow };
      }
    }
  }

  async function runTurn(ctx: FlowContext, conversation: Conversation | null, input: Input, localeRef: { value: Locale | null }, isNewCustomer: boolean): Promise<Turn> {
    const prefix: Reply[] = [];
    let current: ConversationPosition = IDLE;
    let activeFlow: Flow | null = null;
    if (conversation?.flow) {
      const flow = flowsByName.get(conversation.flow);
      const age = ctx.clock.now.getTime() - Date.parse(conversation.updated_at);
      const setting = flow ? flow.settings.idleTimeoutMs : 'default';
      const timeout = setting === 'default' ? config.conversationTimeoutMs : setting;
      const expired = timeout !== null && age > timeout;
      if (flow && flow.stateVersion === conversation.state_version && !expired) {
        activeFlow = flow;
        current = { flow: flow.name, step: conversation.step, state: JSON.parse(conversation.state) as unknown, stateVersion: flow.stateVersion };
      } else if (!(flow && expired && flow.stateVersion === conversation.state_version && input.type === 'choice' && prefixOf(input.id) === flow.name)) {
        // A button of the very flow that timed out carries its own context (a survey answered hours after
        // it came): it is answered without the "started over" note.
        prefix.push({ type: 'text', text: { key: 'expired' } });
      }
    }

    const greeting = (): Reply => {
      const name = ctx.customer.display_name;
      const key = isNewCustomer ? (name ? 'greeting.welcomeNamed' : 'greeting.welcome') : 'greeting.welcomeBack';
      return { type: 'text', text: { key, params: { name: name ?? '', dealer: config.dealer.name } }, choices: menuChoices() };
    };
    const finish = (flow: Flow | null, result: StepResult): Turn => {
      const target = result.next?.flow ? (flowsByName.get(result.next.flow) ?? null) : flow;
      return {
        replies: [...prefix, ...result.replies],
        position: target && result.next ? { flow: target.name, step: result.next.step, state: result.next.state, stateVersion: target.stateVersion } : IDLE,
        locale: localeRef.value,
      };
    };
    const viaIntent = async (intent: Intent): Promise<Turn> => {
      const { result, flow, keep } = await startIntent(ctx, intent, current);
      if (keep) return { replies: [...prefix, ...result.replies], position: current, locale: localeRef.value };
      return finish(flow, result);
    };

    /** A sentence answered on the side (a question about the branch, one booking): the flow's question follows, unchanged. */
    const aside = (replies: Reply[], reask: StepResult): Turn => {
      const question = activeFlow?.question?.(current.step ?? '', current.state) ?? reask.replies;
      // The answer's own buttons (the menu, "book a service") would lead away from the question; links stay.
      const answer = replies.map((r): Reply => (r.type === 'text' || r.type === 'card' ? { ...r, choices: (r.choices ?? []).filter((c) => c.kind === 'url') } : r));
      return { replies: [...prefix, ...answer, ...question], position: current, locale: localeRef.value };
    };
    const pressedFor = (id: string): Input => ({ type: 'choice', id, params: null });

    /** Where an understood sentence leads when no flow is waiting for an answer. */
    const viaUnderstood = async (understood: Understood): Promise<Turn> => {
      switch (understood.kind) {
        case 'intent':
          return viaIntent(understood.intent);
        case 'button': {
          const owner = flowOfChoice(understood.id);
          if (!owner) return finish(null, { replies: [menuReply('unknown')], next: null });
          return finish(owner, await owner.start(ctx, pressedFor(understood.id)));
        }
        case 'greeting':
          return finish(null, { replies: [greeting()], next: null });
        case 'thanks':
          return finish(null, { replies: [menuReply('smallTalk.thanks')], next: null });
        case 'unsure':
          return finish(null, {
            replies: [{ type: 'text', text: { key: 'didYouMean' }, choices: [...understood.options.map((o): Choice => ({ kind: 'postback', id: o.kind === 'intent' ? intentButtons.id(o.intent) : o.id, label: o.label })), { kind: 'postback', id: intentButtons.id('menu'), label: { key: 'labels.menu' } }] }],
            next: null,
          });
      }
    };

    /**
     * A flow could not read a sentence as the answer to its question: it may be a request of its own. A
     * question about the branch or a booking is answered on the side and the question asked again; a wish
     * to reach a person leaves the flow. Anything else (a sentence that merely mentions "cancel") is the
     * flow's to ask again about.
     */
    const midFlow = async (understood: Understood | null, reask: StepResult): Promise<Turn | null> => {
      if (!understood || !activeFlow) return null;
      if (understood.kind === 'intent') {
        const target = flowsByIntent.get(understood.intent);
        return LEAVES_A_FLOW.has(understood.intent) && target !== activeFlow ? viaIntent(understood.intent) : null;
      }
      if (understood.kind !== 'button') return null;
      const owner = flowOfChoice(understood.id);
      if (!owner) return null;
      if (owner === activeFlow) return finish(activeFlow, await activeFlow.step(ctx, current.step ?? '', current.state, pressedFor(understood.id)));
      const answered = await owner.start(ctx, pressedFor(understood.id));
      // The other flow asks something of its own (which of several branches?): the conversation goes there.
      if (answered.next) return finish(owner, answered);
      return aside(answered.replies, reask);
    };

    const viaLink = async (code: string): Promise<Turn> => {
      const outcome = await redeemLinkCode(ctx.tx, { code, customer: ctx.customer, channel: ctx.channel, isNewCustomer, now: ctx.clock.now });
      const key = outcome.ok ? (outcome.name ? 'link.joinedNamed' : 'link.joined') : outcome.reason === 'same' ? 'link.already' : `link.${outcome.reason}`;
      return finish(null, { replies: [{ type: 'text', text: { key, params: { name: (outcome.ok ? outcome.name : null) ?? '' } }, choices: menuChoices() }], next: null });
    };

    switch (input.type) {
      case 'start': {
        const link = linkCodeOfPayload(input.payload);
        if (link) return viaLink(link);
        const intent = input.payload ? (COMMAND_INTENTS[input.payload.toLowerCase()] ?? null) : null;
        if (intent && intent !== 'menu') return viaIntent(intent);
        return finish(null, { replies: [greeting()], next: null });
      }
      case 'command': {
        const intent = COMMAND_INTENTS[input.command] ?? null;
        if (intent) return viaIntent(intent);
        if (activeFlow) return finish(activeFlow, await activeFlow.step(ctx, current.step ?? '', current.state, { type: 'text', text: `/${input.command}` }));
        return finish(null, { replies: [menuReply('unknown')], next: null });
      }
      case 'text': {
        // Whole-message words ("menu", 「取消」) work at any step; sentences are the flow's to read first.
        const intent = matchIntent(input.text);
        if (intent) return viaIntent(intent);
        const link = linkCodeInText(input.text);
        if (link) return viaLink(link);
        if (activeFlow) {
          const result = await activeFlow.step(ctx, current.step ?? '', current.state, input);
          if (result.reask !== true) return finish(activeFlow, result);
          return (await midFlow(understand(input.text), result)) ?? finish(activeFlow, result);
        }
        const understood = understand(input.text);
        if (understood) return viaUnderstood(understood);
        // Someone who writes before ever opening the menu is greeted, not told they were misunderstood.
        return finish(null, { replies: [isNewCustomer ? greeting() : menuReply('unknown')], next: null });
      }
      case 'choice': {
        const intent = intentOfChoice(input.id);
        if (intent) return viaIntent(intent);
        const owner = flowOfChoice(input.id);
        if (owner && activeFlow === owner) return finish(owner, await owner.step(ctx, current.step ?? '', current.state, input));
        if (owner) return finish(owner, await owner.start(ctx, input));
        return finish(null, { replies: [menuReply('staleButton')], next: null });
      }
      case 'contact': {
        if (activeFlow) return finish(activeFlow, await activeFlow.step(ctx, current.step ?? '', current.state, input));
        await updateCustomer(ctx.tx, ctx.customer.id, { phone: input.phone }, ctx.clock.now.toISOString());
        return finish(null, { replies: [{ type: 'text', text: { key: 'contact.saved', params: { phone: input.phone } }, choices: menuChoices() }], next: null });
      }
      case 'image':
      case 'location':
      case 'sticker': {
        if (activeFlow) return finish(activeFlow, await activeFlow.step(ctx, current.step ?? '', current.state, input));
        return finish(null, { replies: [{ type: 'text', text: { key: `media.${input.type}` }, choices: menuChoices() }], next: null });
      }
      case 'stop':
        return { replies: [], position: current, locale: null };
    }
  }

  /** The platform said the customer left (stop), or they wrote again after leaving: their identity says so. */
  async function noteReachability(tx: Transaction<Database>, identity: { id: string; reachable: number }, input: Input, nowIso: string): Promise<void> {
    if (input.type === 'stop') await setIdentityReachable(tx, identity.id, false, nowIso);
    else if (identity.reachable === 0) await setIdentityReachable(tx, identity.id, true, nowIso);
  }

  /** The customer's message as the transcript keeps it: a pressed button by the label they saw. */
  async function inboundMessage(tx: Transaction<Database>, event: InboundEvent, customerId: string, conversation: Conversation | null, nowIso: string): Promise<NewMessageRow> {
    const described = describeInput(event.input);
    const choiceLabel = event.input.type === 'choice' ? await labelOfChoice(tx, customerId, event.input.id) : null;
    return {
      customer_id: customerId,
      channel: event.channel,
      direction: 'in',
      sender: 'customer',
      kind: described.kind,
      text: described.text ?? choiceLabel,
      payload: described.payload === null ? null : JSON.stringify(described.payload),
      flow: conversation?.flow ?? null,
      step: conversation?.step ?? null,
      event_id: event.eventId,
      outbox_id: null,
      staff_user_id: null,
      created_at: nowIso,
    };
  }

  /** What a step may use, in the customer's language; `localeRef` holds a language the step chose. */
  function flowContext(tx: Transaction<Database>, customer: FlowContext['customer'], channel: ChannelName, now: Date): { ctx: FlowContext; localeRef: { value: Locale | null } } {
    const localeRef: { value: Locale | null } = { value: null };
    const locale = isLocale(customer.locale) ? customer.locale : config.dealer.defaultLocale;
    const ctx: FlowContext = {
      tx,
      customer,
      channel,
      locale,
      clock: flowClock(now, config.dealer.timeZone),
      t: (key, params) => translator.t(locale, key, params),
      words,
      dealer,
      menuChoices,
      calendarLink: async (reference) => (deps.calendarLink ? deps.calendarLink(reference, channel) : null),
      setLocale(next) {
        localeRef.value = next;
      },
    };
    return { ctx, localeRef };
  }

  /** Queues a turn's replies; a LINE event's reply token goes with the first, valid until LINE's limit from the event. */
  function enqueueTurn(tx: Transaction<Database>, event: InboundEvent, customerId: string, turn: Turn, nowIso: string): Promise<number> {
    const replyToken = event.replyToken ? { token: event.replyToken, expiresAt: new Date(Date.parse(event.occurredAt) + LINE_LIMITS.replyTokenTtlMs).toISOString() } : null;
    return enqueueReplies(tx, {
      customerId,
      channel: event.channel,
      externalId: event.externalId,
      replies: turn.replies,
      replyToken,
      source: 'bot',
      flow: turn.position.flow,
      step: turn.position.step,
      now: nowIso,
    });
  }

  async function processOnce(row: InboundEventRow, event: InboundEvent, failure: unknown | null): Promise<{ result: StepOutcome; enqueued: number }> {
    const key = `${event.channel}:${event.externalId}`;
    return store.transaction(async (tx: Transaction<Database>) => {
      const now = clock.now();
      const nowIso = now.toISOString();
      await store.lock(tx, key);
      // Another instance may have taken this customer's queue while we waited for the lock.
      const head = await headOfQueue(tx, event.channel, event.externalId);
      if (!head || head.id !== row.id) return { result: 'taken' as const, enqueued: 0 };
      await markEventDone(tx, row.id, nowIso);
      if (await isEventProcessed(tx, event.channel, event.eventId)) return { result: 'duplicate' as const, enqueued: 0 };
      await claimEvent(tx, event.channel, event.eventId, nowIso);

      const defaultLocale = config.dealer.defaultLocale;
      const { customer, identity, isNew } = await resolveCustomer(tx, {
        channel: event.channel,
        externalId: event.externalId,
        displayName: event.profile?.displayName ?? null,
        locale: resolveLocale(event.profile?.languageHint, defaultLocale) ?? defaultLocale,
        now: nowIso,
      });
      await noteReachability(tx, identity, event.input, nowIso);

      const conversation = await loadConversation(tx, customer.id);
      await appendMessage(tx, await inboundMessage(tx, event, customer.id, conversation, nowIso));

      const { ctx, localeRef } = flowContext(tx, customer, event.channel, now);

      let turn: Turn;
      if (failure === null) {
        turn = await runTurn(ctx, conversation, event.input, localeRef, isNew);
      } else {
        turn = { replies: [menuReply('error')], position: IDLE, locale: null };
      }
      if (event.input.type !== 'stop' || conversation) await saveConversation(tx, customer.id, conversation, turn.position, nowIso);
      if (turn.locale && turn.locale !== customer.locale) await updateCustomer(tx, customer.id, { locale: turn.locale }, nowIso);

      const enqueued = await enqueueTurn(tx, event, customer.id, turn, nowIso);
      return { result: 'processed' as const, enqueued };
    });
  }

  /** Runs one inbox row through its step; a bug in the step is answered with an apology instead. */
  async function processRow(row: InboundEventRow, event: InboundEvent): Promise<StepOutcome> {
    const started = performance.now();
    let failure: unknown = null;
    for (let attempt = 0; ; attempt++) {
      try {
        const { result, enqueued } = await processOnce(row, event, failure);
        if (result === 'processed') {
          metrics.eventsProcessed.inc({ channel: event.channel, result: failure ? 'recovered' : 'ok' });
          metrics.stepLatency.observe({ channel: event.channel }, (performance.now() - started) / 1000);
        }
        if (enqueued > 0) deps.onOutbox?.();
        return result;
      } catch (err) {
        // Lost a race with another writer (a save of the same conversation, or the first message of a new
        // customer arriving twice at once on another instance): run the event again on the fresh state.
        const lostRace = err instanceof ConversationConflict || isUniqueViolation(err, 'channel_identities') || isUniqueViolation(err, 'customers') || deps.isRetryable?.(err) === true;
        if (lostRace && attempt < MAX_CONFLICT_RETRIES) continue;
        // Another instance applied this very event between our check and our commit (D1 has no locks).
        if (isUniqueViolation(err, 'processed_events')) return 'duplicate';
        if (failure !== null) throw err;
        log.error({ err, channel: event.channel, eventId: event.eventId, input: event.input.type }, 'step failed; answering with an apology and the menu');
        failure = err;
      }
    }
  }

  /**
   * Works through one customer's waiting events, oldest first, one at a time. If the store fails, the
   * event stays queued with a backoff and nothing after it runs, so the order is never broken.
   */
  async function processQueue(channel: ChannelName, externalId: string): Promise<number> {
    return mutex.run(`${channel}:${externalId}`, async () => {
      let handled = 0;
      for (;;) {
        const row = await headOfQueue(store.db, channel, externalId);
        if (!row || row.next_attempt_at > clock.now().toISOString()) return handled;
        let event = JSON.parse(row.payload) as InboundEvent;
        try {
          if (deps.enrich) event = await deps.enrich(event);
          const result = await processRow(row, event);
          if (result !== 'taken') handled += 1;
        } catch (err) {
          const attempts = row.attempts + 1;
          const retryAt = new Date(clock.now().getTime() + Math.min(300_000, 1000 * 2 ** attempts)).toISOString();
          metrics.eventsProcessed.inc({ channel, result: 'failed' });
          log.error({ err, channel, eventId: row.event_id, attempts }, 'event could not be saved; it stays queued and is tried again');
          await markEventAttemptFailed(store.db, row, err instanceof Error ? err.message : String(err), retryAt, MAX_EVENT_ATTEMPTS).catch(() => undefined);
          return handled;
        }
      }
    });
  }

  /*
   * Batches (SQLite and Postgres). The oldest waiting event of up to BATCH_CUSTOMERS customers is
   * processed in one write transaction: the events taken and recorded as handled, the customers,
   * identities and conversations read, and the transcript written, each in one statement for the whole
   * batch. A customer's later events wait for the next batch, so their order is kept. If anything in the
   * batch fails (a bug in a step, a lost race, the store), nothing of it is kept and each of its customers
   * is processed again on their own, event by event, as processQueue always has: one customer's failure
   * costs the others a second try, never their events. D1 cannot return rows from a write inside a
   * transaction (the take), so there every customer is processed on their own.
   *
   * In one process batches run one at a time, and so does processQueue, on one lane: SQLite has a single
   * writer anyway, and on Postgres a batch of many customers is what keeps processing ahead of acceptance.
   * Across instances, customers are locked in one sorted order and an event is taken by marking it done;
   * one another instance took first is left out.
   */
  const batching = store.dialect !== 'd1';
  /** Batches run side by side: SQLite has one writer; Postgres gives each its own connection. */
  const lanes = store.dialect === 'postgres' ? POSTGRES_LANES : 1;
  /** Events in one batch, at most (see SQLITE_BATCH_MS). */
  const batchEventsMax = store.dialect === 'sqlite' ? SQLITE_BATCH_EVENTS : BATCH_CUSTOMERS * EVENTS_PER_CUSTOMER;
  /** Milliseconds a batched event has taken lately (a moving average); SQLite sizes its batches by it. */
  let msPerEvent = 1;
  const batchEventsNow = () =>
    store.dialect === 'sqlite' ? Math.max(SQLITE_BATCH_EVENTS_MIN, Math.min(batchEventsMax, Math.floor(SQLITE_BATCH_MS / msPerEvent))) : batchEventsMax;
  let lane: Promise<unknown> = Promise.resolve();
  function inLane<T>(work: () => Promise<T>): Promise<T> {
    const run = lane.then(work, work);
    lane = run.catch(() => undefined);
    return run;
  }

  async function lockCustomers(tx: Transaction<Database>, keys: string[]): Promise<void> {
    if (store.dialect !== 'postgres') return;
    // The order staff operations lock the same keys in (src/staff/customers/erase.ts), so no deadlock.
    const sorted = [...keys].sort();
    await sql`select pg_advisory_xact_lock(hashtextextended(k, 0)) from unnest(${sorted}::text[]) with ordinality as t(k, n) order by n`.execute(tx);
  }

  interface BatchItem {
    row: InboundEventRow;
    event: InboundEvent;
  }
  const keyOf = (i: BatchItem) => `${i.event.channel}:${i.event.externalId}`;

  async function processBatchOnce(items: BatchItem[]): Promise<{ processed: BatchItem[]; taken: number; enqueued: number }> {
    return store.transaction(async (tx: Transaction<Database>) => {
      const now = clock.now();
      const nowIso = now.toISOString();
      await lockCustomers(tx, [...new Set(items.map(keyOf))]);
      const taken = await takePending(tx, items.map((i) => i.row.id), nowIso);
      // An event another instance took ends its customer's run here: what follows waits for a later pass.
      const cut = new Set<string>();
      const mine = items.filter((i) => {
        if (cut.has(keyOf(i))) return false;
        if (taken.has(i.row.id)) return true;
        cut.add(keyOf(i));
        return false;
      });
      if (cut.size > 0) {
        const given = items.filter((i) => cut.has(keyOf(i)) && taken.has(i.row.id)).map((i) => i.row.id);
        if (given.length) await tx.updateTable('inbound_events').set({ status: 'pending', processed_at: null }).where('id', 'in', given).execute();
      }
      // A redelivery the inbox no longer remembers was handled before: taken (marked done) and skipped.
      const claimed = await claimEvents(tx, mine.map((i) => ({ channel: i.event.channel, eventId: i.event.eventId })), nowIso);
      const work = mine.filter((i) => claimed.has(`${i.event.channel}:${i.event.eventId}`));
      if (work.length === 0) return { processed: [], taken: mine.length, enqueued: 0 };

      const defaultLocale = config.dealer.defaultLocale;
      const resolved = new Map<string, ResolvedCustomer>();
      for (const channel of new Set(work.map((i) => i.event.channel))) {
        const ofChannel = work.filter((i) => i.event.channel === channel);
        const found = await resolveCustomers(
          tx,
          channel,
          ofChannel.map((i) => ({
            externalId: i.event.externalId,
            displayName: i.event.profile?.displayName ?? null,
            locale: resolveLocale(i.event.profile?.languageHint, defaultLocale) ?? defaultLocale,
          })),
          nowIso,
        );
        for (const [externalId, r] of found) resolved.set(`${channel}:${externalId}`, r);
      }
      const conversations = await loadConversations(tx, [...new Set([...resolved.values()].map((r) => r.customer.id))]);

      const transcript: NewMessageRow[] = [];
      let enqueued = 0;
      /** Where each customer stands after their events so far in this batch. */
      const after = new Map<string, { conversation: Conversation }>();
      for (const item of work) {
        const { event } = item;
        try {
        const first = resolved.get(keyOf(item))!;
        const earlier = after.get(keyOf(item));
        let { customer, identity, isNew } = first;
        if (earlier) {
          // The customer's row again (their step may have changed it); the conversation is what we saved.
          customer = await tx.selectFrom('customers').selectAll().where('id', '=', customer.id).executeTakeFirstOrThrow();
          isNew = false;
        }
        await noteReachability(tx, identity, event.input, nowIso);
        const conversation = earlier ? earlier.conversation : (conversations.get(customer.id) ?? null);
        transcript.push(await inboundMessage(tx, event, customer.id, conversation, nowIso));
        const { ctx, localeRef } = flowContext(tx, customer, event.channel, now);
        const turn = await runTurn(ctx, conversation, event.input, localeRef, isNew);
        let saved = conversation;
        if (event.input.type !== 'stop' || conversation) saved = await saveConversation(tx, customer.id, conversation, turn.position, nowIso);
        if (saved) after.set(keyOf(item), { conversation: saved });
        else after.delete(keyOf(item));
        first.identity = { ...identity, reachable: event.input.type === 'stop' ? 0 : 1 };
        if (turn.locale && turn.locale !== customer.locale) await updateCustomer(tx, customer.id, { locale: turn.locale }, nowIso);
        enqueued += await enqueueTurn(tx, event, customer.id, turn, nowIso);
        } catch (err) {
          throw new BatchItemFailed(item, err);
        }
      }
      await appendMessages(tx, transcript);
      return { processed: work, taken: mine.length, enqueued };
    });
  }

  /**
   * One batch. A customer whose own step failed is left out and the rest run again as a batch (up to a
   * few times); that customer, one whose profile could not be had, and everyone of a batch that failed
   * otherwise are processed on their own, event by event (processQueue: apology, retries, backoff).
   */
  async function processBatch(rows: InboundEventRow[]): Promise<number> {
    const alone: InboundEventRow[] = [];
    const enriched = await Promise.all(
      rows.map(async (row): Promise<BatchItem | null> => {
        try {
          const event = JSON.parse(row.payload) as InboundEvent;
          return { row, event: deps.enrich ? await deps.enrich(event) : event };
        } catch {
          alone.push(row);
          return null;
        }
      }),
    );
    // A customer whose profile could not be had goes on their own from that event; a link code may move
    // the identity to another customer, so what follows it waits for the next batch.
    const stopped = new Set(alone.map((r) => `${r.channel}:${r.external_id}`));
    const linked = new Set<string>();
    let items = enriched.filter((i): i is BatchItem => {
      if (i === null || stopped.has(keyOf(i)) || linked.has(keyOf(i))) return false;
      const input = i.event.input;
      if ((input.type === 'start' && linkCodeOfPayload(input.payload)) || (input.type === 'text' && linkCodeInText(input.text))) linked.add(keyOf(i));
      return true;
    });
    let handled = 0;
    for (let retries = 3; items.length > 0; retries--) {
      const started = performance.now();
      try {
        const { processed, taken, enqueued } = await processBatchOnce(items);
        const seconds = (performance.now() - started) / 1000;
        if (processed.length > 0) msPerEvent = 0.8 * msPerEvent + 0.2 * ((seconds * 1000) / processed.length);
        for (const { event } of processed) {
          metrics.eventsProcessed.inc({ channel: event.channel, result: 'ok' });
          metrics.stepLatency.observe({ channel: event.channel }, seconds);
        }
        if (enqueued > 0) deps.onOutbox?.();
        handled += taken;
        break;
      } catch (err) {
        if (err instanceof BatchItemFailed && retries > 0) {
          log.debug({ err: err.cause, channel: err.item.event.channel, eventId: err.item.event.eventId }, 'a step failed in a batch; the others run again without it');
          // The customer's queue goes on its own, in order, from this event; the others run again together.
          const failed = keyOf(err.item);
          alone.push(err.item.row);
          items = items.filter((i) => keyOf(i) !== failed);
        } else {
          log.debug({ err, events: items.length }, 'a batch failed; its customers are processed one by one');
          alone.push(...items.map((i) => i.row));
          break;
        }
      }
    }
    const done = new Set<string>();
    for (const row of alone) {
      const key = `${row.channel}:${row.external_id}`;
      if (done.has(key)) continue;
      done.add(key);
      handled += await processQueue(row.channel, row.external_id);
    }
    return handled;
  }

  /** One batch of the customers waiting longest (Node: SQLite and Postgres). */
  async function drainBatch(): Promise<number> {
    return inLane(async () => {
      const rows = await oldestPending(store.db, BATCH_READ * lanes);
      const nowIso = clock.now().toISOString();
      // Each customer's oldest waiting events, in order, while they are due: a customer whose oldest event
      // waits for a retry waits whole, and nothing overtakes an event that is not due.
      const runs = new Map<string, { count: number; open: boolean }>();
      const heads: InboundEventRow[] = [];
      const limit = batchEventsNow() * lanes;
      for (const row of rows) {
        const key = `${row.channel}:${row.external_id}`;
        let run = runs.get(key);
        if (!run) {
          if (runs.size === BATCH_CUSTOMERS * lanes) continue;
          run = { count: 0, open: true };
          runs.set(key, run);
        }
        if (!run.open) continue;
        if (row.next_attempt_at > nowIso || run.count === EVENTS_PER_CUSTOMER) {
          run.open = false;
          continue;
        }
        run.count += 1;
        heads.push(row);
        if (heads.length === limit) break;
      }
      if (heads.length > 0 && lanes > 1 && runs.size > MIN_CUSTOMERS_PER_LANE) {
        // Postgres: several batches at once on their own connections, each customer in one of them only.
        const keys = [...runs.keys()];
        const groups = Math.min(lanes, Math.ceil(keys.length / MIN_CUSTOMERS_PER_LANE));
        const laneOf = new Map(keys.map((k, i) => [k, i % groups]));
        const parts = Array.from({ length: groups }, (_, g) => heads.filter((r) => laneOf.get(`${r.channel}:${r.external_id}`) === g));
        return (await Promise.all(parts.map((part) => processBatch(part)))).reduce((a, b) => a + b, 0);
      }
      if (heads.length > 0) return processBatch(heads);
      if (rows.length < BATCH_READ * lanes) return 0;
      // Every event read belongs to a customer waiting for a retry: find the due ones the old way.
      let handled = 0;
      for (const key of await customersWithPendingEvents(store.db, nowIso, BATCH_CUSTOMERS)) handled += await processQueue(key.channel, key.external_id);
      return handled;
    });
  }

  async function tracked<T>(work: () => Promise<T>): Promise<T> {
    inFlight += 1;
    try {
      return await work();
    } finally {
      inFlight -= 1;
      if (inFlight === 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  // Webhooks arriving together are kept together: one statement and one commit for many events.
  const inbox = createBatcher<InboundEvent, boolean>((events) => acceptEvents(store.db, events, clock.now().toISOString()), EVENTS_PER_INSERT * 4);

  async function accept(event: InboundEvent): Promise<'accepted' | 'duplicate'> {
    const fresh = await inbox.add(event);
    if (!fresh) metrics.eventsDeduplicated.inc({ channel: event.channel });
    return fresh ? 'accepted' : 'duplicate';
  }

  /** One pass over every customer with due events, several customers at a time. */
  async function drainOnce(): Promise<number> {
    if (batching) return drainBatch();
    const keys = await customersWithPendingEvents(store.db, clock.now().toISOString(), 200);
    let handled = 0;
    let index = 0;
    const worker = async () => {
      while (index < keys.length) {
        const key = keys[index++]!;
        const n = await processQueue(key.channel, key.external_id);
        handled += n;
      }
    };
    await Promise.all(Array.from({ length: Math.min(QUEUE_CONCURRENCY, keys.length) }, worker));
    return handled;
  }

  const background = createWorkLoop(async () => {
    const handled = await tracked(drainOnce);
    // Under a steady stream a small batch means more events are on their way: a moment's wait lets the
    // next batch take them together (one commit for many) and costs the acknowledgements nothing.
    if (batching && handled > 0 && handled < GATHER_BELOW) await new Promise((resolve) => setTimeout(resolve, GATHER_MS));
    return { didWork: handled > 0, nextDueInMs: null };
  }, {
    idleMs: deps.idlePollMs ?? 1000,
    logger: log,
    name: 'inbox',
  });

  return {
    accept,
    async handle(event) {
      if ((await accept(event)) === 'duplicate') return 'duplicate';
      await tracked(() => (batching ? inLane(() => processQueue(event.channel, event.externalId)) : processQueue(event.channel, event.externalId)));
      return 'processed';
    },
    async drain() {
      let total = 0;
      // A batch takes one event of each customer, so a long queue takes as many passes as it has events.
      for (let pass = 0; pass < (batching ? 100_000 : 50); pass++) {
        const handled = await tracked(drainOnce);
        total += handled;
        if (handled === 0) break;
      }
      return total;
    },
    processCustomer: (channel, externalId) => tracked(() => processQueue(channel, externalId)),
    start: () => background.start(),
    kick: () => background.kick(),
    stop: () => background.stop(),
    idle() {
      return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve));
    },
    menuChoices,
  };
}
