import { describe, expect, it } from 'vitest';
import { csiOf, isDelighted, loyaltyOf } from '../../src/domain/csi';
import { deriveCategory, suggestCategory } from '../../src/domain/customer-category';
import type { OpeningHours } from '../../src/domain/booking-rules';
import { categoryDecision } from '../../src/survey/categories';
import { nextQuestion, surveyState } from '../../src/survey/questions';
import { surveyDueAt } from '../../src/survey/schedule';

/* The survey's pure rules: CSI and loyalty, customer categories, when a survey goes out, which question is next. */

describe('CSI and loyalty', () => {
  it('maps the overall answer evenly onto 0–100, and weighs rated aspects in at 40 %', () => {
    const none = { repurchase: null, recommend: null, aspects: {} };
    expect([5, 4, 3, 2, 1].map((satisfaction) => csiOf({ ...none, satisfaction }))).toEqual([100, 75, 50, 25, 0]);
    expect(csiOf({ ...none, satisfaction: null, aspects: { advisor: 5 } })).toBeNull();
    expect(csiOf({ ...none, satisfaction: 5, aspects: { advisor: 1, price: 3 } })).toBeCloseTo(0.6 * 100 + 0.4 * 25);
  });

  it('makes the loyalty index the mean of the measures answered', () => {
    expect(loyaltyOf({ satisfaction: 5, repurchase: 3, recommend: 3, aspects: {} })).toBe(100);
    expect(loyaltyOf({ satisfaction: 3, repurchase: 1, recommend: null, aspects: {} })).toBe(25);
    expect(loyaltyOf({ satisfaction: null, repurchase: null, recommend: null, aspects: { advisor: 5 } })).toBeNull();
  });

  it('invites a review only from "very satisfied" and "very likely to recommend"', () => {
    expect(isDelighted({ satisfaction: 5, recommend: 3 })).toBe(true);
    expect(isDelighted({ satisfaction: 4, recommend: 3 })).toBe(false);
    expect(isDelighted({ satisfaction: 5, recommend: 2 })).toBe(false);
  });
});

describe('customer categories from the history', () => {
  const facts = { completedVisits: 2, recommendVeryLikely: 0, referrals: 0, latest: { satisfaction: 4, repurchase: 3, recommend: 2 } };
  it('prospect without a completed visit; at-risk on a low latest answer; key influencer on repeated "very likely" with a referral; else base', () => {
    expect(deriveCategory({ ...facts, completedVisits: 0 })).toBe('prospect');
    expect(deriveCategory(facts)).toBe('base');
    expect(deriveCategory({ ...facts, latest: { satisfaction: 2, repurchase: 3, recommend: 3 } })).toBe('at_risk');
    expect(deriveCategory({ ...facts, latest: { satisfaction: 5, repurchase: 1, recommend: 3 } })).toBe('at_risk');
    expect(deriveCategory({ ...facts, latest: { satisfaction: 5, repurchase: 3, recommend: 1 } })).toBe('at_risk');
    expect(deriveCategory({ ...facts, recommendVeryLikely: 2, referrals: 0 })).toBe('base');
    expect(deriveCategory({ ...facts, recommendVeryLikely: 2, referrals: 1 })).toBe('key_influencer');
    expect(deriveCategory({ ...facts, recommendVeryLikely: 3, referrals: 2, latest: { satisfaction: 1, repurchase: null, recommend: null } })).toBe('at_risk');
  });

  it('keeps a category staff chose by hand until staff choose the derived one', () => {
    // No derivation yet: only "key influencer" can have come from staff.
    expect(categoryDecision('prospect', null, 'base')).toEqual({ staffChoice: false, write: true });
    expect(categoryDecision('key_influencer', null, 'base')).toEqual({ staffChoice: true, write: false });
    // The records left "base"; staff changed it to "key influencer": kept, whatever the records say now.
    expect(categoryDecision('key_influencer', { seen: 'base', staffChoice: false }, 'at_risk')).toEqual({ staffChoice: true, write: false });
    // Still kept later, even when the records come to agree for a while and then disagree again.
    expect(categoryDecision('key_influencer', { seen: 'key_influencer', staffChoice: true }, 'key_influencer')).toEqual({ staffChoice: true, write: false });
    expect(categoryDecision('key_influencer', { seen: 'key_influencer', staffChoice: true }, 'at_risk')).toEqual({ staffChoice: true, write: false });
    // Staff set it to what the records say: the records lead again.
    expect(categoryDecision('at_risk', { seen: 'key_influencer', staffChoice: true }, 'at_risk')).toEqual({ staffChoice: false, write: false });
    expect(categoryDecision('base', { seen: 'base', staffChoice: false }, 'at_risk')).toEqual({ staffChoice: false, write: true });
    // The profile suggestion leaves both hand-made categories alone.
    expect(suggestCategory('at_risk', { registeredVehicles: 1 })).toBe('at_risk');
  });
});

describe('when a survey goes out', () => {
  const day: [string, string][] = [['09:00', '18:00']];
  const DEFAULT_OPENING_HOURS: OpeningHours = { mon: day, tue: day, wed: day, thu: day, fri: day, sat: day, sun: [] };
  const calendar = { timeZone: 'Asia/Taipei', openingHours: DEFAULT_OPENING_HOURS, holidays: [] as string[] };
  const quiet = { start: '21:00', end: '09:00' };
  const at = (iso: string) => Date.parse(iso);
  it('after the delay, moved into opening hours and out of quiet hours', () => {
    // Monday 10:00 Taipei + 2 h = 12:00, open.
    expect(new Date(surveyDueAt(calendar, quiet, at('2026-11-30T02:00:00Z'), 120)).toISOString()).toBe('2026-11-30T04:00:00.000Z');
    // 0 minutes: right away.
    expect(new Date(surveyDueAt(calendar, quiet, at('2026-11-30T02:00:00Z'), 0)).toISOString()).toBe('2026-11-30T02:00:00.000Z');
    // Saturday 17:30 + 2 h lands after closing; Sunday is closed: Monday 09:00.
    expect(new Date(surveyDueAt(calendar, quiet, at('2026-12-05T09:30:00Z'), 120)).toISOString()).toBe('2026-12-07T01:00:00.000Z');
    // A branch open late, but quiet from 21:00: the next morning at the end of quiet hours.
    const late = { ...calendar, openingHours: { ...DEFAULT_OPENING_HOURS, mon: [['08:00', '23:00']] as [string, string][], tue: [['08:00', '23:00']] as [string, string][] } };
    expect(new Date(surveyDueAt(late, quiet, at('2026-11-30T12:30:00Z'), 60)).toISOString()).toBe('2026-12-01T01:00:00.000Z');
  });
});

describe('the next question', () => {
  const row = { id: 's1', satisfaction: null, repurchase: null, recommend: null, aspect_codes: JSON.stringify(['price', 'advisor']), aspects: '{}', comment: null, comment_skipped: 0 };
  it('overall first, then the loyalty questions, the aspects in the table order, the comment, then none', () => {
    expect(nextQuestion(surveyState(row))).toBe('sat');
    expect(nextQuestion(surveyState({ ...row, satisfaction: 4, repurchase: 2 }))).toBe('rec');
    expect(nextQuestion(surveyState({ ...row, satisfaction: 4, repurchase: 2, recommend: 1 }))).toBe('advisor');
    expect(nextQuestion(surveyState({ ...row, satisfaction: 4, repurchase: 2, recommend: 1, aspects: JSON.stringify({ advisor: 3, price: 4 }) }))).toBe('comment');
    expect(nextQuestion(surveyState({ ...row, satisfaction: 4, repurchase: 2, recommend: 1, aspects: JSON.stringify({ advisor: 3, price: 4 }), comment_skipped: 1 }))).toBeNull();
  });
});
