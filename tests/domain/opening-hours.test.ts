import { describe, expect, it } from 'vitest';
import type { OpeningHours } from '../../src/domain/booking-rules';
import { holidaysAhead, openNow, weekRuns } from '../../src/domain/opening-hours';

const hours: OpeningHours = {
  mon: [['09:00', '18:00']],
  tue: [['09:00', '18:00']],
  wed: [['09:00', '12:00'], ['13:00', '18:00']],
  thu: [['09:00', '18:00']],
  fri: [['09:00', '18:00']],
  sat: [['09:00', '13:00']],
  sun: [],
};

describe('opening hours as customers ask about them', () => {
  it('groups days with the same hours, Monday first', () => {
    expect(weekRuns(hours).map((r) => [r.from, r.to, r.intervals.length])).toEqual([
      ['mon', 'tue', 1],
      ['wed', 'wed', 2],
      ['thu', 'fri', 1],
      ['sat', 'sat', 1],
      ['sun', 'sun', 0],
    ]);
  });

  it('says whether it is open now, opens later today, or when it opens next', () => {
    // 2026-12-02 is a Wednesday.
    expect(openNow(hours, [], '2026-12-02', '10:15')).toEqual({ state: 'open', until: '12:00' });
    expect(openNow(hours, [], '2026-12-02', '12:30')).toEqual({ state: 'later_today', opensAt: '13:00' });
    expect(openNow(hours, [], '2026-12-02', '08:00')).toEqual({ state: 'later_today', opensAt: '09:00' });
    expect(openNow(hours, [], '2026-12-05', '14:00')).toEqual({ state: 'closed_today', holiday: false, next: { date: '2026-12-07', opensAt: '09:00' } });
    // A holiday on Monday: next opening is Tuesday.
    expect(openNow(hours, ['2026-12-07'], '2026-12-06', '10:00')).toEqual({ state: 'closed_today', holiday: false, next: { date: '2026-12-08', opensAt: '09:00' } });
    expect(openNow(hours, ['2026-12-07'], '2026-12-07', '10:00')).toMatchObject({ state: 'closed_today', holiday: true });
  });

  it('names the holidays ahead, in order', () => {
    expect(holidaysAhead(['2027-01-01', '2026-12-25', '2026-11-01', '2027-06-01'], '2026-12-01', 60)).toEqual(['2026-12-25', '2027-01-01']);
  });
});
