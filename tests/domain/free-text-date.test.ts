import { describe, expect, it } from 'vitest';
import { parseWhen } from '../../src/domain/free-text-date';

// Saturday 2026-11-28, 11:00 in Taipei.
const now = new Date('2026-11-28T03:00:00Z');
const TPE = 'Asia/Taipei';

describe('free-text dates in the dealership’s time zone', () => {
  it.each([
    ['zh-TW', '明天上午', { date: '2026-11-29', time: null, partOfDay: 'morning' }],
    ['zh-TW', '下週二 3點', { date: '2026-12-01', time: '15:00', partOfDay: null }],
    ['zh-TW', '下週二下午3點', { date: '2026-12-01', time: '15:00', partOfDay: null }],
    ['zh-TW', '12月3日 上午10點半', { date: '2026-12-03', time: '10:30', partOfDay: null }],
    ['zh-CN', '明天上午10点', { date: '2026-11-29', time: '10:00', partOfDay: null }],
    ['zh-CN', '下周二 3点', { date: '2026-12-01', time: '15:00', partOfDay: null }],
    ['en', 'next Tuesday 3pm', { date: '2026-12-01', time: '15:00', partOfDay: null }],
    ['en', 'tomorrow morning', { date: '2026-11-29', time: null, partOfDay: 'morning' }],
    ['en', 'Dec 5', { date: '2026-12-05', time: null, partOfDay: null }],
    ['ja', '来週の月曜 10時', { date: '2026-11-30', time: '10:00', partOfDay: null }],
    ['ja', '明日の午後', { date: '2026-11-29', time: null, partOfDay: 'afternoon' }],
    ['th', 'พรุ่งนี้ บ่ายสองโมง', { date: '2026-11-29', time: null, partOfDay: 'afternoon' }],
    ['th', 'วันอังคาร 10 โมง', { date: '2026-12-01', time: '10:00', partOfDay: null }],
  ] as const)('%s “%s”', (locale, text, expected) => {
    expect(parseWhen(text, locale, now, TPE)).toEqual(expected);
  });

  it('counts "tomorrow" from the local date, not the server’s UTC date', () => {
    // 07:00 on Sunday in Taipei is still Saturday in UTC; 22:00 on Saturday in New York is already Sunday in UTC.
    expect(parseWhen('明天', 'zh-TW', new Date('2026-11-28T23:00:00Z'), TPE)!.date).toBe('2026-11-30');
    expect(parseWhen('tomorrow', 'en', new Date('2026-11-29T03:00:00Z'), 'America/New_York')!.date).toBe('2026-11-29');
  });

  it('reads a time alone as today, or tomorrow once it has passed', () => {
    expect(parseWhen('3pm', 'en', now, TPE)).toEqual({ date: '2026-11-28', time: '15:00', partOfDay: null });
    expect(parseWhen('9am', 'en', now, TPE)).toEqual({ date: '2026-11-29', time: '09:00', partOfDay: null });
  });

  it('returns null for text that names no date', () => {
    expect(parseWhen('我想換機油', 'zh-TW', now, TPE)).toBeNull();
    expect(parseWhen('hello', 'en', now, TPE)).toBeNull();
    expect(parseWhen('', 'ja', now, TPE)).toBeNull();
  });
});
