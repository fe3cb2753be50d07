import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/ops/clock';
import { staffFor } from '../complaints/helpers';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { apiToken } from '../helpers/staff';
import { dialects } from '../helpers/stores';

/*
 * The CSI report against a generated history of several thousand visits: every figure the API gives
 * (responses, response rate, CSI, "very satisfied", loyalty, the three distributions, by branch, advisor
 * and service type, the trend) is computed again here from the raw answers, by code of the test's own that
 * follows the README's formulas, and must agree. Also: the defaults (this month, every branch the token
 * sees), a branch outside the token's, and bad parameters.
 */

const NOW = '2026-11-15T04:00:00.000Z'; // mid-November in Taipei
const TAIPEI_MS = 8 * 3_600_000; // Taipei keeps UTC+8 all year
const VISITS = 4000;

type Json = Record<string, any>;

interface Visit {
  id: string;
  branchId: string;
  advisorId: string | null;
  serviceType: string | null;
  collectedAt: string;
  sent: boolean;
  satisfaction: number | null;
  repurchase: number | null;
  recommend: number | null;
  aspects: Record<string, number>;
  comment: string | null;
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const localDate = (iso: string) => new Date(Date.parse(iso) + TAIPEI_MS).toISOString().slice(0, 10);

/** The README's formulas, written out again. */
function expected(visits: readonly Visit[]) {
  const sent = visits.filter((v) => v.sent);
  const responded = sent.filter((v) => v.satisfaction !== null || v.repurchase !== null || v.recommend !== null || Object.keys(v.aspects).length > 0 || v.comment !== null);
  const withSat = responded.filter((v) => v.satisfaction !== null);
  const csis = withSat.map((v) => {
    const overall = ((v.satisfaction! - 1) * 100) / 4;
    const aspects = Object.values(v.aspects);
    return aspects.length === 0 ? overall : overall * 0.6 + 0.4 * (aspects.reduce((a, b) => a + ((b - 1) * 100) / 4, 0) / aspects.length);
  });
  const loyalties = responded
    .map((v) => [v.satisfaction === null ? null : ((v.satisfaction - 1) * 100) / 4, v.repurchase === null ? null : ((v.repurchase - 1) * 100) / 2, v.recommend === null ? null : ((v.recommend - 1) * 100) / 2].filter((x): x is number => x !== null))
    .filter((l) => l.length > 0)
    .map((l) => l.reduce((a, b) => a + b, 0) / l.length);
  const mean = (xs: number[]) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
  const count = (pick: (v: Visit) => number | null, level: number) => responded.filter((v) => pick(v) === level).length;
  return {
    surveysSent: sent.length,
    responses: responded.length,
    responseRate: sent.length === 0 ? null : responded.length / sent.length,
    csi: mean(csis),
    loyaltyIndex: mean(loyalties),
    verySatisfiedPercent: withSat.length === 0 ? null : (withSat.filter((v) => v.satisfaction === 5).length / withSat.length) * 100,
    satisfaction: { very_satisfied: count((v) => v.satisfaction, 5), fairly_satisfied: count((v) => v.satisfaction, 4), satisfied: count((v) => v.satisfaction, 3), dissatisfied: count((v) => v.satisfaction, 2), very_dissatisfied: count((v) => v.satisfaction, 1) },
    repurchase: { above_70: count((v) => v.repurchase, 3), between_30_70: count((v) => v.repurchase, 2), below_30: count((v) => v.repurchase, 1) },
    recommend: { very_likely: count((v) => v.recommend, 3), possible: count((v) => v.recommend, 2), unlikely: count((v) => v.recommend, 1) },
  };
}

function expectFigures(actual: Json, visits: readonly Visit[]) {
  const e = expected(visits);
  expect(actual.surveysSent).toBe(e.surveysSent);
  expect(actual.responses).toBe(e.responses);
  expect(actual.satisfaction).toEqual(e.satisfaction);
  expect(actual.repurchase).toEqual(e.repurchase);
  expect(actual.recommend).toEqual(e.recommend);
  for (const k of ['responseRate', 'csi', 'loyaltyIndex', 'verySatisfiedPercent'] as const) {
    if (e[k] === null) expect(actual[k], k).toBeNull();
    else expect(actual[k], k).toBeCloseTo(e[k]!, k === 'responseRate' ? 3 : 1);
  }
}

describe.each(dialects)('the CSI report over several thousand visits on $name', (dialect) => {
  let svc: TestService;
  const clock = manualClock(NOW);
  let visits: Visit[];
  let branches: string[];
  let advisors: string[];

  beforeEach(async () => {
    clock.set(NOW);
    svc = await startTestService(dialect, testConfig({ DEFAULT_LOCALE: 'en' }), clock);
    const db = svc.db.store.db;
    const demo = await db.selectFrom('branches').selectAll().executeTakeFirstOrThrow();
    branches = [demo.id, crypto.randomUUID(), crypto.randomUUID()];
    for (const [i, id] of branches.slice(1).entries()) await db.insertInto('branches').values({ ...demo, id, name: `Branch ${i + 2}`, is_demo: 0 }).execute();
    advisors = [];
    for (const name of ['Amy', 'Ben', 'Chen', 'Dara']) advisors.push((await staffFor(svc, 'advisor', { name, branchIds: branches })).id);
    const rnd = random(20261115);
    const pick = <T,>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
    const now = clock.now().toISOString();
    const customers = Array.from({ length: 200 }, () => crypto.randomUUID());
    for (let i = 0; i < customers.length; i += 50) {
      await db
        .insertInto('customers')
        .values(customers.slice(i, i + 50).map((id) => ({ id, display_name: null, phone: null, locale: 'en', category: 'base' as const, notes: null, consent_at: null, opted_out_at: null, erased_at: null, merged_into_id: null, created_at: now, updated_at: now })))
        .execute();
    }
    visits = [];
    // 2026-09-01 to 2026-11-30 local, so the default month and longer periods both have data.
    const start = Date.parse('2026-08-31T16:00:00.000Z');
    const span = Date.parse('2026-11-30T16:00:00.000Z') - start;
    for (let i = 0; i < VISITS; i++) {
      const sent = rnd() < 0.9;
      const answers = sent && rnd() < 0.7;
      const half = answers && rnd() < 0.25;
      const aspects: Record<string, number> = {};
      if (answers && !half && rnd() < 0.3) {
        aspects.advisor = 1 + Math.floor(rnd() * 5);
        if (rnd() < 0.5) aspects.price = 1 + Math.floor(rnd() * 5);
      }
      const satisfaction = answers ? (rnd() < 0.05 ? null : 1 + Math.floor(rnd() ** 0.5 * 5)) : null;
      visits.push({
        id: crypto.randomUUID(),
        branchId: pick(branches),
        advisorId: rnd() < 0.1 ? null : pick(advisors),
        serviceType: pick(['periodic_maintenance', 'repair', 'recall', null]),
        collectedAt: new Date(start + Math.floor(rnd() * span)).toISOString(),
        sent,
        satisfaction,
        repurchase: answers && !half ? 1 + Math.floor(rnd() * 3) : null,
        recommend: answers && !half ? 1 + Math.floor(rnd() * 3) : null,
        aspects,
        comment: answers && rnd() < 0.2 ? `comment ${i}` : null,
      });
    }
    for (let i = 0; i < visits.length; i += 40) {
      const chunk = visits.slice(i, i + 40);
      await db
        .insertInto('repair_orders')
        .values(
          chunk.map((v, j) => ({ id: v.id, seq: 100_000 + i + j, number: `RO-${100_000 + i + j}`, appointment_id: null, branch_id: v.branchId, customer_id: customers[(i + j) % customers.length]!, vehicle_id: null, advisor_id: v.advisorId, status: 'collected' as const, mileage_in: null, version: 1, created_at: v.collectedAt, updated_at: v.collectedAt, collected_at: v.collectedAt })),
        )
        .execute();
      await db
        .insertInto('surveys')
        .values(
          chunk.map((v, j) => ({
            id: crypto.randomUUID(),
            repair_order_id: v.id,
            customer_id: customers[(i + j) % customers.length]!,
            branch_id: v.branchId,
            advisor_id: v.advisorId,
            service_type: v.serviceType,
            status: v.sent ? ('sent' as const) : ('skipped' as const),
            skip_reason: v.sent ? null : 'opted_out',
            collected_at: v.collectedAt,
            due_at: v.collectedAt,
            sent_at: v.sent ? v.collectedAt : null,
            expires_at: v.sent ? new Date(Date.parse(v.collectedAt) + 7 * 86_400_000).toISOString() : null,
            channel: v.sent ? ('line' as const) : null,
            locale: 'en',
            aspect_codes: JSON.stringify(Object.keys(v.aspects)),
            satisfaction: v.satisfaction,
            repurchase: v.repurchase,
            recommend: v.recommend,
            aspects: JSON.stringify(v.aspects),
            comment: v.comment,
            comment_skipped: 0,
            first_answer_at: null,
            completed_at: null,
            complaint_id: null,
            comment_flagged_at: null,
            review_invited_at: null,
            created_at: v.collectedAt,
            updated_at: v.collectedAt,
          })),
        )
        .execute();
    }
  }, 120_000);
  afterEach(async () => {
    await svc.close();
  });

  const inPeriod = (from: string, to: string) => (v: Visit) => localDate(v.collectedAt) >= from && localDate(v.collectedAt) <= to;

  it('without parameters: this month, every branch the token sees, broken down by branch, advisor and service type', async () => {
    const token = await apiToken(svc, 'manager');
    const res = await token.request('/api/csi/report');
    const body = (await res.json()) as Json;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.period).toEqual({ from: '2026-11-01', to: '2026-11-30', timeZone: 'Asia/Taipei' });
    const november = visits.filter(inPeriod('2026-11-01', '2026-11-30'));
    expect(november.length).toBeGreaterThan(1000);
    expectFigures(body.figures, november);
    expect(body.byBranch).toHaveLength(3);
    for (const b of body.byBranch) expectFigures(b, november.filter((v) => v.branchId === b.branchId));
    expect(body.byAdvisor).toHaveLength(5);
    for (const a of body.byAdvisor) expectFigures(a, november.filter((v) => v.advisorId === a.advisorId));
    expect(body.byServiceType.map((s: Json) => s.serviceType).sort()).toEqual(['periodic_maintenance', 'recall', 'repair', null].sort());
    for (const s of body.byServiceType) expectFigures(s, november.filter((v) => v.serviceType === s.serviceType));
    // Weeks starting on Mondays, the first one holding 1 November (a Sunday).
    expect(body.trend.granularity).toBe('week');
    expect(body.trend.points[0].period).toBe('2026-10-26');
    for (const p of body.trend.points) {
      const monday = p.period;
      const sunday = new Date(Date.parse(`${monday}T00:00:00Z`) + 6 * 86_400_000).toISOString().slice(0, 10);
      const e = expected(november.filter(inPeriod(monday, sunday)));
      expect(p.responses).toBe(e.responses);
      if (e.csi === null) expect(p.csi).toBeNull();
      else expect(p.csi).toBeCloseTo(e.csi, 1);
    }
  });

  it('parameters narrow the period, branch, advisor and service type; a branch-scoped token sees its branch only', async () => {
    const token = await apiToken(svc, 'manager');
    const [branch] = branches.slice(1);
    const advisor = advisors[2]!;
    const q = new URLSearchParams({ from: '2026-09-01', to: '2026-11-30', branchId: branch!, advisorId: advisor, serviceType: 'repair', granularity: 'month' });
    const body = (await (await token.request(`/api/csi/report?${q}`)).json()) as Json;
    const mine = visits.filter((v) => v.branchId === branch && v.advisorId === advisor && v.serviceType === 'repair');
    expectFigures(body.figures, mine);
    expect(body.trend.points.map((p: Json) => p.period)).toEqual(['2026-09', '2026-10', '2026-11']);
    for (const p of body.trend.points) expect(p.responses).toBe(expected(mine.filter((v) => localDate(v.collectedAt).startsWith(p.period))).responses);

    const walkIns = (await (await token.request('/api/csi/report?from=2026-09-01&to=2026-11-30&serviceType=walk_in&advisorId=none')).json()) as Json;
    expectFigures(walkIns.figures, visits.filter((v) => v.serviceType === null && v.advisorId === null));

    const scoped = await apiToken(svc, 'manager', [branches[0]!]);
    const own = (await (await scoped.request('/api/csi/report?from=2026-09-01&to=2026-11-30')).json()) as Json;
    expectFigures(own.figures, visits.filter((v) => v.branchId === branches[0]));
    expect(own.byBranch.map((b: Json) => b.branchId)).toEqual([branches[0]]);
    expect((await scoped.request(`/api/csi/report?branchId=${branch}`)).status).toBe(404);
  });

  it('bad parameters are a clear 400; roles without the report get 403', async () => {
    const token = await apiToken(svc, 'manager');
    for (const [query, field] of [
      ['from=2026-13-01', 'from'],
      ['from=2026-11-10&to=2026-11-01', 'to'],
      ['from=2020-01-01&to=2026-11-30', 'from'],
      ['granularity=day', 'granularity'],
    ] as const) {
      const res = await token.request(`/api/csi/report?${query}`);
      const body = (await res.json()) as Json;
      expect(res.status, query).toBe(400);
      expect(body.details.map((d: Json) => d.field), query).toContain(field);
    }
    expect((await (await apiToken(svc, 'advisor')).request('/api/csi/report')).status).toBe(403);
  });

  it('is described in the OpenAPI document as getCsiReport', async () => {
    const doc = (await (await (await apiToken(svc, 'manager')).request('/api/openapi.json')).json()) as Json;
    const op = doc.paths['/api/csi/report'].get;
    expect(op.operationId).toBe('getCsiReport');
    expect(op.parameters.map((p: Json) => p.name).sort()).toEqual(['advisorId', 'branchId', 'from', 'granularity', 'serviceType', 'to']);
    expect(Object.keys(doc.components.schemas.CsiReport.properties)).toEqual(['period', 'filters', 'figures', 'byBranch', 'byAdvisor', 'byServiceType', 'trend']);
  });
});
