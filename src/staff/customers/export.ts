import type { AppointmentChangeRow, AppointmentRow, ChannelIdentity, Customer, MessageRow, OutboxRow, RepairOrderRow, Vehicle } from '../../store/schema';
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
    const [mergedProfiles, channelIdentities, vehicles, conversation, transcript, outbox, appointments, appointmentChanges, repairOrders] = await Promise.all([
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
    ]);
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
    };
    await recordAudit(tx, {
      actor: ctx.actor,
      action: 'customer.export',
      entity: 'customer',
      entityId: id,
      after: { messages: transcript.length, vehicles: vehicles.length, channelIdentities: channelIdentities.length, outbox: outbox.length, appointments: appointments.length, repairOrders: repairOrders.length },
      ip: ctx.ip,
      now,
    });
    return ok(data);
  });
}
