import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { COMPLAINT_CATEGORIES, COMPLAINT_PRIORITIES, COMPLAINT_STATUSES } from '../../complaints/model';
import type { Translator } from '../../i18n';
import type { ComplaintCategory, ComplaintPriority, ComplaintStatus } from '../../store/schema';
import type { ComplaintDetail } from '../complaints/service';
import type { ComplaintSummary } from '../complaints/views';
import type { CustomerFailure, FieldError } from '../customers/result';
import { actionContext } from '../guard';
import { apiRoutes, ErrorSchema, jsonResponse, NOT_FOUND, type ApiApp, type ApiContext } from './route';
import { IdParams } from './schemas';

/*
 * Complaints for a CRM or a care team's own tools. The four operations below are a contract (their
 * operationIds are kept exactly); a `care` token may call them for its branches.
 */

const timestamp = (description: string) => z.string().openapi({ description: `${description} (ISO 8601, UTC).`, example: '2026-03-16T02:30:00.000Z' });
const SlaStateSchema = z.enum(['on_track', 'at_risk', 'breached', 'met', 'missed']).openapi({
  description: 'on_track; at_risk (a quarter of the time or less left, in business hours); breached (past due, not done); met (done in time); missed (done late).',
});
const DeadlineSchema = z.object({ dueAt: timestamp('When it is due, counted in the branch’s business hours'), doneAt: z.string().nullable(), state: SlaStateSchema }).openapi('ComplaintDeadline');
const StatusSchema = z.enum(COMPLAINT_STATUSES as [ComplaintStatus, ...ComplaintStatus[]]);
const CategorySchema = z.enum(COMPLAINT_CATEGORIES as [ComplaintCategory, ...ComplaintCategory[]]);

const ComplaintSummarySchema = z
  .object({
    id: z.string(),
    reference: z.string().openapi({ description: 'What the customer quotes.', example: 'CP-7K3QXM' }),
    status: StatusSchema,
    category: CategorySchema.nullable().openapi({ description: 'Null for a request to talk to a person, which names none.' }),
    priority: z.enum(COMPLAINT_PRIORITIES as [ComplaintPriority, ...ComplaintPriority[]]),
    source: z.enum(['chat', 'handoff', 'survey', 'staff']),
    channel: z.enum(['line', 'telegram', 'web']).nullable(),
    branch: z.object({ id: z.string(), name: z.string() }),
    customer: z.object({ id: z.string(), name: z.string().nullable() }),
    words: z.string().openapi({ description: 'The customer’s own words: their description, or the first thing they wrote to the person they asked for.' }),
    assignee: z.object({ id: z.string(), name: z.string() }).nullable(),
    createdAt: timestamp('When it was opened'),
    updatedAt: timestamp('When it last changed'),
    deadlines: z.object({ firstResponse: DeadlineSchema, resolution: DeadlineSchema }),
    sla: SlaStateSchema.openapi({ description: 'The worse of the two deadlines.' }),
  })
  .openapi('ComplaintSummary');

const TimelineEntrySchema = z
  .object({
    id: z.number().int(),
    kind: z.string().openapi({ description: 'opened, customer_message, customer_photo, staff_message, staff_photo, note, assigned, escalated, handoff_started, handoff_ended, resolved, confirmed, reopened, rated, closed.' }),
    at: timestamp('When'),
    actor: z.object({ type: z.enum(['customer', 'staff', 'api_token', 'system']), id: z.string().nullable(), name: z.string().nullable() }),
    channel: z.enum(['line', 'telegram', 'web']).nullable(),
    text: z.string().nullable(),
    photoUrl: z.string().nullable().openapi({ description: 'A signed link to the photo (relative to this service), for photo entries.' }),
    details: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('ComplaintTimelineEntry');

const ComplaintDetailSchema = ComplaintSummarySchema.extend({
  description: z.string(),
  resolution: z.string().nullable(),
  rating: z.number().int().min(1).max(5).nullable(),
  customerConfirmed: z.enum(['yes', 'no']).nullable(),
  contactMethod: z.enum(['chat', 'phone']),
  reopenedCount: z.number().int(),
  version: z.number().int(),
  visit: z.object({ kind: z.enum(['repairOrder', 'appointment']), id: z.string(), reference: z.string() }).nullable(),
  customer: z.object({ id: z.string(), name: z.string().nullable(), phone: z.string().nullable(), channels: z.array(z.object({ channel: z.string(), reachable: z.boolean() })) }),
  conversation: z.object({ heldByStaff: z.boolean(), aboutThisTicket: z.boolean(), answeredBy: z.string().nullable().openapi({ description: 'Who the customer was told is answering: a staff id, or `token:<id>` for an integration.' }) }),
  timeline: z.array(TimelineEntrySchema),
}).openapi('Complaint');

const ListQuery = z.object({
  branchId: z.string().max(100).optional().openapi({ description: 'One branch; by default every branch the token may see.' }),
  status: z.enum(['open', ...COMPLAINT_STATUSES] as ['open', ...ComplaintStatus[]]).optional().openapi({ description: '`open` for every status someone still owes an answer in.' }),
  slaAtRisk: z.enum(['true', 'false']).optional().openapi({ description: '`true`: only tickets whose deadline is at risk or already missed.' }),
  assignee: z.string().max(100).optional().openapi({ description: 'A staff id, or `none` for tickets nobody holds.' }),
  category: CategorySchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const TextBody = z.object({ text: z.string().openapi({ description: 'At most 2,000 characters, sent as typed.', example: 'We have refunded the second charge.' }) }).openapi('ComplaintReply');
const ResolutionBody = z.object({ resolution: z.string().openapi({ description: 'How it was resolved, in words the customer reads (at most 2,000 characters).', example: 'Second charge refunded to the card.' }) }).openapi('ComplaintResolution');
const QueuedSchema = z.object({ status: z.literal('queued'), channel: z.enum(['line', 'telegram', 'web']) }).openapi('ComplaintReplyQueued');
const ResolvedSchema = z.object({ status: z.literal('resolved'), askedCustomer: z.boolean().openapi({ description: 'False when no channel could reach the customer to ask.' }) }).openapi('ComplaintResolved');
const CONFLICT = jsonResponse(ErrorSchema, 'The ticket is not open, or changed at the same moment; read it again.');

function problemText(translator: Translator, e: FieldError): string {
  for (const key of [`console-complaints:errors.${e.code}`, `console-customers:errors.${e.code}`]) if (translator.has('en', key)) return translator.t('en', key, e.params);
  return e.code;
}

function conflictText(translator: Translator, code: string): string {
  for (const key of [`console-complaints:conflict.${code}`, `console-customers:conflict.${code}`]) if (translator.has('en', key)) return translator.t('en', key);
  return code;
}

/** A refused complaint operation as the API answers it. */
function refused(c: Context, translator: Translator, failure: CustomerFailure) {
  switch (failure.reason) {
    case 'invalid':
      return c.json({ error: 'invalid request', details: failure.errors.map((e) => ({ field: e.field, message: problemText(translator, e), code: e.code })) }, 400);
    case 'conflict':
      return c.json({ error: conflictText(translator, failure.code), code: failure.code }, 409);
    case 'erased':
      return c.json({ error: "this customer's data was erased on request", erased: true }, 404);
    default:
      return c.json({ error: 'no such complaint' }, 404);
  }
}

const summary = (s: ComplaintSummary) => s;
const detail = (d: ComplaintDetail) => d;

export function registerComplaintRoutes(app: ApiApp, deps: ApiContext): void {
  const route = apiRoutes(app, deps, 'Complaints');
  const { translator } = deps;
  const { complaints } = deps.services;

  route(
    'complaints.read',
    {
      method: 'get',
      path: '/api/complaints',
      operationId: 'listComplaints',
      summary: 'List complaints',
      description: 'Newest first, from the branches the token may see. Each carries its reference, status, category, the customer’s words and where its deadlines stand.',
      request: { query: ListQuery },
      responses: { 200: jsonResponse(z.object({ items: z.array(ComplaintSummarySchema) }).openapi('ComplaintList'), 'The complaints.'), 404: NOT_FOUND },
    },
    async (c) => {
      const q = c.req.valid('query');
      const items = await complaints.list(c.get('principal'), { branchId: q.branchId, status: q.status, slaAtRisk: q.slaAtRisk === 'true', assignee: q.assignee, category: q.category, limit: q.limit });
      if (!items) return c.json({ error: 'no such branch' }, 404);
      return c.json({ items: items.map(summary) }, 200);
    },
  );

  route(
    'complaints.read',
    {
      method: 'get',
      path: '/api/complaints/{id}',
      operationId: 'getComplaint',
      summary: 'Read one complaint with its whole timeline',
      description: 'Customer and staff messages and photos, notes, assignments, escalations and status changes, oldest first.',
      request: { params: IdParams },
      responses: { 200: jsonResponse(ComplaintDetailSchema, 'The complaint.'), 404: NOT_FOUND },
    },
    async (c) => {
      const found = await complaints.get(c.get('principal'), c.req.valid('param').id);
      return found ? c.json(detail(found), 200) : c.json({ error: 'no such complaint' }, 404);
    },
  );

  route(
    'complaints.write',
    {
      method: 'post',
      path: '/api/complaints/{id}/replies',
      operationId: 'replyToComplaint',
      summary: 'Answer the customer',
      description: 'Sent through the customer’s own channel (the one they used last). The conversation is then in handoff: the bot stays quiet until the conversation is handed back or falls silent. The first answer is the ticket’s first response.',
      request: { params: IdParams, body: { content: { 'application/json': { schema: TextBody } }, required: true } },
      responses: { 202: jsonResponse(QueuedSchema, 'Queued; it is sent within the channel’s limits.'), 404: NOT_FOUND, 409: CONFLICT },
    },
    async (c) => {
      const sent = await complaints.reply(actionContext(c, deps.clock), c.req.valid('param').id, c.req.valid('json').text);
      if (!sent.ok) return refused(c, translator, sent) as never;
      deps.onOutbox?.();
      return c.json({ status: 'queued' as const, channel: sent.value.channel }, 202);
    },
  );

  route(
    'complaints.write',
    {
      method: 'post',
      path: '/api/complaints/{id}/resolution',
      operationId: 'resolveComplaint',
      summary: 'Record the resolution and ask the customer',
      description: 'The ticket is resolved; the customer is asked in their chat whether it is resolved (yes / not yet, which reopens it) and then to rate the handling from 1 to 5.',
      request: { params: IdParams, body: { content: { 'application/json': { schema: ResolutionBody } }, required: true } },
      responses: { 200: jsonResponse(ResolvedSchema, 'Resolved; the customer is being asked.'), 404: NOT_FOUND, 409: CONFLICT },
    },
    async (c) => {
      const resolved = await complaints.resolve(actionContext(c, deps.clock), c.req.valid('param').id, c.req.valid('json').resolution);
      if (!resolved.ok) return refused(c, translator, resolved) as never;
      deps.onOutbox?.();
      return c.json({ status: 'resolved' as const, askedCustomer: resolved.value.asked }, 200);
    },
  );

  route(
    'complaints.write',
    {
      method: 'post',
      path: '/api/complaints/{id}/notes',
      operationId: 'addComplaintNote',
      summary: 'Add an internal note',
      description: 'For staff only; never sent to the customer.',
      request: { params: IdParams, body: { content: { 'application/json': { schema: TextBody } }, required: true } },
      responses: { 201: jsonResponse(z.object({ status: z.literal('noted') }), 'Noted.'), 404: NOT_FOUND, 409: CONFLICT },
    },
    async (c) => {
      const noted = await complaints.note(actionContext(c, deps.clock), c.req.valid('param').id, c.req.valid('json').text);
      if (!noted.ok) return refused(c, translator, noted) as never;
      return c.json({ status: 'noted' as const }, 201);
    },
  );
}
