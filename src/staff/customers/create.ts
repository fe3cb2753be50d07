import { z } from 'zod';
import { newId } from '../../ids';
import type { Locale } from '../../i18n/locales';
import type { Customer } from '../../store/schema';
import type { Store } from '../../store/store';
import { recordAudit } from '../audit';
import { invalid, ok, type ActionContext, type CustomerResult } from './result';
import { customerUpdateSchema, fieldErrors, MAX_NAME_CHARS } from './validation';

/**
 * A customer staff or a DMS register without a chat: someone who phoned or walked in. The same rules as a
 * profile change (customerUpdateSchema), with the name required, since a profile nobody can recognise
 * is no use to anyone.
 */
export const customerCreateSchema = customerUpdateSchema.pick({ phone: true, locale: true, category: true, notes: true, consent: true }).extend({
  displayName: z.preprocess(
    (v) => (typeof v === 'string' ? v.trim() : v),
    z.string({ error: 'Enter the customer’s name.' }).min(1, 'Enter the customer’s name.').max(MAX_NAME_CHARS, 'nameTooLong'),
  ),
});
export type CustomerCreateInput = z.output<typeof customerCreateSchema>;

/**
 * Creates a profile without a channel identity: the person can be found by name, phone or plate, and
 * when they later write on LINE or Telegram, staff merge the chat profile into this one. One transaction
 * with its audit entry.
 */
export async function createCustomer(store: Store, ctx: ActionContext, raw: unknown, defaults: { locale: Locale }): Promise<CustomerResult<Customer>> {
  const parsed = customerCreateSchema.safeParse(raw);
  if (!parsed.success) return invalid(fieldErrors(parsed.error, ctx.now));
  const input = parsed.data;
  const now = ctx.now.toISOString();
  const customer: Customer = {
    id: newId(),
    display_name: input.displayName,
    phone: input.phone ?? null,
    locale: input.locale ?? defaults.locale,
    category: input.category ?? 'prospect',
    notes: input.notes ?? null,
    consent_at: input.consent ? now : null,
    opted_out_at: null,
    erased_at: null,
    merged_into_id: null,
    created_at: now,
    updated_at: now,
  };
  await store.transaction(async (tx) => {
    await tx.insertInto('customers').values(customer).execute();
    const { id: _id, erased_at: _erased, merged_into_id: _merged, created_at: _created, updated_at: _updated, ...fields } = customer;
    await recordAudit(tx, { actor: ctx.actor, action: 'customer.create', entity: 'customer', entityId: customer.id, after: fields, ip: ctx.ip, now });
  });
  return ok(customer);
}
