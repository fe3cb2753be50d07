import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openComplaint } from '../../src/complaints/open';
import { manualClock } from '../../src/ops/clock';
import { DEMO_OPENING_HOURS } from '../../src/store/seed';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { apiToken } from '../helpers/staff';
import { dialects } from '../helpers/stores';
import { webCustomer } from '../complaints/helpers';

/*
 * The complaints API as a CRM or a care team's own tools use it: the four operations whose ids are a
 * contract, a care token that sees only its branches, bad input answered 400 with details, and the
 * deadlines each ticket carries.
 */

const MONDAY_10 = '2026-11-30T02:00:00.000Z';

describe.each(dialects)('complaints API on $name', (dialect) => {
  let svc: TestService;
  const clock = manualClock(MONDAY_10);
  let branchA: string;
  let branchB: string;

  beforeEach(async () => {
    clock.set(MONDAY_10);
    svc = await startTestService(dialect, testConfig({ DEFAULT_LOCALE: 'en' }), clock);
    branchA = (await svc.db.store.db.selectFrom('branches').select('id').executeTakeFirstOrThrow()).id;
    branchB = crypto.randomUUID();
    await svc.db.store.db
      .insertInto('branches')
      .values({ id: branchB, name: 'Kaohsiung', address: null, phone: null, map_url: null, time_zone: 'Asia/Taipei', opening_hours: JSON.stringify(DEMO_OPENING_HOURS), holidays: '[]', is_demo: 0, created_at: '2030-01-01T00:00:00.000Z', updated_at: '2030-01-01T00:00:00.000Z' })
      .execute();
  });
  afterEach(async () => {
    await svc.close();
  });

  /** A customer of branch A who asked for a person, and their ticket. */
  async function ticketInA(words: string) {
    const c = webCustomer(svc, clock);
    await c.say('human');
    await c.say(words);
    const row = await svc.db.store.db.selectFrom('complaints').selectAll().where('customer_id', '=', await c.customerId()).executeTakeFirstOrThrow();
    return { customer: c, id: row.id, reference: row.reference };
  }

  async function ticketInB() {
    const c = webCustomer(svc, clock);
    await c.say('hello');
    const customerId = await c.customerId();
    const opened = await svc.db.store.transaction((tx) =>
      openComplaint(tx, { customerId, branchId: branchB, source: 'chat', channel: 'web', category: 'price_invoice', messages: ['Charged twice'], priority: 'high', contactMethod: 'chat', actor: { type: 'customer', id: customerId, label: null, channel: 'web' } }, clock.now()),
    );
    return opened!;
  }

  it('publishes the four operations under their contract ids', async () => {
    const token = await apiToken(svc, 'care');
    const doc = (await (await token.request('/api/openapi.json')).json()) as { paths: Record<string, Record<string, { operationId?: string }>> };
    expect(doc.paths['/api/complaints']!.get!.operationId).toBe('listComplaints');
    expect(doc.paths['/api/complaints/{id}']!.get!.operationId).toBe('getComplaint');
    expect(doc.paths['/api/complaints/{id}/replies']!.post!.operationId).toBe('replyToComplaint');
    expect(doc.paths['/api/complaints/{id}/resolution']!.post!.operationId).toBe('resolveComplaint');
  });

  it('lets a care token list and read the complaints of its branches only, with the customer’s words and deadlines', async () => {
    const a = await ticketInA('The car still pulls to the left.');
    const b = await ticketInB();
    const careA = await apiToken(svc, 'care', [branchA]);
    const list = (await (await careA.request('/api/complaints')).json()) as { items: { id: string; reference: string; status: string; words: string; sla: string; deadlines: { firstResponse: { dueAt: string; state: string } } }[] };
    expect(list.items.map((i) => i.reference)).toEqual([a.reference]);
    expect(list.items[0]).toMatchObject({ status: 'new', words: 'The car still pulls to the left.', sla: 'on_track', deadlines: { firstResponse: { dueAt: '2026-11-30T02:30:00.000Z', state: 'on_track' } } });
    expect((await careA.request(`/api/complaints/${b.id}`)).status).toBe(404);
    expect((await careA.request(`/api/complaints?branchId=${branchB}`)).status).toBe(404);
    const all = await apiToken(svc, 'care');
    expect(((await (await all.request('/api/complaints')).json()) as { items: unknown[] }).items).toHaveLength(2);
    const atRisk = await all.request('/api/complaints?slaAtRisk=true');
    expect(((await atRisk.json()) as { items: unknown[] }).items).toHaveLength(0);
    clock.advance(25 * 60_000);
    expect(((await (await all.request('/api/complaints?slaAtRisk=true')).json()) as { items: { reference: string }[] }).items.map((i) => i.reference).sort()).toEqual([a.reference, b.reference].sort());
    expect(((await (await all.request('/api/complaints?category=price_invoice')).json()) as { items: { reference: string }[] }).items.map((i) => i.reference)).toEqual([b.reference]);
    expect((await all.request('/api/complaints?status=maybe')).status).toBe(400);

    const detail = (await (await careA.request(`/api/complaints/${a.id}`)).json()) as { timeline: { kind: string; text: string | null }[]; conversation: { heldByStaff: boolean; aboutThisTicket: boolean } };
    expect(detail.timeline.map((e) => e.kind)).toEqual(['opened', 'customer_message']);
    expect(detail.conversation).toEqual({ heldByStaff: true, aboutThisTicket: true, answeredBy: null });
  });

  it('answers through the customer’s channel, resolves, and refuses what it cannot do with a clear status', async () => {
    const a = await ticketInA('My invoice is wrong.');
    const care = await apiToken(svc, 'care', [branchA]);
    expect((await care.request(`/api/complaints/${a.id}/replies`, { json: {} })).status).toBe(400);
    const blank = await care.request(`/api/complaints/${a.id}/replies`, { json: { text: '   ' } });
    expect(blank.status).toBe(400);
    expect(await blank.json()).toMatchObject({ details: [{ field: 'text', code: 'textRequired' }] });
    const sent = await care.request(`/api/complaints/${a.id}/replies`, { json: { text: 'We are checking the invoice now.' } });
    expect(sent.status).toBe(202);
    expect(await sent.json()).toEqual({ status: 'queued', channel: 'web' });
    await svc.flush();
    expect((await a.customer.heard()).map((m) => (m.type === 'text' ? m.text : ''))).toContain('A member of our customer care team is answering you now.\n\nWe are checking the invoice now.');
    expect((await care.request(`/api/complaints/${a.id}/notes`, { json: { text: 'Customer is a fleet account.' } })).status).toBe(201);
    const resolved = await care.request(`/api/complaints/${a.id}/resolution`, { json: { resolution: 'Invoice corrected and sent again.' } });
    expect(resolved.status).toBe(200);
    expect(await resolved.json()).toEqual({ status: 'resolved', askedCustomer: true });
    const again = await care.request(`/api/complaints/${a.id}/resolution`, { json: { resolution: 'Twice?' } });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe('complaintNotOpen');
    expect((await care.request(`/api/complaints/${a.id}/replies`, { json: { text: 'late' } })).status).toBe(409);
    const advisor = await apiToken(svc, 'advisor');
    expect((await advisor.request(`/api/complaints/${a.id}/replies`, { json: { text: 'hi' } })).status).toBe(403);
    expect((await advisor.request(`/api/complaints/${a.id}`)).status).toBe(200);
    const timeline = ((await (await care.request(`/api/complaints/${a.id}`)).json()) as { timeline: { kind: string; actor: { type: string } }[] }).timeline;
    expect(timeline.map((e) => e.kind)).toEqual(['opened', 'customer_message', 'staff_message', 'note', 'resolved', 'handoff_ended']);
    expect(timeline.find((e) => e.kind === 'staff_message')!.actor.type).toBe('api_token');
    // Every change is in the audit log, saying which token did it.
    const audited = await svc.db.store.db.selectFrom('audit_log').select(['action', 'actor_type']).where('entity_id', '=', a.id).orderBy('id').execute();
    expect(audited).toEqual([
      { action: 'complaint.note', actor_type: 'api_token' },
      { action: 'complaint.resolve', actor_type: 'api_token' },
    ]);
  });
});
