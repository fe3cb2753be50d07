import type { Kysely } from 'kysely';
import type { Choice, Reply, TextRef } from '../channels/types';
import { intentButtons } from '../conversation/button-ids';
import { lockedText, manageChoices, serviceName } from '../conversation/flows/booking-view';
import { withinChangeCutoff } from '../domain/booking-rules';
import { afterQuietHours } from '../domain/reminder-times';
import { formatDayLong } from '../i18n/format';
import { isLocale, type Locale } from '../i18n/locales';
import { enqueueReplies } from '../outbox/outbox';
import type { ChannelName, Database } from '../store/schema';
import type { Appointment } from './appointments';
import { branchNameIn, branchProfile } from './branch-profile';
import { loadBranchCapacity } from './capacity';

/*
 * Telling customers what staff did to their booking: moved it, cancelled it, gave it an advisor, checked
 * the car in. The notice is written to the outbox in the same transaction as the change, so both stand or
 * fall together; it waits for the end of the branch's quiet hours (`notBefore`), goes to the channel that
 * reaches the customer best (LINE or Telegram before a web chat tab that may be closed), and is written in
 * the customer's language with the new details.
 *
 * booking.ts calls this for changes made by staff; the console's advisor assignment calls
 * `noticeStaffChange(tx, { kind: 'advisor_assigned', … }, now)` after its own write.
 */

export type StaffChange =
  | { kind: 'rescheduled'; appointment: Appointment; previous: { localDate: string; localStart: string } }
  | { kind: 'cancelled'; appointment: Appointment }
  | { kind: 'checked_in'; appointment: Appointment }
  /** `advisorId` null (taken off the booking) tells the customer nothing. */
  | { kind: 'advisor_assigned'; appointment: Appointment; advisorId: string | null };

/** Channels a message can reach the customer on after they close a browser tab, best first. */
const PUSH_CHANNELS: readonly ChannelName[] = ['line', 'telegram'];

/**
 * Where a message to the customer goes: the channel they used for the booking when it can reach them
 * later (LINE, Telegram), else the LINE or Telegram chat they used last, else the web chat. Null when no
 * channel of theirs is reachable.
 */
export async function reachableChannel(db: Kysely<Database>, customerId: string, preferred: string | null): Promise<{ channel: ChannelName; externalId: string } | null> {
  const identities = await db
    .selectFrom('channel_identities')
    .select(['channel', 'external_id'])
    .where('customer_id', '=', customerId)
    .where('reachable', '=', 1)
    .orderBy('last_seen_at', 'desc')
    .execute();
  const pick =
    identities.find((i) => i.channel === preferred && PUSH_CHANNELS.includes(i.channel)) ??
    identities.find((i) => PUSH_CHANNELS.includes(i.channel)) ??
    identities.find((i) => i.channel === preferred) ??
    identities[0];
  return pick ? { channel: pick.channel, externalId: pick.external_id } : null;
}

/**
 * Queues the notice of a change staff made. Returns false when nothing was queued: the customer opted
 * out, was erased, cannot be reached, or the change is not news to them (an advisor taken off).
 */
export async function noticeStaffChange(db: Kysely<Database>, change: StaffChange, now: Date): Promise<boolean> {
  const a = change.appointment;
  if (change.kind === 'advisor_assigned' && !change.advisorId) return false;
  const [customer, branch, capacity, target] = await Promise.all([
    db.selectFrom('customers').select(['locale', 'opted_out_at', 'erased_at']).where('id', '=', a.customerId).executeTakeFirst(),
    branchProfile(db, a.branchId),
    loadBranchCapacity(db, a.branchId),
    reachableChannel(db, a.customerId, a.channel),
  ]);
  if (!customer || customer.opted_out_at || customer.erased_at || !target || !capacity) return false;
  const locale: Locale = isLocale(customer.locale) ? customer.locale : 'en';
  const params = {
    service: serviceName(a.serviceTypeNames, locale, a.serviceTypeCode),
    branch: branch ? branchNameIn(branch, locale) : capacity.branchName,
    reference: a.reference,
    when: `${formatDayLong(locale, a.localDate)} ${a.localStart}`,
  };
  const settings = capacity.rules.settings;
  const locked = withinChangeCutoff(a.startsAt, settings.changeCutoffHours, now);
  const phone = branch?.phone ?? null;
  const myBookings: Choice = { kind: 'postback', id: intentButtons.id('myBookings'), label: { key: 'menu.myBookings' } };

  let text: TextRef | TextRef[];
  let choices: Choice[];
  switch (change.kind) {
    case 'rescheduled':
      text = { key: 'booking:noticeRescheduled', params: { ...params, was: `${formatDayLong(locale, change.previous.localDate)} ${change.previous.localStart}` } };
      if (locked) text = [text, lockedText({ hours: settings.changeCutoffHours, branch: params.branch, phone })];
      choices = [...manageChoices(a.id, { locked, channel: target.channel, phone }), myBookings];
      break;
    case 'cancelled':
      text = { key: 'booking:noticeCancelled', params };
      choices = [
        { kind: 'postback', id: intentButtons.id('book'), label: { key: 'menu.book' } },
        { kind: 'postback', id: intentButtons.id('human'), label: { key: 'menu.human' } },
      ];
      break;
    case 'checked_in':
      text = { key: 'booking:noticeCheckedIn', params };
      choices = [{ kind: 'postback', id: intentButtons.id('human'), label: { key: 'menu.human' } }];
      break;
    case 'advisor_assigned': {
      const advisor = await db.selectFrom('staff_users').select('name').where('id', '=', change.advisorId!).executeTakeFirst();
      if (!advisor) return false;
      text = { key: 'booking:noticeAdvisor', params: { ...params, advisor: advisor.name } };
      choices = [myBookings];
      break;
    }
  }
  const reply: Reply = { type: 'text', text, choices };
  const nowIso = now.toISOString();
  const notBefore = new Date(afterQuietHours(now.getTime(), capacity.rules.timeZone, settings.quietHoursStart, settings.quietHoursEnd)).toISOString();
  await enqueueReplies(db, {
    customerId: a.customerId,
    channel: target.channel,
    externalId: target.externalId,
    replies: [reply],
    source: 'system',
    flow: null,
    step: null,
    now: nowIso,
    ...(notBefore > nowIso ? { notBefore } : {}),
  });
  return true;
}
