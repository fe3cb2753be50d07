import { describe, expect, it } from 'vitest';
import { readModelYear } from '../../src/domain/model-year';

describe('a car year as customers type it', () => {
  it('reads Gregorian years, full-width digits and a trailing 年', () => {
    expect(readModelYear('2020', 2027)).toBe(2020);
    expect(readModelYear('２０２０', 2027)).toBe(2020);
    expect(readModelYear('2020年', 2027)).toBe(2020);
    expect(readModelYear('ค.ศ. 2020', 2027)).toBe(2020);
    expect(readModelYear("It's a 2019 one", 2027)).toBe(2019);
    expect(readModelYear('大概是2018年的', 2027)).toBe(2018);
  });

  it('reads the Thai Buddhist era, with or without พ.ศ.', () => {
    expect(readModelYear('2563', 2027)).toBe(2020);
    expect(readModelYear('พ.ศ. 2563', 2027)).toBe(2020);
    expect(readModelYear('ปี 2565', 2027)).toBe(2022);
  });

  it('reads the Taiwanese and Japanese eras', () => {
    expect(readModelYear('民國109年', 2027)).toBe(2020);
    expect(readModelYear('令和2年', 2027)).toBe(2020);
    expect(readModelYear('令和元年', 2027)).toBe(2019);
    expect(readModelYear('平成30年', 2027)).toBe(2018);
    expect(readModelYear('昭和63年', 2027)).toBe(1988);
  });

  it('refuses what is not a year a car on the road can have', () => {
    expect(readModelYear('2029', 2027)).toBeNull();
    expect(readModelYear('1949', 2027)).toBeNull();
    expect(readModelYear('3000', 2027)).toBeNull();
    expect(readModelYear('20', 2027)).toBeNull();
    expect(readModelYear('2019 or 2020', 2027)).toBeNull();
    expect(readModelYear('2020-05', 2027)).toBeNull();
    expect(readModelYear('令和20年', 2027)).toBeNull();
    expect(readModelYear('', 2027)).toBeNull();
  });
});
