import type { Choice, Reply } from '../channels/types';
import { myBookingsButtons } from '../conversation/button-ids';
import { serviceName } from '../conversation/flows/booking-view';
import { localTimeOf } from '../domain/local-time';
import { reminderDueTimes, type ReminderKind } from '../domain/reminder-times';
import { formatDayLong } from '../i18n/format';
import { isLocale, type Locale } from '../i18n/locales';
import type { Clock } from '../ops/clock';
import type { Logger } from '../ops/logger';
import { enqueueReplies } from '../outbox/outbox';
import { isUniqueViolation } from '../store/errors';
import type { ChannelName } from '../store/schema';
import type { Store } from '../store/store';
import { loadBranchCapacity, type BranchCapacity } from './capacity';

/** How far ahead bookings are looked at: the day-before reminder of the day after tomorrow's first visit. */
const LOOK_AHEAD_MS = 50 * 3600_000;

export interface Reminders {
  /** Queues every reminder that is due now and was not sent yet; returns how many were queued. */
  runOnce(): Promise<number>;
}

export interface RemindersDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  defaultLocale: Locale;
  /** Wakes the outbox sender after reminders were queued. */
  onOutbox?: () => void;
}

interface Candidate {
  id: string;
  branch_id: string;
  customer_id: string;
  channel: string;
  starts_at: string;
  local_date: string;
  created_at: string;
  service_names: string;
  locale: string;
  opted_out_at: string | null;
}

/**
 * Booking reminders: the day before and a few hours before, through the outbox to the channel the customer
 * booked on (else the one they used last), with buttons to confirm, reschedule or cancel. A reminder counts
 * as sent when its `appointment_reminders` row is written, in the same transaction as its outbox rows: the
 * row's key (appointment, kind, start) means two instances never both send it, and a moved booking is
 * reminded again for its new time. Only booked appointments get reminders, so none follows a cancellation.
 */
export function createReminders(deps: RemindersDeps): Reminders {
  const log = deps.logger.child({ component: 'reminders' });

  async function send(candidate: Candidate, kind: ReminderKind, capacity: BranchCapacity, now: Date): Promise<boolean> {
    const nowIso = now.toISOString();
    try {
      return await deps.store.transaction(async (tx) => {
        // Read again inside the transaction: it may have been cancelled or moved since the list was read.
        const current = await tx.selectFrom('appointments').select(['status', 'starts_at']).where('id', '=', candidate.id).executeTakeFirst();
        if (!current || current.status !== 'booked' || current.starts_at !== candidate.starts_at) return false;
        const identities = await tx
          .selectFrom('channel_identities')
          .select(['channel', 'external_id', 'last_seen_at'])
          .where('customer_id', '=', candidate.customer_id)
          .where('reachable', '=', 1)
          .orderBy('last_seen_at', 'desc')
          .execute();
        const target = identities.find((i) => i.channel === candidate.channel) ?? identities[0];
        // The row is written even when nobody can be reached, so the same reminder is not looked at every minute.
        await tx.insertInto('appointment_reminders').values({ appointment_id: candidate.id, kind, starts_at: candidate.starts_at, sent_at: nowIso }).execute();
        if (!target || candidate.opted_out_at) {
          log.info({ appointmentId: candidate.id, kind, reason: candidate.opted_out_at ? 'opted out' : 'no reachable channel' }, 'reminder not sent');
          return false;
        }
        const locale: Locale = isLocale(candidate.locale) ? candidate.locale : deps.defaultLocale;
        const names = JSON.parse(candidate.service_names) as Record<string, string>;
        const service = serviceName(names, locale, '');
        const time = localTimeOf(Date.parse(candidate.starts_at), capacity.rules.timeZone);
        const choices: Choice[] = [
          { kind: 'postback', id: myBookingsButtons.id('attending', candidate.id), label: { key: 'booking:reminderConfirm' } },
          { kind: 'postback', id: myBookingsButtons.id('reschedule', candidate.id), label: { key: 'booking:reschedule' } },
          { kind: 'postback', id: myBookingsButtons.id('cancel', candidate.id), label: { key: 'booking:cancelBooking' } },
        ];
        const reply: Reply =
          kind === 'day_before'
            ? { type: 'text', text: { key: 'booking:reminderDayBefore', params: { service, branch: capacity.branchName, when: `${formatDayLong(locale, candidate.local_date)} ${time}` } }, choices }
            : { type: 'text', text: { key: 'booking:reminderSoon', params: { service, branch: capacity.branchName, time } }, choices };
        await enqueueReplies(tx, {
          customerId: candidate.customer_id,
          channel: target.channel as ChannelName,
          externalId: target.external_id,
          replies: [reply],
          source: 'system',
          flow: null,
          step: null,
          now: nowIso,
        });
        return true;
      });
    } catch (err) {
      // Another instance sent this very reminder a moment ago.
      if (isUniqueViolation(err, 'appointment_reminders')) return false;
      throw err;
    }
  }

  return {
    async runOnce() {
      const now = deps.clock.now();
      const nowMs = now.getTime();
      const from = now.toISOString();
      const until = new Date(nowMs + LOOK_AHEAD_MS).toISOString();
      const candidates = (await deps.store.db
        .selectFrom('appointments as a')
        .innerJoin('customers as c', 'c.id', 'a.customer_id')
        .innerJoin('service_types as st', 'st.id', 'a.service_type_id')
        .select(['a.id', 'a.branch_id', 'a.customer_id', 'a.channel', 'a.starts_at', 'a.local_date', 'a.created_at', 'st.names as service_names', 'c.locale', 'c.opted_out_at'])
        .where('a.status', '=', 'booked')
        .where('a.starts_at', '>', from)
        .where('a.starts_at', '<=', until)
        .execute()) as Candidate[];
      if (candidates.length === 0) return 0;
      // The same window, joined, rather than an IN list of the candidates: D1 binds at most 100 parameters,
      // and a busy dealership has more visits than that in the window.
      const sentRows = await deps.store.db
        .selectFrom('appointment_reminders as r')
        .innerJoin('appointments as a', 'a.id', 'r.appointment_id')
        .select(['r.appointment_id', 'r.kind', 'r.starts_at'])
        .where('a.status', '=', 'booked')
        .where('a.starts_at', '>', from)
        .where('a.starts_at', '<=', until)
        .execute();
      const sent = new Set(sentRows.map((r) => `${r.appointment_id}|${r.kind}|${r.starts_at}`));
      const capacities = new Map<string, BranchCapacity | null>();
      let queued = 0;
      for (const candidate of candidates) {
        if (!capacities.has(candidate.branch_id)) capacities.set(candidate.branch_id, await loadBranchCapacity(deps.store.db, candidate.branch_id));
        const capacity = capacities.get(candidate.branch_id);
        if (!capacity) continue;
        const due = reminderDueTimes({
          startsAt: Date.parse(candidate.starts_at),
          localDate: candidate.local_date,
          createdAt: Date.parse(candidate.created_at),
          timeZone: capacity.rules.timeZone,
          settings: capacity.rules.settings,
        });
        for (const kind of ['day_before', 'hours_before'] as const) {
          const at = due[kind];
          if (at === null || at > nowMs || sent.has(`${candidate.id}|${kind}|${candidate.starts_at}`)) continue;
          // Late (the service was down): once the nearer reminder is due, the day-before one would only repeat it.
          if (kind === 'day_before' && due.hours_before !== null && due.hours_before <= nowMs) continue;
          if (await send(candidate, kind, capacity, now)) queued += 1;
        }
      }
      if (queued > 0) deps.onOutbox?.();
      return queued;
    },
  };
}
