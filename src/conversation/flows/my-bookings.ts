import { cancelAppointment } from '../../booking/booking';
import { findAppointment, listUpcomingAppointments, type Appointment } from '../../booking/appointments';
import { loadBranchCapacity } from '../../booking/capacity';
import type { Choice, Input, Reply } from '../../channels/types';
import { formatDayLong } from '../../i18n/format';
import { flowChoiceId, type Flow, type FlowContext, type StepResult } from '../flow';
import { startReschedule } from './booking';
import { bookingCard, serviceName } from './booking-view';

/*
 * "My bookings": the customer's upcoming visits as cards, each with reschedule and cancel; cancelling asks
 * once more. The same buttons arrive on reminders, so they work from any message, not only this list.
 */

const NAME = 'mybk';
const id = (...parts: (string | number)[]) => flowChoiceId({ name: NAME }, ...parts);
/** LINE sends at most five messages at once: an intro and four cards. */
const CARDS_SHOWN = 4;

const bookingText = (key: string, params?: Record<string, string | number>) => ({ key: `booking:${key}`, params });

function card(ctx: FlowContext, a: Appointment, branchName: string, extra: Choice[] = []): Reply {
  return bookingCard(ctx.locale, {
    title: bookingText('statusBooked'),
    branchName,
    service: serviceName(a.serviceTypeNames, ctx.locale, a.serviceTypeCode),
    vehicle: null,
    date: a.localDate,
    time: a.localStart,
    loaner: a.loanerRequested,
    note: null,
    reference: a.reference,
    footer: null,
    choices:
      a.status === 'booked'
        ? [{ kind: 'postback', id: id('r', a.id), label: bookingText('reschedule') }, { kind: 'postback', id: id('c', a.id), label: bookingText('cancelBooking') }, ...extra]
        : extra,
  });
}

async function list(ctx: FlowContext, lead: Reply | null = null): Promise<StepResult> {
  const upcoming = await listUpcomingAppointments(ctx.tx, ctx.customer.id, ctx.now);
  if (upcoming.length === 0) {
    return {
      replies: [
        ...(lead ? [lead] : []),
        { type: 'text', text: bookingText('none'), choices: ctx.menuChoices() },
      ],
      next: null,
    };
  }
  const names = new Map<string, string>();
  for (const a of upcoming.slice(0, CARDS_SHOWN)) {
    if (!names.has(a.branchId)) names.set(a.branchId, (await loadBranchCapacity(ctx.tx, a.branchId))?.branchName ?? '');
  }
  const shown = upcoming.slice(0, lead ? CARDS_SHOWN - 1 : CARDS_SHOWN);
  const menu: Choice = { kind: 'postback', id: 'i:menu', label: { key: 'labels.menu' } };
  return {
    replies: [
      ...(lead ? [lead] : [{ type: 'text' as const, text: bookingText('upcomingIntro', { count: upcoming.length }) }]),
      ...shown.map((a, i) => card(ctx, a, names.get(a.branchId) ?? '', i === shown.length - 1 ? [menu] : [])),
    ],
    next: null,
  };
}

async function ownBooking(ctx: FlowContext, appointmentId: string): Promise<Appointment | null> {
  const a = await findAppointment(ctx.tx, appointmentId);
  return a && a.customerId === ctx.customer.id ? a : null;
}

async function onChoice(ctx: FlowContext, input: Input): Promise<StepResult> {
  if (input.type !== 'choice') return list(ctx);
  const [, action, appointmentId] = input.id.split(':');
  if (action === 'k') return { replies: [{ type: 'text', text: bookingText('kept'), choices: ctx.menuChoices() }], next: null };
  if (!appointmentId) return list(ctx);
  const a = await ownBooking(ctx, appointmentId);
  if (!a || a.status !== 'booked') return list(ctx, { type: 'text', text: bookingText('notFound') });

  if (action === 'r') {
    const moving = await startReschedule(ctx, a.id);
    return moving ?? list(ctx, { type: 'text', text: bookingText('notFound') });
  }
  if (action === 'c') {
    return {
      replies: [
        {
          type: 'text',
          text: bookingText('confirmCancel', { reference: a.reference, when: `${formatDayLong(ctx.locale, a.localDate)} ${a.localStart}` }),
          choices: [
            { kind: 'postback', id: id('cy', a.id), label: bookingText('cancelYes') },
            { kind: 'postback', id: id('k'), label: bookingText('keep') },
          ],
        },
      ],
      next: { step: 'cancel', state: { appointmentId: a.id, version: a.version } },
    };
  }
  if (action === 'cy') {
    const result = await cancelAppointment(ctx.tx, { appointmentId: a.id, actor: { type: 'customer', customerId: ctx.customer.id }, channel: ctx.channel }, ctx.now);
    if (result.ok) {
      const branch = (await loadBranchCapacity(ctx.tx, a.branchId))?.branchName ?? '';
      const cancelled = bookingCard(ctx.locale, {
        title: bookingText('cancelledTitle'),
        branchName: branch,
        service: serviceName(a.serviceTypeNames, ctx.locale, a.serviceTypeCode),
        vehicle: null,
        date: a.localDate,
        time: a.localStart,
        loaner: false,
        note: null,
        reference: a.reference,
        footer: null,
        choices: ctx.menuChoices(),
      });
      return { replies: [cancelled], next: null };
    }
    if (result.reason === 'past_cutoff') {
      const hours = (await loadBranchCapacity(ctx.tx, a.branchId))?.rules.settings.changeCutoffHours ?? 0;
      return { replies: [{ type: 'text', text: bookingText('pastCutoff', { hours }), choices: ctx.menuChoices() }], next: null };
    }
    return list(ctx, { type: 'text', text: bookingText('notFound') });
  }
  if (action === 'ok') {
    // "I'll be there" on a reminder: noted for the advisor, answered with thanks.
    await ctx.tx.updateTable('appointments').set({ customer_confirmed_at: ctx.now.toISOString() }).where('id', '=', a.id).execute();
    return { replies: [{ type: 'text', text: bookingText('confirmedThanks') }], next: null };
  }
  return list(ctx);
}

/** See the file comment. */
export const myBookingsFlow: Flow = {
  name: NAME,
  stateVersion: 1,
  intent: 'myBookings',
  menuOrder: 20,
  async start(ctx, input) {
    return input ? onChoice(ctx, input) : list(ctx);
  },
  async step(ctx, _step, _state, input) {
    if (input.type === 'choice' && input.id.startsWith(`${NAME}:`)) return onChoice(ctx, input);
    const yes = input.type === 'text' && /^(yes|y|是|好|確定|确定|はい|ใช่)$/i.test(input.text.trim());
    const no = input.type === 'text' && /^(no|n|不|否|不要|いいえ|ไม่)$/i.test(input.text.trim());
    const state = _state as { appointmentId?: string };
    if (state.appointmentId && yes) return onChoice(ctx, { type: 'choice', id: id('cy', state.appointmentId), params: null });
    if (no) return onChoice(ctx, { type: 'choice', id: id('k'), params: null });
    return list(ctx);
  },
};
