import { cancelAppointment, markAttending } from '../../booking/booking';
import { findAppointment, listUpcomingAppointments, type Appointment } from '../../booking/appointments';
import { loadBranchCapacity } from '../../booking/capacity';
import type { Choice, Input, Reply } from '../../channels/types';
import { formatDayLong } from '../../i18n/format';
import { intentButtons, myBookingsButtons as buttons } from '../button-ids';
import type { FlowContext } from '../flow';
import { defineFlow, stepKit, yesNo, type Outcome } from '../kit';
import { startReschedule } from './booking';
import { bookingCard, serviceName } from './booking-view';

/*
 * "My bookings": the customer's upcoming visits as cards, each with reschedule and cancel; cancelling asks
 * once more. The same buttons arrive on reminders, so they work from any message, not only this list.
 */

type Steps = { cancel: { appointmentId: string; version: number } };
const { ask, reask, done } = stepKit<Steps>();

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
        ? [
            { kind: 'postback', id: buttons.id('reschedule', a.id), label: bookingText('reschedule') },
            { kind: 'postback', id: buttons.id('cancel', a.id), label: bookingText('cancelBooking') },
            ...extra,
          ]
        : extra,
  });
}

async function branchName(ctx: FlowContext, branchId: string): Promise<string> {
  return (await loadBranchCapacity(ctx.tx, branchId))?.branchName ?? '';
}

async function list(ctx: FlowContext, lead: Reply | null = null): Promise<Outcome<Steps>> {
  const upcoming = await listUpcomingAppointments(ctx.tx, ctx.customer.id, ctx.clock.now);
  if (upcoming.length === 0) return done(...(lead ? [lead] : []), { type: 'text', text: bookingText('none'), choices: ctx.menuChoices() });
  const names = new Map<string, string>();
  for (const a of upcoming.slice(0, CARDS_SHOWN)) if (!names.has(a.branchId)) names.set(a.branchId, await branchName(ctx, a.branchId));
  const shown = upcoming.slice(0, lead ? CARDS_SHOWN - 1 : CARDS_SHOWN);
  const menu: Choice = { kind: 'postback', id: intentButtons.id('menu'), label: { key: 'labels.menu' } };
  return done(
    lead ?? { type: 'text', text: bookingText('upcomingIntro', { count: upcoming.length }) },
    ...shown.map((a, i) => card(ctx, a, names.get(a.branchId) ?? '', i === shown.length - 1 ? [menu] : [])),
  );
}

async function ownBooking(ctx: FlowContext, appointmentId: string): Promise<Appointment | null> {
  const a = await findAppointment(ctx.tx, appointmentId);
  return a && a.customerId === ctx.customer.id ? a : null;
}

const notFound = (ctx: FlowContext) => list(ctx, { type: 'text', text: bookingText('notFound') });

function askCancel(a: Appointment, ctx: FlowContext, again = false): Outcome<Steps> {
  const question: Reply = {
    type: 'text',
    text: bookingText('confirmCancel', { reference: a.reference, when: `${formatDayLong(ctx.locale, a.localDate)} ${a.localStart}` }),
    choices: [
      { kind: 'postback', id: buttons.id('cancelConfirmed', a.id), label: bookingText('cancelYes') },
      { kind: 'postback', id: buttons.id('keep'), label: bookingText('keep') },
    ],
  };
  const state = { appointmentId: a.id, version: a.version };
  return again ? reask('cancel', state, question) : ask('cancel', state, question);
}

async function cancel(ctx: FlowContext, a: Appointment): Promise<Outcome<Steps>> {
  const result = await cancelAppointment(ctx.tx, { appointmentId: a.id, actor: { type: 'customer', customerId: ctx.customer.id }, channel: ctx.channel }, ctx.clock.now);
  if (result.ok) {
    return done(
      bookingCard(ctx.locale, {
        title: bookingText('cancelledTitle'),
        branchName: await branchName(ctx, a.branchId),
        service: serviceName(a.serviceTypeNames, ctx.locale, a.serviceTypeCode),
        vehicle: null,
        date: a.localDate,
        time: a.localStart,
        loaner: false,
        note: null,
        reference: a.reference,
        footer: null,
        choices: ctx.menuChoices(),
      }),
    );
  }
  if (result.reason === 'past_cutoff') {
    const hours = (await loadBranchCapacity(ctx.tx, a.branchId))?.rules.settings.changeCutoffHours ?? 0;
    return done({ type: 'text', text: bookingText('pastCutoff', { hours }), choices: ctx.menuChoices() });
  }
  return notFound(ctx);
}

/** A button of this flow, from this list, a card or a reminder, whenever it is pressed. */
async function pressed(ctx: FlowContext, input: Input): Promise<Outcome<Steps>> {
  const button = input.type === 'choice' ? buttons.parse(input.id) : null;
  if (!button) return list(ctx);
  if (button.name === 'keep' || button.name === 'no') return done({ type: 'text', text: bookingText('kept'), choices: ctx.menuChoices() });
  if (button.name === 'yes') return list(ctx);
  const a = await ownBooking(ctx, button.args.appointmentId);
  if (!a || a.status !== 'booked') return notFound(ctx);
  switch (button.name) {
    case 'reschedule':
      return (await startReschedule(ctx, a.id)) ?? notFound(ctx);
    case 'cancel':
      return askCancel(a, ctx);
    case 'cancelConfirmed':
      return cancel(ctx, a);
    case 'attending':
      // "I'll be there" on a reminder: noted for the advisor, answered with thanks.
      await markAttending(ctx.tx, a.id, ctx.clock.now);
      return done({ type: 'text', text: bookingText('confirmedThanks') });
  }
}

/** See the file comment. */
export const myBookingsFlow = defineFlow<Steps>({
  name: buttons.prefix,
  stateVersion: 2,
  intent: 'myBookings',
  menuOrder: 20,
  start: (ctx, input) => (input ? pressed(ctx, input) : list(ctx)),
  steps: {
    async cancel(ctx, state, input) {
      if (input.type === 'choice' && buttons.owns(input.id)) return pressed(ctx, input);
      const answer = yesNo(ctx.words, input, buttons);
      const a = await ownBooking(ctx, state.appointmentId);
      if (!a || a.status !== 'booked') return notFound(ctx);
      if (answer === true) return cancel(ctx, a);
      if (answer === false) return pressed(ctx, { type: 'choice', id: buttons.id('keep'), params: null });
      return askCancel(a, ctx, true);
    },
  },
});
