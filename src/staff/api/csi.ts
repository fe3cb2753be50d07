import { z } from '@hono/zod-openapi';
import type { Translator } from '../../i18n';
import type { FieldError } from '../result';
import { actionContext } from '../guard';
import { apiRoutes, jsonResponse, NOT_FOUND, type ApiApp, type ApiContext } from './route';
import { IdParams } from './schemas';

/*
 * CSI and loyalty reports for a dealer group's own dashboards: `getCsiReport` is a contract (its
 * operationId is kept exactly). Without parameters it reports the current month, in the dealer's time zone,
 * for every branch the token may see.
 */

const Rate = (description: string) => z.number().nullable().openapi({ description });
const Counts = (names: string[], description: string) => z.object(Object.fromEntries(names.map((n) => [n, z.number().int()]))).openapi({ description });

const FiguresShape = {
  surveysSent: z.number().int().openapi({ description: 'Surveys sent for visits collected in the period.' }),
  responses: z.number().int().openapi({ description: 'Surveys with at least one answer (a survey left half done counts).' }),
  completed: z.number().int().openapi({ description: 'Responses that went to the end.' }),
  responseRate: Rate('responses / surveysSent, 0–1; null when nothing was sent.'),
  csi: Rate('Mean CSI, 0–100, of the responses with an overall answer (formula in the README); null without any.'),
  loyaltyIndex: Rate('Mean loyalty index, 0–100 (satisfaction, repurchase and recommend; formula in the README).'),
  verySatisfiedPercent: Rate('Share of "very satisfied" among the overall answers, 0–100.'),
  satisfaction: Counts(['very_satisfied', 'fairly_satisfied', 'satisfied', 'dissatisfied', 'very_dissatisfied'], 'How many chose each overall satisfaction.'),
  repurchase: Counts(['above_70', 'between_30_70', 'below_30'], 'How likely to come back (service or buy here again): above 70 %, 30–70 %, below 30 %.'),
  recommend: Counts(['very_likely', 'possible', 'unlikely'], 'How likely to recommend us.'),
};
const FiguresSchema = z.object(FiguresShape).openapi('CsiFigures');

const CsiReportSchema = z
  .object({
    period: z.object({ from: z.string().openapi({ example: '2026-11-01' }), to: z.string().openapi({ example: '2026-11-30' }), timeZone: z.string().openapi({ example: 'Asia/Taipei' }) }),
    filters: z.object({ branchId: z.string().nullable(), advisorId: z.string().nullable(), serviceType: z.string().nullable() }),
    figures: FiguresSchema,
    byBranch: z.array(z.object({ branchId: z.string(), name: z.string(), ...FiguresShape })),
    byAdvisor: z.array(z.object({ advisorId: z.string().nullable().openapi({ description: 'Null: orders without an advisor.' }), name: z.string().nullable(), ...FiguresShape })),
    byServiceType: z.array(z.object({ serviceType: z.string().nullable().openapi({ description: "The booked service type's code; null for walk-in orders." }), ...FiguresShape })),
    trend: z.object({
      granularity: z.enum(['week', 'month']),
      points: z.array(
        z.object({
          period: z.string().openapi({ description: "'2026-11' for a month; the Monday a week starts on for a week." }),
          surveysSent: z.number().int(),
          responses: z.number().int(),
          csi: z.number().nullable(),
          verySatisfiedPercent: z.number().nullable(),
          loyaltyIndex: z.number().nullable(),
        }),
      ),
    }),
  })
  .openapi('CsiReport');

const ReportQuery = z.object({
  from: z.string().optional().openapi({ description: 'First local date of the period (YYYY-MM-DD), by the day the car was collected. Default: the first of the current month.', example: '2026-11-01' }),
  to: z.string().optional().openapi({ description: 'Last local date, inclusive. Default: the end of the month of `from`, or of the current month.', example: '2026-11-30' }),
  branchId: z.string().optional().openapi({ description: 'One branch (it must be one the token may see).' }),
  advisorId: z.string().optional().openapi({ description: 'One advisor (staff user id), or `none` for orders without one.' }),
  serviceType: z.string().optional().openapi({ description: 'A service type code, or `walk_in` for orders not booked.' }),
  granularity: z.enum(['week', 'month']).optional().openapi({ description: 'The trend buckets; default week for periods up to about two months, else month.' }),
});

function details(translator: Translator, errors: FieldError[]) {
  return errors.map((e) => {
    const key = `console-csi:errors.${e.code}`;
    return { field: e.field, message: translator.has('en', key) ? translator.t('en', key, e.params) : e.code, code: e.code };
  });
}

export function registerCsiRoutes(app: ApiApp, deps: ApiContext): void {
  const route = apiRoutes(app, deps, 'CSI');
  const { csi } = deps.services;

  route(
    'csi.read',
    {
      method: 'get',
      path: '/api/csi/report',
      operationId: 'getCsiReport',
      summary: 'CSI and loyalty report',
      description:
        'Responses, response rate, CSI, the share of "very satisfied", the loyalty index and the three loyalty distributions (satisfaction, repurchase, recommend), overall and by branch, advisor and service type, with a trend by week or month. Without parameters: the current month for every branch the token may see.',
      request: { query: ReportQuery },
      responses: { 200: jsonResponse(CsiReportSchema, 'The report.'), 404: NOT_FOUND },
    },
    async (c) => {
      const result = await csi.report(c.get('principal'), c.req.valid('query'));
      if (result.ok) return c.json(result.value, 200);
      if (result.reason === 'not_found') return c.json({ error: 'no such branch' }, 404);
      if (result.reason === 'invalid') return c.json({ error: 'invalid request', details: details(deps.translator, result.errors) }, 400);
      return c.json({ error: result.code }, 400);
    },
  );

  route(
    'csi.read',
    {
      method: 'post',
      path: '/api/csi/surveys/{id}/complaint',
      operationId: 'flagSurveyComment',
      summary: 'Open a complaint from a survey comment',
      description: 'For a comment that mentions a problem: a complaint a person follows up, with the comment as the customer’s words. Refused (409) when the survey has no comment or already has a complaint.',
      request: { params: IdParams },
      responses: {
        201: jsonResponse(z.object({ complaintId: z.string(), reference: z.string() }).openapi('SurveyComplaint'), 'The complaint opened.'),
        404: NOT_FOUND,
        409: jsonResponse(z.object({ error: z.string() }), 'noComment, alreadyComplaint or noBranch.'),
      },
    },
    async (c) => {
      const result = await csi.flagComment(actionContext(c, deps.clock), c.req.valid('param').id);
      if (result.ok) return c.json(result.value, 201);
      if (result.reason === 'not_found') return c.json({ error: 'no such survey' }, 404);
      return c.json({ error: result.reason === 'conflict' ? result.code : 'invalid' }, 409);
    },
  );

  route(
    'customers.write',
    {
      method: 'post',
      path: '/api/csi/referrals',
      operationId: 'recordReferral',
      summary: 'Record that a customer referred someone',
      description: 'Referrals count toward the key-influencer category (with repeated "very likely to recommend"); the customer’s category is recomputed at once. Customers outside the token’s branches are not found.',
      request: { body: { content: { 'application/json': { schema: z.object({ customerId: z.string().min(1).max(100), note: z.string().max(500).optional() }).openapi('ReferralInput') } }, required: true } },
      responses: { 201: jsonResponse(z.object({ id: z.string(), category: z.string().nullable() }).openapi('Referral'), 'The referral, and the category the records now point to.'), 404: NOT_FOUND },
    },
    async (c) => {
      const body = c.req.valid('json');
      const result = await csi.recordReferral(actionContext(c, deps.clock), body.customerId, body.note);
      if (result.ok) return c.json(result.value, 201);
      if (result.reason === 'not_found') return c.json({ error: 'no such customer' }, 404);
      if (result.reason === 'invalid') return c.json({ error: 'invalid request', details: details(deps.translator, result.errors) }, 400);
      return c.json({ error: result.code }, 400);
    },
  );
}
