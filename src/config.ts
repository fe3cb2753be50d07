import { z } from 'zod';
import { COUNTRIES, type Country } from './domain/countries';
import { addressSet } from './http/client-address';
import { SUPPORTED_LOCALES } from './i18n/locales';

/**
 * Every setting the service reads, parsed once at the entry. Nothing else reads the environment.
 * An empty string counts as "not set" so that `FOO=` in a `.env` file behaves like an absent variable.
 */
const optionalText = z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional());

const positiveInt = (fallback: number) =>
  z.preprocess(
    (v) => (v === '' || v === undefined ? fallback : Number(v)),
    z.number({ error: 'expected a whole number' }).int('expected a whole number').positive('expected a number above 0'),
  );

/** A comma-separated list of addresses and CIDR ranges (`loopback` too), each checked. */
const addressList = (fallback: string[]) =>
  z.preprocess(
    (v) => (v === '' || v === undefined ? fallback : String(v).split(',').map((a) => a.trim()).filter(Boolean)),
    z.array(z.string()).superRefine((entries, ctx) => {
      try {
        addressSet(entries);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `${(err as Error).message}; expected addresses or CIDR ranges separated by commas, such as 10.0.0.0/8,192.0.2.7` });
      }
    }),
  );

const url = (fallback: string) =>
  z.preprocess((v) => (v === '' || v === undefined ? fallback : v), z.url({ error: 'expected an http(s) URL' }));

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const envSchema = z.object({
  PORT: positiveInt(3000),
  // Names this process among instances sharing a Postgres database; the same name after a restart takes
  // back what the previous process was sending at once. Default: the host name and PORT.
  INSTANCE_ID: z.preprocess((v) => (v === '' ? undefined : v), z.string().max(100).regex(/^[\x21-\x7e]+$/, 'expected printable characters without spaces').optional()),
  DATABASE_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^(postgres(ql)?:\/\/|file:|sqlite:)/, 'expected postgres://… or file:<path> (unset: SQLite under ./data/)')
      .optional(),
  ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PUBLIC_BASE_URL: z.preprocess((v) => (v === '' ? undefined : v), z.url({ error: 'expected the https URL the platforms reach' }).optional()),

  LINE_CHANNEL_SECRET: optionalText,
  LINE_CHANNEL_ACCESS_TOKEN: optionalText,
  LINE_API_BASE_URL: url('https://api.line.me'),
  LINE_DATA_API_BASE_URL: url('https://api-data.line.me'),

  TELEGRAM_BOT_TOKEN: optionalText,
  TELEGRAM_WEBHOOK_SECRET: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,256}$/, 'expected 1–256 characters of A-Z, a-z, 0-9, _ and - (Telegram secret_token rules)')
      .optional(),
  ),
  TELEGRAM_API_BASE_URL: url('https://api.telegram.org'),

  DEALER_NAME: z.string().min(1).default('Demo Motors'),
  DEALER_TIMEZONE: z
    .string()
    .default('Asia/Taipei')
    .refine(isTimeZone, 'expected an IANA time zone such as Asia/Taipei'),
  DEFAULT_LOCALE: z.enum(SUPPORTED_LOCALES, { error: `expected one of ${SUPPORTED_LOCALES.join(', ')}` }).default('zh-TW'),
  // Licence plates and mobile numbers customers type are read in these countries' formats; the first is home.
  DEALER_COUNTRY: z.preprocess(
    (v) => (v === '' || v === undefined ? ['TW'] : String(v).split(',').map((c) => c.trim().toUpperCase()).filter(Boolean)),
    z
      .array(z.string())
      .min(1, `expected one or more of ${COUNTRIES.join(', ')}`)
      .refine((codes) => codes.every((c) => (COUNTRIES as readonly string[]).includes(c)), `expected one or more of ${COUNTRIES.join(', ')}, separated by commas`)
      .transform((codes) => codes as Country[]),
  ),
  // Where a web chat customer can continue the conversation, so reminders reach them after the tab is closed.
  TELEGRAM_BOT_USERNAME: z.preprocess(
    (v) => (v === '' || v === undefined ? undefined : String(v).replace(/^@/, '')),
    z.string().regex(/^[A-Za-z][A-Za-z0-9_]{3,31}$/, 'expected the bot\'s username as @BotFather shows it, such as DemoMotorsBot').optional(),
  ),
  LINE_ACCOUNT_ID: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().regex(/^@[a-z0-9._-]{2,40}$/i, 'expected the LINE Official Account\'s basic ID, such as @123abcde').optional(),
  ),

  WEB_CHAT_SECRET: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(32, 'expected at least 32 characters').optional()),
  CONVERSATION_TIMEOUT_MINUTES: positiveInt(30),
  HANDOFF_IDLE_MINUTES: positiveInt(30),
  BLOB_DIR: optionalText,
  OUTBOX_MAX_ATTEMPTS: positiveInt(8),
  // Longest wait for one LINE or Telegram API call; kept well below the outbox lease (60 s).
  PLATFORM_TIMEOUT_SECONDS: positiveInt(30).pipe(z.number().max(50, 'expected at most 50 seconds (the outbox lease is 60)')),
  LINE_RATE_LIMIT_PER_SECOND: positiveInt(2000),
  TELEGRAM_RATE_LIMIT_PER_SECOND: positiveInt(30),
  TELEGRAM_PER_CHAT_PER_SECOND: positiveInt(1),

  DMS_WEBHOOK_URL: z.preprocess((v) => (v === '' ? undefined : v), z.url({ error: 'expected the http(s) URL of the DMS endpoint' }).optional()),
  DMS_WEBHOOK_SECRET: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16, 'expected at least 16 characters').optional()),
  DMS_WEBHOOK_MAX_ATTEMPTS: positiveInt(10),

  // Proxies in front of the service whose X-Forwarded-For / Forwarded headers are believed (none: the connection's address is the client's).
  TRUSTED_PROXIES: addressList([]),
  // Who may read /metrics: these addresses, or anyone with `Authorization: Bearer <METRICS_TOKEN>`.
  METRICS_ALLOW: addressList(['loopback']),
  // What one web chat visitor, and all visitors from one address, may send (SECURITY.md).
  WEB_CHAT_MESSAGES_PER_VISITOR: positiveInt(60),
  WEB_CHAT_MESSAGES_PER_ADDRESS: positiveInt(240),
  WEB_CHAT_NEW_VISITORS_PER_ADDRESS: positiveInt(20),
  METRICS_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16, 'expected at least 16 characters').optional()),
  /** Minutes after collection the satisfaction survey is sent (0: right away), unless the dealer's console setting says otherwise. */
  SURVEY_DELAY_MINUTES: z.preprocess((v) => (v === '' || v === undefined ? undefined : Number(v)), z.number({ error: 'expected a whole number of minutes' }).int().min(0).max(10_080).default(120)),
});

export type Env = z.infer<typeof envSchema>;

/** The typed configuration the app runs with. */
export interface Config {
  port: number;
  /** INSTANCE_ID, when set (the Node entry names the instance by host and port otherwise). */
  instanceId: string | null;
  database: { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };
  logLevel: Env['LOG_LEVEL'];
  publicBaseUrl: string | null;
  line: { channelSecret: string; channelAccessToken: string; apiBaseUrl: string; dataApiBaseUrl: string } | null;
  telegram: { botToken: string; webhookSecret: string; apiBaseUrl: string } | null;
  dealer: {
    name: string;
    timeZone: string;
    defaultLocale: Env['DEFAULT_LOCALE'];
    /** Whose licence plate and mobile number formats customers' answers are read in; the first is home. */
    countries: readonly Country[];
  };
  /**
   * Where a web chat customer is offered to continue (so reminders reach them once the tab is closed): a
   * channel is offered when it is configured and its public address is known.
   */
  continueOn: { telegramBotUsername: string | null; lineAccountId: string | null };
  webChatSecret: string | null;
  conversationTimeoutMs: number;
  /** Silence after which a conversation held by staff goes back to the bot. */
  handoffIdleMs: number;
  /** Node: where photos are kept on disk (unset: `blobs/` beside the SQLite file, or ./data/blobs). */
  blobDir: string | null;
  outbox: {
    maxAttempts: number;
    rateLimits: { linePerSecond: number; telegramPerSecond: number; telegramPerChatPerSecond: number };
    /** Longest wait for one platform API call (PLATFORM_TIMEOUT_SECONDS). */
    platformTimeoutMs: number;
  };
  /** Signed webhooks to the dealership's DMS (src/repair-orders/dms-webhooks.ts); null when not set. */
  dmsWebhook: { url: string; secret: string; maxAttempts: number } | null;
  /** Addresses and ranges of the proxies whose forwarded-for headers are believed (src/http/client-address.ts). */
  trustedProxies: string[];
  /** Web chat limits: messages a minute per visitor and per address, new visitors per address in 10 minutes. */
  webChatLimits: { messagesPerVisitorPerMinute: number; messagesPerAddressPerMinute: number; newVisitorsPerAddressPer10Minutes: number };
  /** Who may read /metrics: connections from `allow`, or a request with the bearer `token`. */
  metrics: { allow: string[]; token: string | null };
  /** Default minutes from collection to the satisfaction survey (the console's setting overrides it). */
  surveyDelayMinutes: number;
  /** Why each disabled channel is off, for its webhook's 404 answer and the start-up log. */
  disabledChannels: Partial<Record<'line' | 'telegram', string>>;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Configuration is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses environment variables into a Config, or throws ConfigError naming each wrong variable. */
export function parseConfig(env: Record<string, string | undefined>, defaults: { sqlitePath?: string } = {}): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message} (got ${JSON.stringify(env[String(issue.path[0])] ?? null)})`),
    );
  }
  const e = parsed.data;
  if (e.DMS_WEBHOOK_URL && !e.DMS_WEBHOOK_SECRET) throw new ConfigError(['DMS_WEBHOOK_SECRET: expected a secret of at least 16 characters to sign the webhooks to DMS_WEBHOOK_URL (got null)']);
  const disabledChannels: Config['disabledChannels'] = {};

  let line: Config['line'] = null;
  if (e.LINE_CHANNEL_SECRET && e.LINE_CHANNEL_ACCESS_TOKEN) {
    line = {
      channelSecret: e.LINE_CHANNEL_SECRET,
      channelAccessToken: e.LINE_CHANNEL_ACCESS_TOKEN,
      apiBaseUrl: e.LINE_API_BASE_URL,
      dataApiBaseUrl: e.LINE_DATA_API_BASE_URL,
    };
  } else {
    disabledChannels.line = `LINE is not configured: set ${[!e.LINE_CHANNEL_SECRET && 'LINE_CHANNEL_SECRET', !e.LINE_CHANNEL_ACCESS_TOKEN && 'LINE_CHANNEL_ACCESS_TOKEN'].filter(Boolean).join(' and ')}`;
  }

  let telegram: Config['telegram'] = null;
  if (e.TELEGRAM_BOT_TOKEN && e.TELEGRAM_WEBHOOK_SECRET) {
    telegram = { botToken: e.TELEGRAM_BOT_TOKEN, webhookSecret: e.TELEGRAM_WEBHOOK_SECRET, apiBaseUrl: e.TELEGRAM_API_BASE_URL };
  } else {
    disabledChannels.telegram = `Telegram is not configured: set ${[!e.TELEGRAM_BOT_TOKEN && 'TELEGRAM_BOT_TOKEN', !e.TELEGRAM_WEBHOOK_SECRET && 'TELEGRAM_WEBHOOK_SECRET'].filter(Boolean).join(' and ')}`;
  }

  let database: Config['database'];
  const dbUrl = e.DATABASE_URL;
  if (!dbUrl) database = { kind: 'sqlite', path: defaults.sqlitePath ?? './data/dealer-chat.sqlite' };
  else if (dbUrl.startsWith('file:') || dbUrl.startsWith('sqlite:')) database = { kind: 'sqlite', path: dbUrl.replace(/^(file|sqlite):(\/\/)?/, '') };
  else database = { kind: 'postgres', url: dbUrl };

  return {
    port: e.PORT,
    instanceId: e.INSTANCE_ID ?? null,
    database,
    logLevel: e.LOG_LEVEL,
    publicBaseUrl: e.PUBLIC_BASE_URL ?? null,
    line,
    telegram,
    dealer: { name: e.DEALER_NAME, timeZone: e.DEALER_TIMEZONE, defaultLocale: e.DEFAULT_LOCALE, countries: [...new Set(e.DEALER_COUNTRY)] },
    continueOn: {
      telegramBotUsername: telegram ? (e.TELEGRAM_BOT_USERNAME ?? null) : null,
      lineAccountId: line ? (e.LINE_ACCOUNT_ID ?? null) : null,
    },
    webChatSecret: e.WEB_CHAT_SECRET ?? null,
    conversationTimeoutMs: e.CONVERSATION_TIMEOUT_MINUTES * 60_000,
    handoffIdleMs: e.HANDOFF_IDLE_MINUTES * 60_000,
    surveyDelayMinutes: e.SURVEY_DELAY_MINUTES,
    blobDir: e.BLOB_DIR ?? null,
    outbox: {
      maxAttempts: e.OUTBOX_MAX_ATTEMPTS,
      platformTimeoutMs: e.PLATFORM_TIMEOUT_SECONDS * 1000,
      rateLimits: {
        linePerSecond: e.LINE_RATE_LIMIT_PER_SECOND,
        telegramPerSecond: e.TELEGRAM_RATE_LIMIT_PER_SECOND,
        telegramPerChatPerSecond: e.TELEGRAM_PER_CHAT_PER_SECOND,
      },
    },
    dmsWebhook: e.DMS_WEBHOOK_URL && e.DMS_WEBHOOK_SECRET ? { url: e.DMS_WEBHOOK_URL, secret: e.DMS_WEBHOOK_SECRET, maxAttempts: e.DMS_WEBHOOK_MAX_ATTEMPTS } : null,
    trustedProxies: e.TRUSTED_PROXIES,
    metrics: { allow: e.METRICS_ALLOW, token: e.METRICS_TOKEN ?? null },
    webChatLimits: {
      messagesPerVisitorPerMinute: e.WEB_CHAT_MESSAGES_PER_VISITOR,
      messagesPerAddressPerMinute: e.WEB_CHAT_MESSAGES_PER_ADDRESS,
      newVisitorsPerAddressPer10Minutes: e.WEB_CHAT_NEW_VISITORS_PER_ADDRESS,
    },
    disabledChannels,
  };
}
