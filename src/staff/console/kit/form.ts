import type { Context } from 'hono';
import type { FieldError } from '../../result';
import type { Problem } from './components';
import type { Page } from './context';
import type { Flash } from './layout';

/** A form post as pages read it: fields trimmed or as sent, repeated fields (checkboxes) as lists. */
export interface FormValues {
  /** The field, trimmed ('' when absent). */
  get(name: string): string;
  /** The field exactly as sent ('' when absent): passwords, and text a service trims by its own rules. */
  raw(name: string): string;
  /** Every value of a repeated field, trimmed, blanks left out. */
  all(name: string): string[];
  has(name: string): boolean;
}

export async function readForm(c: Context): Promise<FormValues> {
  const body = await c.req.parseBody({ all: true });
  const values = (name: string): string[] => {
    const v = body[name];
    const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
    return list.filter((x): x is string => typeof x === 'string');
  };
  return {
    get: (name) => (values(name)[0] ?? '').trim(),
    raw: (name) => values(name)[0] ?? '',
    all: (name) => values(name).map((x) => x.trim()).filter((x) => x.length > 0),
    has: (name) => values(name).length > 0,
  };
}

/** A service's field errors in the staff member's language; `key` names each problem's text. */
export function problemsOf(page: Page, errors: readonly FieldError[], key: (error: FieldError) => string): Problem[] {
  return errors.map((e) => ({ field: e.field, text: page.t(key(e), e.params) }));
}

/** The note at the top of a refused form: every problem, so none hides below the fold. */
export function problemsFlash(page: Page, problems: readonly Problem[]): Flash {
  return { text: `${page.t('common.fixBelow')} ${problems.map((p) => p.text).join(' · ')}`, error: true };
}

/**
 * The note a page shows after a successful post redirected to it (`?flash=word`): `key(word)` for the
 * words the page knows, nothing for any other.
 */
export function flashNote(page: Page, known: readonly string[], key: (word: string) => string, params?: Record<string, string | number>): Flash | null {
  return page.flash && known.includes(page.flash) ? { text: page.t(key(page.flash), params) } : null;
}
