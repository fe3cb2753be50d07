import type { ChannelSender, RenderedMessage } from '../channels/types';
import type { Translator } from '../i18n';
import type { Locale } from '../i18n/locales';
import type { Clock } from '../ops/clock';
import type { Logger } from '../ops/logger';
import type { Selectable } from 'kysely';
import type { ComplaintAlertsTable } from '../store/schema';
import type { Store } from '../store/store';
import { backoffMs } from '../outbox/sender';
import { findComplaint } from './tickets';

/*
 * Notices for the staff group chats a branch names (a Telegram group, a LINE group): a new complaint, a
 * missed deadline, a complaint the customer reopened. Each is queued in the transaction that caused it and
 * sent here with the channel's own sender, retried with backoff, once (LINE's retry key is the alert's
 * key). A group notice carries the ticket's summary and a link to the console, never the customer's phone.
 */

export interface ComplaintAlertDeps {
  store: Store;
  senders: Partial<Record<'line' | 'telegram', ChannelSender>>;
  translator: Translator;
  clock: Clock;
  logger: Logger;
  /** The language the notices are written in: the dealership's. */
  locale: Locale;
  /** PUBLIC_BASE_URL, for the link to the ticket in the console; without it the notice has no link. */
  publicBaseUrl: string | null;
  timeZone: string;
  maxAttempts?: number;
}

const PER_PASS = 50;
const LEASE_MS = 60_000;
/** What of the customer's words a notice quotes. */
const EXCERPT_CHARS = 200;

export function createComplaintAlerts(deps: ComplaintAlertDeps) {
  const db = deps.store.db;
  const log = deps.logger.child({ component: 'complaint-alerts' });
  const maxAttempts = deps.maxAttempts ?? 8;
  const t = (key: string, params?: Record<string, string | number>) => deps.translator.t(deps.locale, `console-complaints:${key}`, params);
  const when = (iso: string) =>
    new Intl.DateTimeFormat(deps.locale, { timeZone: deps.timeZone, month: 'numeric', day: 'numeric', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
  let running: Promise<number> | null = null;

  /** The notice's text, or null when its ticket is gone. */
  async function textOf(alert: Pick<ComplaintAlertsTable, 'complaint_id' | 'kind'>): Promise<string | null> {
    const c = await findComplaint(db, alert.complaint_id);
    if (!c) return null;
    const [branch, customer, assignee] = await Promise.all([
      db.selectFrom('branches').select('name').where('id', '=', c.branch_id).executeTakeFirst(),
      db.selectFrom('customers').select('display_name').where('id', '=', c.customer_id).executeTakeFirst(),
      c.assignee_id ? db.selectFrom('staff_users').select('name').where('id', '=', c.assignee_id).executeTakeFirst() : Promise.resolve(undefined),
    ]);
    const base = { reference: c.reference, branch: branch?.name ?? '' };
    const lines: string[] = [];
    if (alert.kind === 'escalated') {
      const deadline = c.resolution_escalated_at && (!c.first_response_escalated_at || c.resolution_escalated_at >= c.first_response_escalated_at) ? 'resolution' : 'first_response';
      lines.push(t('alert.escalated', { ...base, deadline: t(`deadline.${deadline}`), due: when(deadline === 'resolution' ? c.resolution_due_at : c.first_response_due_at) }));
    } else if (alert.kind === 'reopened') {
      lines.push(t('alert.reopened', base));
    } else {
      lines.push(t(c.category ? 'alert.new' : 'alert.request', base));
    }
    lines.push(t('alert.summary', { category: c.category ? t(`category.${c.category}`) : t('category.none'), priority: t(`priority.${c.priority}`) }));
    if (customer?.display_name) lines.push(t('alert.customer', { name: customer.display_name }));
    const words = c.description.trim();
    if (words) lines.push(`“${[...words].length > EXCERPT_CHARS ? `${[...words].slice(0, EXCERPT_CHARS - 1).join('')}…` : words}”`);
    lines.push(assignee ? t('alert.assignee', { name: assignee.name }) : t('alert.unassigned'));
    if (alert.kind === 'new') lines.push(t('alert.dueBy', { due: when(c.first_response_due_at) }));
    if (deps.publicBaseUrl) lines.push(`${deps.publicBaseUrl.replace(/\/+$/, '')}/console/complaints/${c.id}`);
    return lines.join('\n');
  }

  async function sendOne(alert: Selectable<ComplaintAlertsTable>, now: Date): Promise<'sent' | 'failed' | 'skipped'> {
    const nowIso = now.toISOString();
    const claimed = await db
      .updateTable('complaint_alerts')
      .set({ status: 'sending', lease_until: new Date(now.getTime() + LEASE_MS).toISOString() })
      .where('id', '=', alert.id)
      .where((eb) => eb.or([eb('status', '=', 'pending'), eb.and([eb('status', '=', 'sending'), eb('lease_until', '<', nowIso)])]))
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return 'skipped';
    const sender = deps.senders[alert.channel];
    const text = await textOf(alert);
    if (!sender || !text) {
      await db.updateTable('complaint_alerts').set({ status: 'dead', lease_until: null, last_error: sender ? 'the complaint is gone' : `${alert.channel} is not configured` }).where('id', '=', alert.id).execute();
      return 'failed';
    }
    const message: RenderedMessage = { type: 'text', text, choices: [] };
    const outcome = await sender.send({ key: alert.key, externalId: alert.target, replyToken: null, messages: [message] }).catch((err: unknown) => ({
      ok: false as const,
      retryable: true,
      retryAfterMs: null,
      status: null,
      error: err instanceof Error ? err.message : String(err),
    }));
    if (outcome.ok) {
      await db.updateTable('complaint_alerts').set({ status: 'sent', sent_at: nowIso, lease_until: null, last_error: null, attempts: alert.attempts + 1 }).where('id', '=', alert.id).execute();
      return 'sent';
    }
    const attempts = alert.attempts + 1;
    const dead = !outcome.retryable || attempts >= maxAttempts;
    const delay = outcome.retryAfterMs ?? backoffMs(attempts);
    await db
      .updateTable('complaint_alerts')
      .set({ status: dead ? 'dead' : 'pending', attempts, lease_until: null, last_error: `${outcome.status ?? 'network'}: ${outcome.error}`.slice(0, 1000), next_attempt_at: new Date(now.getTime() + delay).toISOString() })
      .where('id', '=', alert.id)
      .execute();
    log.warn({ alertId: alert.id, channel: alert.channel, attempts, dead, error: outcome.error }, dead ? 'staff group alert given up' : 'staff group alert failed, will retry');
    return 'failed';
  }

  async function pass(): Promise<number> {
    const now = deps.clock.now();
    const nowIso = now.toISOString();
    const due = await db
      .selectFrom('complaint_alerts')
      .selectAll()
      .where((eb) => eb.or([eb.and([eb('status', '=', 'pending'), eb('next_attempt_at', '<=', nowIso)]), eb.and([eb('status', '=', 'sending'), eb('lease_until', '<', nowIso)])]))
      .orderBy('id')
      .limit(PER_PASS)
      .execute();
    let sent = 0;
    for (const alert of due) if ((await sendOne(alert, now)) === 'sent') sent += 1;
    return sent;
  }

  /** Sends what is due; safe beside another instance doing the same (each alert is claimed first). */
  function runOnce(): Promise<number> {
    running ??= pass().finally(() => {
      running = null;
    });
    return running;
  }

  return {
    runOnce,
    /** Sends soon, in the background (after a commit that queued alerts); a failure waits for the next pass. */
    kick(): void {
      runOnce().catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'staff group alerts not sent now; the next pass tries again'));
    },
  };
}

export type ComplaintAlerts = ReturnType<typeof createComplaintAlerts>;
