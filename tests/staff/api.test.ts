import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/ops/clock';
import { silentLogger } from '../../src/ops/logger';
import { revokeApiToken } from '../../src/staff/auth/api-tokens';
import { registerApiDocsPage } from '../../src/staff/console/api-docs';
import { RouteRegistry } from '../../src/staff/guard';
import type { ConsoleEnv } from '../../src/staff/console/kit';
import { decodeCursor, encodeCursor } from '../../src/staff/api/cursor';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { apiToken, staffMember } from '../helpers/staff';
import { dialects } from '../helpers/stores';

type Token = Awaited<ReturnType<typeof apiToken>>;
type Json = Record<string, any>;

describe('API cursors', () => {
  it('round-trip a position and refuse anything else', () => {
    const position = { createdAt: '2026-03-14T02:30:00.000Z', id: '3f8e2a9c-5b7d-4e1f-9a2b-6c4d8e0f1a3b' };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
    expect(decodeCursor('not a cursor')).toBeNull();
    expect(decodeCursor(btoa(JSON.stringify(['k0', 'a', 'b'])))).toBeNull();
    expect(decodeCursor(btoa('{"createdAt":"x"}'))).toBeNull();
  });
});

describe.each(dialects)('staff API on $name', (dialect) => {
  let svc: TestService;
  const clock = manualClock('2026-03-14T02:00:00.000Z');
  let advisor: Token;
  let branchA: string;

  beforeEach(async () => {
    clock.set('2026-03-14T02:00:00.000Z');
    svc = await startTestService(dialect, testConfig({ DEFAULT_LOCALE: 'ja' }), clock);
    advisor = await apiToken(svc, 'advisor');
    branchA = (await db().selectFrom('branches').select('id').executeTakeFirstOrThrow()).id;
  });
  afterEach(async () => {
    await svc.close();
  });

  const db = () => svc.db.store.db;

  /** A request as an integration sends it; `body` is sent as is (for malformed JSON). */
  function call(token: string | null, path: string, init: { method?: string; json?: unknown; body?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers };
    if (init.json !== undefined || init.body !== undefined) headers['content-type'] ??= 'application/json';
    const method = init.method ?? (init.json !== undefined || init.body !== undefined ? 'POST' : 'GET');
    return Promise.resolve(svc.app.request(path, { method, headers, body: init.body ?? (init.json === undefined ? undefined : JSON.stringify(init.json)) }));
  }

  async function createCustomer(token: Token, fields: Json): Promise<Json> {
    const res = await call(token.token, '/api/customers', { json: fields });
    expect(res.status, JSON.stringify(await res.clone().json())).toBe(201);
    return (await res.json()) as Json;
  }

  const fieldsOf = (body: Json) => (body.details as { field: string }[]).map((d) => d.field).sort();

  it('refuses a request without a token, with a malformed, unknown or revoked one (401), before reading its body', async () => {
    const noToken = await call(null, '/api/customers');
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await noToken.json()) as Json).error).toMatch(/API token/);
    expect((await call('nonsense', '/api/customers')).status).toBe(401);
    expect((await call(`dct_abcdefgh_${'x'.repeat(43)}`, '/api/customers')).status).toBe(401);
    expect((await call(null, '/api/customers', { headers: { authorization: `Basic ${advisor.token}` } })).status).toBe(401);
    // Invalid input from someone without a token is still a 401: the guard runs before validation.
    expect((await call(null, '/api/customers', { body: '{not json' })).status).toBe(401);
    expect((await call(null, '/api/customers?limit=5000')).status).toBe(401);

    const revoked = await apiToken(svc, 'manager');
    expect((await call(revoked.token, '/api/customers')).status).toBe(200);
    const row = await db().selectFrom('api_tokens').select('id').where('name', '=', 'manager token').executeTakeFirstOrThrow();
    await revokeApiToken(db(), row.id, new Date());
    expect((await call(revoked.token, '/api/customers')).status).toBe(401);
    expect(await db().selectFrom('customers').select('id').execute()).toHaveLength(0);
  });

  it('refuses a role without the permission (403) before validating, and records nothing', async () => {
    for (const role of ['advisor', 'care', 'manager'] as const) {
      const token = await apiToken(svc, role);
      const res = await call(token.token, `/api/branches/${branchA}`, { method: 'PATCH', json: { name: 'Renamed', timeZone: 'Not/AZone', openingHours: 'closed' } });
      expect(res.status, role).toBe(403);
      expect(((await res.json()) as Json).error).toMatch(/branches\.write/);
    }
    expect((await db().selectFrom('branches').select('name').where('id', '=', branchA).executeTakeFirstOrThrow()).name).not.toBe('Renamed');
    expect(await db().selectFrom('audit_log').select('id').where('action', '=', 'branch.update').execute()).toHaveLength(0);
  });

  it('registers a customer who phoned in, changes them, and writes audit entries as the token', async () => {
    const created = await createCustomer(advisor, { displayName: '  Lin Mei ', phone: '0912-345-678', notes: 'Walked in for a quote', consent: true });
    expect(created).toMatchObject({ displayName: 'Lin Mei', phone: '0912345678', locale: 'ja', category: 'prospect', notes: 'Walked in for a quote', consentAt: '2026-03-14T02:00:00.000Z', optedOutAt: null });
    const row = await db().selectFrom('customers').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ display_name: 'Lin Mei', phone: '0912345678', merged_into_id: null, erased_at: null });
    expect(await db().selectFrom('channel_identities').select('id').where('customer_id', '=', created.id).execute()).toHaveLength(0);

    clock.advance(60_000);
    const patched = await call(advisor.token, `/api/customers/${created.id}`, { method: 'PATCH', json: { category: 'key_influencer', phone: '+886 912 345 679', notes: null } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ id: created.id, category: 'key_influencer', phone: '+886912345679', notes: null, consentAt: '2026-03-14T02:00:00.000Z', updatedAt: '2026-03-14T02:01:00.000Z' });
    const detail = (await (await call(advisor.token, `/api/customers/${created.id}`)).json()) as Json;
    expect(detail).toMatchObject({ id: created.id, category: 'key_influencer', identities: [], vehicles: [], suggestedCategory: 'key_influencer' });

    const tokenId = (await db().selectFrom('api_tokens').select('id').where('name', '=', 'advisor token').executeTakeFirstOrThrow()).id;
    const audit = await db().selectFrom('audit_log').selectAll().where('entity_id', '=', created.id).orderBy('id').execute();
    expect(audit.map((a) => [a.action, a.actor_type, a.actor_id, a.actor_label])).toEqual([
      ['customer.create', 'api_token', tokenId, 'token:advisor token'],
      ['customer.update', 'api_token', tokenId, 'token:advisor token'],
    ]);
    expect(JSON.parse(audit[1]!.before!)).toEqual({ category: 'prospect', phone: '0912345678', notes: 'Walked in for a quote' });
    expect(JSON.parse(audit[1]!.after!)).toEqual({ category: 'key_influencer', phone: '+886912345679', notes: null });
  });

  it('answers bad customer input with 400 and the fields at fault', async () => {
    const missing = await call(advisor.token, '/api/customers', { json: { phone: '12', locale: 'fr', category: 'vip' } });
    expect(missing.status).toBe(400);
    const body = (await missing.json()) as Json;
    expect(body.error).toBe('invalid request');
    expect(fieldsOf(body)).toEqual(['category', 'displayName', 'locale', 'phone']);
    expect(body.details.find((d: Json) => d.field === 'phone')).toMatchObject({ code: 'phoneInvalid', message: expect.stringContaining('6 to 15 digits') });

    const malformed = await call(advisor.token, '/api/customers', { body: '{"displayName": ' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: 'invalid request', details: [{ field: 'body', message: expect.stringMatching(/JSON/) }] });
    const notJson = await call(advisor.token, '/api/customers', { body: 'displayName=Lin', headers: { 'content-type': 'text/plain' } });
    expect(notJson.status).toBe(415);
    expect(((await notJson.json()) as Json).error).toMatch(/Media Type/);
    const array = await call(advisor.token, '/api/customers', { json: [] });
    expect(array.status).toBe(400);
    expect(fieldsOf((await array.json()) as Json)).toEqual(['body']);
    const noBody = await call(advisor.token, '/api/customers', { method: 'POST' });
    expect(noBody.status).toBe(400);
    const huge = JSON.stringify({ displayName: 'Big', notes: 'x'.repeat(70_000) });
    // Refused by its size before anything else, a token lookup included.
    expect((await call(null, '/api/customers', { body: huge })).status).toBe(413);
    expect((await call(advisor.token, '/api/customers', { body: huge })).status).toBe(413);
    const badQuery = await call(advisor.token, '/api/customers?limit=0&category=vip&updatedSince=yesterday&cursor=abc');
    expect(badQuery.status).toBe(400);
    expect(fieldsOf((await badQuery.json()) as Json)).toEqual(['category', 'limit', 'updatedSince']);
    const badCursor = await call(advisor.token, '/api/customers?cursor=abc');
    expect(badCursor.status).toBe(400);
    expect(fieldsOf((await badCursor.json()) as Json)).toEqual(['cursor']);
    expect(await db().selectFrom('customers').select('id').execute()).toHaveLength(0);
  });

  it('walks 60 customers in pages of 25 without duplicates or gaps, even when one is added midway', async () => {
    const ids: string[] = [];
    // Most share a creation time, so the order between them rests on the id alone.
    for (let i = 0; i < 60; i++) {
      if (i % 20 === 0) clock.advance(1);
      ids.push((await createCustomer(advisor, { displayName: `Customer ${String(i).padStart(2, '0')}` })).id as string);
    }
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    let added: string | null = null;
    do {
      const res = await call(advisor.token, `/api/customers?limit=25${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: Json[]; nextCursor: string | null };
      sizes.push(page.items.length);
      seen.push(...page.items.map((c) => c.id as string));
      cursor = page.nextCursor;
      if (!added) {
        clock.advance(1000);
        added = (await createCustomer(advisor, { displayName: 'Arrived while listing' })).id as string;
      }
    } while (cursor);
    expect(sizes).toEqual([25, 25, 11]);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...ids, added!].sort());
    expect(seen[seen.length - 1]).toBe(added);

    const small = (await (await call(advisor.token, '/api/customers')).json()) as { items: Json[]; nextCursor: string };
    expect(small.items).toHaveLength(25);
    expect(small.nextCursor).toEqual(expect.any(String));
  });

  it('finds customers by phone digits, plate, name, category and change time, leaving out merged and erased ones', async () => {
    const lin = await createCustomer(advisor, { displayName: 'Lin Mei', phone: '+886 912-345-678' });
    const chen = await createCustomer(advisor, { displayName: 'Chen Wei', phone: '0987654321', category: 'base' });
    const gone = await createCustomer(advisor, { displayName: 'Lin Gone', phone: '0912345000' });
    const erased = await createCustomer(advisor, { displayName: 'Lin Erased' });
    await db().updateTable('customers').set({ merged_into_id: lin.id as string }).where('id', '=', gone.id as string).execute();
    await db().updateTable('customers').set({ erased_at: clock.now().toISOString(), display_name: null }).where('id', '=', erased.id as string).execute();
    expect((await call(advisor.token, `/api/customers/${chen.id}/vehicles`, { json: { plate: 'abc-1234', make: 'Toyota' } })).status).toBe(201);

    const search = async (query: string) => ((await (await call(advisor.token, `/api/customers?${query}`)).json()) as { items: Json[] }).items.map((c) => c.displayName as string);
    expect(await search('q=0912-345-678')).toEqual(['Lin Mei']);
    expect(await search('q=912345')).toEqual(['Lin Mei']);
    expect(await search(`q=${encodeURIComponent('ABC 1234')}`)).toEqual(['Chen Wei']);
    expect(await search('q=lin')).toEqual(['Lin Mei']);
    expect(await search('category=base')).toEqual(['Chen Wei']);
    expect((await search('')).sort()).toEqual(['Chen Wei', 'Lin Mei']);

    clock.advance(60_000);
    const since = clock.now().toISOString();
    expect((await call(advisor.token, `/api/customers/${lin.id}`, { method: 'PATCH', json: { notes: 'Called back' } })).status).toBe(200);
    expect(await search(`updatedSince=${encodeURIComponent(since)}`)).toEqual(['Lin Mei']);
    expect(await search(`updatedSince=${encodeURIComponent('2026-03-14T10:01:00+08:00')}`)).toEqual(['Lin Mei']);
  });

  it('answers 404 for unknown, merged (naming the kept profile) and erased customers', async () => {
    const kept = await createCustomer(advisor, { displayName: 'Kept' });
    const merged = await createCustomer(advisor, { displayName: 'Merged' });
    const erased = await createCustomer(advisor, { displayName: 'Erased' });
    await db().updateTable('customers').set({ merged_into_id: kept.id as string }).where('id', '=', merged.id as string).execute();
    await db().updateTable('customers').set({ erased_at: clock.now().toISOString() }).where('id', '=', erased.id as string).execute();

    const unknown = await call(advisor.token, `/api/customers/${crypto.randomUUID()}`);
    expect(unknown.status).toBe(404);
    for (const res of [await call(advisor.token, `/api/customers/${merged.id}`), await call(advisor.token, `/api/customers/${merged.id}`, { method: 'PATCH', json: { notes: 'x' } })]) {
      expect(res.status).toBe(404);
      const body = (await res.json()) as Json;
      expect(body.mergedInto).toBe(kept.id);
      expect(body.error).toContain(kept.id as string);
    }
    for (const res of [
      await call(advisor.token, `/api/customers/${erased.id}`),
      await call(advisor.token, `/api/customers/${erased.id}/vehicles`),
      await call(advisor.token, `/api/customers/${erased.id}/vehicles`, { json: { plate: 'ABC1234' } }),
    ]) {
      expect(res.status).toBe(404);
      expect(((await res.json()) as Json).erased).toBe(true);
    }
    expect((await call(advisor.token, `/api/vehicles/${crypto.randomUUID()}`, { method: 'PATCH', json: { make: 'Mazda' } })).status).toBe(404);
    expect(await db().selectFrom('vehicles').select('id').execute()).toHaveLength(0);
  });

  it('validates vehicles field by field, stores the plate normalised, and finds it by plate', async () => {
    const owner = await createCustomer(advisor, { displayName: 'Owner' });
    const nextYear = clock.now().getUTCFullYear() + 1;

    const bad = await call(advisor.token, `/api/customers/${owner.id}/vehicles`, { json: { plate: 'A', year: 1949, vin: 'JTDBR32E7I0123456', mileageKm: -5 } });
    expect(bad.status).toBe(400);
    const badBody = (await bad.json()) as Json;
    expect(fieldsOf(badBody)).toEqual(['mileageKm', 'plate', 'vin', 'year']);
    expect(badBody.details.find((d: Json) => d.field === 'year')).toMatchObject({ code: 'yearRange', message: `The year must be between 1950 and ${nextYear}.` });
    expect(badBody.details.find((d: Json) => d.field === 'vin').message).toMatch(/without I, O or Q/);

    const noPlate = await call(advisor.token, `/api/customers/${owner.id}/vehicles`, { json: { make: 'Toyota' } });
    expect(noPlate.status).toBe(400);
    expect(((await noPlate.json()) as Json).details).toEqual([{ field: 'plate', code: 'plateRequired', message: 'Enter the plate.' }]);
    const tooNew = await call(advisor.token, `/api/customers/${owner.id}/vehicles`, { json: { plate: 'ABC1234', year: nextYear + 1 } });
    expect(tooNew.status).toBe(400);
    expect(fieldsOf((await tooNew.json()) as Json)).toEqual(['year']);
    expect(await db().selectFrom('vehicles').select('id').execute()).toHaveLength(0);

    const created = await call(advisor.token, `/api/customers/${owner.id}/vehicles`, { json: { plate: ' abc-1234 ', make: 'Toyota', model: 'Corolla', year: nextYear, vin: 'jtdbr32e720123456', mileageKm: 12000 } });
    expect(created.status).toBe(201);
    const vehicle = (await created.json()) as Json;
    expect(vehicle).toMatchObject({ customerId: owner.id, plate: 'abc-1234', plateNormalized: 'ABC1234', vin: 'JTDBR32E720123456', year: nextYear, mileageKm: 12000 });
    expect(await db().selectFrom('vehicles').select(['plate_normalized', 'vin']).where('id', '=', vehicle.id as string).executeTakeFirstOrThrow()).toEqual({ plate_normalized: 'ABC1234', vin: 'JTDBR32E720123456' });

    const badPatch = await call(advisor.token, `/api/vehicles/${vehicle.id}`, { method: 'PATCH', json: { mileageKm: 'lots', plate: null } });
    expect(badPatch.status).toBe(400);
    expect(fieldsOf((await badPatch.json()) as Json)).toEqual(['mileageKm', 'plate']);
    const patched = await call(advisor.token, `/api/vehicles/${vehicle.id}`, { method: 'PATCH', json: { mileageKm: 15000, plate: 'ABC 1235' } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ mileageKm: 15000, plate: 'ABC 1235', plateNormalized: 'ABC1235', make: 'Toyota' });

    const listed = (await (await call(advisor.token, `/api/customers/${owner.id}/vehicles`)).json()) as { items: Json[] };
    expect(listed.items.map((v) => v.id)).toEqual([vehicle.id]);
    const found = (await (await call(advisor.token, `/api/vehicles?plate=${encodeURIComponent('abc-1235')}`)).json()) as { items: Json[] };
    expect(found.items.map((v) => [v.id, v.customerId])).toEqual([[vehicle.id, owner.id]]);
    expect(((await (await call(advisor.token, '/api/vehicles?plate=ABC1234')).json()) as { items: Json[] }).items).toEqual([]);
    const noQuery = await call(advisor.token, '/api/vehicles');
    expect(noQuery.status).toBe(400);
    expect(fieldsOf((await noQuery.json()) as Json)).toEqual(['plate']);
    expect((await call(advisor.token, '/api/vehicles?plate=%23%23')).status).toBe(400);

    const audit = await db().selectFrom('audit_log').select(['action', 'actor_type', 'entity_id']).where('entity', '=', 'vehicle').orderBy('id').execute();
    expect(audit).toEqual([
      { action: 'vehicle.create', actor_type: 'api_token', entity_id: vehicle.id },
      { action: 'vehicle.update', actor_type: 'api_token', entity_id: vehicle.id },
    ]);
  });

  it('shows a customer’s channels with their platform ids and vehicles', async () => {
    await svc.engine.handle({ channel: 'web', eventId: `e-${crypto.randomUUID()}`, externalId: 'visitor-api-1', occurredAt: clock.now().toISOString(), replyToken: null, profile: null, input: { type: 'text', text: 'hello' } });
    await svc.flush();
    const id = (await db().selectFrom('channel_identities').select('customer_id').where('external_id', '=', 'visitor-api-1').executeTakeFirstOrThrow()).customer_id;
    await call(advisor.token, `/api/customers/${id}/vehicles`, { json: { plate: 'XYZ-987' } });
    const detail = (await (await call(advisor.token, `/api/customers/${id}`)).json()) as Json;
    expect(detail.identities).toEqual([expect.objectContaining({ channel: 'web', externalId: 'visitor-api-1', reachable: true })]);
    expect(detail.vehicles).toEqual([expect.objectContaining({ plate: 'XYZ-987', plateNormalized: 'XYZ987' })]);
    expect(detail.suggestedCategory).toBe('base');
  });

  it('limits branches to the token’s: another branch is not found', async () => {
    const now = clock.now().toISOString();
    const branchB = crypto.randomUUID();
    await db()
      .insertInto('branches')
      .values({ id: branchB, name: 'Zhongli', address: null, phone: null, map_url: null, time_zone: 'Asia/Taipei', opening_hours: JSON.stringify({ mon: [['09:00', '18:00']], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] }), holidays: '[]', is_demo: 0, created_at: now, updated_at: now })
      .execute();
    const scoped = await apiToken(svc, 'manager', [branchA]);

    const list = (await (await call(scoped.token, '/api/branches')).json()) as { items: Json[] };
    expect(list.items.map((b) => b.id)).toEqual([branchA]);
    expect(list.items[0]).toMatchObject({ id: branchA, isDemo: true, openingHours: expect.objectContaining({ mon: expect.any(Array) }) });
    expect((await call(scoped.token, `/api/branches/${branchA}`)).status).toBe(200);
    const hidden = await call(scoped.token, `/api/branches/${branchB}`);
    expect(hidden.status).toBe(404);
    expect(await hidden.json()).toEqual({ error: 'no such branch' });

    const everywhere = (await (await call(advisor.token, '/api/branches')).json()) as { items: Json[] };
    expect(everywhere.items.map((b) => b.id).sort()).toEqual([branchA, branchB].sort());
    const b = (await (await call(advisor.token, `/api/branches/${branchB}`)).json()) as Json;
    expect(b).toMatchObject({ name: 'Zhongli', timeZone: 'Asia/Taipei', holidays: [], openingHours: { mon: [['09:00', '18:00']], sun: [] } });
  });

  it('changes a branch only for the administrator role, with the console’s branch rules', async () => {
    // The console never issues an administrator token; one made directly shows the route does what it documents.
    const admin = await apiToken(svc, 'admin');
    const bad = await call(admin.token, `/api/branches/${branchA}`, { method: 'PATCH', json: { timeZone: 'Mars/Olympus', openingHours: { mon: [['18:00', '09:00']] }, holidays: ['2026-02-30'] } });
    expect(bad.status).toBe(400);
    expect(fieldsOf((await bad.json()) as Json)).toEqual(['holidays', 'openingHours.mon', 'timeZone']);
    const ok = await call(admin.token, `/api/branches/${branchA}`, { method: 'PATCH', json: { name: 'Taoyuan', openingHours: { sun: [['10:00', '14:00']] }, holidays: ['2026-04-04'] } });
    expect(ok.status).toBe(200);
    const branch = (await ok.json()) as Json;
    expect(branch).toMatchObject({ name: 'Taoyuan', holidays: ['2026-04-04'], openingHours: { sun: [['10:00', '14:00']] } });
    expect(branch.openingHours.mon.length).toBeGreaterThan(0);
    const audit = await db().selectFrom('audit_log').select(['action', 'actor_type', 'before', 'after']).where('entity_id', '=', branchA).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'branch.update', actor_type: 'api_token' });
    expect(JSON.parse(audit[0]!.after!).name).toBe('Taoyuan');
  });

  it('serves its OpenAPI 3.1 document to any valid token, listing every API route', async () => {
    expect((await call(null, '/api/openapi.json')).status).toBe(401);
    const care = await apiToken(svc, 'care');
    const res = await call(care.token, '/api/openapi.json');
    expect(res.status).toBe(200);
    const doc = JSON.parse(await res.text()) as Json;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: expect.any(String), version: '1' });
    expect(doc.servers).toEqual([{ url: '/' }]);
    expect(doc.components.securitySchemes.apiToken).toMatchObject({ type: 'http', scheme: 'bearer' });

    const apiRoutes = svc.routes.routes.filter((r) => r.path.startsWith('/api/'));
    expect(apiRoutes.length).toBeGreaterThanOrEqual(12);
    for (const r of apiRoutes) {
      const path = r.path.replace(/:([A-Za-z]+)/g, '{$1}');
      const op = doc.paths[path]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${path}`).toBeDefined();
      expect(op.security).toEqual([{ apiToken: [] }]);
      expect(op.description).toContain(r.permission);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['400', '401', '403']));
    }
    // Every path in the document is one the app serves.
    const served = new Set(svc.app.routes.map((r) => `${r.method} ${r.path}`));
    for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) for (const method of Object.keys(item)) expect(served, `${method} ${path}`).toContain(`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`);
  });

  it('renders the API reference in the console from the same document, with nothing loaded from elsewhere', async () => {
    const csrfSecret = (await db().selectFrom('settings').select('value').where('key', '=', 'console_csrf_secret').executeTakeFirstOrThrow()).value;
    const registry = new RouteRegistry();
    const consoleApp = new Hono<ConsoleEnv>();
    registerApiDocsPage(consoleApp, { store: svc.db.store, clock, config: svc.config, translator: svc.translator, logger: silentLogger, registry, csrfSecret });
    expect(registry.routes.map((r) => `${r.method} ${r.path} ${r.permission}`)).toEqual(['GET /console/api console.use', 'GET /console/api/openapi.json console.use']);

    const staff = await staffMember(svc, 'care');
    const anonymous = await consoleApp.request('/console/api');
    expect(anonymous.status).toBe(302);
    const res = await consoleApp.request('/console/api', { headers: { cookie: staff.cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const path of ['/api/customers', '/api/customers/{id}', '/api/customers/{id}/vehicles', '/api/vehicles/{id}', '/api/branches/{id}', '/api/openapi.json']) expect(html).toContain(`<code>${path}</code>`);
    expect(html).toContain('Register a customer who phoned or walked in');
    expect(html).toContain('id="schema-VehicleCreate"');
    expect(html).toContain('&quot;maxLength&quot;:20');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toContain('<script');

    const docRes = await consoleApp.request('/console/api/openapi.json', { headers: { cookie: staff.cookie } });
    expect(docRes.status).toBe(200);
    const viaToken = (await (await call(advisor.token, '/api/openapi.json')).json()) as Json;
    expect(await docRes.json()).toEqual(viaToken);
  });
});
