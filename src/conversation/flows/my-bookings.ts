import { cancelAppointment, markAttending } from '../../booking/booking';
import { branchNameIn, branchProfile, type BranchProfile } from '../../booking/branch-profile';
import { findAppointment, findAppointmentByReference, listUpcomingAppointments, type Appointment } from '../../booking/appointments';
import { loadBranchCapacity } from '../../booking/capacity';
import type { Choice, Input, Reply } from '../../channels/types';
import { normalizeBookingReference } from '../../domain/booking-reference';
import { withinChangeCutoff } from '../../domain/booking-rules';
import { formatDayLong } from '../../i18n/format';
import { vehicleOf } from '../../store/vehicles';
import { intentButtons, myBookingsButtons as buttons } from '../button-ids';
import type { FlowContext } from '../flow';
import { defineFlow, stepKit, yesNo, type Outcome } from '../kit';
import { startReschedule } from './booking';
import { bookingCard, lockedText, manageChoices, serviceName, vehicleLabel } from './booking-view';

/*
 * "My bookings": the customer's upcoming visits as cards, each with its own reschedule and cancel; cancelling
 * asks once more. The same buttons arrive on reminders, so they work from any message, not only this list;
 * a booking can also be found by the reference the customer types ("BK-7K3QXM"). A visit that starts
 * within the branch's change cutoff cannot be changed in the chat: its card says so up front and offers the
 * branch's phone and a person instead of buttons that would only refuse at the last tap.
 */

type Steps = { cancel: { appointmentId: string; version: number } };
const { ask, reask, done } = stepKit<Steps>();

/** LINE sends at most five messages at once: an intro and four cards. */
const CARDS_SHOWN = 4;

const bookingText = (key: string, params?: Record<string, string | number>) => ({ key: `booking:${key}`, params });

/** What a card needs to know about the booking's branch. */
interface Where {
  branch: BranchProfile | null;
  cutoffHours: number;
}

async function whereOf(ctx: FlowContext, branchId: string): Promise<Where> {
  const [branch, capacity] = await Promise.all([branchProfile(ctx.tx, branchId), loadBranchCapacity(ctx.tx, branchId)]);
  return { branch, cutoffHours: capacity?.rules.settings.changeCutoffHours ?? 0 };
}

const isLocked = (ctx: FlowContext, a: Appointment, where: Where) => withinChangeCutoff(a.startsAt, where.cutoffHours, ctx.clock.now);

const branchLabel = (ctx: FlowContext, where: Where) => (where.branch ? branchNameIn(where.branch, ctx.locale) : '');

async function card(ctx: FlowContext, a: Appointment, where: Where, extra: Choice[] = []): Promise<Reply> {
  const locked = a.status === 'booked' && isLocked(ctx, a, where);
  const vehicle = a.vehicleId ? await vehicleOf(ctx.tx, ctx.customer.id, a.vehicleId) : null;
  return bookingCard(ctx.locale, {
    title: bookingText(a.status === 'checked_in' ? 'statusCheckedIn' : 'statusBooked'),
    branchName: branchLabel(ctx, where),
    service: serviceName(a.serviceTypeNames, ctx.locale, a.serviceTypeCode),
    vehicle: vehicle ? vehicleLabel(vehicle) : null,
    date: a.localDate,
    time: a.localStart,
    loaner: a.loanerRequested,
    note: null,
    reference: a.reference,
    footer: locked ? lockedText({ hours: where.cutoffHours, branch: branchLabel(ctx, where), phone: where.branch?.phone ?? null }) : null,
    choices: [...(a.status === 'booked' ? manageChoices(a.id, { locked, channel: ctx.channel, phone: where.branch?.phone ?? null }) : []), ...extra],
  });
}

async function list(ctx: FlowContext, lead: Reply | null = null): Promise<Outcome<Steps>> {
  const upcoming = await listUpcomingAppointments(ctx.tx, ctx.customer.id, ctx.clock.now);
  if (upcoming.length === 0) return done(...(lead ? [lead] : []), { type: 'text', text: bookingText('none'), choices: ctx.menuChoices() });
  const places = new Map<string, Where>();
  const shown = upcoming.slice(0, lead ? CARDS_SHOWN - 1 : CARDS_SHOWN);
  for (const a of shown) if (!places.has(a.branchId)) places.set(a.branchId, await whereOf(ctx, a.branchId));
  const menu: Choice = { kind: 'postback', id: intentButtons.id('menu'), label: { key: 'labels.menu' } };
  const intro: Reply =
    lead ?? { type: 'text', text: upcoming.length > shown.length ? [bookingText('upcomingIntro', { count: upcoming.length }), bookingText('upcomingMore', { shown: shown.length })] : bookingText('upcomingIntro', { count: upcoming.length }) };
  const cards: Reply[] = [];
  for (const [i, a] of shown.entries()) cards.push(await card(ctx, a, places.get(a.branchId)!, i === shown.length - 1 ? [menu] : []));
  return done(intro, ...cards);
}

async function ownBooking(ctx: FlowContext, appointmentId: string): Promise<Appointment | null> {
  const a = await findAppointment(ctx.tx, appointmentId);
  return a && a.customerId === ctx.customer.id ? a : null;
}

const notFound = (ctx: FlowContext) => list(ctx, { type: 'text', text: bookingText('notFound') });

/** The booking a typed reference names, if it is this customer's. */
async function byReference(ctx: FlowContext, typed: string): Promise<Outcome<Steps>> {
  const reference = normalizeBookingReference(typed);
  const a = reference ? await findAppointmentByReference(ctx.tx, reference) : null;
  // Another customer's booking is "not found": its existence is not this customer's to learn.
  if (!a || a.customerId !== ctx.customer.id) return list(ctx, { type: 'text', text: bookingText('referenceNotFound', { reference: reference ?? typed }) });
  const where = await whereOf(ctx, a.branchId);
  const live = a.status === 'booked' || a.status === 'checked_in';
  if (!live) return done({ type: 'text', text: bookingText(`referenceStatus.${a.status}`, { reference: a.reference, when: `${formatDayLong(ctx.locale, a.localDate)} ${a.localStart}` }), choices: ctx.menuChoices() });
  return done(await card(ctx, a, where, [{ kind: 'postback', id: intentButtons.id('myBookings'), label: { key: 'menu.myBookings' } }]));
}

/** Within the cutoff: said before anything is asked, with the branch's phone and a person. */
async function lockedReply(ctx: FlowContext, a: Appointment, where: Where): Promise<Outcome<Steps>> {
  const phone = where.branch?.phone ?? null;
  return done({
    type: 'text',
    text: lockedText({ hours: where.cutoffHours, branch: branchLabel(ctx, where), phone }),
    choices: [...manageChoices(a.id, { locked: true, channel: ctx.channel, phone }), { kind: 'postback', id: intentButtons.id('menu'), label: { key: 'labels.menu' } }],
  });
}

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
  const where = await whereOf(ctx, a.branchId);
  const result = await cancelAppointment(ctx.tx, { appointmentId: a.id, actor: { type: 'customer', customerId: ctx.customer.id }, channel: ctx.channel }, ctx.clock.now);
  if (result.ok) {
    return done(
      bookingCard(ctx.locale, {
        title: bookingText('cancelledTitle'),
        branchName: branchLabel(ctx, where),
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
  if (result.reason === 'past_cutoff') return lockedReply(ctx, a, where);
  return notFound(ctx);
}

/** A button of this flow, from this list, a card or a reminder, whenever it is pressed. */
async function pressed(ctx: FlowContext, input: Input): Promise<Outcome<Steps>> {
  const button = input.type === 'choice' ? buttons.parse(input.id) : null;
  if (!button) return list(ctx);
  if (button.name === 'keep' || button.name === 'no') return done({ type: 'text', text: bookingText('kept'), choices: ctx.menuChoices() });
  if (button.name === 'yes') return list(ctx);
  if (button.name === 'byReference') return byReference(ctx, button.args.reference);
  const a = await ownBooking(ctx, button.args.appointmentId);
  if (!a || a.status !== 'booked') return notFound(ctx);
  if (button.name === 'attending') {
    // "I'll be there" on a reminder: noted for the advisor, answered with thanks.
    await markAttending(ctx.tx, a.id, ctx.clock.now);
    return done({ type: 'text', text: bookingText('confirmedThanks') });
  }
  const where = await whereOf(ctx, a.branchId);
  if (isLocked(ctx, a, where)) return lockedReply(ctx, a, where);
  switch (button.name) {
    case 'reschedule':
      return (await startReschedule(ctx, a.id)) ?? notFound(ctx);
    case 'cancel':
      return askCancel(a, ctx);
    case 'cancelConfirmed':
      return cancel(ctx, a);
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
