import type { FC } from 'hono/jsx';
import { isLocale, LOCALE_NATIVE_NAMES } from '../../i18n/locales';
import type { FieldError } from '../result';
import { flashNote, problemsOf, textsOf, type Flash, type Page, type Problem } from './kit';

/* Small pieces the admin pages (branches, staff, API tokens, audit log) share: their texts and the secret shown once. */

export const ADMIN_NS = 'console-admin';

/** A text of the admin pages, in the staff member's language. */
export const at = textsOf(ADMIN_NS);

/** A service's field errors as the admin pages say them: codes under `<section>.errors.`. */
export function adminProblems(page: Page, section: 'branches' | 'staff' | 'tokens', errors: readonly FieldError[]): Problem[] {
  return problemsOf(page, errors, (e) => `${ADMIN_NS}:${section}.errors.${e.code}`);
}

/** The note after a successful post redirected here (`?flash=…`); words this page does not know show nothing. */
export function adminFlash(page: Page, known: readonly string[]): Flash | null {
  return flashNote(page, known, (word) => `${ADMIN_NS}:flash.${word}`);
}

export function languageName(locale: string): string {
  return isLocale(locale) ? LOCALE_NATIVE_NAMES[locale] : locale;
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
