import type { CardReply, ChannelName, Choice, Reply, TextRef } from '../channels/types';
import { progressButtons as buttons } from '../conversation/button-ids';
import { localDateOf, localTimeOf } from '../domain/local-time';
import { formatDayShort } from '../i18n/format';
import type { Locale } from '../i18n/locales';
import type { RepairOrderStatus } from '../store/schema';
import { formatMoney } from './money';
import { hoursText, pickupTimes, pickupWindow, type PickupWindow } from './pickup-hours';
import { displayNumber } from './repair-orders';
import { amountDue, approvedTotal, type ItemView, type OrderSubject } from './subject';

/*
 * The messages a customer gets about their repair order, as keys and parameters (rendered in their
 * language when sent): status notices, the added-items request, the pickup card and the replies to what
 * they answer. Pure: everything comes from an OrderSubject, the channel and the moment.
 *
 * The added-items request is one message on every channel, built for many items: on LINE a Flex carousel
 * (a summary card with "approve all" and "call me", then a card per item with its photo and its own
 * buttons; twelve cards a carousel), on Telegram one message with a keyboard row per item, and in the web
 * chat one card with every button (the page only keeps the latest message's buttons active).
 */

const p = (key: string, params?: Record<string, string | number>): TextRef => ({ key: `progress:${key}`, params });

/** What the customer calls the car: its plate, its make and model, or the order's number. */
export function vehicleLabel(s: Pick<OrderSubject, 'vehicle' | 'order'>): string {
  const v = s.vehicle;
  if (v?.plate.trim()) return v.plate.trim();
  const name = [v?.make, v?.model].filter(Boolean).join(' ');
  return name || displayNumber(s.order);
}

export function money(s: Pick<OrderSubject, 'settings' | 'customer'>, minor: number, locale: Locale = s.customer.locale): string {
  return formatMoney(locale, s.settings.currency, minor);
}

/** "Tue, Dec 1 17:00" in the branch's time zone, in the customer's language. */
export function localWhen(s: Pick<OrderSubject, 'branch'>, iso: string, locale: Locale): string {
  const at = Date.parse(iso);
  return `${formatDayShort(locale, localDateOf(at, s.branch.timeZone))} ${localTimeOf(at, s.branch.timeZone)}`;
}

/** The status notice (every status but 'ready', which is the pickup card). */
export function statusReplies(s: OrderSubject, status: RepairOrderStatus): Reply[] {
  const params = { vehicle: vehicleLabel(s), number: displayNumber(s.order) };
  const text: TextRef[] = [p(`status.${status}`, params)];
  const open = status !== 'collected' && status !== 'cancelled';
  if (open && s.order.promisedAt) text.push(p('promised', { when: localWhen(s, s.order.promisedAt, s.customer.locale) }));
  return [{ type: 'text', text, choices: open ? [{ kind: 'postback', id: buttons.id('order', s.order.id), label: p('buttons.progress') }] : [] }];
}

/** The promised time moved later. */
export function delayReplies(s: OrderSubject, from: string, to: string): Reply[] {
  const locale = s.customer.locale;
  return [{ type: 'text', text: p('delay', { vehicle: vehicleLabel(s), from: localWhen(s, from, locale), to: localWhen(s, to, locale) }), choices: [{ kind: 'postback', id: buttons.id('callMe', s.order.id), label: p('buttons.callMe') }] }];
}

function itemCard(s: OrderSubject, item: ItemView, answered: boolean): CardReply {
  return {
    type: 'card',
    title: p('item.title', { n: item.position, description: item.description }),
    rows: [
      { label: p('item.price'), value: { raw: money(s, item.price) } },
      { label: p('item.urgency'), value: p(`urgency.${item.urgency}`) },
    ],
    ...(item.photoUrl ? { image: item.photoUrl } : {}),
    choices: answered ? [] : itemChoices(item),
  };
}

function itemChoices(item: ItemView): Choice[] {
  return [
    { kind: 'postback', id: buttons.id('approve', item.id), label: p('buttons.approve', { n: item.position }) },
    { kind: 'postback', id: buttons.id('decline', item.id), label: p('buttons.decline', { n: item.position }) },
  ];
}

/** The totals of a request: what the order comes to now, and with every unanswered item of it approved. */
export function requestTotals(s: OrderSubject, requestId: string): { current: number; ifApproved: number } {
  const others = s.items.filter((i) => i.requestId !== requestId);
  const mine = s.items.filter((i) => i.requestId === requestId);
  const current = (s.order.estimatedAmount ?? 0) + approvedTotal(others) + approvedTotal(mine);
  return { current, ifApproved: current + mine.filter((i) => i.decision === null).reduce((sum, i) => sum + i.price, 0) };
}

/**
 * The added-items request (or its reminder: the unanswered items only), shaped for the channel; see the
 * module comment. Empty when every item of the request is answered.
 */
export function consentReplies(s: OrderSubject, requestId: string, channel: ChannelName, opts: { reminder: boolean }): Reply[] {
  const items = s.items.filter((i) => i.requestId === requestId);
  const open = items.filter((i) => i.decision === null);
  if (open.length === 0) return [];
  const shown = opts.reminder ? open : items;
  const vehicle = vehicleLabel(s);
  const totals = requestTotals(s, requestId);
  const title = p(opts.reminder ? 'consent.reminderTitle' : 'consent.title', { vehicle });
  const summaryRows = [
    { label: p('consent.order'), value: { raw: displayNumber(s.order) } },
    { label: p('consent.items'), value: { raw: String(open.length) } },
    { label: p('consent.currentTotal'), value: { raw: money(s, totals.current) } },
    { label: p('consent.newTotal'), value: { raw: money(s, totals.ifApproved) } },
  ];
  const common: Choice[] = [
    ...(open.length > 1 ? [{ kind: 'postback' as const, id: buttons.id('approveAll', requestId), label: p('buttons.approveAll') }] : []),
    { kind: 'postback', id: buttons.id('callMe', s.order.id), label: p('buttons.callMe') },
  ];
  if (channel === 'web') {
    return [
      {
        type: 'card',
        title,
        rows: [
          ...shown.map((i) => ({ label: p(`item.rowLabel.${i.urgency}`, { n: i.position }), value: p('item.rowValue', { description: i.description, price: money(s, i.price) }) })),
          ...summaryRows.slice(2),
        ],
        footer: p('consent.footer'),
        choices: [
          ...shown.flatMap((i) => (i.decision === null ? itemChoices(i) : [])),
          ...common,
          ...shown.filter((i) => i.photoUrl).map((i): Choice => ({ kind: 'url', url: i.photoUrl!, label: p('buttons.photo', { n: i.position }) })),
        ],
      },
    ];
  }
  const summary: CardReply = { type: 'card', title, rows: summaryRows, footer: p('consent.footer'), choices: common };
  return [
    {
      type: 'carousel',
      altText: p('consent.altText', { vehicle, count: open.length, total: money(s, totals.ifApproved) }),
      cards: [summary, ...shown.map((i) => itemCard(s, i, i.decision !== null))],
    },
  ];
}

/** What was done, for the pickup card: the advisor's summary, else the service booked and the approved items. */
function workDone(s: OrderSubject): TextRef {
  if (s.order.workSummary?.trim()) return { raw: s.order.workSummary.trim() };
  const parts: string[] = [];
  const service = s.serviceNames ? (s.serviceNames[s.customer.locale] ?? s.serviceNames.en ?? Object.values(s.serviceNames)[0]) : undefined;
  if (service) parts.push(service);
  for (const i of s.items) if (i.decision === 'approved') parts.push(i.description);
  return parts.length > 0 ? { raw: parts.join(', ') } : { raw: '—' };
}

function windowText(s: OrderSubject, w: PickupWindow): TextRef {
  const hours = hoursText(w.intervals);
  return w.today ? p('pickup.today', { hours }) : p('pickup.onDay', { day: formatDayShort(s.customer.locale, w.date), hours });
}

/** "I'll come at …" as the channel offers it: a date/time picker bounded to the day's hours (Telegram: a button). */
export function comeAtChoice(s: OrderSubject, w: PickupWindow, now: number): Choice {
  const times = pickupTimes(s.branch, w, now);
  const first = times[0] ?? w.intervals[0]![0];
  const last = times[times.length - 1] ?? w.intervals[w.intervals.length - 1]![1];
  return { kind: 'datetime', id: buttons.id('comeAt', s.order.id), label: p('buttons.comeAt'), mode: 'datetime', initial: `${w.date}T${first}`, min: `${w.date}T${first}`, max: `${w.date}T${last}` };
}

function pickupChoices(s: OrderSubject, w: PickupWindow | null, now: number): Choice[] {
  return [
    ...(w ? [comeAtChoice(s, w, now)] : []),
    { kind: 'postback', id: buttons.id('moreTime', s.order.id), label: p('buttons.moreTime') },
    { kind: 'postback', id: buttons.id('callMe', s.order.id), label: p('buttons.callMe') },
    ...(s.branch.mapUrl && /^https?:\/\//i.test(s.branch.mapUrl) ? [{ kind: 'url' as const, url: s.branch.mapUrl, label: p('buttons.map') }] : []),
  ];
}

/** The pickup card (or the next morning's reminder): car, work done, amount due, hours, where to go, and what to answer. */
export function pickupReplies(s: OrderSubject, now: number, opts: { reminder: boolean }): Reply[] {
  const w = pickupWindow(s.branch, now);
  const due = amountDue(s);
  const rows: CardReply['rows'] = [
    { label: p('pickup.order'), value: { raw: displayNumber(s.order) } },
    { label: p('pickup.work'), value: workDone(s) },
    ...(due !== null ? [{ label: p('pickup.amount'), value: { raw: money(s, due) } }] : []),
    { label: p('pickup.hours'), value: w ? windowText(s, w) : p('pickup.noHours', { branch: s.branch.name }) },
    { label: p('pickup.branch'), value: { raw: s.branch.name } },
    ...(s.branch.address ? [{ label: p('pickup.address'), value: { raw: s.branch.address } }] : []),
    ...(s.branch.phone ? [{ label: p('pickup.phone'), value: { raw: s.branch.phone } }] : []),
  ];
  return [{ type: 'card', title: p(opts.reminder ? 'pickup.reminderTitle' : 'pickup.title', { vehicle: vehicleLabel(s) }), rows, footer: p('pickup.footer'), choices: pickupChoices(s, w, now) }];
}

/**
 * "What time will you come?" for the pickup day: Telegram has no picker, so it gets the day's times as
 * buttons; LINE and the web get their date/time picker again (a list would pass LINE's 13 quick replies).
 */
export function pickupTimeReplies(s: OrderSubject, w: PickupWindow, now: number, channel: ChannelName, lead: 'chooseTime' | 'outsideHours' = 'chooseTime'): Reply[] {
  const day = w.date.replace(/-/g, '');
  const times = pickupTimes(s.branch, w, now);
  const params = { day: formatDayShort(s.customer.locale, w.date), hours: hoursText(w.intervals) };
  if (channel !== 'telegram') return [{ type: 'text', text: p(`pickup.${lead}`, params), choices: [comeAtChoice(s, w, now), { kind: 'postback', id: buttons.id('moreTime', s.order.id), label: p('buttons.moreTime') }] }];
  return [
    {
      type: 'text',
      text: p(`pickup.${lead}`, params),
      choices: [
        ...times.map((t): Choice => ({ kind: 'postback', id: buttons.id('comeAtTime', s.order.id, day, t.replace(':', '')), label: { raw: t } })),
        { kind: 'postback', id: buttons.id('moreTime', s.order.id), label: p('buttons.moreTime') },
      ],
      columns: 4,
    },
  ];
}

export function pickupConfirmedReplies(s: OrderSubject, at: number): Reply[] {
  const locale = s.customer.locale;
  const text: TextRef[] = [p('pickup.confirmed', { time: localTimeOf(at, s.branch.timeZone), day: formatDayShort(locale, localDateOf(at, s.branch.timeZone)), branch: s.branch.name })];
  if (s.branch.address) text.push(p('pickup.confirmedAddress', { address: s.branch.address }));
  return [{ type: 'text', text, choices: s.branch.mapUrl && /^https?:\/\//i.test(s.branch.mapUrl) ? [{ kind: 'url', url: s.branch.mapUrl, label: p('buttons.map') }] : [] }];
}

export function moreTimeReplies(s: OrderSubject, now: number): Reply[] {
  // The next day's hours: "more time" means not today.
  const tomorrow = pickupWindow(s.branch, (pickupWindow(s.branch, now)?.closesAt ?? now) + 60_000);
  return [{ type: 'text', text: tomorrow ? p('pickup.moreTime', { hours: windowTextRaw(s, tomorrow) }) : p('pickup.noHours', { branch: s.branch.name }), choices: tomorrow ? [comeAtChoice(s, tomorrow, now)] : [] }];
}

function windowTextRaw(s: OrderSubject, w: PickupWindow): string {
  return `${formatDayShort(s.customer.locale, w.date)} ${hoursText(w.intervals)}`;
}

export function callMeReplies(s: OrderSubject): Reply[] {
  return [{ type: 'text', text: s.customer.phone ? p('callMe.thanksPhone', { phone: s.customer.phone }) : p('callMe.thanks') }];
}

/**
 * The answer to an item (or to "approve all"): what was recorded, then either what is still open, with
 * its buttons (the web chat disables older ones; LINE quick replies hold 13), or the new total.
 */
export function decisionReplies(s: OrderSubject, decided: readonly ItemView[], channel: ChannelName): Reply[] {
  const text: TextRef[] = decided.map((i) =>
    i.decision === 'approved' ? p('decision.approved', { n: i.position, description: i.description, price: money(s, i.price) }) : p('decision.declined', { n: i.position, description: i.description }),
  );
  const requestIds = new Set(decided.map((i) => i.requestId));
  const open = s.items.filter((i) => i.decision === null && requestIds.has(i.requestId));
  if (open.length === 0) {
    text.push(p('decision.allAnswered', { total: money(s, amountDue(s) ?? 0) }));
    return [{ type: 'text', text }];
  }
  text.push(p('decision.remaining', { count: open.length }));
  const requestId = open[0]!.requestId;
  const all: Choice[] = [
    ...open.flatMap(itemChoices),
    ...(open.length > 1 ? [{ kind: 'postback' as const, id: buttons.id('approveAll', requestId), label: p('buttons.approveAll') }] : []),
    { kind: 'postback', id: buttons.id('callMe', s.order.id), label: p('buttons.callMe') },
  ];
  const fits = channel !== 'line' || all.length <= 13;
  return [{ type: 'text', text, choices: fits ? all : all.slice(-2) }];
}

/** A second answer to an item already answered: harmless, and says what was recorded. */
export function alreadyAnsweredReplies(s: OrderSubject, item: ItemView): Reply[] {
  const when = item.decidedAt ? localWhen(s, item.decidedAt, s.customer.locale) : '';
  return [
    {
      type: 'text',
      text: p(item.decision === 'declined' ? 'decision.alreadyDeclined' : 'decision.alreadyApproved', { n: item.position, description: item.description, when }),
      choices: [{ kind: 'postback', id: buttons.id('callMe', s.order.id), label: p('buttons.callMe') }],
    },
  ];
}

/** One order's progress, as "status" shows it, with what can be done about it now. */
export function orderCard(s: OrderSubject, now: number): CardReply {
  const open = s.items.filter((i) => i.decision === null);
  const due = amountDue(s);
  const rows: CardReply['rows'] = [
    { label: p('statusCard.status'), value: p(`statusName.${s.order.status}`) },
    ...(s.order.promisedAt && s.order.status !== 'collected' && s.order.status !== 'cancelled' ? [{ label: p('statusCard.promised'), value: { raw: localWhen(s, s.order.promisedAt, s.customer.locale) } }] : []),
    ...(open.length > 0 ? [{ label: p('statusCard.waiting'), value: { raw: String(open.length) } }] : []),
    ...(due !== null ? [{ label: p('statusCard.amount'), value: { raw: money(s, due) } }] : []),
    { label: p('pickup.branch'), value: { raw: s.branch.name } },
  ];
  const choices: Choice[] = [];
  if (open.length > 0) choices.push({ kind: 'postback', id: buttons.id('answer', open[0]!.requestId), label: p('buttons.answer') });
  if (s.order.status === 'ready') {
    const w = pickupWindow(s.branch, now);
    if (w) choices.push(comeAtChoice(s, w, now));
  }
  choices.push({ kind: 'postback', id: buttons.id('callMe', s.order.id), label: p('buttons.callMe') });
  return { type: 'card', title: p('statusCard.title', { number: displayNumber(s.order), vehicle: vehicleLabel(s) }), rows, choices };
}
