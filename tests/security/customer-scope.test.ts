import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { apiToken, staffMember, type SignedInStaff } from '../helpers/staff';
import { dialects } from '../helpers/stores';

/*
 * A token or a staff member of one branch sees the customers tied to their branches (an appointment, a
 * repair order or a complaint there) and the customers tied to none; not those of other branches. Admins and
 * whoever has every branch see all. The console and the API go through the same rule.
 */
describe.each(dialects)('customers seen from one branch on $name', (dialect) => {
  let svc: TestService;
  let branchA: string;
  let branchB: string;
  const ids = { ofA: '', ofB: '', untied: '' };
  let vehicleOfA = '';
  let tokenB: Awaited<ReturnType<typeof apiToken>>;
  let advisorB: SignedInStaff;
  let seq = 0;

  async function repairOrderAt(branchId: string, customerId: string) {
    seq += 1;
    const now = new Date().toISOString();
    await svc.db.store.db
      .insertInto('repair_orders')
      .values({
        id: crypto.randomUUID(),
        seq: 9000 + seq,
        number: `RO-SCOPE-${seq}`,
        appointment_id: null,
        branch_id: branchId,
        customer_id: customerId,
        vehicle_id: null,
        advisor_id: null,
        status: 'checked_in',
        mileage_in: null,
        version: 1,
        created_at: now,
        updated_at: now,
        dms_number: null,
        promised_at: null,
        estimated_amount: null,
        final_amount: null,
        work_summary: null,
        status_changed_at: null,
        ready_at: null,
        collected_at: null,
        pickup_planned_at: null,
      })
      .execute();
  }

  beforeAll(async () => {
    svc = await startTestService(dialect, testConfig());
    const db = svc.db.store.db;
    branchA = (await db.selectFrom('branches').select('id').executeTakeFirstOrThrow()).id;
    branchB = crypto.randomUUID();
    const now = new Date().toISOString();
    await db
      .insertInto('branches')
      .values({ id: branchB, name: 'North', address: null, phone: null, map_url: null, time_zone: 'Asia/Taipei', opening_hours: '{}', holidays: '[]', is_demo: 0, created_at: now, updated_at: now })
      .execute();
    const admin = await apiToken(svc, 'admin', 'all');
    for (const [key, name, phone] of [['ofA', 'Amy Southside', '+886912000001'], ['ofB', 'Ben Northside', '+886912000002'], ['untied', 'Uma Newcomer', '+886912000003']] as const) {
      const res = await admin.request('/api/customers', { json: { displayName: name, phone } });
      expect(res.status).toBe(201);
      ids[key] = ((await res.json()) as { id: string }).id;
    }
    const vehicle = await admin.request(`/api/customers/${ids.ofA}/vehicles`, { json: { plate: 'SCO-7788' } });
    expect(vehicle.status).toBe(201);
    vehicleOfA = ((await vehicle.json()) as { id: string }).id;
    await repairOrderAt(branchA, ids.ofA);
    await repairOrderAt(branchB, ids.ofB);
    tokenB = await apiToken(svc, 'advisor', [branchB]);
    advisorB = await staffMember(svc, 'advisor', { branchIds: [branchB] });
  });
  afterAll(async () => {
    await svc.close();
  });

  it('the API: a branch token neither reads nor changes a customer of another branch, nor lists them', async () => {
    const read = await tokenB.request(`/api/customers/${ids.ofA}`);
    expect(read.status).toBe(404);
    expect(await read.text()).not.toContain('912000001');
    expect((await tokenB.request(`/api/customers/${ids.ofA}`, { method: 'PATCH', json: { notes: 'changed from North' } })).status).toBe(404);
    const stored = await svc.db.store.db.selectFrom('customers').select('notes').where('id', '=', ids.ofA).executeTakeFirstOrThrow();
    expect(stored.notes).not.toBe('changed from North');
    expect((await tokenB.request(`/api/customers/${ids.ofA}/vehicles`)).status).toBe(404);
    expect((await tokenB.request(`/api/vehicles/${vehicleOfA}`, { method: 'PATCH', json: { model: 'Changed' } })).status).toBe(404);
    const byPlate = (await (await tokenB.request('/api/vehicles?plate=SCO-7788')).json()) as { items: unknown[] };
    expect(byPlate.items).toEqual([]);

    const list = (await (await tokenB.request('/api/customers?limit=100')).json()) as { items: { id: string }[] };
    const listed = list.items.map((c) => c.id);
    expect(listed).toContain(ids.ofB);
    expect(listed).toContain(ids.untied);
    expect(listed).not.toContain(ids.ofA);

    // Its own branch's customers and the untied ones it reads and changes.
    expect((await tokenB.request(`/api/customers/${ids.ofB}`)).status).toBe(200);
    expect((await tokenB.request(`/api/customers/${ids.untied}`, { method: 'PATCH', json: { notes: 'called back' } })).status).toBe(200);
  });

  it('the API: admins and tokens of every branch see everyone', async () => {
    for (const token of [await apiToken(svc, 'admin', 'all'), await apiToken(svc, 'manager', 'all'), await apiToken(svc, 'advisor', [branchA])]) {
      expect((await token.request(`/api/customers/${ids.ofA}`)).status).toBe(200);
    }
    const managerOfA = await apiToken(svc, 'manager', [branchA]);
    expect((await managerOfA.request(`/api/customers/${ids.ofB}`)).status).toBe(404);
  });

  it('the console: an advisor of one branch does not see, open or change a customer of another', async () => {
    const list = await (await advisorB.request('/console/customers')).text();
    expect(list).toContain('Ben Northside');
    expect(list).toContain('Uma Newcomer');
    expect(list).not.toContain('Amy Southside');
    const search = await (await advisorB.request('/console/customers?q=Amy')).text();
    expect(search).not.toContain('Amy Southside');

    const profile = await advisorB.request(`/console/customers/${ids.ofA}`);
    expect(profile.status).toBe(404);
    expect(await profile.text()).not.toContain('912000001');
    expect((await advisorB.request(`/console/customers/${ids.ofA}/conversation`)).status).toBe(404);
    const edit = await advisorB.request(`/console/customers/${ids.ofA}`, { form: { displayName: 'Amy Southside', notes: 'changed from North' } });
    expect(edit.status).toBe(404);
    const stored = await svc.db.store.db.selectFrom('customers').select('notes').where('id', '=', ids.ofA).executeTakeFirstOrThrow();
    expect(stored.notes).not.toBe('changed from North');

    expect((await advisorB.request(`/console/customers/${ids.ofB}`)).status).toBe(200);
    const admin = await staffMember(svc, 'admin');
    expect((await admin.request(`/console/customers/${ids.ofA}`)).status).toBe(200);
    expect(await (await admin.request('/console/customers')).text()).toContain('Amy Southside');
  });

  it('a customer becomes another branch’s too once they have a record there', async () => {
    const before = await tokenB.request(`/api/customers/${ids.ofA}`);
    expect(before.status).toBe(404);
    await repairOrderAt(branchB, ids.ofA);
    expect((await tokenB.request(`/api/customers/${ids.ofA}`)).status).toBe(200);
  });
});
