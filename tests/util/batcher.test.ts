import { describe, expect, it } from 'vitest';
import { createBatcher } from '../../src/util/batcher';

describe('batcher', () => {
  it('writes items added together in one batch, in the order they were added', async () => {
    const batches: number[][] = [];
    const batcher = createBatcher<number, string>(async (items) => {
      batches.push(items);
      return items.map((n) => `#${n}`);
    }, 100);
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.add(n)));
    expect(results).toEqual(['#1', '#2', '#3', '#4', '#5']);
    expect(batches).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('collects what arrives during a write into the next batch, never more than the limit at once', async () => {
    const batches: number[][] = [];
    let release: () => void = () => {};
    const batcher = createBatcher<number, number>(async (items) => {
      batches.push(items);
      if (batches.length === 1) await new Promise<void>((r) => (release = r));
      return items;
    }, 3);
    const first = batcher.add(1);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const later = [2, 3, 4, 5, 6, 7].map((n) => batcher.add(n));
    release();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(batches).toEqual([[1], [2, 3, 4], [5, 6, 7]]);
  });

  it('fails only the item the store refuses, after trying the others one by one', async () => {
    const batcher = createBatcher<number, number>(async (items) => {
      if (items.includes(13)) throw new Error('refused 13');
      return items.map((n) => n * 2);
    }, 10);
    const settled = await Promise.allSettled([12, 13, 14].map((n) => batcher.add(n)));
    expect(settled).toEqual([
      { status: 'fulfilled', value: 24 },
      { status: 'rejected', reason: new Error('refused 13') },
      { status: 'fulfilled', value: 28 },
    ]);
  });

  it('keeps working after a failed batch', async () => {
    let fail = true;
    const batcher = createBatcher<string, string>(async (items) => {
      if (fail) throw new Error('store down');
      return items;
    }, 10);
    await expect(batcher.add('a')).rejects.toThrow('store down');
    fail = false;
    expect(await batcher.add('b')).toBe('b');
  });
});
