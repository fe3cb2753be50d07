import type { Context } from 'hono';
import type { FC } from 'hono/jsx';
import { LOCALE_NATIVE_NAMES, isLocale } from '../../i18n/locales';
import { randomToken } from '../auth/crypto';
import type { StaffEnv } from '../guard';
import type { Page } from './layout';

/** Times as staff read them (dealership zone, their language): the same as on the customer pages. */
export { formatTime } from './customer-format';

/*
 * Small pieces the admin pages (branches, staff, API tokens, audit log) share: their texts, form reading,
 * problem lists and the audit context of an action.
 */

export const ADMIN_NS = 'console-admin';

/** A text of the admin pages, in the staff member's language. */
export function at(page: Page, key: string, params?: Record<string, string | number>): string {
  return page.t(`${ADMIN_NS}:${key}`, params);
}

/** A form post as the admin pages read it: single fields trimmed, repeated fields (checkboxes) as lists. */
export interface AdminForm {
  get(name: string): string;
  all(name: string): string[];
  has(name: string): boolean;
}

export async function readAdminForm(c: Context<StaffEnv>): Promise<AdminForm> {
  const body = await c.req.parseBody({ all: true });
  const values = (name: string): string[] => {
    const v = body[name];
    const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
    return list.filter((x): x is string => typeof x === 'string');
  };
  return {
    get: (name) => (values(name)[0] ?? '').trim(),
    all: (name) => values(name).map((x) => x.trim()).filter((x) => x.length > 0),
    has: (name) => values(name).length > 0,
  };
}

/** A problem with one field of a form, already in the staff member's language. */
export interface Problem {
  field: string;
  text: string;
}

/** Under a field: what is wrong with it. */
export const FieldProblems: FC<{ problems?: Problem[]; field: string }> = ({ problems, field }) => {
  const mine = problems?.filter((p) => p.field === field) ?? [];
  return mine.length > 0 ? (
    <div style="color:var(--bad);font-size:.85rem;margin-top:2px">
      {mine.map((p) => (
        <div>{p.text}</div>
      ))}
    </div>
  ) : null;
};

/** The flash at the top of a refused form: every problem, so none hides below the fold. */
export function problemsFlash(page: Page, problems: Problem[]): { text: string; error: true } {
  return { text: `${at(page, 'form.fixBelow')} ${problems.map((p) => p.text).join(' · ')}`, error: true };
}

/** The note after a successful post redirected here (`?flash=…`); words this page does not know show nothing. */
export function adminFlash(page: Page, value: string | undefined, known: readonly string[]): { text: string } | null {
  return value && known.includes(value) ? { text: at(page, `flash.${value}`) } : null;
}

export function languageName(locale: string): string {
  return isLocale(locale) ? LOCALE_NATIVE_NAMES[locale] : locale;
}


/** A generated password: 16 characters of base64url (96 random bits), over the 12 a password needs. */
export function generatePassword(): string {
  return randomToken(12);
}

/**
 * A secret shown once (a new password or API token): selectable text and, where scripts run, a copy
 * button; without scripts the text is still there to select and copy by hand.
 */
export const ShownOnce: FC<{ page: Page; id: string; value: string }> = ({ page, id, value }) => (
  <div>
    <div class="toolbar">
      <input id={id} type="text" readonly value={value} style="font-family:ui-monospace,Menlo,Consolas,monospace;max-width:640px" onfocus="this.select()" />
      <button type="button" class="secondary" data-copy={id} hidden>
        {at(page, 'once.copy')}
      </button>
    </div>
    {/* Hono escapes text children, which would break a script; this one is built from our own strings only. */}
    <script
      dangerouslySetInnerHTML={{
        __html: `(function(){var b=document.querySelector('[data-copy="${id}"]');if(!b||!navigator.clipboard)return;b.hidden=false;b.addEventListener('click',function(){navigator.clipboard.writeText(document.getElementById('${id}').value).then(function(){b.textContent=${JSON.stringify(at(page, 'once.copied')).replace(/</g, '\\u003c')};});});})();`,
      }}
    />
  </div>
);
