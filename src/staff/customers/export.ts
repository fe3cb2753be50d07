import type { Selectable } from 'kysely';
import type {
  AppointmentChangeRow,
  AppointmentRow,
  ChannelIdentity,
  ComplaintsTable,
  Customer,
  CustomerReferralsTable,
  MessageRow,
  OutboxRow,
  RepairOrderDecisionsTable,
  RepairOrderItemsTable,
  RepairOrderRow,
  SurveysTable,
  Vehicle,
} from '../../store/schema';
import type { Store } from '../../store/store';
import { recordAudit } from '../audit';
import { currentProfileId, ok, type ActionContext, type CustomerResult } from './result';

/** JSON text columns are handed out as the values they hold; a column that does not parse stays text. */
function parsed(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export interface CustomerExport {
  format: 'dealer-chat.customer-export';
  version: 1;
  exportedAt: string;
  profile: Customer;
  /** Profiles of the same person that were merged into this one. */
  mergedProfiles: Customer[];
  channelIdentities: ChannelIdentity[];
  vehicles: Vehicle[];
  conversation: { flow: string | null; step: string | null; state: unknown; updatedAt: string } | null;
  /** Every message, oldest first, inbound and outbound. */
  transcript: (Omit<MessageRow, 'payload'> & { payload: unknown })[];
  outbox: (Omit<OutboxRow, 'payload' | 'reply_token'> & { payload: unknown })[];
  appointments: AppointmentRow[];
  /** What happened to each appointment (booked, moved, cancelled…), oldest first. */
  appointmentChanges: AppointmentChangeRow[];
  /** Workshop jobs opened for the customer's vehicles. */
  repairOrders: RepairOrderRow[];
  /** Extra work proposed on those jobs, with its price, and the customer's answer to each item. */
  repairOrderItems: Selectable<RepairOrderItemsTable>[];
  repairOrderDecisions: Selectable<RepairOrderDecisionsTable>[];
  /** Complaints with what the customer and staff wrote in them; a photo is named, not embedded. */
  complaints: (Selectable<ComplaintsTable> & { events: ComplaintEventExport[] })[];
  /** Satisfaction surveys and the answers given. */
  surveys: Selectable<SurveysTable>[];
  /** People this customer referred to the dealership, as staff recorded them. */
  referrals: Selectable<CustomerReferralsTable>[];
}

export interface ComplaintEventExport {
  kind: string;
  actorType: string;
  actorLabel: string | null;
  channel: string | null;
  text: string | null;
  /** A photo was sent with this event; staff can show it from the complaint. */
  hasPhoto: boolean;
  details: unknown;
  createdAt: string;
}

/**
 * Everything the dealership holds about one customer, for a request to see one's data (or to take it
 * elsewhere). Reading it is itself recorded in the audit log, without the data. A merged profile's
 * export is the kept profile's: that is where the person's data now lives.
 */
export async function exportCustomer(store: Store, ctx: ActionContext, id: string): Promise<CustomerResult<CustomerExport>> {
  const now = ctx.now.toISOString();
  return store.transaction(async (tx) => {
    const profile = await tx.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirst();
    if (!profile) return { ok: false, reason: 'not_found' };
    if (profile.merged_into_id) return { ok: false, reason: 'merged', mergedInto: (await currentProfileId(tx, profile.merged_into_id)) ?? profile.merged_into_id };
    const [mergedProfiles, channelIdentities, vehicles, conversation, transcript, outbox, appointments, appointmentChanges, repairOrders, items, decisions, complaints, complaintEvents, surveys, referrals] = await Promise.all([
      tx.selectFrom('customers').selectAll().where('merged_into_id', '=', id).orderBy('created_at').execute(),
      tx.selectFrom('channel_identities').selectAll().where('customer_id', '=', id).orderBy('created_at').execute(),
      tx.selectFrom('vehicles').selectAll().where('customer_id', '=', id).orderBy('created_at').execute(),
      tx.selectFrom('conversations').selectAll().where('customer_id', '=', id).executeTakeFirst(),
      tx.selectFrom('messages').selectAll().where('customer_id', '=', id).orderBy('id').execute(),
      tx.selectFrom('outbox').selectAll().where('customer_id', '=', id).orderBy('id').execute(),
      tx.selectFrom('appointments').selectAll().where('customer_id', '=', id).orderBy('starts_at').execute(),
      tx
        .selectFrom('appointment_changes')
        .selectAll('appointment_changes')
        .innerJoin('appointments', 'appointments.id', 'appointment_changes.appointment_id')
        .where('appointments.customer_id', '=', id)
        .orderBy('appointment_changes.created_at')
        .orderBy('appointment_changes.version')
        .execute(),
      tx.selectFrom('repair_orders').selectAll().where('customer_id', '=', id).orderBy('seq').execute(),
      tx
        .selectFrom('repair_order_items')
        .selectAll('repair_order_items')
        .innerJoin('repair_orders', 'repair_orders.id', 'repair_order_items.repair_order_id')
        .where('repair_orders.customer_id', '=', id)
        .orderBy('repair_orders.seq')
        .orderBy('repair_order_items.position')
        .execute(),
      tx
        .selectFrom('repair_order_decisions')
        .selectAll('repair_order_decisions')
        .innerJoin('repair_orders', 'repair_orders.id', 'repair_order_decisions.repair_order_id')
        .where('repair_orders.customer_id', '=', id)
        .orderBy('repair_order_decisions.decided_at')
        .execute(),
      tx.selectFrom('complaints').selectAll().where('customer_id', '=', id).orderBy('created_at').execute(),
      tx
        .selectFrom('complaint_events')
        .selectAll('complaint_events')
        .innerJoin('complaints', 'complaints.id', 'complaint_events.complaint_id')
        .where('complaints.customer_id', '=', id)
        .orderBy('complaint_events.id')
        .execute(),
      tx.selectFrom('surveys').selectAll().where('customer_id', '=', id).orderBy('collected_at').execute(),
      tx.selectFrom('customer_referrals').selectAll().where('customer_id', '=', id).execute(),
    ]);
    const eventsOf = (complaintId: string): ComplaintEventExport[] =>
      complaintEvents
        .filter((e) => e.complaint_id === complaintId)
        .map((e) => ({ kind: e.kind, actorType: e.actor_type, actorLabel: e.actor_label, channel: e.channel, text: e.text, hasPhoto: e.blob_key !== null, details: parsed(e.details), createdAt: e.created_at }));
    const data: CustomerExport = {
      format: 'dealer-chat.customer-export',
      version: 1,
      exportedAt: now,
      profile,
      mergedProfiles,
      channelIdentities,
      vehicles,
      conversation: conversation ? { flow: conversation.flow, step: conversation.step, state: parsed(conversation.state), updatedAt: conversation.updated_at } : null,
      transcript: transcript.map((m) => ({ ...m, payload: parsed(m.payload) })),
      // A reply token is a short-lived platform credential, not the customer's data.
      outbox: outbox.map(({ reply_token: _token, ...row }) => ({ ...row, payload: parsed(row.payload) })),
      appointments,
      appointmentChanges,
      repairOrders,
      repairOrderItems: items,
      repairOrderDecisions: decisions,
      complaints: complaints.map((c) => ({ ...c, events: eventsOf(c.id) })),
      surveys,
      referrals,
    };
    await recordAudit(tx, {
      actor: ctx.actor,
      action: 'customer.export',
      entity: 'customer',
      entityId: id,
      after: { messages: transcript.length, vehicles: vehicles.length, channelIdentities: channelIdentities.length, outbox: outbox.length, appointments: appointments.length, repairOrders: repairOrders.length, complaints: complaints.length, surveys: surveys.length },
      ip: ctx.ip,
      now,
    });
    return ok(data);
  });
}
