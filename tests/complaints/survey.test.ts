import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderReplies } from '../../src/channels/render';
import { openComplaintFromSurvey } from '../../src/complaints/open';
import { manualClock } from '../../src/ops/clock';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { dialects } from '../helpers/stores';
import { staffFor, webCustomer } from './helpers';

/* What a CSI survey calls for a low satisfaction score: a complaint a person follows up, and words for the customer. */

describe.each(dialects)('a complaint from a survey on $name', (dialect) => {
  let svc: TestService;
  const clock = manualClock('2026-11-30T02:00:00.000Z');

  beforeEach(async () => {
    svc = await startTestService(dialect, testConfig({ DEFAULT_LOCALE: 'en' }), clock);
  });
  afterEach(async () => {
    await svc.close();
  });

  it('opens a complaint for "very dissatisfied", assigned and with words for the customer; none for a fair score', async () => {
    const care = await staffFor(svc, 'care', { onDuty: true, clock });
    const c = webCustomer(svc, clock);
    await c.say('hello');
    const customerId = await c.customerId();
    const input = { customerId, comment: 'Nobody told me the car was ready.', channel: 'web' as const, locale: 'en' as const };
    expect(await svc.db.store.transaction((tx) => openComplaintFromSurvey(tx, { ...input, score: 3 }, clock.now()))).toBeNull();
    const opened = await svc.db.store.transaction((tx) => openComplaintFromSurvey(tx, { ...input, score: 1 }, clock.now()));
    expect(opened!.complaint.row).toMatchObject({ source: 'survey', category: 'service_quality', priority: 'high', assignee_id: care.id, description: 'Nobody told me the car was ready.' });
    const [said] = renderReplies(svc.translator, 'en', opened!.replies);
    expect(said).toMatchObject({ type: 'text' });
    expect(said!.type === 'text' && said!.text).toBe(`We're sorry your visit fell short. We have opened complaint ${opened!.complaint.reference} so that a person follows it up with you.\n\nA person from our team will answer within 30 minutes.`);
    expect(await svc.db.store.db.selectFrom('complaints').select('priority').where('customer_id', '=', customerId).execute()).toEqual([{ priority: 'high' }]);
  });
});
