import type { Choice, Reply, TextRef } from '../channels/types';
import { myBookingsButtons } from '../conversation/button-ids';
import { lockedText, manageChoices, serviceName } from '../conversation/flows/booking-view';
import { withinChangeCutoff } from '../domain/booking-rules';
import { localTimeOf } from '../domain/local-time';
import { reminderDueTimes, type ReminderKind } from '../domain/reminder-times';
import { formatDayLong } from '../i18n/format';
import { isLocale, type Locale } from '../i18n/locales';
import type { Clock } from '../ops/clock';
import type { Logger } from '../ops/logger';
import { enqueueReplies } from '../outbox/outbox';
import { isUniqueViolation } from '../store/errors';
import type { Store } from '../store/store';
import { branchNameIn, branchProfile } from './branch-profile';
import { loadBranchCapacity, type BranchCapacity } from './capacity';
import { reachableChannel } from './notices';

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
 * Booking reminders: the day before and a few hours before, through the outbox to the channel that reaches
 * the customer best (see reachableChannel: LINE or Telegram before a web chat tab that may be closed), with buttons to confirm, reschedule or cancel. A reminder counts
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
        const target = await reachableChannel(tx, candidate.customer_id, candidate.channel);
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
        const branch = await branchProfile(tx, candidate.branch_id);
        const branchName = branch ? branchNameIn(branch, locale) : capacity.branchName;
        // A reminder inside the change cutoff offers the branch's phone and a person, not buttons that would refuse.
        const hours = capacity.rules.settings.changeCutoffHours;
        const locked = withinChangeCutoff(candidate.starts_at, hours, now);
        const phone = branch?.phone ?? null;
        const choices: Choice[] = [
          { kind: 'postback', id: myBookingsButtons.id('attending', candidate.id), label: { key: 'booking:reminderConfirm' } },
          ...manageChoices(candidate.id, { locked, channel: target.channel, phone }),
        ];
        const said: TextRef =
          kind === 'day_before'
            ? { key: 'booking:reminderDayBefore', params: { service, branch: branchName, when: `${formatDayLong(locale, candidate.local_date)} ${time}` } }
            : { key: 'booking:reminderSoon', params: { service, branch: branchName, time } };
        const reply: Reply = { type: 'text', text: locked ? [said, lockedText({ hours, branch: branchName, phone })] : said, choices };
        await enqueueReplies(tx, {
          customerId: candidate.customer_id,
          channel: target.channel,
          externalId: target.externalId,
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
