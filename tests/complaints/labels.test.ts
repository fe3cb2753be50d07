import { describe, expect, it } from 'vitest';
import { LINE_LIMITS } from '../../src/channels/limits';
import { COMPLAINT_CATEGORIES, COMPLAINT_PRIORITIES } from '../../src/complaints/model';
import { createTranslator } from '../../src/i18n';
import { SUPPORTED_LOCALES } from '../../src/i18n/locales';

/* Renderers cut a long button label short without a word; a complaint's buttons must fit LINE's 20 characters whole. */

const LABELS = [
  ...COMPLAINT_CATEGORIES.map((c) => `complaint:category.${c}`),
  ...COMPLAINT_PRIORITIES.map((p) => `complaint:urgency.${p}`),
  'complaint:contact.chat',
  'complaint:contact.phone',
  'complaint:intake.noVisit',
  'complaint:intake.uploadPhotos',
  'complaint:resolve.yes',
  'complaint:resolve.no',
];

describe('complaint buttons', () => {
  it.each(SUPPORTED_LOCALES)('fit a LINE button in %s', (locale) => {
    const t = createTranslator('en');
    for (const key of LABELS) {
      expect(t.has(locale, key), key).toBe(true);
      expect(t.t(locale, key).length, `${locale} ${key}`).toBeLessThanOrEqual(LINE_LIMITS.actionLabelChars);
    }
  });
});
