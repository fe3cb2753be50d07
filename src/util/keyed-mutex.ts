/**
 * Runs tasks one at a time per key, in arrival order, and different keys in parallel. Keys with nothing
 * queued are forgotten, so memory follows the number of customers active right now.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => current);
    this.tails.set(key, tail);
    return previous.then(async () => {
      try {
        return await task();
      } finally {
        release();
        if (this.tails.get(key) === tail) this.tails.delete(key);
      }
    });
  }

  get size(): number {
    return this.tails.size;
  }
}
