import { describe, expect, it } from 'vitest';
import { formatDayLong, formatDayShort, formatMonth } from '../../src/i18n/format';
import { createTranslator } from '../../src/i18n';

describe('dates shown to customers', () => {
  it('writes a day button that cannot be read as another day', () => {
    expect(formatDayShort('en', '2026-12-01')).toBe('Tue 1 Dec');
    expect(formatDayShort('en', '2027-01-12')).toBe('Tue 12 Jan');
    expect(formatDayShort('th', '2026-12-01')).toBe('อังคาร 1 ธ.ค.');
    expect(formatDayShort('zh-TW', '2026-12-01')).toBe('12/1（週二）');
    expect(formatDayShort('ja', '2026-12-01')).toBe('12/1(火)');
  });

  it('shows Thai customers the Buddhist year, and a long date that already says "วัน…ที่"', () => {
    expect(formatDayLong('th', '2026-12-01')).toBe('วันอังคารที่ 1 ธันวาคม 2569');
    expect(formatMonth('th', '2026-12')).toBe('ธันวาคม 2569');
  });

  it('puts a long date into Thai sentences without a doubled วันที่', () => {
    const t = createTranslator('en');
    const date = formatDayLong('th', '2026-12-01');
    const sentences = [
      t.t('th', 'booking:chooseTime', { date }),
      t.t('th', 'booking:confirmCancel', { reference: 'BK-1', when: `${date} 10:00` }),
      t.t('th', 'booking:referenceStatus.cancelled', { reference: 'BK-1', when: `${date} 10:00` }),
      t.t('th', 'booking:noticeAdvisor', { advisor: 'A', service: 'S', branch: 'B', reference: 'BK-1', when: `${date} 10:00` }),
    ];
    for (const s of sentences) expect(s, s).not.toMatch(/วันที่\s*วัน/);
  });
});
