import type { Choice, Input, Reply, TextRef } from '../../channels/types';
import { answerResolution, rateHandling, recentVisits, type CustomerSaid, type Visit } from '../../complaints/customer';
import { COMPLAINT_CATEGORIES, INTAKE_LIMITS, COMPLAINT_PRIORITIES } from '../../complaints/model';
import { expectationText, openComplaint } from '../../complaints/open';
import { findComplaint } from '../../complaints/tickets';
import { isPhoneLike, normalizePhone } from '../../staff/customers/normalize';
import { formatDayShort } from '../../i18n/format';
import type { ComplaintCategory, ComplaintPriority } from '../../store/schema';
import { updateCustomer } from '../../store/customers';
import { complaintButtons as buttons, intentButtons } from '../button-ids';
import type { FlowContext } from '../flow';
import { defineFlow, doneChoice, endings, freeText, isDone, isSkip, optionChoices, pickOne, skipChoice, stepKit, typedText, yesNo, type Option, type Outcome } from '../kit';
import { HANDOFF_FLOW, type HandoffState } from './handoff';

/*
 * A complaint, in the customer's own words: what it is about (a category), which visit (one of their
 * recent repair orders or bookings, or none), what happened (as many messages as they like, until
 * "done"), photos, how urgent it is and how to reach them (the phone number asked only when we do not
 * have it; a shared Telegram contact is taken as the answer). It ends with a reference and an honest
 * expectation of when a person answers, and the conversation then waits for that person: what the
 * customer adds goes into the ticket for them (see the handoff flow).
 *
 * The same flow takes the customer's answers after staff resolve a complaint: "is it resolved?" (yes /
 * not yet, which reopens it) and a 1–5 rating of how it was handled. Those buttons carry the ticket's id,
 * so they work from any message, at any time.
 */

interface Intake {
  category: ComplaintCategory | null;
  appointmentId: string | null;
  repairOrderId: string | null;
  messages: string[];
  photos: string[];
  priority: ComplaintPriority | null;
}
interface VisitAsked extends Intake {
  visits: Visit[];
}
interface Answering {
  complaintId: string;
  reference: string;
}

type Steps = {
  category: Intake;
  visit: VisitAsked;
  description: Intake;
  photos: Intake;
  urgency: Intake;
  contact: Intake;
  phone: Intake;
  confirm: Answering;
  rating: Answering;
};
const { ask, reask, done, handTo } = stepKit<Steps>();

const text = (key: string, params?: Record<string, string | number>): TextRef => ({ key: `complaint:${key}`, params });
const cancelChoice: Choice = { kind: 'postback', id: intentButtons.id('cancel'), label: { key: 'labels.cancel' } };

// ——— the intake ———

function categoryOptions(ctx: FlowContext): Option<ComplaintCategory>[] {
  return COMPLAINT_CATEGORIES.map((c) => ({ id: buttons.id('category', c), label: text(`category.${c}`), names: [ctx.t(`complaint:category.${c}`)], value: c }));
}

function askCategory(ctx: FlowContext, intake: Intake, again = false): Outcome<Steps> {
  const question: Reply = { type: 'text', text: text(again ? 'intake.categoryAgain' : 'intake.category'), choices: [...optionChoices(categoryOptions(ctx), 1), cancelChoice] };
  return again ? reask('category', intake, question) : ask('category', intake, question);
}

function visitOptions(ctx: FlowContext, visits: readonly Visit[]): Option<Visit | 'none'>[] {
  return [
    ...visits.map((v): Option<Visit | 'none'> => ({ id: buttons.id('visit', v.kind, v.id), label: { raw: `${v.reference} · ${formatDayShort(ctx.locale, v.date)}` }, names: [v.reference], value: v })),
    { id: buttons.id('noVisit'), label: text('intake.noVisit'), names: [ctx.t('complaint:intake.noVisit')], value: 'none' },
  ];
}

async function askVisit(ctx: FlowContext, intake: Intake): Promise<Outcome<Steps>> {
  const visits = await recentVisits(ctx.tx, ctx.customer.id, ctx.clock.now, ctx.clock.timeZone);
  if (visits.length === 0) return askDescription(intake);
  return ask('visit', { ...intake, visits }, { type: 'text', text: text('intake.visit'), choices: optionChoices(visitOptions(ctx, visits)) });
}

function askDescription(intake: Intake): Outcome<Steps> {
  return ask('description', intake, { type: 'text', text: text('intake.description', { max: INTAKE_LIMITS.photos }) });
}

const descriptionChars = (messages: readonly string[]) => messages.reduce((n, m) => n + [...m].length, 0);

function photoChoices(ctx: FlowContext): Choice[] {
  // The web chat has no attachment button of its own: photos go through a small upload page.
  const upload: Choice[] = ctx.channel === 'web' ? [{ kind: 'url', url: '/chat/photos', label: text('intake.uploadPhotos') }] : [];
  return [...upload, doneChoice(buttons)];
}

function askPhotos(ctx: FlowContext, intake: Intake): Outcome<Steps> {
  if (intake.photos.length >= INTAKE_LIMITS.photos) return askUrgency(intake);
  return ask('photos', intake, { type: 'text', text: text(ctx.channel === 'web' ? 'intake.photosWeb' : 'intake.photos', { max: INTAKE_LIMITS.photos }), choices: [...photoChoices(ctx).slice(0, -1), skipChoice(buttons)] });
}

function urgencyOptions(ctx: FlowContext): Option<ComplaintPriority>[] {
  return COMPLAINT_PRIORITIES.map((p) => ({ id: buttons.id('urgency', p), label: text(`urgency.${p}`), names: [ctx.t(`complaint:urgency.${p}`)], value: p }));
}

function urgencyQuestion(lead: TextRef[] = []): Reply {
  const choices = COMPLAINT_PRIORITIES.map((p): Choice => ({ kind: 'postback', id: buttons.id('urgency', p), label: text(`urgency.${p}`) }));
  return { type: 'text', text: [...lead, text('intake.urgency')], choices };
}

function askUrgency(intake: Intake, again = false): Outcome<Steps> {
  return again ? reask('urgency', intake, urgencyQuestion()) : ask('urgency', intake, urgencyQuestion());
}

const contactMethods = ['chat', 'phone'] as const;

function contactOptions(ctx: FlowContext): Option<'chat' | 'phone'>[] {
  return contactMethods.map((m) => ({ id: buttons.id('contact', m), label: text(`contact.${m}`), names: [ctx.t(`complaint:contact.${m}`)], value: m }));
}

function askContact(ctx: FlowContext, intake: Intake, again = false): Outcome<Steps> {
  const question: Reply = { type: 'text', text: text('intake.contact'), choices: optionChoices(contactOptions(ctx)) };
  return again ? reask('contact', intake, question) : ask('contact', intake, question);
}

function askPhone(ctx: FlowContext, intake: Intake, again = false): Outcome<Steps> {
  const key = again ? 'intake.phoneInvalid' : ctx.channel === 'telegram' ? 'intake.phoneTelegram' : 'intake.phone';
  const question: Reply = { type: 'text', text: text(key) };
  return again ? reask('phone', intake, question) : ask('phone', intake, question);
}

/** Writes the ticket and hands the conversation to the person who will answer it. */
async function finish(ctx: FlowContext, intake: Intake, contactMethod: 'chat' | 'phone', phone: string | null): Promise<Outcome<Steps>> {
  const now = ctx.clock.now;
  if (phone && phone !== ctx.customer.phone) await updateCustomer(ctx.tx, ctx.customer.id, { phone }, now.toISOString());
  const opened = await openComplaint(
    ctx.tx,
    {
      customerId: ctx.customer.id,
      source: 'chat',
      channel: ctx.channel,
      category: intake.category,
      appointmentId: intake.appointmentId,
      repairOrderId: intake.repairOrderId,
      messages: intake.messages,
      photoKeys: intake.photos,
      priority: intake.priority ?? 'normal',
      contactMethod,
      actor: { type: 'customer', id: ctx.customer.id, label: ctx.customer.display_name, channel: ctx.channel },
    },
    now,
  );
  if (!opened) return endings.notAvailable(ctx);
  const texts: TextRef[] = [text('opened', { reference: opened.reference }), expectationText(opened.expectation, ctx.locale)];
  texts.push(contactMethod === 'phone' && phone ? text('willCall', { phone }) : text('keepWriting'));
  const state: HandoffState = { acknowledged: true, requestedAt: now.toISOString(), complaintId: opened.id, staffId: null };
  return handTo(HANDOFF_FLOW, 'waiting', state, { type: 'text', text: texts });
}

// ——— after staff resolved it ———

function saidBy(ctx: FlowContext): CustomerSaid {
  return { customerId: ctx.customer.id, label: ctx.customer.display_name, channel: ctx.channel };
}

function askRating(answering: Answering, again = false): Outcome<Steps> {
  const choices = [1, 2, 3, 4, 5].map((n): Choice => ({ kind: 'postback', id: buttons.id('rating', answering.complaintId, n), label: { raw: '★'.repeat(n) } }));
  const question: Reply = { type: 'text', text: text(again ? 'resolve.rateAgain' : 'resolve.rate'), choices };
  return again ? reask('rating', answering, question) : ask('rating', answering, question);
}

/** The "is it resolved?" question, as staff send it when they resolve a complaint (see src/staff/complaints). */
export function resolutionQuestion(complaint: { id: string; reference: string }, resolution: string): Reply {
  return {
    type: 'text',
    text: text('resolve.ask', { reference: complaint.reference, resolution }),
    choices: [
      { kind: 'postback', id: buttons.id('resolved', complaint.id), label: text('resolve.yes') },
      { kind: 'postback', id: buttons.id('notResolved', complaint.id), label: text('resolve.no') },
    ],
  };
}

/** Where the conversation waits for the answer to resolutionQuestion, so a typed "yes" is understood too. */
export const RESOLUTION_STEP = { flow: buttons.prefix, step: 'confirm' } as const;
export const COMPLAINT_STATE_VERSION = 1;

async function confirm(ctx: FlowContext, answering: Answering, resolved: boolean): Promise<Outcome<Steps>> {
  const result = await answerResolution(ctx.tx, answering.complaintId, saidBy(ctx), resolved, ctx.clock.now);
  if (!result.ok) return done({ type: 'text', text: text('resolve.notWaiting'), choices: ctx.menuChoices() });
  if (resolved) return askRating(answering);
  // Not resolved: back to the person handling it, who is told at once.
  const state: HandoffState = { acknowledged: true, requestedAt: ctx.clock.now.toISOString(), complaintId: answering.complaintId, staffId: null };
  return handTo(HANDOFF_FLOW, 'waiting', state, { type: 'text', text: text('resolve.reopened', { reference: answering.reference }) });
}

async function rate(ctx: FlowContext, answering: Answering, score: number): Promise<Outcome<Steps>> {
  const result = await rateHandling(ctx.tx, answering.complaintId, saidBy(ctx), score, ctx.clock.now);
  if (!result.ok) return done({ type: 'text', text: text('resolve.notWaiting'), choices: ctx.menuChoices() });
  return done({ type: 'text', text: text('resolve.thanks', { reference: answering.reference }), choices: ctx.menuChoices() });
}

/** A resolution or rating button, pressed from the question's message whenever the customer gets to it. */
async function answered(ctx: FlowContext, input: Input): Promise<Outcome<Steps> | null> {
  if (input.type !== 'choice') return null;
  const pressed = buttons.parse(input.id);
  if (!pressed || (pressed.name !== 'resolved' && pressed.name !== 'notResolved' && pressed.name !== 'rating')) return null;
  const complaint = await findComplaint(ctx.tx, pressed.args.complaintId);
  if (!complaint || complaint.customer_id !== ctx.customer.id) return endings.staleButton(ctx);
  const answering = { complaintId: complaint.id, reference: complaint.reference };
  if (pressed.name === 'rating') {
    const score = Number(pressed.args.score);
    return Number.isInteger(score) && score >= 1 && score <= 5 ? rate(ctx, answering, score) : endings.staleButton(ctx);
  }
  return confirm(ctx, answering, pressed.name === 'resolved');
}

/** See the file comment. */
export const complaintFlow = defineFlow<Steps>({
  name: buttons.prefix,
  stateVersion: COMPLAINT_STATE_VERSION,
  intent: 'complaint',
  menuOrder: 70,
  async start(ctx, input) {
    if (input) return (await answered(ctx, input)) ?? endings.staleButton(ctx);
    return askCategory(ctx, { category: null, appointmentId: null, repairOrderId: null, messages: [], photos: [], priority: null });
  },
  async earlierButton(ctx, _step, _state, input) {
    return answered(ctx, input);
  },
  steps: {
    async category(ctx, intake, input) {
      const category = pickOne(input, categoryOptions(ctx));
      if (category === null) return askCategory(ctx, intake, true);
      return askVisit(ctx, { ...intake, category });
    },
    async visit(ctx, state, input) {
      const { visits, ...intake } = state;
      const picked = isSkip(ctx.words, input, buttons) ? 'none' : pickOne(input, visitOptions(ctx, visits));
      if (picked === null) return reask('visit', state, { type: 'text', text: text('intake.visitAgain'), choices: optionChoices(visitOptions(ctx, visits)) });
      const visit = picked === 'none' ? null : picked;
      return askDescription({ ...intake, appointmentId: visit?.kind === 'bk' ? visit.id : null, repairOrderId: visit?.kind === 'ro' ? visit.id : null });
    },
    description(ctx, intake, input) {
      if (isDone(ctx.words, input, buttons)) {
        if (intake.messages.length === 0) return reask('description', intake, { type: 'text', text: text('intake.descriptionMissing'), choices: [doneChoice(buttons)] });
        return askPhotos(ctx, intake);
      }
      if (input.type === 'image') return photoArrived(ctx, 'description', intake, input.mediaId);
      const words = freeText(input, (t) => t, INTAKE_LIMITS.descriptionChars);
      if (words === null) return reask('description', intake, { type: 'text', text: text('intake.descriptionMissing'), choices: [doneChoice(buttons)] });
      const messages = [...intake.messages, words];
      if (messages.length >= INTAKE_LIMITS.descriptionMessages || descriptionChars(messages) >= INTAKE_LIMITS.descriptionChars) {
        return ask('photos', { ...intake, messages }, { type: 'text', text: [text('intake.descriptionFull'), text(ctx.channel === 'web' ? 'intake.photosWeb' : 'intake.photos', { max: INTAKE_LIMITS.photos })], choices: [...photoChoices(ctx).slice(0, -1), skipChoice(buttons)] });
      }
      return ask('description', { ...intake, messages }, { type: 'text', text: text('intake.more'), choices: [doneChoice(buttons)] });
    },
    photos(ctx, intake, input) {
      if (isDone(ctx.words, input, buttons) || isSkip(ctx.words, input, buttons)) return askUrgency(intake);
      if (input.type === 'image') return photoArrived(ctx, 'photos', intake, input.mediaId);
      // Words here are more of the story: kept with the rest, and the photos asked for again.
      const words = freeText(input, (t) => t, INTAKE_LIMITS.descriptionChars);
      if (words !== null && intake.messages.length < INTAKE_LIMITS.descriptionMessages && descriptionChars([...intake.messages, words]) <= INTAKE_LIMITS.descriptionChars) {
        return ask('photos', { ...intake, messages: [...intake.messages, words] }, { type: 'text', text: text('intake.photosNoted'), choices: photoChoices(ctx) });
      }
      return reask('photos', intake, { type: 'text', text: text('intake.photosAgain'), choices: photoChoices(ctx) });
    },
    urgency(ctx, intake, input) {
      const priority = pickOne(input, urgencyOptions(ctx));
      if (priority === null) return askUrgency(intake, true);
      return askContact(ctx, { ...intake, priority });
    },
    async contact(ctx, intake, input) {
      if (input.type === 'contact') return finish(ctx, intake, 'phone', normalizePhone(input.phone));
      const method = pickOne(input, contactOptions(ctx));
      if (method === null) return askContact(ctx, intake, true);
      if (method === 'chat') return finish(ctx, intake, 'chat', null);
      // The number is asked only when we do not have it yet.
      if (ctx.customer.phone) return finish(ctx, intake, 'phone', ctx.customer.phone);
      return askPhone(ctx, intake);
    },
    async phone(ctx, intake, input) {
      if (input.type === 'contact') return finish(ctx, intake, 'phone', normalizePhone(input.phone));
      const phone = freeText(input, (t) => (isPhoneLike(t) ? normalizePhone(t) : null), 40);
      if (phone === null) return askPhone(ctx, intake, true);
      return finish(ctx, intake, 'phone', phone);
    },
    async confirm(ctx, answering, input) {
      const answer = yesNo(ctx.words, input, buttons);
      if (answer === null) return reask('confirm', answering, resolutionAgain(answering));
      return confirm(ctx, answering, answer);
    },
    async rating(ctx, answering, input) {
      const typed = typedText(input)?.trim();
      const score = typed && /^[1-5]$/.test(typed.normalize('NFKC')) ? Number(typed.normalize('NFKC')) : null;
      if (score === null) return askRating(answering, true);
      return rate(ctx, answering, score);
    },
  },
});

function resolutionAgain(answering: Answering): Reply {
  return {
    type: 'text',
    text: text('resolve.askAgain'),
    choices: [
      { kind: 'postback', id: buttons.id('resolved', answering.complaintId), label: text('resolve.yes') },
      { kind: 'postback', id: buttons.id('notResolved', answering.complaintId), label: text('resolve.no') },
    ],
  };
}

/** A photo during the intake: kept when it reached the blob store, asked again when it was lost on the way. */
function photoArrived(ctx: FlowContext, step: 'description' | 'photos', intake: Intake, mediaId: string): Outcome<Steps> {
  if (!mediaId.startsWith('blob:')) return ask(step, intake, { type: 'text', text: text('intake.photoLost'), choices: photoChoices(ctx) });
  const photos = intake.photos.includes(mediaId.slice(5)) ? intake.photos : [...intake.photos, mediaId.slice(5)];
  const next = { ...intake, photos };
  if (photos.length >= INTAKE_LIMITS.photos) return ask('urgency', next, urgencyQuestion([text('intake.photoReceived', { count: photos.length, max: INTAKE_LIMITS.photos })]));
  const key = step === 'description' ? 'intake.photoReceivedWriting' : 'intake.photoReceived';
  return ask(step, next, { type: 'text', text: text(key, { count: photos.length, max: INTAKE_LIMITS.photos }), choices: step === 'description' ? [doneChoice(buttons)] : photoChoices(ctx) });
}
