import type { Kysely } from 'kysely';
import { z } from 'zod';
import { ASPECT_CODES, isAspectCode, type AspectCode } from '../domain/csi';
import type { Database } from '../store/schema';

/*
 * The dealer's survey settings, one row edited in the console. Until staff save them, the defaults hold:
 * surveys on, sent SURVEY_DELAY_MINUTES after collection, open for 7 days, no per-aspect ratings, no review
 * invitation.
 */

export interface SurveySettings {
  enabled: boolean;
  /** Null: the SURVEY_DELAY_MINUTES default. */
  delayMinutes: number | null;
  expiryDays: number;
  aspects: AspectCode[];
  reviewInvite: boolean;
  reviewUrl: string | null;
}

export const DEFAULT_SURVEY_SETTINGS: SurveySettings = { enabled: true, delayMinutes: null, expiryDays: 7, aspects: [], reviewInvite: false, reviewUrl: null };

const SETTINGS_ID = 'dealer';

/** What the console and the API accept; error codes are keys of the console's texts. */
export const surveySettingsSchema = z
  .object({
    enabled: z.boolean(),
    delayMinutes: z.number({ error: 'delayInvalid' }).int('delayInvalid').min(0, 'delayInvalid').max(10_080, 'delayInvalid').nullable(),
    expiryDays: z.number({ error: 'expiryInvalid' }).int('expiryInvalid').min(1, 'expiryInvalid').max(60, 'expiryInvalid'),
    aspects: z.array(z.enum(ASPECT_CODES, { error: 'aspectInvalid' })),
    reviewInvite: z.boolean(),
    reviewUrl: z.url({ protocol: /^https?$/, error: 'reviewUrlInvalid' }).max(500, 'reviewUrlInvalid').nullable(),
  })
  .refine((s) => !s.reviewInvite || s.reviewUrl !== null, { path: ['reviewUrl'], message: 'reviewUrlRequired' });

export async function loadSurveySettings(db: Kysely<Database>): Promise<SurveySettings> {
  const row = await db.selectFrom('survey_settings').selectAll().where('id', '=', SETTINGS_ID).executeTakeFirst();
  if (!row) return { ...DEFAULT_SURVEY_SETTINGS };
  const aspects = (JSON.parse(row.aspects) as unknown[]).filter(isAspectCode);
  return { enabled: row.enabled === 1, delayMinutes: row.delay_minutes, expiryDays: row.expiry_days, aspects, reviewInvite: row.review_invite === 1, reviewUrl: row.review_url };
}

export async function saveSurveySettings(db: Kysely<Database>, s: SurveySettings, now: string): Promise<void> {
  // Asked in the table's order whatever order they were ticked in.
  const aspects = ASPECT_CODES.filter((a) => s.aspects.includes(a));
  const values = { enabled: s.enabled ? 1 : 0, delay_minutes: s.delayMinutes, expiry_days: s.expiryDays, aspects: JSON.stringify(aspects), review_invite: s.reviewInvite ? 1 : 0, review_url: s.reviewUrl, updated_at: now };
  await db
    .insertInto('survey_settings')
    .values({ id: SETTINGS_ID, ...values })
    .onConflict((oc) => oc.column('id').doUpdateSet(values))
    .execute();
}
