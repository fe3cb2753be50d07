import { sql } from 'kysely';
import type { AppointmentStatus, ChannelName } from '../../store/schema';
import type { Store } from '../../store/store';
import { STAFF_HELD_FLOWS } from '../../conversation/flows';
import { readHandoffState } from '../../conversation/flows/handoff';
import { serviceName } from '../../conversation/flows/booking-view';
import { OPEN_STATUSES as OPEN_COMPLAINT_STATUSES } from '../../complaints/model';
import { OPEN_STATUSES as OPEN_ORDER_STATUSES } from '../../repair-orders/statuses';
import { localDateOf, localTimeOf } from '../../domain/local-time';
import type { Locale } from '../../i18n/locales';
import { canSeeBranch, type Principal } from '../permissions';

/*
 * "Today": what an advisor at a busy dealership looks at first. Who arrives today (name, plate, service),
 * who is waiting for a person and for how long (name, plate, what they last wrote), and the counts behind
 * the other pages (open repair orders, open complaints, undelivered messages).
 */

/**
 * What a customer typed or sent, as opposed to a button they pressed or a command: only these are "what
 * the customer said" on the first page.
 */
export const SAID_KINDS: readonly string[] = ['text', 'image', 'location', 'contact', 'sticker'];

/** How a customer is recognised at a glance: never an id. */
export interface WhoIs {
  customerId: string;
  /** The name the customer gave or staff typed, else the one their chat app shows; null when none is known. */
  name: string | null;
  phone: string | null;
  /** The plate of their car (the one booked, else the one last changed), when known. */
  plate: string | null;
}

export interface Arrival extends WhoIs {
  appointmentId: string;
  reference: string;
  branchName: string;
  /** The local time of day in the branch's zone (`HH:mm`). */
  time: string;
  startsAt: string;
  service: string;
  status: AppointmentStatus;
  loaner: boolean;
  /** The repair order opened when the car was checked in, if any. */
  repairOrderId: string | null;
}

export interface Waiting extends WhoIs {
  /** Since when the customer has been waiting for an answer: their first message no person answered yet. */
  since: string;
  /** True when a person has answered everything the customer wrote (the conversation is still held by staff). */
  answered: boolean;
  /** What the customer last typed or sent (button presses left out). */
  lastMessage: { text: string | null; kind: string; at: string } | null;
  channel: ChannelName | null;
}

export interface Recent extends WhoIs {
  id: number;
  channel: ChannelName;
  kind: string;
  text: string | null;
  at: string;
}

export interface TodayFigures {
  /** The local date shown, in the first visible branch's zone (each branch's own day is used for its arrivals). */
  date: string;
  arrivals: Arrival[];
  /** Conversations waiting for a person, the longest waiting first (at most 20). */
  waiting: Waiting[];
  /** Repair orders of the visible branches still in the workshop. */
  openRepairOrders: number;
  /** Complaints of the visible branches still open. */
  openComplaints: number;
  /** Messages given up on, for managers to look at. */
  deadMessages: number;
  /** What customers last wrote (follows, blocks, button presses and commands left out). */
  recent: Recent[];
}

const WAITING_SHOWN = 20;
const RECENT_SHOWN = 10;
const ARRIVALS_SHOWN = 300;

export function createDashboardService(deps: { store: Store }) {
  const db = deps.store.db;

  /** Names, phones and plates of some customers, in two queries. */
  async function whoAre(ids: readonly string[]): Promise<Map<string, Omit<WhoIs, 'customerId'>>> {
    const unique = [...new Set(ids)];
    const found = new Map<string, Omit<WhoIs, 'customerId'>>();
    if (unique.length === 0) return found;
    const [customers, identities, vehicles] = await Promise.all([
      db.selectFrom('customers').select(['id', 'display_name', 'phone']).where('id', 'in', unique).execute(),
      db.selectFrom('channel_identities').select(['customer_id', 'display_name', 'last_seen_at']).where('customer_id', 'in', unique).where('display_name', 'is not', null).orderBy('last_seen_at', 'desc').execute(),
      db.selectFrom('vehicles').select(['customer_id', 'plate', 'updated_at']).where('customer_id', 'in', unique).orderBy('updated_at', 'desc').execute(),
    ]);
    const shownName = new Map<string, string>();
    for (const i of identities) if (i.display_name && !shownName.has(i.customer_id)) shownName.set(i.customer_id, i.display_name);
    const plate = new Map<string, string>();
    for (const v of vehicles) if (!plate.has(v.customer_id)) plate.set(v.customer_id, v.plate);
    for (const c of customers) found.set(c.id, { name: c.display_name ?? shownName.get(c.id) ?? null, phone: c.phone, plate: plate.get(c.id) ?? null });
    return found;
  }
  const who = (map: Map<string, Omit<WhoIs, 'customerId'>>, id: string): WhoIs => ({ customerId: id, ...(map.get(id) ?? { name: null, phone: null, plate: null }) });

  async function arrivals(principal: Principal, now: Date, locale: Locale): Promise<{ date: string; rows: Omit<Arrival, 'name' | 'phone'>[] }> {
    const branches = (await db.selectFrom('branches').select(['id', 'name', 'time_zone']).orderBy('name').execute()).filter((b) => canSeeBranch(principal, b.id));
    const dayOf = new Map(branches.map((b) => [b.id, localDateOf(now, b.time_zone)]));
    const date = branches[0] ? dayOf.get(branches[0].id)! : localDateOf(now, 'UTC');
    if (branches.length === 0) return { date, rows: [] };
    const rows = await db
      .selectFrom('appointments')
      .innerJoin('service_types', 'service_types.id', 'appointments.service_type_id')
      .leftJoin('vehicles', 'vehicles.id', 'appointments.vehicle_id')
      .leftJoin('repair_orders', 'repair_orders.appointment_id', 'appointments.id')
      .select([
        'appointments.id',
        'appointments.reference',
        'appointments.branch_id',
        'appointments.customer_id',
        'appointments.starts_at',
        'appointments.local_date',
        'appointments.status',
        'appointments.loaner_requested',
        'service_types.names',
        'service_types.code',
        'vehicles.plate',
        'repair_orders.id as repair_order_id',
      ])
      .where('appointments.branch_id', 'in', branches.map((b) => b.id))
      .where('appointments.local_date', 'in', [...new Set(dayOf.values())])
      .where('appointments.status', '!=', 'cancelled')
      .orderBy('appointments.starts_at')
      .limit(ARRIVALS_SHOWN)
      .execute();
    const branch = new Map(branches.map((b) => [b.id, b]));
    return {
      date,
      rows: rows
        // Each branch's own today: a branch in another zone may already be on the next day.
        .filter((r) => dayOf.get(r.branch_id) === r.local_date)
        .map((r) => ({
          appointmentId: r.id,
          reference: r.reference,
          branchName: branch.get(r.branch_id)!.name,
          time: localTimeOf(new Date(r.starts_at), branch.get(r.branch_id)!.time_zone),
          startsAt: r.starts_at,
          service: serviceName(parseNames(r.names), locale, r.code),
          status: r.status,
          loaner: r.loaner_requested === 1,
          repairOrderId: r.repair_order_id ?? null,
          customerId: r.customer_id,
          plate: r.plate ?? null,
        })),
    };
  }

  /** Where one held conversation stands: what the customer last said, and since when no person has answered. */
  async function waitingOf(customerId: string, requestedAt: string) {
    const [lastSaid, lastStaff] = await Promise.all([
      db
        .selectFrom('messages')
        .select(['id', 'text', 'kind', 'channel', 'created_at'])
        .where('customer_id', '=', customerId)
        .where('direction', '=', 'in')
        .where('kind', 'in', SAID_KINDS)
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst(),
      // A staff reply counts once queued: the customer's words were answered even if delivery is still under way.
      db.selectFrom('outbox').select(sql<string | null>`max(created_at)`.as('at')).where('customer_id', '=', customerId).where('source', '=', 'staff').executeTakeFirst(),
    ]);
    const staffAt = lastStaff?.at && lastStaff.at >= requestedAt ? lastStaff.at : null;
    let since = requestedAt;
    let answered = false;
    if (staffAt) {
      const firstUnanswered = await db
        .selectFrom('messages')
        .select('created_at')
        .where('customer_id', '=', customerId)
        .where('direction', '=', 'in')
        .where('kind', 'in', SAID_KINDS)
        .where('created_at', '>', staffAt)
        .orderBy('id')
        .limit(1)
        .executeTakeFirst();
      if (firstUnanswered) since = firstUnanswered.created_at;
      else {
        since = staffAt;
        answered = true;
      }
    }
    return { since, answered, lastMessage: lastSaid ? { text: lastSaid.text, kind: lastSaid.kind, at: lastSaid.created_at } : null, channel: lastSaid?.channel ?? null };
  }

  async function countVisible(table: 'repair_orders' | 'complaints', statuses: readonly string[], principal: Principal): Promise<number> {
    let query = db.selectFrom(table).select(sql<number>`count(*)`.as('n')).where('status', 'in', statuses as never);
    if (principal.branchIds !== 'all') {
      if (principal.branchIds.length === 0) return 0;
      query = query.where('branch_id', 'in', principal.branchIds);
    }
    return Number((await query.executeTakeFirstOrThrow()).n);
  }

  return {
    /** The first page: today's arrivals in the branches the staff member sees, who waits for a person, and the counts. */
    async today(principal: Principal, opts: { now: Date; locale: Locale }): Promise<TodayFigures> {
      const [day, held, openRepairOrders, openComplaints, dead, recentRows] = await Promise.all([
        arrivals(principal, opts.now, opts.locale),
        db.selectFrom('conversations').select(['customer_id', 'state', 'updated_at']).where('flow', 'in', STAFF_HELD_FLOWS).orderBy('updated_at', 'asc').limit(100).execute(),
        countVisible('repair_orders', OPEN_ORDER_STATUSES, principal),
        countVisible('complaints', OPEN_COMPLAINT_STATUSES, principal),
        db.selectFrom('outbox').select(sql<number>`count(*)`.as('n')).where('status', '=', 'dead').executeTakeFirstOrThrow(),
        db
          .selectFrom('messages')
          .select(['id', 'customer_id', 'channel', 'kind', 'text', 'created_at'])
          .where('direction', '=', 'in')
          .where('kind', 'in', SAID_KINDS)
          .orderBy('id', 'desc')
          .limit(RECENT_SHOWN)
          .execute(),
      ]);
      const waitingRaw = await Promise.all(
        held.map(async (h) => {
          const requestedAt = readHandoffState(safeJson(h.state))?.requestedAt ?? h.updated_at;
          return { customerId: h.customer_id, ...(await waitingOf(h.customer_id, requestedAt)) };
        }),
      );
      // Those nobody has answered first, the longest waiting at the top.
      waitingRaw.sort((a, b) => Number(a.answered) - Number(b.answered) || a.since.localeCompare(b.since));
      const waitingShown = waitingRaw.slice(0, WAITING_SHOWN);
      const people = await whoAre([...day.rows.map((r) => r.customerId), ...waitingShown.map((w) => w.customerId), ...recentRows.map((m) => m.customer_id)]);
      return {
        date: day.date,
        arrivals: day.rows.map((r) => ({ ...who(people, r.customerId), ...r, plate: r.plate ?? people.get(r.customerId)?.plate ?? null })),
        waiting: waitingShown.map((w) => ({ ...who(people, w.customerId), ...w })),
        openRepairOrders,
        openComplaints,
        deadMessages: Number(dead.n),
        recent: recentRows.map((m) => ({ ...who(people, m.customer_id), id: m.id, channel: m.channel, kind: m.kind, text: m.text, at: m.created_at })),
      };
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function parseNames(text: string): Record<string, string> {
  const parsed = safeJson(text);
  return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
}

export type DashboardService = ReturnType<typeof createDashboardService>;
