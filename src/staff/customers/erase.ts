import { sql, type ExpressionBuilder } from 'kysely';
import type { BlobStore } from '../../blobs/blob-store';
import type { Database } from '../../store/schema';
import type { Store } from '../../store/store';
import { recordAudit } from '../audit';
import { conflict, currentProfileId, invalid, ok, type ActionContext, type CustomerResult } from './result';

/**
 * What staff type to confirm an erasure: the first eight characters of the profile's id, shown next to
 * the button. Typing it cannot happen by accident, and it names this profile, not just "yes".
 */
export function erasureCode(customerId: string): string {
  return customerId.slice(0, 8);
}

export interface ErasureOutcome {
  erasedAt: string;
  /** Counts kept for statistics: what was anonymised rather than deleted, and what was removed. */
  messagesAnonymised: number;
  vehiclesCleared: number;
  appointmentsKept: number;
  channelIdentitiesRemoved: number;
  outboxCancelled: number;
  /** Photos sent with the customer's complaints, removed from the photo store once the erasure committed. */
  photosRemoved: number;
  /** Photos the store could not remove then (it was unreachable); no record points to them any more. */
  photosNotRemoved: number;
}

/** An audit entry of an erased customer keeps who changed what and when, not the values. */
function scrubbedAuditValue(text: string | null): string | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return JSON.stringify({ erased: true, fields: Object.keys(value) });
  } catch {
    // Not JSON: nothing structured to keep.
  }
  return JSON.stringify({ erased: true });
}

/**
 * Erases a customer on their request, keeping what statistics need without anything that identifies them:
 * - the profile's name, phone, notes, consent and opt-out are cleared and it is marked erased (so are the
 *   profiles merged into it, which held the same person's details);
 * - channel identities are deleted, so if the person writes again they are a stranger, and the events
 *   they sent (held for processing and kept afterwards) go with them;
 * - vehicles lose plate, VIN and mileage but keep make, model and year;
 * - the transcript keeps each message's kind, direction, channel and time but not its text or details;
 * - unsent messages are cancelled and every queued message loses its content and address;
 * - the conversation is deleted; bookings stay for statistics with their notes cleared;
 * - repair orders stay for statistics without the odometer reading (it describes the person's driving);
 * - complaints stay for statistics (category, deadlines, rating) without the customer's words, staff
 *   messages and notes, resolutions or photos; the photo files themselves are deleted from the photo store
 *   after the transaction commits (the outcome counts those the store could not delete, for staff to see);
 * - answers to added repair items keep the decision and its time, not the customer's name;
 * - satisfaction surveys keep their answers for the CSI figures but not the comment, and none is sent any
 *   more; referral notes are cleared;
 * - earlier audit entries about the profile and its vehicles keep what was done but not the values.
 * One transaction with an audit entry that holds counts only.
 */
export async function eraseCustomer(store: Store, ctx: ActionContext, id: string, args: { confirmation: string }, opts: { blobs?: BlobStore } = {}): Promise<CustomerResult<ErasureOutcome>> {
  const now = ctx.now.toISOString();
  let photoKeys: string[] = [];
  const result = await store.transaction(async (tx): Promise<CustomerResult<ErasureOutcome>> => {
    const customer = await tx.selectFrom('customers').select(['id', 'merged_into_id', 'erased_at']).where('id', '=', id).executeTakeFirst();
    if (!customer) return { ok: false, reason: 'not_found' };
    if (customer.merged_into_id) return { ok: false, reason: 'merged', mergedInto: (await currentProfileId(tx, customer.merged_into_id)) ?? customer.merged_into_id };
    if (customer.erased_at) return conflict('alreadyErased');
    if (args.confirmation.trim().toLowerCase() !== erasureCode(id).toLowerCase()) return invalid([{ field: 'confirmation', code: 'erasureCodeMismatch', params: { code: erasureCode(id) } }]);

    const identities = await tx.selectFrom('channel_identities').select(['id', 'channel', 'external_id']).where('customer_id', '=', id).execute();
    for (const key of identities.map((i) => `${i.channel}:${i.external_id}`).sort()) await store.lock(tx, key);
    const mergedIds = (await tx.selectFrom('customers').select('id').where('merged_into_id', '=', id).execute()).map((r) => r.id);
    const profileIds = [id, ...mergedIds];
    const vehicleIds = (await tx.selectFrom('vehicles').select('id').where('customer_id', '=', id).execute()).map((v) => v.id);
    const count = async (query: Promise<{ n: number | string | bigint } | undefined>) => Number((await query)?.n ?? 0);
    const messagesAnonymised = await count(tx.selectFrom('messages').select(sql<number>`count(*)`.as('n')).where('customer_id', '=', id).executeTakeFirst());
    const appointmentsKept = await count(tx.selectFrom('appointments').select(sql<number>`count(*)`.as('n')).where('customer_id', '=', id).executeTakeFirst());
    const outboxCancelled = await count(
      tx.selectFrom('outbox').select(sql<number>`count(*)`.as('n')).where('customer_id', '=', id).where('status', 'in', ['pending', 'sending']).executeTakeFirst(),
    );
    const audited = await tx
      .selectFrom('audit_log')
      .select(['id', 'before', 'after'])
      .where((eb) =>
        eb.or([
          eb.and([eb('entity', '=', 'customer'), eb('entity_id', 'in', profileIds)]),
          ...(vehicleIds.length ? [eb.and([eb('entity', '=', 'vehicle'), eb('entity_id', 'in', vehicleIds)])] : []),
        ]),
      )
      .execute();

    await tx
      .updateTable('customers')
      .set({ display_name: null, phone: null, notes: null, consent_at: null, opted_out_at: null, erased_at: now, updated_at: now })
      .where('id', 'in', profileIds)
      .execute();
    for (const identity of identities) {
      // Pending events are left alone: they are new messages, and will now start a stranger's profile.
      await tx.deleteFrom('inbound_events').where('channel', '=', identity.channel).where('external_id', '=', identity.external_id).where('status', '<>', 'pending').execute();
    }
    await tx.deleteFrom('channel_identities').where('customer_id', '=', id).execute();
    await tx.updateTable('vehicles').set({ plate: '', plate_normalized: '', vin: null, mileage_km: null, updated_at: now }).where('customer_id', '=', id).execute();
    await tx.updateTable('messages').set({ text: null, payload: null }).where('customer_id', '=', id).execute();
    await tx.updateTable('outbox').set({ status: 'cancelled', lease_until: null, updated_at: now }).where('customer_id', '=', id).where('status', 'in', ['pending', 'sending']).execute();
    await tx.updateTable('outbox').set({ payload: '[]', external_id: '', reply_token: null }).where('customer_id', '=', id).execute();
    await tx.deleteFrom('conversations').where('customer_id', '=', id).execute();
    await tx.updateTable('appointments').set({ note: null }).where('customer_id', '=', id).execute();
    await tx.updateTable('repair_orders').set({ mileage_in: null, updated_at: now }).where('customer_id', '=', id).execute();
    await tx.updateTable('complaints').set({ description: '', resolution: null, updated_at: now }).where('customer_id', '=', id).execute();
    const complaintsOfCustomer = (eb: ExpressionBuilder<Database, 'complaint_events'>) => eb.selectFrom('complaints').select('complaints.id').where('complaints.customer_id', '=', id);
    photoKeys = (await tx.selectFrom('complaint_events').select('blob_key').where('complaint_id', 'in', complaintsOfCustomer).where('blob_key', 'is not', null).execute()).map((r) => r.blob_key!);
    await tx.updateTable('complaint_events').set({ text: null, blob_key: null, details: null }).where('complaint_id', 'in', complaintsOfCustomer).execute();
    await tx.updateTable('complaint_events').set({ actor_label: null }).where('complaint_id', 'in', complaintsOfCustomer).where('actor_type', '=', 'customer').execute();
    // Survey answers stay for the CSI figures; the customer's own words go, and nothing more is sent.
    await tx.updateTable('surveys').set({ comment: null, updated_at: now }).where('customer_id', '=', id).execute();
    await tx.updateTable('surveys').set({ status: 'skipped', skip_reason: 'erased', updated_at: now }).where('customer_id', '=', id).where('status', '=', 'scheduled').execute();
    await tx.updateTable('customer_referrals').set({ note: null }).where('customer_id', '=', id).execute();
    await tx
      .updateTable('repair_order_decisions')
      .set({ actor_label: null })
      .where('actor_type', '=', 'customer')
      .where('repair_order_id', 'in', (eb) => eb.selectFrom('repair_orders').select('repair_orders.id').where('repair_orders.customer_id', '=', id))
      .execute();
    for (const entry of audited) {
      await tx.updateTable('audit_log').set({ before: scrubbedAuditValue(entry.before), after: scrubbedAuditValue(entry.after) }).where('id', '=', entry.id).execute();
    }

    const outcome: ErasureOutcome = { erasedAt: now, messagesAnonymised, vehiclesCleared: vehicleIds.length, appointmentsKept, channelIdentitiesRemoved: identities.length, outboxCancelled, photosRemoved: 0, photosNotRemoved: 0 };
    await recordAudit(tx, { actor: ctx.actor, action: 'customer.erase', entity: 'customer', entityId: id, after: { ...outcome, mergedProfilesErased: mergedIds.length }, ip: ctx.ip, now });
    return ok(outcome);
  });
  // Files are not part of the transaction: they go once nothing can roll the erasure back.
  if (result.ok && opts.blobs) {
    for (const key of photoKeys) {
      try {
        await opts.blobs.delete(key);
        result.value.photosRemoved += 1;
      } catch {
        result.value.photosNotRemoved += 1;
      }
    }
  }
  return result;
}
