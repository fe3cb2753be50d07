import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { erasureCode } from '../../src/staff/customers/erase';
import { TEST_LINE_SECRET, testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { staffMember, type SignedInStaff } from '../helpers/staff';
import { dialects } from '../helpers/stores';
import { startFakeLineApi, type FakeLineApi } from '../fakes/line-api';

let seq = 0;
const lineUser = () => `U${crypto.randomUUID().replace(/-/g, '')}`;

describe.each(dialects)('console customers on $name', (dialect) => {
  let line: FakeLineApi;
  let svc: TestService;
  let advisor: SignedInStaff;
  let manager: SignedInStaff;

  beforeAll(async () => {
    line = await startFakeLineApi();
  });
  afterAll(async () => {
    await line.close();
  });
  beforeEach(async () => {
    svc = await startTestService(dialect, testConfig({ DEFAULT_LOCALE: 'en' }, { line: line.url }));
    advisor = await staffMember(svc, 'advisor');
    manager = await staffMember(svc, 'manager');
  });
  afterEach(async () => {
    await svc.close();
  });

  const db = () => svc.db.store.db;

  /** A customer writes on LINE: a signed webhook as LINE sends it, then the background work runs. */
  async function lineSays(userId: string, text: string): Promise<string> {
    seq += 1;
    const body = JSON.stringify({
      destination: 'Ubot',
      events: [
        {
          type: 'message',
          mode: 'active',
          timestamp: Date.now(),
          source: { type: 'user', userId },
          webhookEventId: `01K${String(seq).padStart(8, '0')}${crypto.randomUUID().replace(/-/g, '').slice(0, 15).toUpperCase()}`,
          deliveryContext: { isRedelivery: false },
          message: { id: String(5000 + seq), type: 'text', text },
        },
      ],
    });
    const signature = createHmac('sha256', TEST_LINE_SECRET).update(body).digest('base64');
    const res = await svc.app.request('/webhooks/line', { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': signature }, body });
    expect(res.status).toBe(200);
    await svc.flush();
    return customerOf('line', userId);
  }

  /** A visitor writes in the web chat (the engine path /chat posts into). */
  async function webSays(visitorId: string, text: string): Promise<string> {
    seq += 1;
    await svc.engine.handle({
      channel: 'web',
      eventId: `web-${seq}-${crypto.randomUUID()}`,
      externalId: visitorId,
      occurredAt: new Date().toISOString(),
      replyToken: null,
      profile: { displayName: null, languageHint: 'en' },
      input: { type: 'text', text },
    });
    await svc.flush();
    return customerOf('web', visitorId);
  }

  async function customerOf(channel: 'line' | 'web', externalId: string): Promise<string> {
    const row = await db().selectFrom('channel_identities').select('customer_id').where('channel', '=', channel).where('external_id', '=', externalId).executeTakeFirstOrThrow();
    return row.customer_id;
  }

  const auditOf = (action: string) => db().selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();
  const countOf = async (table: 'messages' | 'channel_identities' | 'vehicles' | 'outbox', customerId: string) =>
    (await db().selectFrom(table).select('customer_id').where('customer_id', '=', customerId).execute()).length;

  async function edit(staff: SignedInStaff, id: string, fields: Record<string, string>) {
    return staff.request(`/console/customers/${id}`, { form: { displayName: '', phone: '', locale: 'en', category: 'prospect', notes: '', ...fields } });
  }

  describe('list and search', () => {
    it('finds customers by part of the name, by phone digits however typed, and by plate however spaced', async () => {
      const mei = await webSays('visitor-mei', 'hello');
      const ken = await webSays('visitor-ken', 'hello');
      expect((await edit(advisor, mei, { displayName: 'Lin Mei-Hua', phone: '+886 912-345-678' })).status).toBe(303);
      expect((await edit(advisor, ken, { displayName: 'Sato Ken', phone: '03-1234-5555' })).status).toBe(303);
      expect((await advisor.request(`/console/customers/${ken}/vehicles`, { form: { plate: 'abc-1234', make: 'Toyota' } })).status).toBe(303);

      const search = async (q: string) => {
        const res = await advisor.request(`/console/customers?q=${encodeURIComponent(q)}`);
        expect(res.status).toBe(200);
        const html = await res.text();
        return { mei: html.includes(`/console/customers/${mei}"`), ken: html.includes(`/console/customers/${ken}"`), html };
      };
      expect(await search('mei-hua')).toMatchObject({ mei: true, ken: false });
      expect(await search('0912-345-678')).toMatchObject({ mei: true, ken: false });
      expect(await search('912345678')).toMatchObject({ mei: true, ken: false });
      expect(await search('ABC 1234')).toMatchObject({ mei: false, ken: true });
      expect(await search('c12')).toMatchObject({ mei: false, ken: true });
      expect(await search('nobody at all')).toMatchObject({ mei: false, ken: false });

      const all = await search('');
      expect(all).toMatchObject({ mei: true, ken: true });
      // Phones are masked in the list except the last three digits; the plate and channel are shown.
      expect(all.html).toContain('+•••••••••678');
      expect(all.html).not.toContain('912345678');
      expect(all.html).toContain('abc-1234');
      expect(all.html).toContain('Web chat');
    });

    it('pages through 25 customers at a time', async () => {
      const now = new Date();
      for (let i = 0; i < 27; i++) {
        const at = new Date(now.getTime() - i * 60_000).toISOString();
        await db()
          .insertInto('customers')
          .values({ id: crypto.randomUUID(), display_name: `Paged ${String(i).padStart(2, '0')}`, phone: null, locale: 'en', category: 'prospect', notes: null, consent_at: null, opted_out_at: null, erased_at: null, merged_into_id: null, created_at: at, updated_at: at })
          .execute();
      }
      const first = await (await advisor.request('/console/customers?q=Paged')).text();
      expect(first.match(/Paged \d\d/g)).toHaveLength(25);
      expect(first).toContain('Paged 00');
      expect(first).toContain('href="/console/customers?q=Paged&amp;page=2"');
      const second = await (await advisor.request('/console/customers?q=Paged&page=2')).text();
      expect(second.match(/Paged \d\d/g)).toEqual(['Paged 25', 'Paged 26']);
      expect(second).not.toContain('page=3');
    });
  });

  describe('profile', () => {
    it('refuses bad details with a 400 and the reason, and saves good ones normalised, with an audit entry', async () => {
      const id = await webSays('visitor-edit', 'hi');
      const bad = await edit(advisor, id, { displayName: 'Chen', phone: 'call me maybe' });
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('Enter a phone number');
      expect((await db().selectFrom('customers').select('display_name').where('id', '=', id).executeTakeFirstOrThrow()).display_name).toBeNull();
      expect(await auditOf('customer.update')).toHaveLength(0);

      const good = await edit(advisor, id, { displayName: 'Chen Wei', phone: '+886 (912) 345-678', locale: 'ja', category: 'key_influencer', consent: '1', notes: 'Prefers mornings' });
      expect(good.status).toBe(303);
      expect(good.headers.get('location')).toBe(`/console/customers/${id}?flash=saved`);
      const saved = await db().selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      expect(saved).toMatchObject({ display_name: 'Chen Wei', phone: '+886912345678', locale: 'ja', category: 'key_influencer', notes: 'Prefers mornings', opted_out_at: null });
      expect(saved.consent_at).not.toBeNull();
      const [entry] = await auditOf('customer.update');
      expect(entry).toMatchObject({ actor_id: advisor.id, entity: 'customer', entity_id: id });
      expect(JSON.parse(entry!.before!)).toMatchObject({ display_name: null, phone: null });
      expect(JSON.parse(entry!.after!)).toMatchObject({ display_name: 'Chen Wei', phone: '+886912345678' });

      // Saving again keeps when consent was given; unticking withdraws it.
      await edit(advisor, id, { displayName: 'Chen Wei', phone: '+886912345678', locale: 'ja', category: 'key_influencer', consent: '1', notes: 'Prefers mornings' });
      expect((await db().selectFrom('customers').select('consent_at').where('id', '=', id).executeTakeFirstOrThrow()).consent_at).toBe(saved.consent_at);
      await edit(advisor, id, { displayName: 'Chen Wei', phone: '+886912345678', locale: 'ja', category: 'key_influencer', notes: 'Prefers mornings' });
      expect((await db().selectFrom('customers').select('consent_at').where('id', '=', id).executeTakeFirstOrThrow()).consent_at).toBeNull();

      const page = await (await advisor.request(`/console/customers/${id}?flash=saved`)).text();
      expect(page).toContain('Chen Wei');
      expect(page).toContain('Saved.');
      expect(page).toContain('Key influencer');
    });

    it('adds and edits vehicles with validation, and suggests the base category once a car is registered', async () => {
      const id = await webSays('visitor-car', 'hi');
      const add = (form: Record<string, string>) => advisor.request(`/console/customers/${id}/vehicles`, { form });
      const missing = await add({ plate: '  ', make: 'Toyota' });
      expect(missing.status).toBe(400);
      expect(await missing.text()).toContain('Enter the plate.');
      const oldYear = await add({ plate: 'ABC-1234', year: '1900' });
      expect(oldYear.status).toBe(400);
      expect(await oldYear.text()).toContain(`between 1950 and ${new Date().getUTCFullYear() + 1}`);
      const badVin = await add({ plate: 'ABC-1234', vin: 'JTDBR32E7I0123456' });
      expect(badVin.status).toBe(400);
      expect(await badVin.text()).toContain('17 letters and digits');
      expect((await add({ plate: 'A', make: 'Toyota' })).status).toBe(400);
      expect(await countOf('vehicles', id)).toBe(0);

      const ok = await add({ plate: 'abc 1234', make: 'Toyota', model: 'Corolla Cross', year: '2022', vin: 'jtdbr32e720123456', mileageKm: '12,500' });
      expect(ok.status).toBe(303);
      const vehicle = await db().selectFrom('vehicles').selectAll().where('customer_id', '=', id).executeTakeFirstOrThrow();
      expect(vehicle).toMatchObject({ plate: 'abc 1234', plate_normalized: 'ABC1234', make: 'Toyota', model: 'Corolla Cross', year: 2022, vin: 'JTDBR32E720123456', mileage_km: 12500 });
      expect(await auditOf('vehicle.create')).toMatchObject([{ entity: 'vehicle', entity_id: vehicle.id, actor_id: advisor.id }]);

      const negative = await advisor.request(`/console/customers/${id}/vehicles/${vehicle.id}`, { form: { plate: 'ABC-1234', mileageKm: '-5' } });
      expect(negative.status).toBe(400);
      expect(await negative.text()).toContain('between 0 and 10,000,000 km');
      const edited = await advisor.request(`/console/customers/${id}/vehicles/${vehicle.id}`, { form: { plate: 'ABC-1234', make: 'Toyota', model: 'Corolla Cross', year: '2022', vin: '', mileageKm: '15000' } });
      expect(edited.status).toBe(303);
      expect(await db().selectFrom('vehicles').selectAll().where('id', '=', vehicle.id).executeTakeFirstOrThrow()).toMatchObject({ plate_normalized: 'ABC1234', vin: null, mileage_km: 15000 });
      const [update] = await auditOf('vehicle.update');
      expect(JSON.parse(update!.after!)).toMatchObject({ mileage_km: 15000, vin: null, plate: 'ABC-1234' });

      const page = await (await advisor.request(`/console/customers/${id}`)).text();
      expect(page).toContain('Records suggest: Base customer');
    });
  });

  it('merges a LINE-only and a web-only profile of one person: channels and messages move, the merged one leads to the kept one', async () => {
    const userId = lineUser();
    const kept = await lineSays(userId, 'hello from LINE');
    const merged = await webSays('visitor-merge', 'hello from the web');
    await edit(advisor, merged, { displayName: 'Wang Da-Ming', phone: '0912000111', notes: 'Wrote on the web first' });
    const keptMessages = await countOf('messages', kept);
    const mergedMessages = await countOf('messages', merged);
    expect(mergedMessages).toBeGreaterThan(0);

    const res = await manager.request(`/console/customers/${merged}/merge`, { form: { into: kept } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/console/customers/${kept}?flash=merged`);

    expect((await db().selectFrom('channel_identities').select('channel').where('customer_id', '=', kept).orderBy('channel').execute()).map((i) => i.channel)).toEqual(['line', 'web']);
    expect(await countOf('messages', kept)).toBe(keptMessages + mergedMessages);
    expect(await countOf('messages', merged)).toBe(0);
    expect(await db().selectFrom('conversations').select('id').where('customer_id', '=', merged).execute()).toHaveLength(0);
    expect(await db().selectFrom('customers').selectAll().where('id', '=', merged).executeTakeFirstOrThrow()).toMatchObject({ merged_into_id: kept });
    // The kept profile had no name or phone: they come from the merged one.
    expect(await db().selectFrom('customers').selectAll().where('id', '=', kept).executeTakeFirstOrThrow()).toMatchObject({ display_name: 'Wang Da-Ming', phone: '0912000111', merged_into_id: null });
    const [entry] = await auditOf('customer.merge');
    expect(entry).toMatchObject({ entity_id: kept, actor_id: manager.id });
    expect(JSON.parse(entry!.after!)).toMatchObject({ keptId: kept, mergedId: merged, moved: { channel_identities: 1, messages: mergedMessages } });

    const old = await manager.request(`/console/customers/${merged}`);
    expect(old.status).toBe(302);
    expect(old.headers.get('location')).toBe(`/console/customers/${kept}`);
    expect((await manager.request(`/console/customers/${merged}/conversation`)).headers.get('location')).toBe(`/console/customers/${kept}/conversation`);
    const list = await (await manager.request('/console/customers')).text();
    expect(list).toContain(`/console/customers/${kept}"`);
    expect(list).not.toContain(`/console/customers/${merged}"`);

    // The web visitor writing again is the kept customer now.
    expect(await webSays('visitor-merge', 'me again')).toBe(kept);
    // Merging into itself or into a merged profile is refused with the reason.
    const self = await manager.request(`/console/customers/${kept}/merge`, { form: { into: kept } });
    expect(self.status).toBe(409);
    expect(await self.text()).toContain('cannot be merged with itself');
  });

  it('exports a customer as a JSON download with the full transcript, and records that it did', async () => {
    const userId = lineUser();
    const id = await lineSays(userId, 'my car makes a noise');
    await advisor.request(`/console/customers/${id}/vehicles`, { form: { plate: 'XYZ-987', make: 'Lexus' } });
    const res = await manager.request(`/console/customers/${id}/export`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="customer-[0-9a-f]{8}-\d{4}-\d{2}-\d{2}\.json"$/);
    const data = (await res.json()) as { profile: { id: string }; channelIdentities: { external_id: string }[]; vehicles: { plate: string }[]; transcript: { direction: string; sender: string; text: string | null }[]; outbox: unknown[]; appointments: unknown[] };
    expect(data.profile.id).toBe(id);
    expect(data.channelIdentities.map((i) => i.external_id)).toEqual([userId]);
    expect(data.vehicles.map((v) => v.plate)).toEqual(['XYZ-987']);
    expect(data.transcript.find((m) => m.direction === 'in')).toMatchObject({ sender: 'customer', text: 'my car makes a noise' });
    expect(data.transcript.some((m) => m.direction === 'out' && m.sender === 'bot')).toBe(true);
    expect(data.outbox.length).toBeGreaterThan(0);
    expect(data.appointments).toEqual([]);
    const [entry] = await auditOf('customer.export');
    expect(entry).toMatchObject({ entity_id: id, actor_id: manager.id });
    expect(entry!.after).not.toContain('noise');
  });

  it('erases personal data on request, keeps the counts, and treats the person as a stranger if they write again', async () => {
    const userId = lineUser();
    const id = await lineSays(userId, 'please forget me, my number is 0987654321');
    await edit(advisor, id, { displayName: 'Huang Xiao-Li', phone: '0987654321', notes: 'VIP', consent: '1' });
    await advisor.request(`/console/customers/${id}/vehicles`, { form: { plate: 'RAA-5566', make: 'Toyota', model: 'RAV4', year: '2020', vin: 'JTMBR3FV20D012345', mileageKm: '40000' } });
    const messagesBefore = await countOf('messages', id);

    const wrong = await manager.request(`/console/customers/${id}/erase`, { form: { confirmation: 'yes' } });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain(`Type ${erasureCode(id)} exactly`);
    expect((await db().selectFrom('customers').select('erased_at').where('id', '=', id).executeTakeFirstOrThrow()).erased_at).toBeNull();

    const res = await manager.request(`/console/customers/${id}/erase`, { form: { confirmation: erasureCode(id) } });
    expect(res.status).toBe(303);
    const customer = await db().selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(customer).toMatchObject({ display_name: null, phone: null, notes: null, consent_at: null });
    expect(customer.erased_at).not.toBeNull();
    expect(await countOf('channel_identities', id)).toBe(0);
    const messages = await db().selectFrom('messages').selectAll().where('customer_id', '=', id).execute();
    expect(messages).toHaveLength(messagesBefore);
    expect(messages.every((m) => m.text === null && m.payload === null && m.kind !== '')).toBe(true);
    expect(await db().selectFrom('vehicles').selectAll().where('customer_id', '=', id).execute()).toMatchObject([{ plate: '', plate_normalized: '', vin: null, mileage_km: null, make: 'Toyota', model: 'RAV4', year: 2020 }]);
    expect(await db().selectFrom('conversations').select('id').where('customer_id', '=', id).execute()).toHaveLength(0);
    expect(await db().selectFrom('inbound_events').select('id').where('external_id', '=', userId).execute()).toHaveLength(0);

    const [entry] = await auditOf('customer.erase');
    expect(JSON.parse(entry!.after!)).toMatchObject({ messagesAnonymised: messagesBefore, vehiclesCleared: 1, channelIdentitiesRemoved: 1 });
    const everything = JSON.stringify(await db().selectFrom('audit_log').select(['before', 'after']).execute());
    expect(everything).not.toContain('0987654321');
    expect(everything).not.toContain('Huang');
    expect(everything).not.toContain('RAA-5566');

    expect(await (await manager.request('/console/customers')).text()).not.toContain(`/console/customers/${id}"`);
    const page = await (await manager.request(`/console/customers/${id}`)).text();
    expect(page).toContain('personal data was erased');
    expect((await manager.request(`/console/customers/${id}/erase`, { form: { confirmation: erasureCode(id) } })).status).toBe(409);

    const again = await lineSays(userId, 'hello again');
    expect(again).not.toBe(id);
  });

  it('sends a staff message to a LINE customer through the outbox as a push, shown in the transcript as staff', async () => {
    const userId = lineUser();
    const id = await lineSays(userId, 'is my car ready?');
    const page = await (await advisor.request(`/console/customers/${id}/conversation`)).text();
    expect(page).toContain('is my car ready?');
    expect(page).toContain('With the automated assistant');
    const lastId = Math.max(...(await db().selectFrom('messages').select('id').where('customer_id', '=', id).execute()).map((m) => m.id));

    const empty = await advisor.request(`/console/customers/${id}/messages`, { form: { text: '   ' } });
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain('Write a message first.');
    const long = await advisor.request(`/console/customers/${id}/messages`, { form: { text: 'x'.repeat(2001) } });
    expect(long.status).toBe(400);
    expect(await long.text()).toContain('at most 2000 characters');

    const pushesBefore = line.accepted.pushes().filter((p) => p.to === userId).length;
    const res = await advisor.request(`/console/customers/${id}/messages`, { form: { text: 'Yes, ready at 17:00. — Mei' } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/console/customers/${id}/conversation?flash=sent`);
    await svc.flush();
    const pushes = line.accepted.pushes().filter((p) => p.to === userId);
    expect(pushes).toHaveLength(pushesBefore + 1);
    // The first answer says who is answering (the advisor's name and role), in the same message.
    const answer = 'advisor user, your service advisor, is answering you now.\n\nYes, ready at 17:00. — Mei';
    expect(pushes.at(-1)!.messages).toEqual([{ type: 'text', text: answer }]);

    const sent = await db().selectFrom('messages').selectAll().where('customer_id', '=', id).where('sender', '=', 'staff').execute();
    expect(sent).toMatchObject([{ direction: 'out', channel: 'line', text: answer, staff_user_id: advisor.id }]);
    expect(await auditOf('conversation.reply')).toMatchObject([{ entity_id: id, actor_id: advisor.id }]);

    const poll = await advisor.request(`/console/customers/${id}/messages.json?after=${lastId}`);
    expect(poll.status).toBe(200);
    const data = (await poll.json()) as { messages: { id: number; sender: string; senderLabel: string; text: string }[]; status: string };
    expect(data.messages.map((m) => [m.sender, m.text])).toEqual([['staff', answer]]);
    // The staff line is signed with who wrote it.
    expect(data.messages[0]!.senderLabel).toBe('advisor user (Staff)');
    // A person answered, so the bot stays out of the conversation until someone hands it back, and the
    // status says who is answering rather than still "waiting for a person".
    expect(data.status).toBe('advisor user is answering');
    expect(((await (await advisor.request(`/console/customers/${id}/messages.json?after=${data.messages[0]!.id}`)).json()) as { messages: unknown[] }).messages).toEqual([]);
    const transcript = await (await advisor.request(`/console/customers/${id}/conversation`)).text();
    expect(transcript).toMatch(/class="msg out staff"[\s\S]*Yes, ready at 17:00/);
  });

  it('hands a waiting conversation back to the assistant and tells the customer', async () => {
    const userId = lineUser();
    const id = await lineSays(userId, 'human');
    const before = await db().selectFrom('conversations').selectAll().where('customer_id', '=', id).executeTakeFirstOrThrow();
    expect(before.flow).toBe('handoff');
    const page = await (await advisor.request(`/console/customers/${id}/conversation`)).text();
    expect(page).toContain('Waiting for a person');
    expect(page).toContain(`action="/console/customers/${id}/handback"`);

    const res = await advisor.request(`/console/customers/${id}/handback`, { form: {} });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/flash=handedBack$/);
    const after = await db().selectFrom('conversations').selectAll().where('customer_id', '=', id).executeTakeFirstOrThrow();
    expect(after).toMatchObject({ flow: null, step: null, version: before.version + 1 });
    await svc.flush();
    const last = line.accepted.pushes().filter((p) => p.to === userId).at(-1)!;
    expect(last.messages[0]).toMatchObject({ type: 'text', text: svc.translator.t('en', 'handoff.returned') });
    expect(await auditOf('conversation.handback')).toMatchObject([{ entity_id: id, actor_id: advisor.id }]);

    const again = await advisor.request(`/console/customers/${id}/handback`, { form: {} });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('not waiting for a person');
  });

  it('lists dead and failing messages and retries a dead one', async () => {
    const userId = lineUser();
    line.failNext('push', { status: 401, body: { message: 'Authentication failed' } });
    const id = await lineSays(userId, 'hello');
    const dead = await db().selectFrom('outbox').selectAll().where('customer_id', '=', id).executeTakeFirstOrThrow();
    expect(dead.status).toBe('dead');

    const list = await manager.request('/console/outbox');
    expect(list.status).toBe(200);
    const html = await list.text();
    expect(html).toContain('Given up');
    expect(html).toContain('401');
    expect(html).toContain(`action="/console/outbox/${dead.id}/retry"`);

    const res = await manager.request(`/console/outbox/${dead.id}/retry`, { form: {} });
    expect(res.status).toBe(303);
    expect(await db().selectFrom('outbox').selectAll().where('id', '=', dead.id).executeTakeFirstOrThrow()).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await auditOf('outbox.retry')).toMatchObject([{ entity: 'outbox', entity_id: String(dead.id), actor_id: manager.id }]);
    await svc.flush();
    expect((await db().selectFrom('outbox').select('status').where('id', '=', dead.id).executeTakeFirstOrThrow()).status).toBe('sent');
    expect(line.accepted.pushes().filter((p) => p.to === userId)).toHaveLength(1);
    expect(await (await manager.request('/console/outbox')).text()).not.toContain(`/console/outbox/${dead.id}/retry`);

    const notDead = await manager.request(`/console/outbox/${dead.id}/retry`, { form: {} });
    expect(notDead.status).toBe(409);
  });

  it('keeps merge, export, erase and retry from advisors (403) and changes nothing', async () => {
    const a = await webSays('visitor-role-a', 'hi');
    const b = await webSays('visitor-role-b', 'hi');
    const row = await db().selectFrom('outbox').select('id').where('customer_id', '=', a).executeTakeFirstOrThrow();
    await db().updateTable('outbox').set({ status: 'dead' }).where('id', '=', row.id).execute();
    expect((await advisor.request(`/console/customers/${a}/merge`, { form: { into: b } })).status).toBe(403);
    expect((await advisor.request(`/console/customers/${a}/export`)).status).toBe(403);
    expect((await advisor.request(`/console/customers/${a}/erase`, { form: { confirmation: erasureCode(a) } })).status).toBe(403);
    expect((await advisor.request(`/console/outbox/${row.id}/retry`, { form: {} })).status).toBe(403);
    expect((await advisor.request('/console/outbox')).status).toBe(403);
    expect(await db().selectFrom('customers').select(['merged_into_id', 'erased_at']).where('id', '=', a).executeTakeFirstOrThrow()).toEqual({ merged_into_id: null, erased_at: null });
    expect((await db().selectFrom('outbox').select('status').where('id', '=', row.id).executeTakeFirstOrThrow()).status).toBe('dead');
    // An advisor still sees the profile but not the buttons they may not use.
    const page = await (await advisor.request(`/console/customers/${a}`)).text();
    expect(page).not.toContain('/merge"');
    expect(page).not.toContain('/erase"');
    expect(page).not.toContain('/export"');
  });
});
