import type { Logger } from '../ops/logger';

export interface Pass {
  /** True when the pass did something, so another pass follows at once. */
  didWork: boolean;
  /** When the earliest waiting item becomes due, if known; the loop sleeps no longer than that. */
  nextDueInMs: number | null;
}

export interface WorkLoop {
  start(): void;
  /** Runs a pass now instead of after the idle wait (new work was just committed). */
  kick(): void;
  /** Lets the pass in progress finish, then stops. */
  stop(): Promise<void>;
}

/**
 * A background loop for the inbox and the outbox on Node: passes back to back while there is work, then
 * sleeps until something is due, a kick, or the idle interval (other instances may have written work).
 */
export function createWorkLoop(pass: () => Promise<Pass>, opts: { idleMs: number; logger: Logger; name: string }): WorkLoop {
  let running = false;
  let done: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  let kicked = false;

  async function loop(): Promise<void> {
    while (running) {
      let pause = opts.idleMs;
      try {
        const r = await pass();
        if (r.didWork) continue;
        if (r.nextDueInMs !== null) pause = Math.max(5, Math.min(pause, r.nextDueInMs));
      } catch (err) {
        opts.logger.error({ err, loop: opts.name }, 'background pass failed; trying again shortly');
      }
      if (!running) break;
      if (kicked) {
        kicked = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pause);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
      kicked = false;
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      done = loop();
    },
    kick() {
      kicked = true;
      wake?.();
    },
    async stop() {
      running = false;
      wake?.();
      await done;
    },
  };
}
