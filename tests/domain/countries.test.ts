import { describe, expect, it } from 'vitest';
import { isPlateOf, mobileExample, plateExample, readMobileNumber } from '../../src/domain/countries';

describe('licence plates by country', () => {
  it.each(['ABC-1234', 'abc 1234', 'ＡＢＣ－１２３４', 'AB-1234', '1234-AB', '2A-1234', 'A2-1234', 'XYZ 987', 'EAA-0001'])('reads %s as a Taiwan plate', (plate) => {
    expect(isPlateOf(['TW'], plate)).toBe(true);
  });

  it.each(['hello', 'HELLO1', 'BODY-0', '12345678', 'A', 'ABCD-12345', '品川 300 さ 12-34'])('refuses %s as a Taiwan plate', (plate) => {
    expect(isPlateOf(['TW'], plate)).toBe(false);
  });

  it.each(['品川 300 さ 12-34', '品川300さ1234', 'なにわ 500 あ 1', '横浜 33A す 56-78'])('reads %s as a Japanese plate', (plate) => {
    expect(isPlateOf(['JP'], plate)).toBe(true);
  });

  it.each(['1กข 1234', 'กข 1234', '1กข 1234 กรุงเทพมหานคร', '๑กข ๑๒๓๔'])('reads %s as a Thai plate', (plate) => {
    expect(isPlateOf(['TH'], plate)).toBe(true);
  });

  it('reads every configured country, and shows the first one’s example', () => {
    expect(isPlateOf(['JP', 'TW'], 'ABC-1234')).toBe(true);
    expect(isPlateOf(['JP'], 'ABC-1234')).toBe(false);
    expect(plateExample(['TH', 'TW'])).toBe('1กข 1234');
    expect(mobileExample(['JP'])).toBe('090-1234-5678');
  });
});

describe('mobile numbers', () => {
  it.each([
    [['TW'], '0912-345-678', '+886912345678'],
    [['TW'], '0912 345 678', '+886912345678'],
    [['TW'], '+886 912 345 678', '+886912345678'],
    [['TW'], '+886 0912 345 678', '+886912345678'],
    [['TW'], '00886912345678', '+886912345678'],
    [['JP'], '090-1234-5678', '+819012345678'],
    [['TH'], '081-234-5678', '+66812345678'],
    [['TW'], '+81 90 1234 5678', '+819012345678'],
    [['TW'], '+1 415 555 0100', '+14155550100'],
  ] as const)('reads %s %s as %s', (countries, typed, e164) => {
    expect(readMobileNumber(countries, typed)).toBe(e164);
  });

  it.each([
    [['TW'], '12345'],
    [['TW'], '02-2345-6789'], // a landline
    [['TW'], '090-1234-5678'], // Japanese, dialled as at home in Taiwan
    [['TW'], '+886 2 2345 6789'],
    [['TW'], 'call me'],
    [['TW'], '0912-345-678 ext 2'],
  ] as const)('refuses %s %s', (countries, typed) => {
    expect(readMobileNumber(countries, typed)).toBeNull();
  });
});
