import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/ops/clock';
import { loadSurveySettings } from '../../src/survey/settings';
import { erasureCode } from '../../src/staff/customers/erase';
import { staffFor, staffServicesOf } from '../complaints/helpers';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { apiToken, staffMember, type SignedInStaff } from '../helpers/staff';
import { closeTestD1, flowDialects } from '../helpers/stores';

/*
 * The CSI pages of the console: the report with its chart, distributions and comments for a manager (not
 * for an advisor), the CSV export (safe to open in a spreadsheet), a comment turned into a complaint once,
 * bad filters and bad settings answered 400 in words, and the survey settings saved.
 */

const NOW = '2026-11-20T04:00:00.000Z';

afterAll(closeTestD1);

// On D1 too: the service's changes (settings, a comment flagged) must not read back their own writes.
describe.each(flowDialects)('console CSI pages on $name', (dialect) => {
  let svc: TestService;
  let manager: SignedInStaff;
  let surveyId: string;
  const clock = manualClock(NOW);
  const db = () => svc.db.store.db;

  beforeEach(async () => {
    clock.set(NOW);
    svc = await startTestService(dialect, testConfig({ DEFAULT_LOCALE: 'en' }), clock);
    manager = await staffMember(svc, 'manager', { email: 'mia@dealer.example' });
    const branch = await db().selectFrom('branches').select('id').executeTakeFirstOrThrow();
    const customerId = crypto.randomUUID();
    const at = '2026-11-18T03:00:00.000Z';
    await db().insertInto('customers').values({ id: customerId, display_name: 'Lin Mei', phone: null, locale: 'en', category: 'base', notes: null, consent_at: null, opted_out_at: null, erased_at: null, merged_into_id: null, created_at: at, updated_at: at }).execute();
    const orderId = crypto.randomUUID();
    await db().insertInto('repair_orders').values({ id: orderId, seq: 777, number: 'RO-000777', appointment_id: null, branch_id: branch.id, customer_id: customerId, vehicle_id: null, advisor_id: manager.id, status: 'collected', mileage_in: null, version: 1, created_at: at, updated_at: at, collected_at: at }).execute();
    surveyId = crypto.randomUUID();
    await db()
      .insertInto('surveys')
      .values({
        id: surveyId, repair_order_id: orderId, customer_id: customerId, branch_id: branch.id, advisor_id: manager.id, service_type: 'periodic_maintenance', status: 'sent', skip_reason: null,
        collected_at: at, due_at: at, sent_at: at, expires_at: '2026-11-25T03:00:00.000Z', channel: 'web', locale: 'en', aspect_codes: '[]',
        satisfaction: 3, repurchase: 2, recommend: 2, aspects: '{}', comment: '=HYPERLINK("x") the invoice was unclear, "twice"', comment_skipped: 0, first_answer_at: at, completed_at: at,
        complaint_id: null, comment_flagged_at: null, review_invited_at: null, created_at: at, updated_at: at,
      })
      .execute();
  });
  afterEach(async () => {
    await svc.close();
  });

  async function html(res: Response, status = 200): Promise<string> {
    const text = await res.text();
    expect(res.status, text.slice(0, 500)).toBe(status);
    return text;
  }

  it('shows the report with a chart, the distributions and the comments to a manager; an advisor may not see it', async () => {
    const page = await html(await manager.request('/console/csi'));
    expect(page).toContain('Satisfaction (CSI)');
    expect(page).toContain('Visits collected from 2026-11-01 to 2026-11-30.');
    expect(page).toMatch(/<svg class="csi-trend"[^>]*>/);
    expect(page).toMatch(/<polyline class="csi-line" points="[\d., ]+"/);
    expect(page).toContain('data-figure="csi">50<');
    expect(page).toContain('the invoice was unclear');
    expect(page).toContain('Open a complaint');
    const advisor = await staffMember(svc, 'advisor');
    expect((await advisor.request('/console/csi')).status).toBe(403);
    expect((await advisor.request('/console/csi/export.csv')).status).toBe(403);
  });

  it('exports one CSV row per survey that a spreadsheet cannot mistake for a formula', async () => {
    const res = await manager.request('/console/csi/export.csv?from=2026-11-01&to=2026-11-30');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toContain('csi-2026-11-01-2026-11-30.csv');
    const lines = (await res.text()).replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]!.split(',').slice(0, 3)).toEqual(['collectedAt', 'branch', 'advisor']);
    expect(lines[1]).toContain(`"'=HYPERLINK(""x"") the invoice was unclear, ""twice"""`);
    expect(lines[1]).toContain('satisfied,between_30_70,possible');
  });

  it('turns a comment into a complaint once', async () => {
    const res = await manager.request(`/console/csi/surveys/${surveyId}/complaint`, { form: {} });
    expect(res.status).toBe(303);
    const survey = await db().selectFrom('surveys').select(['complaint_id', 'comment_flagged_at']).where('id', '=', surveyId).executeTakeFirstOrThrow();
    const complaint = await db().selectFrom('complaints').selectAll().where('id', '=', survey.complaint_id!).executeTakeFirstOrThrow();
    expect(complaint).toMatchObject({ source: 'survey', repair_order_id: expect.any(String) });
    expect(complaint.description).toContain('the invoice was unclear');
    expect(await html(await manager.request(`/console/csi/surveys/${surveyId}/complaint`, { form: {} }), 409)).toContain('That survey already has a complaint.');
    expect((await manager.request(`/console/csi/surveys/${crypto.randomUUID()}/complaint`, { form: {} })).status).toBe(404);
  });

  it('turns a comment into a complaint from the API too', async () => {
    const token = await apiToken(svc, 'manager');
    const res = await token.request(`/api/csi/surveys/${surveyId}/complaint`, { json: {} });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { complaintId: string; reference: string };
    expect(body.reference).toMatch(/^CP-/);
    expect((await token.request(`/api/csi/surveys/${surveyId}/complaint`, { json: {} })).status).toBe(409);
    expect((await (await apiToken(svc, 'manager', [crypto.randomUUID()])).request(`/api/csi/surveys/${surveyId}/complaint`, { json: {} })).status).toBe(404);
  });

  it('answers bad filters and bad settings in words, and saves good settings', async () => {
    expect(await html(await manager.request('/console/csi?from=2026-11-30&to=2026-11-01'), 400)).toContain('The end of the period is before its start.');
    expect(await html(await manager.request('/console/csi?from=yesterday'), 400)).toContain('Enter a date as YYYY-MM-DD.');
    expect(await html(await manager.request('/console/csi/settings'))).toContain('Survey settings');
    const bad = await html(await manager.request('/console/csi/settings', { form: { enabled: 'on', delayMinutes: '-5', expiryDays: '0', reviewInvite: 'on', reviewUrl: '' } }), 400);
    expect(bad).toContain('Enter whole minutes from 0 to 10080');
    expect(bad).toContain('Enter whole days from 1 to 60.');
    expect(bad).toContain('Enter the review link');
    const saved = await manager.request('/console/csi/settings', { form: { enabled: 'on', delayMinutes: '45', expiryDays: '3', aspects: 'price', reviewInvite: 'on', reviewUrl: 'https://g.page/r/dealer' } });
    expect(saved.status).toBe(303);
    expect(await loadSurveySettings(db())).toEqual({ enabled: true, delayMinutes: 45, expiryDays: 3, aspects: ['price'], reviewInvite: true, reviewUrl: 'https://g.page/r/dealer' });
    const audit = await db().selectFrom('audit_log').select('action').where('action', '=', 'survey.settings').execute();
    expect(audit).toHaveLength(1);
  });

  it('keeps the answers of an erased customer for the figures, without their words', async () => {
    const { customer_id: customerId } = await db().selectFrom('surveys').select('customer_id').where('id', '=', surveyId).executeTakeFirstOrThrow();
    const admin = await staffFor(svc, 'admin');
    const { customers } = await staffServicesOf(svc, clock);
    expect((await customers.erase(admin.ctx(clock), customerId, { confirmation: erasureCode(customerId) })).ok).toBe(true);
    expect(await db().selectFrom('surveys').select(['satisfaction', 'comment']).where('id', '=', surveyId).executeTakeFirstOrThrow()).toEqual({ satisfaction: 3, comment: null });
    const page = await html(await manager.request('/console/csi'));
    expect(page).toContain('data-figure="responses">1<');
    expect(page).not.toContain('the invoice was unclear');
  });
});
