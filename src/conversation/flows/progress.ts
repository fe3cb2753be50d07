import type { Input, Reply } from '../../channels/types';
import { parseWhen } from '../../domain/free-text-date';
import { customerOrders, orderOfItem, orderOfRequest, ownOrder, shownTexts } from '../../repair-orders/customer';
import { alreadyAnsweredReplies, callMeReplies, consentReplies, decisionReplies, moreTimeReplies, orderCard, pickupConfirmedReplies, pickupTimeReplies } from '../../repair-orders/messages';
import { askForAdvisor, decide, planPickup, type OpsContext, type OrderActor } from '../../repair-orders/operations';
import { acceptPickupTime, pickupWindow, windowOf } from '../../repair-orders/pickup-hours';
import type { RepairOrder } from '../../repair-orders/repair-orders';
import { isClosed } from '../../repair-orders/statuses';
import { loadSubject, type OrderSubject } from '../../repair-orders/subject';
import type { ItemDecision } from '../../store/schema';
import { progressButtons as buttons } from '../button-ids';
import type { FlowContext } from '../flow';
import { defineFlow, endings, stepKit, typedText, type Outcome } from '../kit';

/*
 * Repair progress, from the customer's side: "status" shows their cars in the workshop; the buttons of the
 * notices answer added items (each, or all at once), say when they will collect the car, ask for more time
 * or for a call. Every button works whenever it is pressed, from any message; a second answer to an item
 * is harmless and says what was recorded. Telegram has no time picker, so "I'll come at …" lists the day's
 * times there and waits for one (or a typed time).
 */

type Steps = { pickupTime: { orderId: string; date: string } };
const { ask, reask, done } = stepKit<Steps>();

/** LINE sends at most five messages at once: an intro and four order cards. */
const CARDS_SHOWN = 4;

const p = (key: string, params?: Record<string, string | number>) => ({ key: `progress:${key}`, params });

function ops(ctx: FlowContext): OpsContext {
  return { db: ctx.tx, now: ctx.clock.now, defaultLocale: ctx.dealer.defaultLocale };
}

function customerActor(ctx: FlowContext): OrderActor {
  return { type: 'customer', id: ctx.customer.id, label: ctx.customer.display_name, channel: ctx.channel };
}

async function subjectOf(ctx: FlowContext, order: RepairOrder): Promise<OrderSubject | null> {
  return loadSubject(ctx.tx, order, ctx.dealer.defaultLocale);
}

/** "status": the customer's cars in the workshop, each with what can be done about it now. */
async function overview(ctx: FlowContext): Promise<Outcome<Steps>> {
  const orders = await customerOrders(ctx.tx, ctx.customer.id, ctx.clock.now);
  if (orders.length === 0) return endings.withMenu(ctx, p('none'));
  const cards: Reply[] = [];
  for (const order of orders.slice(0, CARDS_SHOWN)) {
    const s = await subjectOf(ctx, order);
    if (s) cards.push(orderCard(s, ctx.clock.now.getTime()));
  }
  return done({ type: 'text', text: p('intro', { count: orders.length }), choices: ctx.menuChoices() }, ...cards);
}

const closedOrder = (ctx: FlowContext, order: RepairOrder) => endings.withMenu(ctx, p('decision.closed', { number: order.dmsNumber ?? order.number }));

/** Approve or decline one item, or approve what is left of a request. */
async function answer(ctx: FlowContext, order: RepairOrder, pressedId: string, pick: (s: OrderSubject) => string[], decision: ItemDecision): Promise<Outcome<Steps>> {
  const s = await subjectOf(ctx, order);
  if (!s) return endings.staleButton(ctx);
  const wanted = pick(s);
  const open = s.items.filter((i) => wanted.includes(i.id) && i.decision === null);
  if (open.length === 0) {
    const item = s.items.find((i) => wanted.includes(i.id));
    return item ? done(...alreadyAnsweredReplies(s, item)) : done(...decisionReplies(s, [], ctx.channel));
  }
  if (isClosed(order.status)) return closedOrder(ctx, order);
  const shown = await shownTexts(ctx.tx, ctx.customer.id, pressedId);
  const { decided, items } = await decide(ops(ctx), order, s.items, open.map((i) => i.id), decision, { type: 'customer', id: ctx.customer.id, label: ctx.customer.display_name, channel: ctx.channel }, shown);
  return done(...decisionReplies({ ...s, items }, decided, ctx.channel));
}

/** The customer chose a time on `date`: kept if it is within that day's hours, asked again if not. */
async function choose(ctx: FlowContext, s: OrderSubject, date: string, time: string): Promise<Outcome<Steps>> {
  const now = ctx.clock.now.getTime();
  const w = windowOf(s.branch, date, now) ?? pickupWindow(s.branch, now);
  if (!w) return done({ type: 'text', text: p('pickup.noHours', { branch: s.branch.name }) });
  const at = w.date === date ? acceptPickupTime(s.branch, w, time, now) : null;
  if (at === null) return reask('pickupTime', { orderId: s.order.id, date: w.date }, ...pickupTimeReplies(s, w, now, ctx.channel, 'outsideHours'));
  await planPickup(ops(ctx), s.order, new Date(at).toISOString(), customerActor(ctx));
  return done(...pickupConfirmedReplies(s, at));
}

/** A button of this flow, from a notice, a card or a reminder, whenever it is pressed. */
async function pressed(ctx: FlowContext, input: Input): Promise<Outcome<Steps>> {
  const button = input.type === 'choice' ? buttons.parse(input.id) : null;
  if (!button || input.type !== 'choice') return overview(ctx);
  switch (button.name) {
    case 'approve':
    case 'decline': {
      const order = await orderOfItem(ctx.tx, ctx.customer.id, button.args.itemId);
      if (!order) return endings.staleButton(ctx);
      return answer(ctx, order, input.id, () => [button.args.itemId], button.name === 'approve' ? 'approved' : 'declined');
    }
    case 'approveAll': {
      const order = await orderOfRequest(ctx.tx, ctx.customer.id, button.args.requestId);
      if (!order) return endings.staleButton(ctx);
      return answer(ctx, order, input.id, (s) => s.items.filter((i) => i.requestId === button.args.requestId).map((i) => i.id), 'approved');
    }
    case 'answer': {
      const order = await orderOfRequest(ctx.tx, ctx.customer.id, button.args.requestId);
      const s = order ? await subjectOf(ctx, order) : null;
      if (!order || !s) return endings.staleButton(ctx);
      if (isClosed(order.status)) return closedOrder(ctx, order);
      const replies = consentReplies(s, button.args.requestId, ctx.channel, { reminder: true });
      return replies.length > 0 ? done(...replies) : done(...decisionReplies(s, [], ctx.channel));
    }
    case 'order': {
      const order = await ownOrder(ctx.tx, ctx.customer.id, button.args.orderId);
      const s = order ? await subjectOf(ctx, order) : null;
      return s ? done(orderCard(s, ctx.clock.now.getTime())) : overview(ctx);
    }
  }
  const order = await ownOrder(ctx.tx, ctx.customer.id, button.args.orderId);
  const s = order ? await subjectOf(ctx, order) : null;
  if (!order || !s) return endings.staleButton(ctx);
  switch (button.name) {
    case 'callMe':
      await askForAdvisor(ops(ctx), order, 'call_requested', customerActor(ctx));
      return done(...callMeReplies(s));
    case 'moreTime':
      if (order.status !== 'ready') return done(orderCard(s, ctx.clock.now.getTime()));
      await askForAdvisor(ops(ctx), order, 'more_time', customerActor(ctx));
      return done(...moreTimeReplies(s, ctx.clock.now.getTime()));
    case 'comeAt': {
      if (order.status !== 'ready') return done(orderCard(s, ctx.clock.now.getTime()));
      const picked = input.params?.datetime ?? null;
      if (picked && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(picked)) return choose(ctx, s, picked.slice(0, 10), picked.slice(11, 16));
      const now = ctx.clock.now.getTime();
      const w = pickupWindow(s.branch, now);
      if (!w) return done({ type: 'text', text: p('pickup.noHours', { branch: s.branch.name }) });
      if (input.params?.time) return choose(ctx, s, w.date, input.params.time);
      return ask('pickupTime', { orderId: order.id, date: w.date }, ...pickupTimeReplies(s, w, now, ctx.channel));
    }
    case 'comeAtTime': {
      if (order.status !== 'ready') return done(orderCard(s, ctx.clock.now.getTime()));
      const { day, hhmm } = button.args;
      if (!/^\d{8}$/.test(day) || !/^\d{4}$/.test(hhmm)) return endings.staleButton(ctx);
      return choose(ctx, s, `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6)}`, `${hhmm.slice(0, 2)}:${hhmm.slice(2)}`);
    }
  }
}

/** See the file comment. */
export const progressFlow = defineFlow<Steps>({
  name: buttons.prefix,
  stateVersion: 1,
  intent: 'status',
  menuOrder: 30,
  start: (ctx, input) => (input ? pressed(ctx, input) : overview(ctx)),
  steps: {
    async pickupTime(ctx, state, input) {
      if (input.type === 'choice' && buttons.owns(input.id)) return pressed(ctx, input);
      const order = await ownOrder(ctx.tx, ctx.customer.id, state.orderId);
      const s = order && order.status === 'ready' ? await subjectOf(ctx, order) : null;
      if (!s) return overview(ctx);
      const text = typedText(input);
      const when = text ? parseWhen(text, ctx.locale, ctx.clock.now, s.branch.timeZone) : null;
      if (when?.time) return choose(ctx, s, when.date === state.date || !when.date ? state.date : when.date, when.time);
      const now = ctx.clock.now.getTime();
      const w = windowOf(s.branch, state.date, now) ?? pickupWindow(s.branch, now);
      if (!w) return done({ type: 'text', text: p('pickup.noHours', { branch: s.branch.name }) });
      return reask('pickupTime', { orderId: s.order.id, date: w.date }, ...pickupTimeReplies(s, w, now, ctx.channel));
    }
  },
});
