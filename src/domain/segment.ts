/*
 * Words of a message. Chinese, Japanese and Thai are written without spaces, so the words come from
 * Intl.Segmenter (built into Node and Workers, with ICU's dictionaries); the segmenter is chosen by the
 * script of the text, not the customer's language, since a customer may write in any of them.
 */

const segmenters = new Map<string, Intl.Segmenter>();

function segmenter(locale: string): Intl.Segmenter {
  let s = segmenters.get(locale);
  if (!s) segmenters.set(locale, (s = new Intl.Segmenter(locale, { granularity: 'word' })));
  return s;
}

/** The language whose dictionary splits `text` best, from its script. */
function localeOfScript(text: string): string {
  if (/[\u0E00-\u0E7F]/.test(text)) return 'th';
  if (/[\u3040-\u30FF]/.test(text)) return 'ja';
  if (/\p{sc=Han}/u.test(text)) return 'zh';
  return 'en';
}

/** Folds what people type into one comparable form: full-width to half-width (NFKC) and lower case. */
export function foldText(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/**
 * The words of `text`, folded, without spaces and punctuation: "I want to book!" → i, want, to, book;
 * 「我想預約保養」 → 我想, 預約, 保養.
 */
export function wordsOf(text: string): string[] {
  const folded = foldText(text);
  const out: string[] = [];
  for (const part of segmenter(localeOfScript(folded)).segment(folded)) {
    // Thai marks and some CJK segments are not "word-like" to ICU but still carry meaning; only
    // whitespace and punctuation are dropped.
    if (part.isWordLike || /[\p{L}\p{N}]/u.test(part.segment)) out.push(part.segment.trim());
  }
  return out.filter(Boolean);
}

/**
 * Where `phrase` (itself a list of words) occurs in `words` with both ends on word boundaries, allowing
 * the segmenter to have split it differently inside (客服 may come out as 客|服 in a sentence). Returns
 * the index of the first word, or -1.
 */
export function findWords(words: readonly string[], phrase: string, taken: ReadonlySet<number> = new Set()): number {
  return findSpan(words, phrase, taken)?.[0] ?? -1;
}

/** The first span [from, to] of words that spells `phrase` and uses none of `taken`. */
function findSpan(words: readonly string[], phrase: string, taken: ReadonlySet<number>): [number, number] | null {
  if (!phrase) return null;
  for (let i = 0; i < words.length; i++) {
    let joined = '';
    for (let j = i; j < words.length && joined.length < phrase.length && !taken.has(j); j++) {
      joined += words[j];
      if (joined === phrase) return [i, j];
    }
  }
  return null;
}

/**
 * How many of `words` the phrases cover when every one is found, each on words of its own ("what do you
 * do" has two "do"s, not one); -1 when one is missing.
 */
export function findAll(words: readonly string[], phrases: readonly string[]): number {
  const taken = new Set<number>();
  for (const phrase of phrases) {
    const span = findSpan(words, phrase, taken);
    if (!span) return -1;
    for (let k = span[0]; k <= span[1]; k++) taken.add(k);
  }
  return taken.size;
}

/** A phrase as findWords compares it: its words joined without spaces. */
export function phraseKey(phrase: string): string {
  return wordsOf(phrase).join('');
}
