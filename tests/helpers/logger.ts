import type { Logger } from '../../src/ops/logger';

/** A logger that keeps what it is given, so a test can check what was said and at which level. */
export function recordingLogger() {
  const records: { level: string; obj: object; msg?: string }[] = [];
  const make = (): Logger => ({
    debug: (obj, msg) => records.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => records.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => records.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => records.push({ level: 'error', obj, msg }),
    child: () => make(),
  });
  return { logger: make(), records };
}
