/**
 * The year of a car as a customer types it, in the calendars they use: 2020, ２０２０, "2020年"; the Thai
 * Buddhist era (2563 = 2020, written with or without พ.ศ.); the Republic of China era used in Taiwan
 * (民國109年 = 2020); Japanese eras (令和2年, 平成30年, 令和元年); in a sentence ("it's a 2019 one")
 * when it holds one number. Null for anything else (two numbers, no number), or a year outside
 * 1950 … `maxYear`.
 */
export function readModelYear(typed: string, maxYear: number, minYear = 1950): number | null {
  const text = typed.normalize('NFKC');
  const inRange = (y: number) => (Number.isInteger(y) && y >= minYear && y <= maxYear ? y : null);

  const era = /(令和|平成|昭和|民國|民国)\s*(元|\d{1,3})\s*年?/u.exec(text);
  if (era) {
    const n = era[2] === '元' ? 1 : Number(era[2]);
    return inRange(n + ERA_START[era[1]!]! - 1);
  }
  const numbers = text.match(/\d+/gu) ?? [];
  if (numbers.length !== 1 || numbers[0]!.length !== 4) return null;
  const n = Number(numbers[0]);
  if (inRange(n) !== null) return n;
  // A Thai customer counts in the Buddhist era, 543 years ahead: no Gregorian car year is that late.
  return inRange(n - BUDDHIST_ERA_OFFSET);
}

const BUDDHIST_ERA_OFFSET = 543;

/** The Gregorian year of each era's first year. */
const ERA_START: Record<string, number> = { 令和: 2019, 平成: 1989, 昭和: 1926, 民國: 1912, 民国: 1912 };
