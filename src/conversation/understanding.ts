import type { TextRef } from '../channels/types';
import { normalizeBookingReference } from '../domain/booking-reference';
import { findAll, phraseKey, wordsOf } from '../domain/segment';
import { SUPPORTED_LOCALES } from '../i18n/locales';
import { resources } from '../i18n/resources';
import { infoButtons, myBookingsButtons, type InfoTopic } from './button-ids';
import { INTENTS, type Intent } from './intents';

/*
 * Whole sentences, in any of the five languages: "I want to book a service", 「我想預約保養」, "can I speak
 * to someone please", 「你們幾點開門」, "เปิดกี่โมงครับ". The words come from `phrases` in
 * `locales/<lng>/intents.json`: each entry is one or more words joined by "+", all of which must appear in
 * the message, in any order, each on word boundaries (Chinese, Japanese and Thai are split into words by
 * Intl.Segmenter). The entry with the most words that fit wins; on a tie, the longer words win; a greeting
 * or thanks counts only when nothing else fits. Two different meanings that fit equally well are offered
 * as a question, never guessed.
 *
 * Whole-message words ("menu", 「取消」) are read before this by the intent matcher and always win.
 */

/** Questions about the branch, answered from its own data. */
export const INFO_TOPICS = ['hours', 'address', 'phone', 'services'] as const satisfies readonly InfoTopic[];

/** What a sentence can mean beyond the intents: a question about the branch, a greeting, thanks. */
const EXTRA_TARGETS = [...INFO_TOPICS, 'greeting', 'thanks'] as const;
type Target = Intent | (typeof EXTRA_TARGETS)[number];

/** Where a sentence leads: an intent, a button of a flow (a question about the branch, one booking), or small talk. */
export type Understood =
  | { kind: 'intent'; intent: Intent }
  | { kind: 'button'; id: string }
  | { kind: 'greeting' }
  | { kind: 'thanks' }
  /** Two meanings fit equally well: ask which. */
  | { kind: 'unsure'; options: Option[] };

/** One of the meanings offered when a sentence fits two equally well, as a button. */
export type Option = ({ kind: 'intent'; intent: Intent } | { kind: 'button'; id: string }) & { label: TextRef };

interface Phrase {
  target: Target;
  terms: string[];
  score: number;
}

const TARGETS: readonly Target[] = [...INTENTS, ...EXTRA_TARGETS];
const isTarget = (name: string): name is Target => (TARGETS as readonly string[]).includes(name);

/** A booking reference anywhere in the message ("BK-7K3QXM", "bk 7k3qxm"). */
const REFERENCE = /(?:^|[^a-z0-9])(bk[\s\-_]?[2-9a-z]{6})(?![a-z0-9])/i;

function phrasesOf(): Phrase[] {
  const out: Phrase[] = [];
  for (const locale of SUPPORTED_LOCALES) {
    const table = (resources[locale].intents as { phrases?: Record<string, string[]> }).phrases ?? {};
    for (const [name, entries] of Object.entries(table)) {
      if (!isTarget(name)) throw new Error(`intents.json (${locale}): phrases.${name} is not something a sentence can mean`);
      for (const entry of entries) {
        const terms = entry.split('+').map((t) => phraseKey(t)).filter(Boolean);
        if (terms.length === 0) continue;
        // More words that all fit say more than one long word; length breaks ties.
        out.push({ target: name, terms, score: terms.length * 100 + terms.reduce((n, t) => n + [...t].length, 0) });
      }
    }
  }
  return out;
}

function outcome(target: Target): Exclude<Understood, { kind: 'unsure' }> {
  if ((INFO_TOPICS as readonly string[]).includes(target)) return { kind: 'button', id: infoButtons.id('topic', target) };
  if (target === 'greeting') return { kind: 'greeting' };
  if (target === 'thanks') return { kind: 'thanks' };
  return { kind: 'intent', intent: target as Intent };
}

/** Builds the reader once (the vocabulary of every locale); see the file comment. */
export function createUnderstanding(): (text: string) => Understood | null {
  const read = createReader();
  return (text) => read(text)?.understood ?? null;
}

let shared: ReturnType<typeof createReader> | null = null;

/**
 * True when `text` is plainly a request rather than an answer: a booking reference, or a request or
 * question that two of its words say ("talk + person", 「幾點 + 開門」) or that is most of the message
 * (「地址在哪裡」). A free-text question (a car's make and model, a name) does not take such a message as
 * its answer; a note does.
 */
export function isPlainRequest(text: string): boolean {
  shared ??= createReader();
  const read = shared(text);
  if (!read || read.understood.kind === 'greeting' || read.understood.kind === 'thanks' || read.understood.kind === 'unsure') return false;
  return read.terms >= 2 || read.coverage >= 0.5;
}

function createReader(): (text: string) => { understood: Understood; terms: number; coverage: number } | null {
  const phrases = phrasesOf();
  /** How many words of its phrase the last reading rested on, and how much of the message they were. */
  let lastTerms = 0;
  let lastCoverage = 0;
  const read = (text: string): Understood | null => {
    const reference = REFERENCE.exec(text.normalize('NFKC'));
    const normalized = reference ? normalizeBookingReference(reference[1]!) : null;
    if (normalized) {
      lastTerms = 1;
      lastCoverage = 1;
      return { kind: 'button', id: myBookingsButtons.id('byReference', normalized) };
    }

    const words = wordsOf(text);
    if (words.length === 0) return null;
    const best = new Map<Target, number>();
    const covered = new Map<Target, number>();
    for (const p of phrases) {
      if ((best.get(p.target) ?? 0) >= p.score) continue;
      const n = findAll(words, p.terms);
      if (n < 0) continue;
      best.set(p.target, p.score);
      covered.set(p.target, n);
    }
    // "Hello, I'd like to book": the request counts, the greeting around it does not.
    const smallTalk = (t: Target) => t === 'greeting' || t === 'thanks';
    const requests = [...best.entries()].filter(([t]) => !smallTalk(t));
    const ranked = (requests.length > 0 ? requests : [...best.entries()]).sort((a, b) => b[1] - a[1]);
    const top = ranked[0];
    if (!top) return null;
    lastTerms = Math.floor(top[1] / 100);
    lastCoverage = (covered.get(top[0]) ?? 0) / words.length;
    const tied = ranked.filter(([, score]) => score === top[1]).map(([target]) => target);
    if (tied.length === 1) return outcome(top[0]);

    const options = tied.flatMap((target): Option[] => {
      const o = outcome(target);
      if (o.kind === 'intent') return [{ ...o, label: { key: `menu.${o.intent}` } }];
      if (o.kind === 'button') return [{ ...o, label: { key: `info.${target}` } }];
      return [];
    });
    return options.length > 1 ? { kind: 'unsure', options } : outcome(top[0]);
  };
  return (text) => {
    const understood = read(text);
    if (!understood) return null;
    return { understood, terms: lastTerms, coverage: lastCoverage };
  };
}
