import type { Context } from 'hono';
import type { FC } from 'hono/jsx';
import type { Choice } from '../../channels/types';
import type { ChannelName } from '../../store/schema';
import type { StaffEnv } from '../guard';
import type { ActionContext, CustomerFailure, FieldError } from '../customers/result';
import type { ConsoleDeps, Page } from './layout';

/*
 * Small pieces the customer, conversation and outbox pages share: their texts, times in the dealership's
 * zone, channel badges and the messages for refused actions.
 */

export const NS = 'console-customers';

/** A text of the customer pages, in the staff member's language. */
export function ct(page: Page, key: string, params?: Record<string, string | number>): string {
  return page.t(`${NS}:${key}`, params);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** An ISO time as staff read it: the dealership's time zone, the staff member's way of writing dates. */
export function formatTime(page: Page, deps: ConsoleDeps, iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const key = `${page.locale}|${deps.config.dealer.timeZone}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(page.locale, { timeZone: deps.config.dealer.timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(key, f);
  }
  return f.format(date);
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** A platform's user id is long and opaque; its two ends are enough for staff to tell two apart. */
export function shortExternalId(id: string): string {
  return id.length <= 14 ? id : `${id.slice(0, 6)}…${id.slice(-4)}`;
}

export function customerName(page: Page, name: string | null | undefined): string {
  return name && name.trim() ? name : ct(page, 'unnamed');
}

export const ChannelBadge: FC<{ page: Page; channel: ChannelName; reachable?: boolean }> = ({ page, channel, reachable }) => (
  <span class={reachable === undefined ? 'badge' : reachable ? 'badge ok' : 'badge bad'} title={reachable === undefined ? undefined : ct(page, reachable ? 'reachable' : 'unreachable')}>
    {ct(page, `channel.${channel}`)}
    {reachable === false ? ` · ${ct(page, 'unreachable')}` : ''}
  </span>
);

export function fieldErrorText(page: Page, error: FieldError): string {
  return ct(page, `errors.${error.code}`, error.params);
}

/** The page's message for an action that was refused, and the status it is answered with. */
export function failureMessage(page: Page, failure: CustomerFailure): { text: string; status: 400 | 404 | 409 } {
  switch (failure.reason) {
    case 'invalid':
      return { text: failure.errors.map((e) => fieldErrorText(page, e)).join(' '), status: 400 };
    case 'not_found':
      return { text: ct(page, 'conflict.notFound'), status: 404 };
    case 'erased':
      return { text: ct(page, 'conflict.erased'), status: 409 };
    case 'merged':
      return { text: ct(page, 'conflict.merged'), status: 409 };
    case 'conflict':
      return { text: ct(page, `conflict.${failure.code}`), status: 409 };
  }
}

const FLASHES = ['saved', 'vehicleAdded', 'vehicleSaved', 'merged', 'erased', 'sent', 'handedBack', 'handedBackSilent', 'retried'];

/** The note a page shows after a successful post redirected to it (`?flash=…`); unknown words show nothing. */
export function flashFrom(page: Page, value: string | undefined): { text: string } | null {
  return value && FLASHES.includes(value) ? { text: ct(page, `flash.${value}`) } : null;
}

/** A flow's name in the staff member's language when the console knows it, else the name itself. */
export function flowLabel(page: Page, deps: ConsoleDeps, flow: string): string {
  const key = `${NS}:flows.${flow}`;
  return deps.translator.has(page.locale, key) ? page.t(key) : flow;
}

/** Where the conversation stands, as staff need to know it ("waiting for a person"). */
export function conversationStatus(page: Page, deps: ConsoleDeps, flow: string | null | undefined, step: string | null | undefined): string {
  if (!flow) return ct(page, 'conversation.status.idle');
  if (flow === 'handoff') return ct(page, 'conversation.status.handoff');
  return ct(page, 'conversation.status.inFlow', { flow: flowLabel(page, deps, flow), step: step ?? '' });
}

/**
 * What the customer pages need beyond every console page's deps. `menuChoices` is the engine's main
 * menu, offered with "you're back with the assistant" when staff hand a conversation back; without it
 * that message goes without buttons.
 */
export type CustomerPagesDeps = ConsoleDeps & { menuChoices?: () => Choice[] };

export type Form = Record<string, string>;

export async function formOf(c: Context<StaffEnv>): Promise<Form> {
  const body = await c.req.parseBody();
  const out: Form = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v;
  return out;
}



/** A path parameter of the route (always present: the route declares it). */
export function pathParam(c: Context<StaffEnv>, name: string): string {
  return c.req.param(name) ?? '';
}
