/** Time as the app sees it; tests pass a clock they can move. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock for tests and simulations: starts at `start` and moves only when told. */
export function manualClock(start: Date | string): Clock & { set(t: Date | string): void; advance(ms: number): void } {
  let current = new Date(start).getTime();
  return {
    now: () => new Date(current),
    set: (t) => {
      current = new Date(t).getTime();
    },
    advance: (ms) => {
      current += ms;
    },
  };
}
