/** The logging port: pino's call shape, so the Node entry passes a pino logger straight in. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: object): Logger;
}

const PHONE = /(?<![\w])(\+?\d[\d\s-]{6,}\d)(?![\w])/g;
const SECRET_KEYS = /token|secret|password|authorization|signature|cookie|phone/i;

/** Keeps the last three digits of a phone number, enough for staff to recognise it in a log. */
export function maskPhone(text: string): string {
  return text.replace(PHONE, (match) => {
    const digits = match.replace(/\D/g, '');
    return digits.length < 8 ? match : `***${digits.slice(-3)}`;
  });
}

/**
 * Masks what must never reach a log: values under secret-sounding keys, and phone numbers anywhere in text.
 * Applied to every log record, so a careless `logger.info({ body })` cannot leak a token.
 */
export function maskSensitive(value: unknown, key = '', depth = 0): unknown {
  if (depth > 6) return '[…]';
  if (typeof value === 'string') {
    if (SECRET_KEYS.test(key)) return value.length <= 4 ? '***' : `***${value.slice(-2)}`;
    return maskPhone(value);
  }
  if (Array.isArray(value)) return value.map((v) => maskSensitive(v, key, depth + 1));
  if (value instanceof Error) return { name: value.name, message: maskPhone(value.message), stack: value.stack };
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskSensitive(v, k, depth + 1);
    return out;
  }
  return value;
}

/** A JSON-lines logger over console, for runtimes without pino (Workers) and for quiet tests. */
export function createConsoleLogger(level: 'debug' | 'info' | 'warn' | 'error' | 'silent' = 'info', bindings: object = {}): Logger {
  const order = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 } as const;
  const write = (lvl: 'debug' | 'info' | 'warn' | 'error', obj: object, msg?: string) => {
    if (order[lvl] < order[level]) return;
    const record = maskSensitive({ level: lvl, time: new Date().toISOString(), ...bindings, ...obj, msg }) as object;
    (lvl === 'error' ? console.error : console.log)(JSON.stringify(record));
  };
  return {
    debug: (o, m) => write('debug', o, m),
    info: (o, m) => write('info', o, m),
    warn: (o, m) => write('warn', o, m),
    error: (o, m) => write('error', o, m),
    child: (b) => createConsoleLogger(level, { ...bindings, ...b }),
  };
}

export const silentLogger: Logger = createConsoleLogger('silent');
