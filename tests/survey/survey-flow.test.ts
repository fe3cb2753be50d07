import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RenderedMessage } from '../../src/channels/types';
import { surveyButtons } from '../../src/conversation/button-ids';
import { manualClock } from '../../src/ops/clock';
import { saveSurveySettings, DEFAULT_SURVEY_SETTINGS } from '../../src/survey/settings';
import { staffFor, webCustomer } from '../complaints/helpers';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { apiToken } from '../helpers/staff';
import { closeTestD1, flowDialects } from '../helpers/stores';

/*
 * The survey after a visit, in the web chat, as a customer goes through it: sent two hours after the car is
 * collected (inside opening hours), one tap a question, answers kept as they come; a half-done survey that
 * expires keeps its answers and says politely that it has closed; "dissatisfied" opens a complaint at once;
 * a customer who opted out is never asked; a delighted customer may be invited to review.
 */

// Monday 2026-11-30, 10:00 in Taipei (the demo branch is open Mon–Sat 09:00–18:00).
const START = '2026-11-30T02:00:00.000Z';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Json = Record<string, any>;

afterAll(closeTestD1);

describe.each(flowDialects)('the satisfaction survey in the web chat on $name', (dialect) => {
  let svc: TestService;
  let dms: Awaited<ReturnType<typeof apiToken>>;
  const clock = manualClock(START);
  let orders = 0;

  beforeEach(async () => {
    clock.set(START);
    svc = await startTestService(dialect, testConfig({ DEFAULT_LOCALE: 'en' }), clock);
    // A branch-scoped token, as a DMS of one branch holds: orders it creates go to that branch.
    dms = await apiToken(svc, 'manager', [(await svc.db.store.db.selectFrom('branches').select('id').executeTakeFirstOrThrow()).id]);
  });
  afterEach(async () => {
    await svc.close();
  });

  async function runJobs() {
    for (const job of svc.scheduledJobs) await job.runOnce();
    await svc.flush();
  }

  /** A web customer with a car that has just been collected; returns the customer and the survey id. */
  async function collectedVisit(plate = 'ABC-1234') {
    const c = webCustomer(svc, clock);
    await c.say('hello');
    const customerId = await c.customerId();
    const now = clock.now().toISOString();
    await svc.db.store.db.insertInto('vehicles').values({ id: crypto.randomUUID(), customer_id: customerId, plate, plate_normalized: plate.replace(/[^A-Z0-9]/gi, '').toUpperCase(), make: null, model: null, year: null, vin: null, mileage_km: null, created_at: now, updated_at: now }).execute();
    const number = `W-${++orders}`;
    const put = await dms.request(`/api/repair-orders/${number}`, { method: "PUT", json: { plate } });
    expect(put.status, await put.clone().text()).toBe(201);
    expect((await dms.request(`/api/repair-orders/${number}/status`, { json: { status: 'collected' } })).status).toBe(200);
    await runJobs();
    await c.heard();
    return { c, customerId };
  }

  const survey = (customerId: string) => svc.db.store.db.selectFrom('surveys').selectAll().where('customer_id', '=', customerId).executeTakeFirstOrThrow();
  const text = (m: RenderedMessage | undefined) => (m && m.type === 'text' ? m.text : '');
  const labels = (m: RenderedMessage | undefined) => (m && (m.type === 'text' || m.type === 'card') ? m.choices.map((c) => c.label) : []);
  const idOf = (m: RenderedMessage | undefined, label: string) => {
    const choice = m && (m.type === 'text' || m.type === 'card') ? m.choices.find((c) => c.label === label) : undefined;
    if (!choice || choice.kind !== 'postback') throw new Error(`no button ${label} in ${JSON.stringify(m)}`);
    return choice.id;
  };

  it('is sent two hours after collection and answered with a few taps; the answers are kept as they come', async () => {
    const { c, customerId } = await collectedVisit();
    expect(await survey(customerId)).toMatchObject({ status: 'scheduled', due_at: '2026-11-30T04:00:00.000Z' });
    clock.advance(2 * HOUR - 60_000);
    await runJobs();
    expect(await c.heard()).toEqual([]);
    clock.advance(60_000);
    await runJobs();
    const [first] = await c.heard();
    expect(text(first)).toContain('ABC-1234');
    expect(text(first)).toContain('Overall, how satisfied are you with this visit?');
    expect(labels(first)).toEqual(['Very satisfied', 'Fairly satisfied', 'Satisfied', 'Dissatisfied', 'Very dissatisfied']);

    const [q2] = await c.say(c.tap(idOf(first, 'Fairly satisfied')));
    expect(await survey(customerId)).toMatchObject({ satisfaction: 4, repurchase: null, complaint_id: null });
    expect(text(q2)).toContain('serviced with us again');
    // A typed answer works too: the first of the buttons, by its number.
    const [q3] = await c.say('1');
    expect(await survey(customerId)).toMatchObject({ repurchase: 3 });
    expect(labels(q3)).toEqual(['Very likely', 'Possibly', 'Unlikely']);
    const [comment] = await c.say(c.tap(idOf(q3, 'Possibly')));
    expect(text(comment)).toContain('anything we should do better');
    const [thanks] = await c.say('The waiting room coffee was great.');
    expect(text(thanks)).toContain('Thank you for your answers');
    expect(await survey(customerId)).toMatchObject({ satisfaction: 4, repurchase: 3, recommend: 2, comment: 'The waiting room coffee was great.', completed_at: clock.now().toISOString() });
    // Pressing an answer again says it was already answered, and changes nothing.
    const [again] = await c.say(c.tap(idOf(first, 'Very dissatisfied')));
    expect(text(again)).toBe('You have already answered this survey. Thank you!');
    expect((await survey(customerId)).satisfaction).toBe(4);
    expect(await svc.db.store.db.selectFrom('complaints').select('id').execute()).toEqual([]);
    // Once per visit: the event handled again writes nothing new.
    expect(await svc.db.store.db.selectFrom('surveys').select('id').execute()).toHaveLength(1);
  });

  it('half answered, then expired: the answers still count and an old button says the survey closed', async () => {
    const { c, customerId } = await collectedVisit();
    clock.advance(2 * HOUR);
    await runJobs();
    const [first] = await c.heard();
    const [q2] = await c.say(c.tap(idOf(first, 'Very satisfied')));
    clock.advance(7 * DAY + 1000);
    // The conversation itself has long timed out; the button carries its survey, which says it closed.
    const replies = await c.say(c.tap(idOf(q2, 'Above 70%')));
    expect(replies).toHaveLength(1);
    expect(text(replies[0])).toContain('this survey has closed');
    expect(await survey(customerId)).toMatchObject({ satisfaction: 5, repurchase: null, completed_at: null });
    const [none] = await c.say('/rate'.slice(1));
    expect(text(none)).toContain('There is no survey waiting for you');
  });

  it('"dissatisfied" opens a complaint at once and tells the customer a person will contact them; the comment joins the ticket', async () => {
    await staffFor(svc, 'care', { onDuty: true, clock });
    const { c, customerId } = await collectedVisit();
    clock.advance(2 * HOUR);
    await runJobs();
    const [first] = await c.heard();
    const replies = await c.say(c.tap(idOf(first, 'Dissatisfied')));
    const complaint = await svc.db.store.db.selectFrom('complaints').selectAll().where('customer_id', '=', customerId).executeTakeFirstOrThrow();
    expect(complaint).toMatchObject({ source: 'survey', priority: 'normal', category: 'service_quality' });
    expect(text(replies[0])).toContain(`We have opened complaint ${complaint.reference}`);
    expect(text(replies[1])).toContain('serviced with us again');
    expect((await survey(customerId)).complaint_id).toBe(complaint.id);
    const [q3] = await c.say(c.tap(idOf(replies[1], 'Below 30%')));
    const [comment] = await c.say(c.tap(idOf(q3, 'Unlikely')));
    const [thanks] = await c.say('Nobody told me the car was ready.');
    expect(text(comment)).toContain('anything we should do better');
    expect(text(thanks)).toContain('A person from our team will contact you');
    const events = await svc.db.store.db.selectFrom('complaint_events').select(['kind', 'text']).where('complaint_id', '=', complaint.id).where('kind', '=', 'customer_message').execute();
    expect(events.map((e) => e.text)).toContain('Nobody told me the car was ready.');
    const customer = await svc.db.store.db.selectFrom('customers').select('category').where('id', '=', customerId).executeTakeFirstOrThrow();
    expect(customer.category).toBe('at_risk');
  });

  it('a customer who opted out is not asked', async () => {
    const c = webCustomer(svc, clock);
    await c.say('hello');
    const customerId = await c.customerId();
    await svc.db.store.db.updateTable('customers').set({ opted_out_at: clock.now().toISOString() }).where('id', '=', customerId).execute();
    const now = clock.now().toISOString();
    await svc.db.store.db.insertInto('vehicles').values({ id: crypto.randomUUID(), customer_id: customerId, plate: 'OPT-0001', plate_normalized: 'OPT0001', make: null, model: null, year: null, vin: null, mileage_km: null, created_at: now, updated_at: now }).execute();
    await dms.request('/api/repair-orders/W-OPT', { method: 'PUT', json: { plate: 'OPT-0001' } });
    await dms.request('/api/repair-orders/W-OPT/status', { json: { status: 'collected' } });
    await runJobs();
    await c.heard();
    clock.advance(3 * HOUR);
    await runJobs();
    expect(await c.heard()).toEqual([]);
    expect(await survey(customerId)).toMatchObject({ status: 'skipped', skip_reason: 'opted_out', sent_at: null });
  });

  it('switched off in the settings: no survey goes out', async () => {
    await saveSurveySettings(svc.db.store.db, { ...DEFAULT_SURVEY_SETTINGS, enabled: false }, clock.now().toISOString());
    const { c, customerId } = await collectedVisit();
    clock.advance(3 * HOUR);
    await runJobs();
    expect(await c.heard()).toEqual([]);
    expect(await survey(customerId)).toMatchObject({ status: 'skipped', skip_reason: 'disabled' });
  });

  it('a car collected in the evening is asked about the next morning, and a delighted customer is invited to review', async () => {
    await saveSurveySettings(svc.db.store.db, { ...DEFAULT_SURVEY_SETTINGS, aspects: ['advisor'], reviewInvite: true, reviewUrl: 'https://g.page/r/dealer-review' }, clock.now().toISOString());
    clock.set('2026-11-30T09:30:00.000Z'); // 17:30 in Taipei: two hours later the branch is closed
    const { c, customerId } = await collectedVisit();
    expect((await survey(customerId)).due_at).toBe('2026-12-01T01:00:00.000Z');
    clock.set('2026-12-01T01:00:00.000Z');
    await runJobs();
    const [first] = await c.heard();
    // Answered hours later: the conversation the survey left waiting has timed out, the buttons still speak for it.
    clock.advance(5 * HOUR);
    const answered = await c.say(c.tap(idOf(first, 'Very satisfied')));
    expect(answered).toHaveLength(1);
    const [q2] = answered;
    const [q3] = await c.say(c.tap(idOf(q2, 'Above 70%')));
    const [aspect] = await c.say(c.tap(idOf(q3, 'Very likely')));
    expect(text(aspect)).toContain('service advisor');
    const [comment] = await c.say(c.tap(idOf(aspect, 'Excellent')));
    const [review] = await c.say(c.tap(idOf(comment, 'Skip')));
    expect(text(review)).toContain('public review');
    expect(review!.type === 'text' && review!.choices[0]).toMatchObject({ kind: 'url', url: 'https://g.page/r/dealer-review' });
    expect(await survey(customerId)).toMatchObject({ aspects: JSON.stringify({ advisor: 5 }), comment_skipped: 1, review_invited_at: clock.now().toISOString() });
  });

  it('a survey button of another customer, or made up, is an earlier conversation\'s button', async () => {
    const { c } = await collectedVisit();
    const [reply] = await c.say(c.tap(surveyButtons.id('answer', crypto.randomUUID(), 'sat', 5)));
    expect(text(reply)).toContain('earlier conversation');
  });
});
