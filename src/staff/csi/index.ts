import type { Kysely } from 'kysely';
import { z } from 'zod';
import { openComplaint } from '../../complaints/open';
import { csiOf, isAspectCode, loyaltyOf, type AspectCode, type SurveyAnswers } from '../../domain/csi';
import { addDays, daysBetween, isLocalDate, localDateOf, zonedInstant } from '../../domain/local-time';
import type { Clock } from '../../ops/clock';
import { recomputeCategory } from '../../survey/categories';
import { loadSurveySettings, saveSurveySettings, surveySettingsSchema, type SurveySettings } from '../../survey/settings';
import { newId } from '../../ids';
import type { Database } from '../../store/schema';
import type { Store } from '../../store/store';
import { recordAudit } from '../audit';
import { canSeeBranch, type Principal } from '../permissions';
import { conflict, invalid, notFound, ok, type ActionContext, type FieldError, type Result } from '../result';
import { bucketOf, bucketsBetween, figuresOf, monthOf, type FigureRow, type Figures, type Granularity } from './figures';

/*
 * CSI reports for managers, in the console and the API alike: the figures for a period (by default the
 * current month, in the dealer's time zone, by the day each car was collected) over the branches the
 * principal may see, narrowed by branch, advisor and service type; the same broken down by branch, advisor
 * and service type; a trend by week or month; the comments; one CSV row per survey. Also the dealer's
 * survey settings, and turning a comment into a complaint a person follows up.
 */

export type { Figures } from './figures';

export interface CsiFilters {
  from: string;
  to: string;
  branchId: string | null;
  advisorId: string | null;
  serviceType: string | null;
  granularity: Granularity;
}

export interface CsiReport {
  period: { from: string; to: string; timeZone: string };
  filters: { branchId: string | null; advisorId: string | null; serviceType: string | null };
  figures: Figures;
  byBranch: (Figures & { branchId: string; name: string })[];
  byAdvisor: (Figures & { advisorId: string | null; name: string | null })[];
  byServiceType: (Figures & { serviceType: string | null })[];
  trend: { granularity: Granularity; points: { period: string; surveysSent: number; responses: number; csi: number | null; verySatisfiedPercent: number | null; loyaltyIndex: number | null }[] };
}

export interface SurveyListRow {
  id: string;
  collectedAt: string;
  branchId: string;
  branchName: string;
  advisorId: string | null;
  advisorName: string | null;
  serviceType: string | null;
  repairOrderNumber: string;
  customerId: string;
  customerName: string | null;
  status: string;
  sentAt: string | null;
  expired: boolean;
  satisfaction: number | null;
  repurchase: number | null;
  recommend: number | null;
  aspects: Partial<Record<AspectCode, number>>;
  comment: string | null;
  csi: number | null;
  loyaltyIndex: number | null;
  complaintId: string | null;
  complaintReference: string | null;
  commentFlaggedAt: string | null;
}

/** At most this many days in one report (three years of monthly trend). */
const MAX_PERIOD_DAYS = 1100;
const MAX_COMMENTS = 200;

const filterSchema = z.object({
  from: z.string().refine(isLocalDate, 'dateInvalid').optional(),
  to: z.string().refine(isLocalDate, 'dateInvalid').optional(),
  branchId: z.string().min(1).max(100).optional(),
  advisorId: z.string().min(1).max(100).optional(),
  serviceType: z.string().min(1).max(100).optional(),
  granularity: z.enum(['week', 'month'], { error: 'granularityInvalid' }).optional(),
});

export interface CsiServiceDeps {
  store: Store;
  clock: Clock;
  /** The dealer's zone: periods are local dates there. */
  timeZone: string;
}

type Row = Awaited<ReturnType<typeof loadRows>>[number];

async function loadRows(db: Kysely<Database>, branchIds: string[] | 'all', f: CsiFilters, timeZone: string) {
  const start = new Date(zonedInstant(f.from, 0, timeZone)).toISOString();
  const end = new Date(zonedInstant(addDays(f.to, 1), 0, timeZone)).toISOString();
  let q = db
    .selectFrom('surveys as s')
    .innerJoin('branches as b', 'b.id', 's.branch_id')
    .innerJoin('repair_orders as o', 'o.id', 's.repair_order_id')
    .innerJoin('customers as c', 'c.id', 's.customer_id')
    .leftJoin('staff_users as u', 'u.id', 's.advisor_id')
    .leftJoin('complaints as k', 'k.id', 's.complaint_id')
    .select([
      's.id',
      's.collected_at',
      's.branch_id',
      'b.name as branch_name',
      's.advisor_id',
      'u.name as advisor_name',
      's.service_type',
      'o.number',
      'o.dms_number',
      's.customer_id',
      'c.display_name',
      's.status',
      's.sent_at',
      's.expires_at',
      's.satisfaction',
      's.repurchase',
      's.recommend',
      's.aspects',
      's.comment',
      's.completed_at',
      's.complaint_id',
      'k.reference as complaint_reference',
      's.comment_flagged_at',
    ])
    .where('s.collected_at', '>=', start)
    .where('s.collected_at', '<', end);
  if (branchIds !== 'all') q = branchIds.length === 0 ? q.where('s.branch_id', '=', '') : q.where('s.branch_id', 'in', branchIds);
  if (f.branchId) q = q.where('s.branch_id', '=', f.branchId);
  if (f.advisorId) q = f.advisorId === 'none' ? q.where('s.advisor_id', 'is', null) : q.where('s.advisor_id', '=', f.advisorId);
  if (f.serviceType) q = f.serviceType === 'walk_in' ? q.where('s.service_type', 'is', null) : q.where('s.service_type', '=', f.serviceType);
  return q.orderBy('s.collected_at', 'desc').orderBy('s.id').execute();
}

function answersOf(r: Pick<Row, 'satisfaction' | 'repurchase' | 'recommend' | 'aspects'>): SurveyAnswers {
  const raw = JSON.parse(r.aspects) as Record<string, unknown>;
  const aspects = Object.fromEntries(Object.entries(raw).filter(([k, v]) => isAspectCode(k) && typeof v === 'number')) as Partial<Record<AspectCode, number>>;
  return { satisfaction: r.satisfaction, repurchase: r.repurchase, recommend: r.recommend, aspects };
}

const figureRow = (r: Row): FigureRow => ({ sent: r.sent_at !== null, answers: answersOf(r), comment: r.comment, completed: r.completed_at !== null });

function groupBy<K>(rows: readonly Row[], key: (r: Row) => K): Map<K, Row[]> {
  const out = new Map<K, Row[]>();
  for (const r of rows) {
    const k = key(r);
    const list = out.get(k);
    if (list) list.push(r);
    else out.set(k, [r]);
  }
  return out;
}

export function createCsiService(deps: CsiServiceDeps) {
  const { store, clock, timeZone } = deps;
  const db = store.db;

  /** Reads and checks the filters; the period defaults to the current month. */
  function parseFilters(principal: Principal, raw: Record<string, unknown>): Result<CsiFilters> {
    const cleaned = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== null && v !== ''));
    const parsed = filterSchema.safeParse(cleaned);
    if (!parsed.success) return invalid(parsed.error.issues.map((i): FieldError => ({ field: String(i.path[0] ?? 'filters'), code: i.message.match(/^[a-zA-Z]+$/) ? i.message : 'filterInvalid' })));
    const month = monthOf(localDateOf(clock.now(), timeZone));
    const from = parsed.data.from ?? (parsed.data.to ? monthOf(parsed.data.to).from : month.from);
    const to = parsed.data.to ?? (parsed.data.from ? monthOf(parsed.data.from).to : month.to);
    if (to < from) return invalid([{ field: 'to', code: 'periodReversed' }]);
    if (daysBetween(from, to) > MAX_PERIOD_DAYS) return invalid([{ field: 'from', code: 'periodTooLong', params: { days: MAX_PERIOD_DAYS } }]);
    const branchId = parsed.data.branchId ?? null;
    if (branchId && !canSeeBranch(principal, branchId)) return notFound();
    return ok({ from, to, branchId, advisorId: parsed.data.advisorId ?? null, serviceType: parsed.data.serviceType ?? null, granularity: parsed.data.granularity ?? (daysBetween(from, to) > 62 ? 'month' : 'week') });
  }

  async function rowsFor(principal: Principal, f: CsiFilters) {
    return loadRows(db, principal.branchIds, f, timeZone);
  }

  function build(f: CsiFilters, rows: Row[]): CsiReport {
    const byBranch = [...groupBy(rows, (r) => r.branch_id)].map(([branchId, list]) => ({ branchId, name: list[0]!.branch_name, ...figuresOf(list.map(figureRow)) })).sort((a, b) => a.name.localeCompare(b.name));
    const byAdvisor = [...groupBy(rows, (r) => r.advisor_id)].map(([advisorId, list]) => ({ advisorId, name: list[0]!.advisor_name ?? null, ...figuresOf(list.map(figureRow)) })).sort((a, b) => (a.name ?? '\uffff').localeCompare(b.name ?? '\uffff'));
    const byServiceType = [...groupBy(rows, (r) => r.service_type)].map(([serviceType, list]) => ({ serviceType, ...figuresOf(list.map(figureRow)) })).sort((a, b) => (a.serviceType ?? '\uffff').localeCompare(b.serviceType ?? '\uffff'));
    const buckets = groupBy(rows, (r) => bucketOf(localDateOf(Date.parse(r.collected_at), timeZone), f.granularity));
    const points = bucketsBetween(f.from, f.to, f.granularity).map((period) => {
      const fig = figuresOf((buckets.get(period) ?? []).map(figureRow));
      return { period, surveysSent: fig.surveysSent, responses: fig.responses, csi: fig.csi, verySatisfiedPercent: fig.verySatisfiedPercent, loyaltyIndex: fig.loyaltyIndex };
    });
    return {
      period: { from: f.from, to: f.to, timeZone },
      filters: { branchId: f.branchId, advisorId: f.advisorId, serviceType: f.serviceType },
      figures: figuresOf(rows.map(figureRow)),
      byBranch,
      byAdvisor,
      byServiceType,
      trend: { granularity: f.granularity, points },
    };
  }

  function listRow(r: Row, now: number): SurveyListRow {
    const answers = answersOf(r);
    return {
      id: r.id,
      collectedAt: r.collected_at,
      branchId: r.branch_id,
      branchName: r.branch_name,
      advisorId: r.advisor_id,
      advisorName: r.advisor_name ?? null,
      serviceType: r.service_type,
      repairOrderNumber: r.dms_number ?? r.number,
      customerId: r.customer_id,
      customerName: r.display_name,
      status: r.status,
      sentAt: r.sent_at,
      expired: r.expires_at !== null && r.completed_at === null && Date.parse(r.expires_at) <= now,
      satisfaction: r.satisfaction,
      repurchase: r.repurchase,
      recommend: r.recommend,
      aspects: answers.aspects,
      comment: r.comment,
      csi: csiOf(answers),
      loyaltyIndex: loyaltyOf(answers),
      complaintId: r.complaint_id,
      complaintReference: r.complaint_reference ?? null,
      commentFlaggedAt: r.comment_flagged_at,
    };
  }

  return {
    parseFilters,

    /** The report for the filters (see CsiReport); a branch the principal may not see is not found. */
    async report(principal: Principal, raw: Record<string, unknown>): Promise<Result<CsiReport>> {
      const f = parseFilters(principal, raw);
      if (!f.ok) return f;
      return ok(build(f.value, await rowsFor(principal, f.value)));
    },

    /** The report with its comments (newest first), for the console page in one read. */
    async page(principal: Principal, raw: Record<string, unknown>): Promise<Result<{ filters: CsiFilters; report: CsiReport; comments: SurveyListRow[] }>> {
      const f = parseFilters(principal, raw);
      if (!f.ok) return f;
      const rows = await rowsFor(principal, f.value);
      const now = clock.now().getTime();
      const comments = rows.filter((r) => r.comment !== null && r.comment !== '').slice(0, MAX_COMMENTS).map((r) => listRow(r, now));
      return ok({ filters: f.value, report: build(f.value, rows), comments });
    },

    /** One row per survey in the filters, for the CSV export. */
    async surveys(principal: Principal, raw: Record<string, unknown>): Promise<Result<{ filters: CsiFilters; rows: SurveyListRow[] }>> {
      const f = parseFilters(principal, raw);
      if (!f.ok) return f;
      const now = clock.now().getTime();
      return ok({ filters: f.value, rows: (await rowsFor(principal, f.value)).map((r) => listRow(r, now)) });
    },

    /** What the filter form offers: the branches, advisors and service types the principal's surveys have. */
    async options(principal: Principal): Promise<{ branches: { id: string; name: string }[]; advisors: { id: string; name: string }[]; serviceTypes: { code: string; names: Record<string, string> }[] }> {
      const branches = (await db.selectFrom('branches').select(['id', 'name']).orderBy('name').execute()).filter((b) => canSeeBranch(principal, b.id));
      const ids = branches.map((b) => b.id);
      if (ids.length === 0) return { branches, advisors: [], serviceTypes: [] };
      const advisors = await db
        .selectFrom('surveys as s')
        .innerJoin('staff_users as u', 'u.id', 's.advisor_id')
        .select(['u.id', 'u.name'])
        .distinct()
        .where('s.branch_id', 'in', ids)
        .orderBy('u.name')
        .execute();
      const types = await db.selectFrom('service_types').select(['code', 'names']).where('branch_id', 'in', ids).orderBy('code').execute();
      // One entry per code (branches share the standard codes), with the first branch's names for it.
      const byCode = new Map<string, Record<string, string>>();
      for (const t of types) if (!byCode.has(t.code)) byCode.set(t.code, JSON.parse(t.names) as Record<string, string>);
      return { branches, advisors, serviceTypes: [...byCode].map(([code, names]) => ({ code, names })) };
    },

    settings: (): Promise<SurveySettings> => loadSurveySettings(db),

    /** Saves the dealer's survey settings with an audit entry. */
    async saveSettings(ctx: ActionContext, raw: unknown): Promise<Result<SurveySettings>> {
      const parsed = surveySettingsSchema.safeParse(raw);
      if (!parsed.success) return invalid(parsed.error.issues.map((i) => ({ field: String(i.path[0] ?? 'settings'), code: /^[a-zA-Z]+$/.test(i.message) ? i.message : 'settingsInvalid' })));
      const now = ctx.now.toISOString();
      return store.transaction(async (tx) => {
        const before = await loadSurveySettings(tx);
        await saveSurveySettings(tx, parsed.data, now);
        await recordAudit(tx, { actor: ctx.actor, action: 'survey.settings', entity: 'survey_settings', entityId: 'dealer', before, after: parsed.data, ip: ctx.ip, now });
        return ok(parsed.data);
      });
    },

    /**
     * Records that a customer referred someone (what makes a loyal promoter a key influencer), and brings
     * their category up to date. Staff see only customers who visited one of their branches.
     */
    async recordReferral(ctx: ActionContext, customerId: string, rawNote: unknown): Promise<Result<{ id: string; category: string | null }>> {
      const note = typeof rawNote === 'string' ? rawNote.trim() : '';
      if ([...note].length > 500) return invalid([{ field: 'note', code: 'noteTooLong' }]);
      return store.transaction(async (tx) => {
        const customer = await tx.selectFrom('customers').select(['id', 'erased_at', 'merged_into_id']).where('id', '=', customerId).executeTakeFirst();
        if (!customer || customer.erased_at || customer.merged_into_id) return notFound();
        if (ctx.actor.branchIds !== 'all') {
          const visited = await tx.selectFrom('repair_orders').select('id').where('customer_id', '=', customerId).where('branch_id', 'in', ctx.actor.branchIds.length > 0 ? ctx.actor.branchIds : ['']).limit(1).executeTakeFirst();
          if (!visited) return notFound();
        }
        const now = ctx.now.toISOString();
        const id = newId();
        await tx.insertInto('customer_referrals').values({ id, customer_id: customerId, note: note || null, recorded_by: ctx.actor.id, created_at: now }).execute();
        // D1 cannot read the referral back in this transaction: the count is taken with it added.
        const category = await recomputeCategory(tx, customerId, now, { extraReferral: true });
        await recordAudit(tx, { actor: ctx.actor, action: 'customer.referral', entity: 'customer', entityId: customerId, after: { referralId: id, note: note || null }, ip: ctx.ip, now });
        return ok({ id, category });
      });
    },

    /**
     * Turns a survey's comment into a complaint a person follows up (staff read a problem in it). A survey
     * that already has a complaint (a low score opened one) is refused: the comment is in that ticket.
     */
    async flagComment(ctx: ActionContext, surveyId: string): Promise<Result<{ complaintId: string; reference: string }>> {
      return store.transaction(async (tx) => {
        const survey = await tx.selectFrom('surveys').selectAll().where('id', '=', surveyId).executeTakeFirst();
        if (!survey || !canSeeBranch(ctx.actor, survey.branch_id)) return notFound();
        if (!survey.comment) return conflict('noComment');
        if (survey.complaint_id) return conflict('alreadyComplaint');
        const now = ctx.now.toISOString();
        const actor = ctx.actor.kind === 'staff' ? ({ type: 'staff', id: ctx.actor.id, label: ctx.actor.name } as const) : ({ type: 'api_token', id: ctx.actor.id, label: ctx.actor.name } as const);
        const opened = await openComplaint(
          tx,
          { customerId: survey.customer_id, branchId: survey.branch_id, source: 'survey', channel: null, category: 'service_quality', repairOrderId: survey.repair_order_id, messages: [survey.comment], priority: 'normal', contactMethod: 'chat', actor },
          ctx.now,
        );
        if (!opened) return conflict('noBranch');
        await tx.updateTable('surveys').set({ complaint_id: opened.id, comment_flagged_at: now, updated_at: now }).where('id', '=', surveyId).execute();
        await recordAudit(tx, { actor: ctx.actor, action: 'survey.flag_comment', entity: 'survey', entityId: surveyId, after: { complaintId: opened.id }, ip: ctx.ip, now });
        return ok({ complaintId: opened.id, reference: opened.reference });
      });
    },
  };
}

export type CsiService = ReturnType<typeof createCsiService>;
