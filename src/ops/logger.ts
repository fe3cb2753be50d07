/** The logging port: pino's call shape, so the Node entry passes a pino logger straight in. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: object): Logger;
}

// Digits however they are grouped: spaces, dashes, dots or brackets (0912.345.678, (02) 2345-6789).
const PHONE = /(?<![\w.])(\+?\(?\d[\d\s.()-]{6,}\d)(?![\w])/g;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const SECRET_KEYS = /token|secret|password|authorization|signature|cookie|phone/i;
/**
 * Credentials recognisable by their shape wherever they appear (under any key, inside a URL or a message):
 * the service's API tokens (dct_…), Telegram bot tokens (<digits>:<35 characters>, also in /bot<token>/ paths),
 * and bearer credentials.
 */
const TOKENS: [RegExp, string][] = [
  [/\bdct_[A-Za-z0-9_-]{8,}/g, 'dct_***'],
  [/(?<!\d)\d{5,15}:[A-Za-z0-9_-]{30,}/g, '***bot-token***'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 ***'],
];

/** Keeps the last three digits of a phone number, enough for staff to recognise it in a log. */
export function maskPhone(text: string): string {
  return text.replace(PHONE, (match) => {
    if (IPV4.test(match)) return match;
    const digits = match.replace(/\D/g, '');
    return digits.length < 8 ? match : `***${digits.slice(-3)}`;
  });
}

/** Phone numbers and credentials masked in free text (messages, stack traces, URLs). */
export function maskText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of TOKENS) out = out.replace(pattern, replacement);
  return maskPhone(out);
}

/**
 * Masks what must never reach a log: values under secret-sounding keys, and phone numbers anywhere in text.
 * Applied to every log record, so a careless `logger.info({ body })` cannot leak a token.
 */
export function maskSensitive(value: unknown, key = '', depth = 0): unknown {
  if (depth > 6) return '[…]';
  if (typeof value === 'string') {
    if (SECRET_KEYS.test(key)) return value.length <= 4 ? '***' : `***${value.slice(-2)}`;
    return maskText(value);
  }
  if (Array.isArray(value)) return value.map((v) => maskSensitive(v, key, depth + 1));
  if (value instanceof Error) {
    // The stack repeats the message (and may hold more): masked like it. What else the error carries is masked too.
    const out: Record<string, unknown> = { type: value.name, name: value.name, message: maskText(value.message) };
    if (value.stack) out['stack'] = maskText(value.stack);
    for (const [k, v] of Object.entries(value)) if (!(k in out)) out[k] = maskSensitive(v, k, depth + 1);
    if (value.cause !== undefined) out['cause'] = maskSensitive(value.cause, 'cause', depth + 1);
    return out;
  }
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
