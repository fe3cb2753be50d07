import { describe, expect, it } from 'vitest';
import { readQuantity } from '../../src/domain/numbers';

describe('quantities as people write them', () => {
  it.each([
    ['45000', 45_000],
    ['45,000', 45_000],
    ['45k', 45_000],
    ['4.5k km', 4_500],
    ['三萬', 30_000],
    ['3萬', 30_000],
    ['3.5万', 35_000],
    ['3萬5千', 35_000],
    ['三萬五千', 35_000],
    ['3萬5', 35_000],
    ['十二萬', 120_000],
    ['兩萬三千五百', 23_500],
    ['4 หมื่น', 40_000],
    ['๔๕๐๐๐', 45_000],
    ['1.234.567', 1_234_567],
  ])('reads “%s” as %d', (typed, value) => {
    expect(readQuantity(typed)?.value).toBe(value);
  });

  it('gives back the words around the number, for the caller to judge', () => {
    expect(readQuantity('約3萬公里')).toEqual({ value: 30_000, rest: '約 公里' });
    expect(readQuantity('about 45,000 km')).toEqual({ value: 45_000, rest: 'about km' });
  });

  it.each(['lots', '', '3 cars 5 years', '0912-345-678', '3.5'])('finds no single whole number in “%s”', (typed) => {
    expect(readQuantity(typed)).toBeNull();
  });
});
