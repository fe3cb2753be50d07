import { z } from '@hono/zod-openapi';
import { CUSTOMER_CATEGORIES } from '../../domain/customer-category';
import type { Branch, ChannelIdentity, Customer, CustomerCategory, Vehicle } from '../../store/schema';
import { readHolidays, readOpeningHours } from '../branches/form';

/*
 * What the API hands out, in camelCase and with flags as booleans: the records as an integration reads
 * them, not the storage columns. One schema and one mapper per record, so the document and the answers
 * cannot drift apart.
 */

const timestamp = (description: string) => z.string().openapi({ description: `${description} (ISO 8601, UTC).`, example: '2026-03-14T02:30:00.000Z' });

export const CategorySchema = z.enum(CUSTOMER_CATEGORIES as [CustomerCategory, ...CustomerCategory[]]).openapi({ description: 'prospect: interested, has not bought yet; base: owns one of our cars; key_influencer: well connected, brings others; at_risk: the latest survey shows low satisfaction or loyalty.' });

export const CustomerSchema = z
  .object({
    id: z.string(),
    displayName: z.string().nullable(),
    phone: z.string().nullable().openapi({ description: 'Digits with an optional leading +.', example: '+886912345678' }),
    locale: z.string().openapi({ example: 'zh-TW' }),
    category: CategorySchema,
    notes: z.string().nullable(),
    consentAt: z.string().nullable().openapi({ description: 'When the customer agreed to be contacted; null when they have not.' }),
    optedOutAt: z.string().nullable().openapi({ description: 'When the customer opted out of messages; null when they have not.' }),
    createdAt: timestamp('When the profile was created'),
    updatedAt: timestamp('When the profile last changed'),
  })
  .openapi('Customer');
export type ApiCustomer = z.infer<typeof CustomerSchema>;

export const IdentitySchema = z
  .object({
    id: z.string(),
    channel: z.enum(['line', 'telegram', 'web']),
    externalId: z.string().openapi({
      description:
        'The platform’s id of the person: the LINE user id (per LINE provider), the Telegram chat id, or the web chat visitor id. Given so a DMS can match the person with its own records; it is not a credential (web chat visitors are recognised by a signed cookie, not by this id).',
    }),
    displayName: z.string().nullable(),
    reachable: z.boolean().openapi({ description: 'False when the person blocked the account or left the chat.' }),
    unreachableSince: z.string().nullable(),
    firstSeenAt: timestamp('First message on this channel'),
    lastSeenAt: timestamp('Latest message on this channel, to the minute'),
  })
  .openapi('ChannelIdentity');

export const VehicleSchema = z
  .object({
    id: z.string(),
    customerId: z.string(),
    plate: z.string().openapi({ description: 'As it was typed.', example: 'ABC-1234' }),
    plateNormalized: z.string().openapi({ description: 'Upper-case without spaces, dashes or dots: what plate searches compare.', example: 'ABC1234' }),
    make: z.string().nullable(),
    model: z.string().nullable(),
    year: z.number().int().nullable(),
    vin: z.string().nullable(),
    mileageKm: z.number().int().nullable(),
    createdAt: timestamp('When the vehicle was added'),
    updatedAt: timestamp('When the vehicle last changed'),
  })
  .openapi('Vehicle');
export type ApiVehicle = z.infer<typeof VehicleSchema>;

export const CustomerDetailSchema = CustomerSchema.extend({
  identities: z.array(IdentitySchema).openapi({ description: 'Chat channels the customer wrote from, most recently seen first.' }),
  vehicles: z.array(VehicleSchema),
  suggestedCategory: CategorySchema.openapi({ description: 'What the records point to; staff decide whether to take it.' }),
}).openapi('CustomerDetail');

const interval = z.tuple([z.string(), z.string()]).openapi({ description: 'Open from–to, local "HH:mm".', example: ['09:00', '18:00'] });
export const OpeningHoursSchema = z
  .object({ mon: z.array(interval), tue: z.array(interval), wed: z.array(interval), thu: z.array(interval), fri: z.array(interval), sat: z.array(interval), sun: z.array(interval) })
  .openapi('OpeningHours', { description: 'Open intervals per weekday, in the branch’s time zone; an empty list is a closed day.' });

export const BranchSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    address: z.string().nullable(),
    phone: z.string().nullable(),
    mapUrl: z.string().nullable(),
    timeZone: z.string().openapi({ example: 'Asia/Taipei' }),
    openingHours: OpeningHoursSchema.nullable().openapi({ description: 'Null only when the stored hours cannot be read.' }),
    holidays: z.array(z.string()).openapi({ description: 'Local dates (YYYY-MM-DD) the branch is closed.' }),
    isDemo: z.boolean().openapi({ description: 'The demo branch a fresh installation starts with.' }),
    createdAt: timestamp('When the branch was added'),
    updatedAt: timestamp('When the branch last changed'),
  })
  .openapi('Branch');
export type ApiBranch = z.infer<typeof BranchSchema>;

export function toApiCustomer(c: Customer): ApiCustomer {
  return {
    id: c.id,
    displayName: c.display_name,
    phone: c.phone,
    locale: c.locale,
    category: c.category,
    notes: c.notes,
    consentAt: c.consent_at,
    optedOutAt: c.opted_out_at,
    createdAt: c.created_at,
    updatedAt: c.updated_at,
  };
}

export function toApiIdentity(i: ChannelIdentity): z.infer<typeof IdentitySchema> {
  return {
    id: i.id,
    channel: i.channel,
    externalId: i.external_id,
    displayName: i.display_name,
    reachable: i.reachable === 1,
    unreachableSince: i.unreachable_since,
    firstSeenAt: i.created_at,
    lastSeenAt: i.last_seen_at,
  };
}

export function toApiVehicle(v: Vehicle): ApiVehicle {
  return {
    id: v.id,
    customerId: v.customer_id,
    plate: v.plate,
    plateNormalized: v.plate_normalized,
    make: v.make,
    model: v.model,
    year: v.year,
    vin: v.vin,
    mileageKm: v.mileage_km,
    createdAt: v.created_at,
    updatedAt: v.updated_at,
  };
}

function openingHoursOf(json: string): z.infer<typeof OpeningHoursSchema> | null {
  const hours = readOpeningHours(json);
  if (!hours) return null;
  const copy = (day: keyof typeof hours) => hours[day].map(([from, to]): [string, string] => [from, to]);
  return { mon: copy('mon'), tue: copy('tue'), wed: copy('wed'), thu: copy('thu'), fri: copy('fri'), sat: copy('sat'), sun: copy('sun') };
}

export function toApiBranch(b: Branch): ApiBranch {
  return {
    id: b.id,
    name: b.name,
    address: b.address,
    phone: b.phone,
    mapUrl: b.map_url,
    timeZone: b.time_zone,
    openingHours: openingHoursOf(b.opening_hours),
    holidays: readHolidays(b.holidays),
    isDemo: b.is_demo === 1,
    createdAt: b.created_at,
    updatedAt: b.updated_at,
  };
}

/** A record id in a path; ids are UUIDs, but any other text is simply not found. */
export const IdParams = z.object({ id: z.string().min(1).max(100).openapi({ param: { name: 'id', in: 'path' }, example: '3f8e2a9c-5b7d-4e1f-9a2b-6c4d8e0f1a3b' }) });
