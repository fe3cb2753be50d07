import type { Translator } from '../i18n';
import { SUPPORTED_LOCALES } from '../i18n/locales';
import { resources } from '../i18n/resources';
import { normalizeWords } from './intents';

/*
 * The words customers type as answers — yes, no, skip, done, confirm, and each flow's own — live in
 * `locales/<lng>/words.json`, so a new language is new files, never new flow code. A customer may answer in
 * any of the languages (someone who chose English still types 好), so every list is read in every locale.
 */

/** A list in words.json: `yes`, `no`, `skip`, `done`, `confirm`, or a flow's own such as `booking.loanerYes`. */
export type WordList = string;

export interface Words {
  /** True when the whole message is one of the words in `list` (politeness such as "please" or ครับ aside). */
  is(list: WordList, text: string): boolean;
  /** Every word of `list` in every locale, normalised. */
  all(list: WordList): ReadonlySet<string>;
}

function leafLists(tree: Record<string, unknown>, prefix = ''): [string, string[]][] {
  const out: [string, string[]][] = [];
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(value)) out.push([path, value.map(String)]);
    else if (value && typeof value === 'object') out.push(...leafLists(value as Record<string, unknown>, path));
  }
  return out;
}

export function createWords(_translator?: Translator): Words {
  const lists = new Map<string, Set<string>>();
  const particles = new Set<string>();
  for (const locale of SUPPORTED_LOCALES) {
    for (const [list, words] of leafLists(resources[locale].words as Record<string, unknown>)) {
      if (list === 'particles') {
        for (const w of words) particles.add(normalizeWords(w));
        continue;
      }
      let set = lists.get(list);
      if (!set) lists.set(list, (set = new Set()));
      for (const w of words) set.add(normalizeWords(w));
    }
  }
  // Longest first, so "no thank you" is stripped before "thank you" could leave "no" half-stripped.
  const ordered = [...particles].sort((a, b) => b.length - a.length);

  /** The message, and the message without courtesies around it ("yes please" → "yes", "ใช่ครับ" → "ใช่"). */
  function forms(text: string): string[] {
    const base = normalizeWords(text);
    const out = [base];
    let current = base;
    for (let changed = true; changed; ) {
      changed = false;
      for (const p of ordered) {
        if (current.length > p.length && current.endsWith(p)) {
          current = normalizeWords(current.slice(0, -p.length));
          out.push(current);
          changed = true;
          break;
        }
        if (current.length > p.length && current.startsWith(`${p} `)) {
          current = normalizeWords(current.slice(p.length));
          out.push(current);
          changed = true;
          break;
        }
      }
    }
    return out;
  }

  const empty: ReadonlySet<string> = new Set();
  return {
    is(list, text) {
      const set = lists.get(list);
      if (!set) throw new Error(`words.json has no list "${list}"`);
      return forms(text).some((f) => set.has(f));
    },
    all: (list) => lists.get(list) ?? empty,
  };
}
