/**
 * Group commit for writes that many requests make at once. The first caller's batch starts once the
 * requests whose I/O has already completed have had their turn (setImmediate on Node, where the SQLite
 * driver is synchronous and nothing would otherwise ever wait; a microtask elsewhere), so requests that
 * arrived together are written together. Callers who arrive while a batch is being written go together in
 * the next one. An idle service adds no more than one turn of the event loop; a busy one writes many
 * items per statement and per commit.
 *
 * When a batch of several fails, each item is tried again on its own, so one item the store refuses
 * fails only its own caller.
 */
export interface Batcher<I, O> {
  add(item: I): Promise<O>;
}

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

const setImmediateIfAny = (globalThis as { setImmediate?: (run: () => void) => unknown }).setImmediate;
const soon: (run: () => void) => void = setImmediateIfAny ? (run) => void setImmediateIfAny(run) : queueMicrotask;

export function createBatcher<I, O>(write: (items: I[]) => Promise<O[]>, maxBatch: number): Batcher<I, O> {
  const queue: Waiting<I, O>[] = [];
  let writing = false;

  async function writeBatch(batch: Waiting<I, O>[]): Promise<void> {
    try {
      const results = await write(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      for (const w of batch) {
        try {
          w.resolve((await write([w.item]))[0]!);
        } catch (one) {
          w.reject(one);
        }
      }
    }
  }

  async function run(): Promise<void> {
    try {
      while (queue.length > 0) await writeBatch(queue.splice(0, maxBatch));
    } finally {
      writing = false;
    }
  }

  return {
    add(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (!writing) {
          writing = true;
          soon(() => void run());
        }
      });
    },
  };
}
