import type { Kysely } from 'kysely';
import type { Choice } from '../channels/types';
import type { ChannelName, Customer, Database } from '../store/schema';

/*
 * Carrying a web chat customer over to LINE or Telegram, so reminders and notices reach them once the tab
 * is closed. The web chat offers a link that holds a signed one-time code: a Telegram deep link
 * (`t.me/<bot>?start=link-<code>`) or a LINE link that opens the official account with a message holding
 * the code. When the code comes back on the new channel, that chat joins the customer the code names.
 *
 * A code is the customer's id, an expiry and a few random bytes, signed with HMAC-SHA256 under the `channel_link_secret`
 * setting (made at start, see store/seed.ts), so it cannot be forged or altered; once used it is kept in
 * `spent_link_codes`, so it works once.
 */

export const LINK_SECRET_SETTING = 'channel_link_secret';
/** How long a link offered in the web chat keeps working. */
export const LINK_TTL_MS = 7 * 24 * 3600_000;

const PREFIX = 'link-';
const MAC_BYTES = 12;
const encoder = new TextEncoder();

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  try {
    return Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

const uuidBytes = (id: string): Uint8Array | null => (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) ? Uint8Array.from(id.replace(/-/g, '').match(/../g)!, (h) => parseInt(h, 16)) : null);
const uuidOf = (bytes: Uint8Array): string => {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

async function mac(secret: string, body: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, body)).slice(0, MAC_BYTES);
}

/** The signing secret, or null before it is made (then no links are offered). */
export async function linkSecret(db: Kysely<Database>): Promise<string | null> {
  return (await db.selectFrom('settings').select('value').where('key', '=', LINK_SECRET_SETTING).executeTakeFirst())?.value ?? null;
}

/** Customer id, expiry (seconds), and random bytes so that every code is its own (and spent on its own). */
const BODY_BYTES = 24;
const BODY_CHARS = 32;
/** Every code is this long: 48 characters of A–Z a–z 0–9 _ -. */
export const LINK_CODE_CHARS = BODY_CHARS + 16;

/** A code for `customerId` that works until `expiresAt`, or null when the id is not a UUID. */
export async function signLinkCode(secret: string, customerId: string, expiresAt: Date): Promise<string | null> {
  const id = uuidBytes(customerId);
  if (!id) return null;
  const body = new Uint8Array(BODY_BYTES);
  body.set(id, 0);
  new DataView(body.buffer).setUint32(16, Math.floor(expiresAt.getTime() / 1000));
  body.set(crypto.getRandomValues(new Uint8Array(4)), 20);
  return toBase64Url(body) + toBase64Url(await mac(secret, body));
}

/** The customer a code names, or why it names nobody. */
export async function readLinkCode(secret: string, code: string, now: Date): Promise<{ ok: true; customerId: string; signature: string } | { ok: false; reason: 'invalid' | 'expired' }> {
  if (code.length !== LINK_CODE_CHARS) return { ok: false, reason: 'invalid' };
  const body = fromBase64Url(code.slice(0, BODY_CHARS));
  const signature = code.slice(BODY_CHARS);
  const given = fromBase64Url(signature);
  if (!body || body.length !== BODY_BYTES || !given || given.length !== MAC_BYTES) return { ok: false, reason: 'invalid' };
  const expected = await mac(secret, body);
  let diff = 0;
  for (let i = 0; i < MAC_BYTES; i++) diff |= expected[i]! ^ given[i]!;
  if (diff !== 0) return { ok: false, reason: 'invalid' };
  if (new DataView(body.buffer, body.byteOffset).getUint32(16) * 1000 < now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, customerId: uuidOf(body.slice(0, 16)), signature };
}

/** The code in a Telegram `/start` payload ("link-…"), or null. */
export function linkCodeOfPayload(payload: string | null): string | null {
  return payload && payload.toLowerCase().startsWith(PREFIX) ? payload.slice(PREFIX.length) : null;
}

/** The code in a message (the LINE link fills one in: "… LINK-…"), or null. */
export function linkCodeInText(text: string): string | null {
  return /(?:^|\s)LINK-([A-Za-z0-9_-]{48})(?![A-Za-z0-9_-])/.exec(text)?.[1] ?? null;
}

/** The words of the message a LINE link fills in: the code, and what it is for in the customer's language. */
export function lineLinkMessage(intro: string, code: string): string {
  return `${intro} LINK-${code}`;
}

export interface ContinueOn {
  telegramBotUsername: string | null;
  lineAccountId: string | null;
}

/**
 * "Get reminders on LINE / Telegram" buttons for a web chat customer, each carrying a fresh code; none
 * when neither channel is configured or the secret is not made yet.
 */
export async function continueChoices(
  db: Kysely<Database>,
  args: { customerId: string; channel: ChannelName; continueOn: ContinueOn; now: Date; lineIntro: string },
): Promise<Choice[]> {
  const { telegramBotUsername: bot, lineAccountId: line } = args.continueOn;
  if (args.channel !== 'web' || (!bot && !line)) return [];
  const secret = await linkSecret(db);
  if (!secret) return [];
  const expires = new Date(args.now.getTime() + LINK_TTL_MS);
  const choices: Choice[] = [];
  const lineCode = line ? await signLinkCode(secret, args.customerId, expires) : null;
  if (line && lineCode) choices.push({ kind: 'url', url: `https://line.me/R/oaMessage/${encodeURIComponent(line)}/?${encodeURIComponent(lineLinkMessage(args.lineIntro, lineCode))}`, label: { key: 'link.line' } });
  const telegramCode = bot ? await signLinkCode(secret, args.customerId, expires) : null;
  if (bot && telegramCode) choices.push({ kind: 'url', url: `https://t.me/${bot}?start=${PREFIX}${telegramCode}`, label: { key: 'link.telegram' } });
  return choices;
}

export type LinkOutcome = { ok: true; customerId: string; name: string | null } | { ok: false; reason: 'invalid' | 'expired' | 'used' | 'same' };

/**
 * Joins the chat `customer` is writing from (on `channel`) to the customer the code names. The chat's own
 * profile, when it was made by this very message and holds nothing else, is marked as merged into that
 * customer. Reads first, writes after (D1 does not read a transaction's own writes).
 */
export async function redeemLinkCode(
  db: Kysely<Database>,
  args: { code: string; customer: Customer; channel: ChannelName; isNewCustomer: boolean; now: Date },
): Promise<LinkOutcome> {
  const secret = await linkSecret(db);
  if (!secret) return { ok: false, reason: 'invalid' };
  const read = await readLinkCode(secret, args.code, args.now);
  if (!read.ok) return read;
  const spent = await db.selectFrom('spent_link_codes').select('code').where('code', '=', read.signature).executeTakeFirst();
  if (spent) return { ok: false, reason: 'used' };
  let target = await db.selectFrom('customers').select(['id', 'display_name', 'merged_into_id', 'erased_at']).where('id', '=', read.customerId).executeTakeFirst();
  // Merged since the link was made: the code leads where the profile went.
  for (let hops = 0; target?.merged_into_id && hops < 5; hops++) {
    target = await db.selectFrom('customers').select(['id', 'display_name', 'merged_into_id', 'erased_at']).where('id', '=', target.merged_into_id).executeTakeFirst();
  }
  if (!target || target.erased_at) return { ok: false, reason: 'invalid' };
  if (target.id === args.customer.id) return { ok: false, reason: 'same' };
  const nowIso = args.now.toISOString();
  await db.insertInto('spent_link_codes').values({ code: read.signature, spent_at: nowIso }).execute();
  await db.updateTable('channel_identities').set({ customer_id: target.id, reachable: 1, unreachable_since: null }).where('customer_id', '=', args.customer.id).where('channel', '=', args.channel).execute();
  if (args.isNewCustomer) {
    // The profile this message made holds nothing but the message: it leads to the customer now.
    await db.updateTable('messages').set({ customer_id: target.id }).where('customer_id', '=', args.customer.id).execute();
    await db.updateTable('customers').set({ merged_into_id: target.id, updated_at: nowIso }).where('id', '=', args.customer.id).execute();
    if (!target.display_name && args.customer.display_name) await db.updateTable('customers').set({ display_name: args.customer.display_name, updated_at: nowIso }).where('id', '=', target.id).execute();
  }
  return { ok: true, customerId: target.id, name: target.display_name ?? args.customer.display_name };
}
