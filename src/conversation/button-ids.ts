import { TELEGRAM_LIMITS } from '../channels/limits';
import { SUPPORTED_LOCALES, type Locale } from '../i18n/locales';
import { INTENTS, type Intent } from './intents';

/*
 * Button ids: what a LINE postback, a Telegram callback_data or a web button carries back when pressed.
 * Every id is made and read here, one typed table per flow, so a flow, a reminder, a card and the console
 * all make the same id for the same button, and nothing else builds one from a string.
 *
 * An id is `<prefix>:<code>[:<arg>…]`. The prefix is the flow's saved name, so a button pressed long after
 * its message (from a reminder, an old card) finds the flow that answers it. Renaming a prefix or a code
 * is a migration: buttons already in customers' chats would stop working (they get "that button belongs to
 * an earlier conversation"). Keep the old name as an alias in the table when you rename.
 */

type Spec = Record<string, { readonly code: string; readonly args: readonly string[] }>;

type ArgValues<A extends readonly string[]> = { [I in keyof A]: string | number };

/** A parsed id: which button of the table, with its arguments by name. */
export type Pressed<S extends Spec> = { [K in keyof S]: { name: K; args: { [P in S[K]['args'][number]]: string } } }[keyof S];

export interface ButtonIds<S extends Spec> {
  readonly prefix: string;
  /** The id of button `name` with its arguments, in the order the table names them. */
  id<K extends keyof S & string>(name: K, ...args: ArgValues<S[K]['args']>): string;
  /** Which button of this table `id` is, or null when it is not one of them. */
  parse(id: string): Pressed<S> | null;
  /** True when `id` is button `name` of this table (any arguments). */
  is<K extends keyof S & string>(id: string, name: K): boolean;
  /** The arguments of `id` when it is button `name`, else null. */
  argsOf<K extends keyof S & string>(id: string, name: K): { [P in S[K]['args'][number]]: string } | null;
  /** True for any id of this table's prefix, known or not (a button of an earlier version of the flow). */
  owns(id: string): boolean;
}

const SEPARATOR = ':';
const encoder = new TextEncoder();

/**
 * Declares a flow's buttons: `defineButtons('mybk', { cancel: { code: 'c', args: ['appointmentId'] } })`.
 * Arguments must not contain ':' except the last, which takes the rest of the id. Ids longer than
 * Telegram's 64 bytes throw: that is a bug in the table, never customer input.
 */
export function defineButtons<const S extends Spec>(prefix: string, spec: S): ButtonIds<S> {
  const byCode = new Map<string, keyof S & string>();
  for (const [name, { code }] of Object.entries(spec)) {
    if (byCode.has(code)) throw new Error(`button code ${prefix}:${code} is declared twice`);
    byCode.set(code, name);
  }
  const head = `${prefix}${SEPARATOR}`;

  const parse = (id: string): Pressed<S> | null => {
    if (!id.startsWith(head)) return null;
    const parts = id.slice(head.length).split(SEPARATOR);
    const name = byCode.get(parts[0] ?? '');
    if (!name) return null;
    const argNames = spec[name]!.args;
    const values = parts.slice(1);
    if (argNames.length === 0 ? values.length !== 0 : values.length < argNames.length) return null;
    const args: Record<string, string> = {};
    argNames.forEach((arg, i) => {
      args[arg] = i === argNames.length - 1 ? values.slice(i).join(SEPARATOR) : values[i]!;
    });
    if (Object.values(args).some((v) => v === '')) return null;
    return { name, args } as Pressed<S>;
  };

  return {
    prefix,
    id(name, ...args) {
      const entry = spec[name]!;
      if (args.length !== entry.args.length) throw new Error(`button ${prefix}:${name} takes ${entry.args.length} arguments`);
      const id = [prefix, entry.code, ...args.map(String)].join(SEPARATOR);
      if (encoder.encode(id).length > TELEGRAM_LIMITS.callbackDataBytes) throw new Error(`button id ${id} is longer than ${TELEGRAM_LIMITS.callbackDataBytes} bytes`);
      return id;
    },
    parse,
    is: (id, name) => parse(id)?.name === name,
    argsOf(id, name) {
      const pressed = parse(id);
      return pressed && pressed.name === name ? (pressed.args as never) : null;
    },
    owns: (id) => id.startsWith(head),
  };
}

/** The prefix of an id: the flow (or `i` for an intent) that answers it. */
export function prefixOf(id: string): string {
  return id.split(SEPARATOR, 1)[0] ?? '';
}

// ——— the tables ———

/** Buttons that mean an intent from anywhere (`i:book`): the menu, "talk to a person", "my bookings". */
export const intentButtons = defineButtons('i', Object.fromEntries(INTENTS.map((intent) => [intent, { code: intent, args: [] }])) as { [K in Intent]: { code: K; args: [] } });

export function intentOfChoice(id: string): Intent | null {
  return intentButtons.parse(id)?.name ?? null;
}

/** Answers every flow may ask for with its own prefix (`book:yes`), read by the kit's answer helpers. */
const ANSWERS = {
  yes: { code: 'yes', args: [] },
  no: { code: 'no', args: [] },
  skip: { code: 'skip', args: [] },
  done: { code: 'done', args: [] },
  confirm: { code: 'ok', args: [] },
  /** A button that only lays out others (a calendar's weekday heading); pressing it does nothing. */
  noop: { code: 'noop', args: [] },
} as const;

export type AnswerButton = keyof typeof ANSWERS;

/** Booking a visit (and moving one). */
export const bookingButtons = defineButtons('book', {
  ...ANSWERS,
  branch: { code: 'br', args: ['branchId'] },
  service: { code: 'st', args: ['code'] },
  vehicle: { code: 'veh', args: ['vehicleId'] },
  newVehicle: { code: 'vnew', args: [] },
  day: { code: 'd', args: ['date'] },
  pickDay: { code: 'pick', args: [] },
  month: { code: 'cal', args: ['month'] },
  time: { code: 't', args: ['date', 'hhmm'] },
  laterTimes: { code: 'more', args: [] },
  otherDay: { code: 'otherday', args: [] },
});

/** The customer's upcoming bookings, and the buttons on reminders. */
export const myBookingsButtons = defineButtons('mybk', {
  yes: ANSWERS.yes,
  no: ANSWERS.no,
  reschedule: { code: 'r', args: ['appointmentId'] },
  cancel: { code: 'c', args: ['appointmentId'] },
  cancelConfirmed: { code: 'cy', args: ['appointmentId'] },
  keep: { code: 'k', args: [] },
  attending: { code: 'ok', args: ['appointmentId'] },
  /** One booking, by the reference the customer typed ("BK-7K3QXM"). */
  byReference: { code: 'ref', args: ['reference'] },
});

/** What a customer can ask about a branch, answered from its own data. */
export type InfoTopic = 'hours' | 'address' | 'phone' | 'services';

/** Questions about the branch: a topic (`info:t:hours`), and that topic at one branch when there are several. */
export const infoButtons = defineButtons('info', {
  topic: { code: 't', args: ['topic'] },
  atBranch: { code: 'b', args: ['topic', 'branchId'] },
});

/** Choosing the language: one button per language (`lang:ja`). */
export const languageButtons = defineButtons(
  'lang',
  Object.fromEntries(SUPPORTED_LOCALES.map((locale) => [locale, { code: locale, args: [] }])) as { [L in Locale]: { code: L; args: [] } },
);

/** A complaint: the intake's questions, and the "is it resolved?" and rating buttons sent after staff resolve it. */
export const complaintButtons = defineButtons('cmp', {
  yes: ANSWERS.yes,
  no: ANSWERS.no,
  skip: ANSWERS.skip,
  done: ANSWERS.done,
  category: { code: 'c', args: ['category'] },
  visit: { code: 'v', args: ['kind', 'visitId'] },
  noVisit: { code: 'nv', args: [] },
  urgency: { code: 'u', args: ['priority'] },
  contact: { code: 'ct', args: ['method'] },
  resolved: { code: 'ry', args: ['complaintId'] },
  notResolved: { code: 'rn', args: ['complaintId'] },
  rating: { code: 'rt', args: ['complaintId', 'score'] },
});

/**
 * Repair progress: answering added items, the pickup card, "call me". Items and requests have short ids
 * (10 characters) and orders their UUID, so the longest id ('prog:ptt:<order>:<yyyymmdd>:<hhmm>') is 59 bytes.
 */
export const progressButtons = defineButtons('prog', {
  approve: { code: 'a', args: ['itemId'] },
  decline: { code: 'd', args: ['itemId'] },
  approveAll: { code: 'aa', args: ['requestId'] },
  /** Shows a consent request again, with its unanswered items. */
  answer: { code: 'ans', args: ['requestId'] },
  callMe: { code: 'call', args: ['orderId'] },
  /** "I'll come at …": a date/time picker on LINE and the web; Telegram gets a list of times. */
  comeAt: { code: 'pt', args: ['orderId'] },
  /** One time from that list: the day (yyyymmdd) and 'hhmm'. */
  comeAtTime: { code: 'ptt', args: ['orderId', 'day', 'hhmm'] },
  moreTime: { code: 'mt', args: ['orderId'] },
  /** One order's progress. */
  order: { code: 'o', args: ['orderId'] },
});

/**
 * The satisfaction survey after a visit: each answer names its survey, the question and the value
 * (`svy:a:<surveyId>:<question>:<value>`, at most 56 bytes with a UUID and the longest aspect), so a tap
 * days later still lands on the right visit, or is told the survey has closed.
 */
export const surveyButtons = defineButtons('svy', {
  answer: { code: 'a', args: ['surveyId', 'question', 'value'] },
  skipComment: { code: 'sk', args: ['surveyId'] },
});
