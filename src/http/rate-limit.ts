/**
 * Counts what each key (a visitor, an address) does in fixed windows, in memory, and says when a key has
 * done its share. Memory is bounded: at most `maxKeys` keys are followed; when full, the key seen least
 * recently is forgotten first (a forgotten key starts again from zero, which only ever errs towards allowing).
 *
 * In memory means per process (per isolate on Workers): several instances each allow the limit. The limits
 * are there to stop floods from one source, which they do on any one instance it reaches.
 */
export interface RateLimit {
  /** At most this many … */
  limit: number;
  /** … in a window this long. */
  windowMs: number;
}

export type Taken = { ok: true } | { ok: false; retryAfterMs: number };

export interface RateLimiter {
  /** Counts one for `key`; refused (and not counted) when the key's window is full. */
  take(key: string): Taken;
  /** Whether `key` could take one now, without counting it. */
  peek(key: string): Taken;
}

export function createRateLimiter(rule: RateLimit, opts: { now?: () => number; maxKeys?: number } = {}): RateLimiter {
  const now = opts.now ?? (() => Date.now());
  const maxKeys = opts.maxKeys ?? 50_000;
  const windows = new Map<string, { start: number; count: number }>();

  function current(key: string): { start: number; count: number } {
    const t = now();
    let w = windows.get(key);
    if (!w || t - w.start >= rule.windowMs) w = { start: t, count: 0 };
    // Re-inserted, so the Map's order is least recently seen first.
    windows.delete(key);
    windows.set(key, w);
    if (windows.size > maxKeys) windows.delete(windows.keys().next().value!);
    return w;
  }

  const check = (key: string, count: boolean): Taken => {
    const w = current(key);
    if (w.count >= rule.limit) return { ok: false, retryAfterMs: Math.max(1, w.start + rule.windowMs - now()) };
    if (count) w.count += 1;
    return { ok: true };
  };
  return { take: (key) => check(key, true), peek: (key) => check(key, false) };
}
