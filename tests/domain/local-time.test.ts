import { describe, expect, it } from 'vitest';
import {
  addDays,
  daysBetween,
  instantsAt,
  isLocalDate,
  isTimeZone,
  localDateOf,
  localTimeOf,
  minutesOfDay,
  utcOffsetMinutes,
  weekdayOf,
  zonedInstant,
} from '../../src/domain/local-time';

const iso = (ms: number) => new Date(ms).toISOString();

describe('local dates and times with Intl', () => {
  it('converts Taipei wall times, which never shift', () => {
    expect(iso(zonedInstant('2026-03-10', 9 * 60, 'Asia/Taipei'))).toBe('2026-03-10T01:00:00.000Z');
    expect(localDateOf(new Date('2026-03-09T16:00:00Z'), 'Asia/Taipei')).toBe('2026-03-10');
    expect(localDateOf(new Date('2026-03-09T15:59:00Z'), 'Asia/Taipei')).toBe('2026-03-09');
    expect(localTimeOf(Date.parse('2026-03-10T01:30:00Z'), 'Asia/Taipei')).toBe('09:30');
    expect(utcOffsetMinutes(Date.parse('2026-07-01T00:00:00Z'), 'Asia/Taipei')).toBe(480);
  });

  it('uses the offset in force on the day, either side of a DST change', () => {
    // Berlin: CET (+1) until 2026-03-29 02:00, CEST (+2) after; back to CET on 2026-10-25 03:00.
    expect(iso(zonedInstant('2026-03-28', 9 * 60, 'Europe/Berlin'))).toBe('2026-03-28T08:00:00.000Z');
    expect(iso(zonedInstant('2026-03-29', 9 * 60, 'Europe/Berlin'))).toBe('2026-03-29T07:00:00.000Z');
    expect(iso(zonedInstant('2026-10-25', 9 * 60, 'Europe/Berlin'))).toBe('2026-10-25T08:00:00.000Z');
    // New York: EST (-5) to EDT (-4) on 2026-03-08, back on 2026-11-01.
    expect(iso(zonedInstant('2026-03-08', 9 * 60, 'America/New_York'))).toBe('2026-03-08T13:00:00.000Z');
    expect(iso(zonedInstant('2026-03-07', 9 * 60, 'America/New_York'))).toBe('2026-03-07T14:00:00.000Z');
    expect(iso(zonedInstant('2026-11-01', 9 * 60, 'America/New_York'))).toBe('2026-11-01T14:00:00.000Z');
  });

  it('finds no instant in a spring-forward gap and two in a fall-back overlap', () => {
    expect(instantsAt('2026-03-29', 2 * 60 + 30, 'Europe/Berlin')).toEqual([]);
    // Read with the offset from before the jump, as Temporal's 'compatible' does: 02:30 CET is 03:30 CEST.
    expect(iso(zonedInstant('2026-03-29', 2 * 60 + 30, 'Europe/Berlin'))).toBe('2026-03-29T01:30:00.000Z');
    expect(instantsAt('2026-10-25', 2 * 60 + 30, 'Europe/Berlin').map(iso)).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']);
    expect(iso(zonedInstant('2026-10-25', 2 * 60 + 30, 'Europe/Berlin'))).toBe('2026-10-25T00:30:00.000Z');
    expect(instantsAt('2026-11-01', 60 + 30, 'America/New_York').map(iso)).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-01T06:30:00.000Z']);
  });

  it('does calendar arithmetic on local dates', () => {
    expect(addDays('2026-02-27', 2)).toBe('2026-03-01');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(daysBetween('2026-03-28', '2026-03-30')).toBe(2);
    expect(daysBetween('2026-03-30', '2026-03-28')).toBe(-2);
    expect(weekdayOf('2026-03-29')).toBe('sun');
    expect(weekdayOf('2026-11-30')).toBe('mon');
  });

  it('validates dates, times and zones', () => {
    expect(isLocalDate('2026-02-28')).toBe(true);
    expect(isLocalDate('2026-02-30')).toBe(false);
    expect(isLocalDate('2026-2-3')).toBe(false);
    expect(minutesOfDay('09:30')).toBe(570);
    expect(minutesOfDay('24:00')).toBe(1440);
    expect(minutesOfDay('24:30')).toBeNull();
    expect(minutesOfDay('9:30')).toBeNull();
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
