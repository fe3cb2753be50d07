import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Appointment } from '../../booking/appointments';
import type { BookRefusal, ChangeRefusal } from '../../booking/booking';
import type { Slot } from '../../domain/availability';
import { isLocalDate } from '../../domain/local-time';
import type { RepairOrder } from '../../repair-orders/repair-orders';
import type { AppointmentStatus, BookingChannel } from '../../store/schema';
import { MAX_LIST_DAYS, type AppointmentView, type AssignResult, type StaffRequest } from '../appointments';
import { actionContext, type StaffEnv } from '../guard';
import { apiRoutes, failureResponse, invalidField, jsonResponse, NOT_FOUND, type ApiApp, type ApiContext } from './route';
import { IdParams } from './schemas';

/*
 * Appointments for a DMS: free times, a branch's appointments, booking for an existing customer, and the
 * workshop's check-in (which opens the repair order), no-show, cancel and reschedule. A token sees only
 * its branches; an appointment or branch outside them is not found. Tokens book as staff: the minimum
 * notice does not apply, and changes are recorded with the channel 'dms'.
 */

const STATUSES = ['booked', 'checked_in', 'no_show', 'cancelled', 'completed'] as const satisfies readonly AppointmentStatus[];
const MAX_NOTE_CHARS = 500;

const localDate = (description: string) =>
  z
    .string()
    .refine(isLocalDate, 'expected a date YYYY-MM-DD')
    .openapi({ description, example: '2026-03-16' });
const instant = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s).toISOString())
  .openapi({ description: 'A start the availability offered (ISO 8601 with Z or an offset).', example: '2026-03-16T02:00:00.000Z' });
const versionField = z
  .number()
  .int()
  .min(1)
  .optional()
  .openapi({ description: 'The `version` the change was decided on; a different current version refuses it (409, reason `changed`) instead of applying it to what someone else just changed.' });

const SlotSchema = z
  .object({
    startsAt: z.string().openapi({ description: 'UTC ISO 8601.', example: '2026-03-16T02:00:00.000Z' }),
    endsAt: z.string(),
    localDate: z.string().openapi({ description: 'The branch’s local date.', example: '2026-03-16' }),
    localTime: z.string().openapi({ description: 'The branch’s local wall time, HH:mm.', example: '10:00' }),
  })
  .openapi('Slot');

const AvailabilitySchema = z
  .object({
    branchId: z.string(),
    serviceType: z.string(),
    date: z.string(),
    closed: z.enum(['past', 'beyond_horizon', 'holiday', 'closed']).nullable().openapi({ description: 'Why nothing can be booked that day, or null when the branch is open.' }),
    slots: z.array(SlotSchema).openapi({ description: 'Starts that can really be booked now, earliest first.' }),
    placesLeft: z.number().int().openapi({ description: 'Places left under the branch’s daily cap.' }),
    loanersLeft: z.number().int().openapi({ description: 'Loaner cars left that day.' }),
  })
  .openapi('Availability');

export const RepairOrderSchema = z
  .object({
    id: z.string(),
    number: z.string().openapi({ example: 'RO-000123' }),
    appointmentId: z.string().nullable(),
    branchId: z.string(),
    customerId: z.string(),
    vehicleId: z.string().nullable(),
    advisorId: z.string().nullable(),
    status: z.string().openapi({ example: 'checked_in' }),
    mileageIn: z.number().int().nullable().openapi({ description: 'Odometer at check-in, km.' }),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('RepairOrder');

const AppointmentSchema = z
  .object({
    id: z.string(),
    reference: z.string().openapi({ description: 'What the customer quotes.', example: 'BK-7K3QXM' }),
    branchId: z.string(),
    customerId: z.string(),
    vehicleId: z.string().nullable(),
    serviceType: z.string().openapi({ example: 'periodic_maintenance' }),
    serviceTypeNames: z.record(z.string(), z.string()).openapi({ description: 'The service type’s name per language.' }),
    startsAt: z.string().openapi({ description: 'UTC ISO 8601.' }),
    endsAt: z.string(),
    timeZone: z.string().openapi({ example: 'Asia/Taipei' }),
    localDate: z.string(),
    localStart: z.string(),
    localEnd: z.string(),
    bayId: z.string(),
    bayName: z.string(),
    advisorId: z.string().nullable(),
    status: z.enum(STATUSES),
    note: z.string().nullable(),
    loaner: z.boolean().openapi({ description: 'A loaner car was asked for.' }),
    channel: z.string().openapi({ description: 'Where it was booked: line, telegram, web, phone, walk_in, console or dms.' }),
    createdBy: z.enum(['customer', 'staff']),
    version: z.number().int().openapi({ description: 'Pass back as `version` when changing it.' }),
    createdAt: z.string(),
    updatedAt: z.string(),
    cancelledAt: z.string().nullable(),
    checkedInAt: z.string().nullable(),
    customerConfirmedAt: z.string().nullable().openapi({ description: 'When the customer pressed “I’ll be there” on a reminder.' }),
    repairOrder: z.object({ id: z.string(), number: z.string() }).nullable().openapi({ description: 'The repair order opened at check-in.' }),
  })
  .openapi('Appointment');
type ApiAppointment = z.infer<typeof AppointmentSchema>;

const RefusalSchema = z
  .object({
    error: z.string(),
    reason: z.string().openapi({
      description:
        'slot_taken, too_soon, no_loaner, outside_hours, closed, holiday, past, beyond_horizon (the start cannot be booked: see `alternatives`); changed (someone changed it first); not_changeable (see `status`); too_early (a no-show before the start, a check-in before the day).',
      example: 'slot_taken',
    }),
    status: z.enum(STATUSES).optional(),
    alternatives: z.array(SlotSchema).optional().openapi({ description: 'The nearest free starts: that day first, then the following days.' }),
  })
  .openapi('BookingRefusal');

const REFUSED = jsonResponse(RefusalSchema, 'Not done: `reason` says why; a start that cannot be booked comes with `alternatives`.');

const BranchParams = z.object({ id: IdParams.shape.id.openapi({ param: { name: 'id', in: 'path' }, description: 'The branch’s id.' }) });

const AvailabilityQuery = z.object({
  serviceType: z.string().min(1).max(40).openapi({ description: 'A service type code of the branch.', example: 'periodic_maintenance' }),
  date: localDate('The branch’s local date.'),
  loaner: z.enum(['true', 'false']).optional().openapi({ description: 'Only starts on days with a loaner car left.' }),
});

const ListQuery = z.object({
  branchId: z.string().min(1).max(100),
  from: localDate('First local date (default: today at the branch).').optional(),
  to: localDate(`Last local date, inclusive (default: \`from\`); at most ${MAX_LIST_DAYS} days after \`from\`.`).optional(),
  status: z
    .string()
    .max(100)
    .refine((s) => s.split(',').every((x) => (STATUSES as readonly string[]).includes(x.trim())), `expected one or more of ${STATUSES.join(', ')}, separated by commas`)
    .optional()
    .openapi({ example: 'booked,checked_in' }),
  advisorId: z.string().min(1).max(100).optional(),
});

const BookSchema = z
  .object({
    branchId: z.string().min(1).max(100),
    customerId: z.string().min(1).max(100),
    vehicleId: z.string().min(1).max(100).nullable().optional().openapi({ description: 'One of the customer’s vehicles.' }),
    serviceType: z.string().min(1).max(40).openapi({ example: 'periodic_maintenance' }),
    startsAt: instant,
    loaner: z.boolean().optional().openapi({ description: 'Ask for a loaner car (default false).' }),
    note: z.string().trim().max(MAX_NOTE_CHARS).nullable().optional(),
    advisorId: z.string().min(1).max(100).nullable().optional().openapi({ description: 'A service advisor of the branch.' }),
  })
  .openapi('AppointmentCreate');

const CheckInSchema = z.object({ mileageIn: z.number().int().min(0).max(10_000_000).nullable().optional().openapi({ description: 'Odometer at check-in, km.' }), version: versionField }).openapi('AppointmentCheckIn');
const VersionSchema = z.object({ version: versionField }).openapi('AppointmentChange');
const CancelSchema = z.object({ reason: z.string().trim().max(MAX_NOTE_CHARS).nullable().optional(), version: versionField }).openapi('AppointmentCancel');
const RescheduleSchema = z.object({ startsAt: instant, loaner: z.boolean().optional().openapi({ description: 'Change the loaner request (default: as booked).' }), version: versionField }).openapi('AppointmentReschedule');

const AppointmentListSchema = z.object({ items: z.array(AppointmentSchema) }).openapi('AppointmentList');
const CheckedInSchema = z.object({ appointment: AppointmentSchema, repairOrder: RepairOrderSchema }).openapi('CheckedIn');

function toApiSlot(s: Slot): z.infer<typeof SlotSchema> {
  return { startsAt: s.startsAt, endsAt: s.endsAt, localDate: s.localDate, localTime: s.localTime };
}

function toApiAppointment({ appointment: a, extras }: AppointmentView): ApiAppointment {
  return {
    id: a.id,
    reference: a.reference,
    branchId: a.branchId,
    customerId: a.customerId,
    vehicleId: a.vehicleId,
    serviceType: a.serviceTypeCode,
    serviceTypeNames: a.serviceTypeNames,
    startsAt: a.startsAt,
    endsAt: a.endsAt,
    timeZone: a.timeZone,
    localDate: a.localDate,
    localStart: a.localStart,
    localEnd: a.localEnd,
    bayId: a.bayId,
    bayName: a.bayName,
    advisorId: a.advisorId,
    status: a.status,
    note: a.note,
    loaner: a.loanerRequested,
    channel: a.channel,
    createdBy: a.createdBy,
    version: a.version,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
    cancelledAt: a.cancelledAt,
    checkedInAt: a.checkedInAt,
    customerConfirmedAt: extras?.customerConfirmedAt ?? null,
    repairOrder: extras?.repairOrderId && extras.repairOrderNumber ? { id: extras.repairOrderId, number: extras.repairOrderNumber } : null,
  };
}

function toApiRepairOrder(ro: RepairOrder): z.infer<typeof RepairOrderSchema> {
  return { ...ro };
}

const REFUSAL_TEXT: Record<string, string> = {
  slot_taken: 'That start is no longer free; `alternatives` are the nearest free starts.',
  too_soon: 'That start has already passed or is too close.',
  no_loaner: 'No loaner car is left that day.',
  outside_hours: 'That is not a start the branch offers (outside its hours, or between slots).',
  closed: 'The branch is closed that day.',
  holiday: 'The branch is closed that day (holiday).',
  past: 'That day has passed.',
  beyond_horizon: 'That day is beyond how far ahead the branch takes bookings.',
  changed: 'The appointment changed since that version was read; read it again.',
  past_cutoff: 'It is too late to change this appointment.',
};

type Refusal = BookRefusal | ChangeRefusal | Extract<AssignResult, { ok: false }>;

/** A refused operation as the API answers it. */
function refusalBody(refusal: Refusal, action: string): { status: 404 | 409 | 400; body: z.infer<typeof RefusalSchema> } {
  switch (refusal.reason) {
    case 'not_found':
      return { status: 404, body: { error: 'no such appointment', reason: 'not_found' } };
    case 'unknown_service_type':
      return { status: 409, body: { error: 'the appointment’s service type is no longer offered at its branch', reason: refusal.reason } };
    case 'unknown_advisor':
      return { status: 409, body: { error: 'not a service advisor of this branch', reason: refusal.reason } };
    case 'not_changeable':
      return { status: 409, body: { error: `the appointment is ${refusal.status}; only a booked appointment can be ${action}`, reason: refusal.reason, status: refusal.status } };
    case 'too_early':
      return {
        status: 409,
        body: { error: action === 'checked in' ? 'the appointment is on a later day; check-in opens on its day' : 'the appointment has not started yet; a no-show can be marked once its start has passed', reason: 'too_early' },
      };
    default:
      return { status: 409, body: { error: REFUSAL_TEXT[refusal.reason] ?? refusal.reason, reason: refusal.reason, ...('alternatives' in refusal ? { alternatives: refusal.alternatives.map(toApiSlot) } : {}) } };
  }
}

/** Appointments for integrations; see the module comment. */
export function registerAppointmentRoutes(app: ApiApp, deps: ApiContext): void {
  const route = apiRoutes(app, deps, 'Appointments');
  const { clock, translator } = deps;
  const { appointments } = deps.services;
  const request = (c: Context<StaffEnv>): StaffRequest => {
    const { actor, ip } = actionContext(c, clock);
    return { actor, ip, channel: 'dms' satisfies BookingChannel };
  };
  const noSuchAppointment = { error: 'no such appointment' };
  const noSuchBranch = { error: 'no such branch' };
  const unknownServiceType = (code: string) => invalidField('serviceType', `No active service type “${code}” at this branch.`);

  route(
    'appointments.read',
    {
      method: 'get',
      path: '/api/branches/{id}/availability',
      summary: 'Free starts on one day for a service type',
      description: 'As staff see them: the minimum notice customers must give does not apply to bookings made through the API.',
      request: { params: BranchParams, query: AvailabilityQuery },
      responses: { 200: jsonResponse(AvailabilitySchema, 'The day’s free starts.'), 404: NOT_FOUND },
    },
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      const result = await appointments.availability(c.get('principal'), id, { serviceTypeCode: q.serviceType, date: q.date, loaner: q.loaner === 'true' });
      if (!result.ok) return result.reason === 'not_found' ? c.json(noSuchBranch, 404) : c.json(unknownServiceType(q.serviceType), 400);
      const day = result.day;
      return c.json({ branchId: id, serviceType: q.serviceType, date: day.date, closed: day.closed, slots: day.slots.map(toApiSlot), placesLeft: day.placesLeft, loanersLeft: day.loanersLeft }, 200);
    },
  );

  route(
    'appointments.read',
    {
      method: 'get',
      path: '/api/appointments',
      summary: 'A branch’s appointments over a range of days',
      description: `By start time. \`from\`..\`to\` are the branch’s local dates, at most ${MAX_LIST_DAYS} days apart.`,
      request: { query: ListQuery },
      responses: { 200: jsonResponse(AppointmentListSchema, 'The appointments.'), 404: NOT_FOUND },
    },
    async (c) => {
      const q = c.req.valid('query');
      const statuses = q.status ? (q.status.split(',').map((s) => s.trim()) as AppointmentStatus[]) : undefined;
      const listed = await appointments.listForBranch(c.get('principal'), q.branchId, { from: q.from, to: q.to, advisorId: q.advisorId ?? null, statuses });
      if (listed.ok) return c.json({ items: listed.value.map(toApiAppointment) }, 200);
      if (listed.reason === 'not_found') return c.json(noSuchBranch, 404);
      const range = listed.errors[0]?.params ?? {};
      return c.json(invalidField('to', `\`to\` must be from \`from\` to ${range['days']} days after it (${range['latest']}).`), 400);
    },
  );

  route(
    'appointments.read',
    { method: 'get', path: '/api/appointments/{id}', summary: 'Read one appointment', request: { params: IdParams }, responses: { 200: jsonResponse(AppointmentSchema, 'The appointment.'), 404: NOT_FOUND } },
    async (c) => {
      const view = await appointments.view(c.get('principal'), c.req.valid('param').id);
      return view ? c.json(toApiAppointment(view), 200) : c.json(noSuchAppointment, 404);
    },
  );

  route(
    'appointments.write',
    {
      method: 'post',
      path: '/api/appointments',
      summary: 'Book for an existing customer',
      description:
      'Books a start the availability offered. When it was taken meanwhile (or cannot be booked for another reason), the answer is 409 with the nearest free starts in `alternatives`. The minimum notice does not apply; the booking is recorded with the channel `dms`.',
      request: { body: { required: true, content: { 'application/json': { schema: BookSchema } } } },
      responses: { 201: jsonResponse(AppointmentSchema, 'The booking; `Location` is its address.'), 404: NOT_FOUND, 409: REFUSED },
    },
    async (c) => {
      const body = c.req.valid('json');
      const result = await appointments.bookFor(request(c), {
        branchId: body.branchId,
        customerId: body.customerId,
        vehicle: body.vehicleId ? { id: body.vehicleId } : null,
        serviceTypeCode: body.serviceType,
        startsAt: body.startsAt,
        loaner: body.loaner ?? false,
        note: body.note || null,
        advisorId: body.advisorId ?? null,
      });
      if (result.ok) {
        c.header('Location', `/api/appointments/${result.appointment.id}`);
        return c.json(toApiAppointment(await appointments.withExtras(result.appointment)), 201);
      }
      switch (result.reason) {
        case 'no_branch':
          return c.json(noSuchBranch, 404);
        case 'customer':
          return failureResponse(c, translator, result.failure);
        case 'unknown_advisor':
          return c.json(invalidField('advisorId', 'Not a service advisor of this branch.'), 400);
        case 'unknown_service_type':
          return c.json(unknownServiceType(body.serviceType), 400);
        // The core says not_found for a vehicle that is not this customer's (the branch and customer were found).
        case 'not_found':
          return c.json(invalidField('vehicleId', 'Not a vehicle of this customer.'), 400);
        case 'bad_start':
        case 'vehicle':
          // Neither happens here: the start was validated above and no new car is added through the API.
          throw new Error(`unexpected booking refusal ${result.reason}`);
        default:
          return c.json(refusalBody(result, 'booked').body, 409);
      }
    },
  );

  /** The four changes share their shape: find the visible appointment, change it, answer it or the refusal. */
  function changeRoute<S extends z.ZodType>(
    action: 'check-in' | 'no-show' | 'cancel' | 'reschedule',
    schema: S,
    summary: string,
    description: string,
    run: (req: StaffRequest, id: string, body: z.infer<S>) => Promise<{ ok: true; appointment: Appointment; repairOrder?: RepairOrder } | Refusal>,
  ) {
    const done = action === 'check-in' ? 'checked in' : action === 'no-show' ? 'marked as a no-show' : action === 'cancel' ? 'cancelled' : 'rescheduled';
    route(
      'appointments.write',
      {
        method: 'post',
        path: `/api/appointments/{id}/${action}`,
        summary,
        description,
        request: { params: IdParams, body: { required: action === 'reschedule', content: { 'application/json': { schema } } } },
        responses: {
          200: action === 'check-in' ? jsonResponse(CheckedInSchema, 'The appointment, checked in, and its new repair order.') : jsonResponse(AppointmentSchema, 'The appointment as it is now.'),
          404: NOT_FOUND,
          409: REFUSED,
        },
      },
      async (c) => {
        // Typed through the generic config above, which OpenAPIHono cannot follow; the schemas validated both.
        const id = (c.req.valid('param' as never) as { id: string }).id;
        if (!(await appointments.find(c.get('principal'), id))) return c.json(noSuchAppointment, 404);
        const result = await run(request(c), id, c.req.valid('json' as never) as z.infer<S>);
        if (!result.ok) {
          const r = refusalBody(result, done);
          return r.status === 404 ? c.json(r.body, 404) : c.json(r.body, 409);
        }
        const appointment = toApiAppointment(await appointments.withExtras(result.appointment));
        return action === 'check-in' && result.repairOrder ? c.json({ appointment, repairOrder: toApiRepairOrder(result.repairOrder) }, 200) : c.json(appointment, 200);
      },
    );
  }

  changeRoute(
    'check-in',
    CheckInSchema,
    'Check the customer in and open the repair order',
    'From the appointment’s day on. The answer carries the repair order (its `number` is what the workshop quotes). A second check-in is refused (409, `not_changeable`).',
    (req, id, body) => appointments.checkIn(req, { appointmentId: id, expectedVersion: body.version, mileageIn: body.mileageIn ?? null }),
  );
  changeRoute('no-show', VersionSchema, 'Mark a no-show', 'Only once the start has passed (409, `too_early`, before it). Frees the capacity for walk-ins.', (req, id, body) =>
    appointments.noShow(req, { appointmentId: id, expectedVersion: body.version }),
  );
  changeRoute('cancel', CancelSchema, 'Cancel a booking', 'Staff may cancel at any time, also after the customers’ change cutoff.', (req, id, body) =>
    appointments.cancel(req, { appointmentId: id, expectedVersion: body.version, reason: body.reason || null }),
  );
  changeRoute(
    'reschedule',
    RescheduleSchema,
    'Move a booking to another start',
    'Keeps the reference. A start that cannot be booked is refused with the nearest free starts in `alternatives`.',
    (req, id, body) => appointments.reschedule(req, { appointmentId: id, expectedVersion: body.version, startsAt: body.startsAt, loaner: body.loaner }),
  );
}
