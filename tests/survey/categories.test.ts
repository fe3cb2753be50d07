import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { surveyButtons } from '../../src/conversation/button-ids';
import { manualClock } from '../../src/ops/clock';
import { staffFor, staffServicesOf, webCustomer } from '../complaints/helpers';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { apiToken } from '../helpers/staff';
import { closeTestD1, flowDialects } from '../helpers/stores';

/*
 * Customer categories kept up to date from the records: a collected visit makes a prospect a base customer,
 * repeated "very likely to recommend" with a referral staff recorded makes a key influencer, a low answer
 * makes them at risk — and a category staff set by hand stays until staff choose the derived one.
 */

const START = '2026-11-30T02:00:00.000Z';
const HOUR = 3_600_000;

afterAll(closeTestD1);

describe.each(flowDialects)('customer categories from visits and surveys on $name', (dialect) => {
  let svc: TestService;
  let dms: Awaited<ReturnType<typeof apiToken>>;
  const clock = manualClock(START);
  let orders = 0;

  beforeEach(async () => {
    clock.set(START);
    svc = await startTestService(dialect, testConfig({ DEFAULT_LOCALE: 'en', SURVEY_DELAY_MINUTES: '0' }), clock);
    dms = await apiToken(svc, 'manager', [(await svc.db.store.db.selectFrom('branches').select('id').executeTakeFirstOrThrow()).id]);
  });
  afterEach(async () => {
    await svc.close();
  });

  async function runJobs() {
    for (const job of svc.scheduledJobs) await job.runOnce();
    await svc.flush();
  }

  const category = async (customerId: string) => (await svc.db.store.db.selectFrom('customers').select('category').where('id', '=', customerId).executeTakeFirstOrThrow()).category;

  it('follows the history, and leaves a hand-set category alone', async () => {
    const c = webCustomer(svc, clock);
    await c.say('hello');
    const customerId = await c.customerId();
    expect(await category(customerId)).toBe('prospect');
    const now = clock.now().toISOString();
    await svc.db.store.db.insertInto('vehicles').values({ id: crypto.randomUUID(), customer_id: customerId, plate: 'CAT-0001', plate_normalized: 'CAT0001', make: null, model: null, year: null, vin: null, mileage_km: null, created_at: now, updated_at: now }).execute();

    /** One visit collected and its survey answered with (satisfaction, repurchase, recommend). */
    const visit = async (answers: [number, number, number]) => {
      const number = `W-${++orders}`;
      await dms.request(`/api/repair-orders/${number}`, { method: 'PUT', json: { plate: 'CAT-0001' } });
      await dms.request(`/api/repair-orders/${number}/status`, { json: { status: 'collected' } });
      await runJobs(); // the survey is written (SURVEY_DELAY_MINUTES=0) ...
      await runJobs(); // ... and sent
      const survey = await svc.db.store.db.selectFrom('surveys').select('id').where('customer_id', '=', customerId).orderBy('created_at', 'desc').orderBy('id').limit(1).executeTakeFirstOrThrow();
      for (const [q, level] of [['sat', answers[0]], ['rep', answers[1]], ['rec', answers[2]]] as const) await c.say(c.tap(surveyButtons.id('answer', survey.id, q, level)));
      clock.advance(HOUR);
    };

    await visit([5, 3, 3]);
    expect(await category(customerId)).toBe('base');
    const referral = await dms.request('/api/csi/referrals', { json: { customerId, note: 'Brought a colleague' } });
    expect(referral.status).toBe(201);
    expect(await referral.json()).toMatchObject({ category: 'base' });
    await visit([5, 3, 3]);
    expect(await category(customerId)).toBe('key_influencer');
    await visit([4, 1, 2]);
    expect(await category(customerId)).toBe('at_risk');

    // Staff know better: their choice stands when new answers come in.
    const manager = await staffFor(svc, 'manager');
    const { customers } = await staffServicesOf(svc, clock);
    expect((await customers.update(manager.ctx(clock), customerId, { category: 'key_influencer' })).ok).toBe(true);
    await visit([5, 3, 3]);
    expect(await category(customerId)).toBe('key_influencer');
    await visit([1, 1, 1]);
    expect(await category(customerId)).toBe('key_influencer');
    const derivation = await svc.db.store.db.selectFrom('customer_category_derivations').selectAll().where('customer_id', '=', customerId).executeTakeFirstOrThrow();
    expect(derivation.derived).toBe('at_risk');
    // The profile shows staff what the records say beside their choice.
    const profile = await customers.profile(customerId);
    expect(profile.ok && profile.value.suggestedCategory).toBe('at_risk');

    expect((await dms.request('/api/csi/referrals', { json: { customerId: crypto.randomUUID() } })).status).toBe(404);
    expect((await dms.request('/api/csi/referrals', { json: { customerId, note: 'x'.repeat(501) } })).status).toBe(400);
  }, 120_000);
});
