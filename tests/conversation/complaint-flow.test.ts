import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/ops/clock';
import { eraseCustomer, erasureCode } from '../../src/staff/customers/erase';
import { exportCustomer } from '../../src/staff/customers/export';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { closeTestD1, flowDialects } from '../helpers/stores';
import { ids, JPEG, PNG, runJob, staffFor, staffServicesOf, texts, webCustomer } from '../complaints/helpers';

/*
 * Complaints and "talk to a person" as customers go through them in the web chat, on every database a flow
 * must work on (SQLite, Postgres, D1): the intake with several messages and photos, the phone asked only
 * when it is unknown, tickets given to care staff in turn, deadlines in business hours escalating to the
 * manager, a person answering and handing back, "human" outside opening hours, and the customer's answer
 * once a complaint is resolved. The branch is the demo one: Mon–Sat 09:00–18:00 in Asia/Taipei.
 */

// Monday 2026-11-30, 10:00 in Taipei.
const MONDAY_10 = '2026-11-30T02:00:00.000Z';

afterAll(closeTestD1);

describe.each(flowDialects)('complaints by chat on $name', (dialect) => {
  let svc: TestService;
  const clock = manualClock(MONDAY_10);

  beforeEach(async () => {
    clock.set(MONDAY_10);
    svc = await startTestService(dialect, testConfig({ DEFAULT_LOCALE: 'en' }), clock);
  });
  afterEach(async () => {
    await svc.close();
  });

  const db = () => svc.db.store.db;
  const complaintsOf = (customerId: string) => db().selectFrom('complaints').selectAll().where('customer_id', '=', customerId).execute();
  const eventsOf = async (complaintId: string) => db().selectFrom('complaint_events').selectAll().where('complaint_id', '=', complaintId).orderBy('id').execute();

  it('takes a complaint in several messages with photos, and answers with a reference and an honest time', async () => {
    const care = await staffFor(svc, 'care', { name: 'Mei Lin', onDuty: true, clock });
    const c = webCustomer(svc, clock);
    const categories = await c.say(c.tap('i:complaint'));
    expect(texts(categories)).toContain('What is it about?');
    expect(ids(categories)).toEqual(expect.arrayContaining(['cmp:c:service_quality', 'cmp:c:damage', 'cmp:c:price_invoice', 'cmp:c:other', 'i:cancel']));
    // No visits yet, so the visit question is not asked.
    expect(texts(await c.say(c.tap('cmp:c:damage')))).toContain('in your own words');
    expect(texts(await c.say('There is a long scratch on the rear door.'))).toContain('Anything else?');
    expect((await c.upload(JPEG)).status).toBe(200);
    expect(texts(await c.heard())).toContain('Photo 1 of 5 received');
    expect(texts(await c.say('It was not there before the service on Friday.'))).toContain('Anything else?');
    const photos = await c.say(c.tap('cmp:done'));
    expect(texts(photos)).toContain('Upload photos');
    // The web chat offers the upload page, which only opens under the chat's own cookie.
    expect(photos.flatMap((m) => (m.type === 'text' ? m.choices : [])).find((ch) => ch.kind === 'url')).toMatchObject({ url: '/chat/photos' });
    expect((await c.upload(PNG, 'image/png')).status).toBe(200);
    expect(texts(await c.heard())).toContain('Photo 2 of 5 received');
    expect(texts(await c.say(c.tap('cmp:done')))).toContain('How urgent');
    expect(texts(await c.say(c.tap('cmp:u:high')))).toContain('get back to you');
    // We have no number for this customer yet, so it is asked for.
    expect(texts(await c.say(c.tap('cmp:ct:phone')))).toContain('What number');
    expect(texts(await c.say('not a number'))).toContain("doesn't look like a phone number");
    const done = texts(await c.say('0912-345-678'));

    const customerId = await c.customerId();
    const [complaint] = await complaintsOf(customerId);
    expect(complaint).toMatchObject({
      category: 'damage',
      priority: 'high',
      contact_method: 'phone',
      source: 'chat',
      channel: 'web',
      status: 'assigned',
      assignee_id: care.id,
      description: 'There is a long scratch on the rear door.\n\nIt was not there before the service on Friday.',
    });
    expect(complaint!.reference).toMatch(/^CP-[2-9A-HJ-NP-TW-Z]{6}$/);
    expect(done).toContain(`registered as ${complaint!.reference}`);
    // Monday 10:00, open until 18:00: the branch's 30 minutes are honestly 30 minutes.
    expect(done).toContain('within 30 minutes');
    expect(done).toContain('We will call you on 0912345678');
    expect(complaint!.first_response_due_at).toBe('2026-11-30T02:30:00.000Z');
    expect((await db().selectFrom('customers').select('phone').where('id', '=', customerId).executeTakeFirstOrThrow()).phone).toBe('0912345678');

    const events = await eventsOf(complaint!.id);
    expect(events.map((e) => e.kind)).toEqual(['opened', 'customer_message', 'customer_message', 'customer_photo', 'customer_photo', 'assigned']);
    // Both photos are on disk, in the blob store's directory.
    for (const e of events.filter((x) => x.kind === 'customer_photo')) expect(existsSync(join(svc.blobDir, e.blob_key!))).toBe(true);
    expect(await db().selectFrom('staff_notifications').select(['staff_id', 'kind']).where('complaint_id', '=', complaint!.id).execute()).toEqual([{ staff_id: care.id, kind: 'assigned' }]);
    // The conversation now waits for the person: what the customer adds goes into the ticket, and the bot is quiet.
    expect(await c.say('Please call after 2pm.')).toEqual([]);
    expect((await eventsOf(complaint!.id)).at(-1)).toMatchObject({ kind: 'customer_message', text: 'Please call after 2pm.' });

    // Erased on request: the ticket stays for statistics, without the customer's words or photos.
    const admin = await staffFor(svc, 'admin');
    // Asked first for what the dealership holds: the complaint is in it, with the customer's words and the photos named.
    const exported = await exportCustomer(svc.db.store, admin.ctx(clock), customerId);
    if (!exported.ok) throw new Error('export refused');
    expect(exported.value.complaints.map((x) => x.reference)).toEqual([complaint!.reference]);
    expect(exported.value.complaints[0]!.events.filter((e) => e.hasPhoto)).toHaveLength(2);
    expect(exported.value.complaints[0]!.events.map((e) => e.text)).toContain('Please call after 2pm.');
    const photoFiles = events.filter((x) => x.kind === 'customer_photo').map((e) => join(svc.blobDir, e.blob_key!));
    const erasure = await eraseCustomer(svc.db.store, admin.ctx(clock), customerId, { confirmation: erasureCode(customerId) }, { blobs: svc.blobs });
    expect(erasure).toMatchObject({ ok: true, value: { photosRemoved: 2, photosNotRemoved: 0 } });
    // The photo files go with the rows that pointed to them.
    for (const file of photoFiles) expect(existsSync(file)).toBe(false);
    expect((await complaintsOf(customerId))[0]).toMatchObject({ description: '', category: 'damage', priority: 'high' });
    const erased = await eventsOf(complaint!.id);
    expect(erased.every((e) => e.text === null && e.blob_key === null)).toBe(true);
    expect(erased.filter((e) => e.actor_type === 'customer').every((e) => e.actor_label === null)).toBe(true);
  });

  it('asks for the phone only when it does not have it, and refuses what is not a picture', async () => {
    const c = webCustomer(svc, clock);
    await c.say('hello');
    // A photo sent to the menu is not kept: photos belong to a complaint or a person's chat.
    expect((await c.upload(JPEG)).status).toBe(409);
    await db().updateTable('customers').set({ phone: '+886911222333' }).where('id', '=', await c.customerId()).execute();
    await c.say(c.tap('i:complaint'));
    await c.say(c.tap('cmp:c:waiting_time'));
    await c.say('I waited two hours past the promised time.');
    const notPicture = await c.upload(new TextEncoder().encode('%PDF-1.4 not a photo'), 'image/jpeg');
    expect(notPicture.status).toBe(415);
    const tooBig = await c.upload(new Uint8Array(11 * 1024 * 1024).fill(0xff), 'image/jpeg');
    expect(tooBig.status).toBe(413);
    await c.say(c.tap('cmp:done'));
    await c.say(c.tap('cmp:skip'));
    await c.say(c.tap('cmp:u:normal'));
    const done = texts(await c.say(c.tap('cmp:ct:phone')));
    expect(done).not.toContain('What number');
    expect(done).toContain('We will call you on +886911222333');
    const [complaint] = await complaintsOf(await c.customerId());
    expect(complaint).toMatchObject({ contact_method: 'phone', category: 'waiting_time', priority: 'normal' });
    expect((await eventsOf(complaint!.id)).filter((e) => e.kind === 'customer_photo')).toEqual([]);
  });

  it('gives new tickets to the care staff on duty in turn, and to nobody else', async () => {
    const a = await staffFor(svc, 'care', { name: 'A', onDuty: true, clock });
    const b = await staffFor(svc, 'care', { name: 'B', onDuty: true, clock });
    await staffFor(svc, 'care', { name: 'Off duty' });
    await staffFor(svc, 'advisor', { name: 'Advisor', onDuty: true, clock });
    const assignees: (string | null)[] = [];
    for (let i = 0; i < 4; i++) {
      const c = webCustomer(svc, clock);
      await c.say('human');
      clock.advance(60_000);
      assignees.push((await complaintsOf(await c.customerId()))[0]!.assignee_id);
    }
    // Neither had a ticket before, so the first goes by id; then each in turn.
    const [first, second] = [a.id, b.id].sort();
    expect(assignees).toEqual([first, second, first, second]);
  });

  it('escalates a first answer missed in business hours to the branch manager, once', async () => {
    const manager = await staffFor(svc, 'manager', { name: 'Manager Chen' });
    // Monday 17:50: ten minutes left today, so the 30-minute answer is due Tuesday 09:20.
    clock.set('2026-11-30T09:50:00.000Z');
    const c = webCustomer(svc, clock);
    const said = texts(await c.say('human'));
    expect(said).toContain('will answer by Tuesday, December 1 at 09:20');
    const [complaint] = await complaintsOf(await c.customerId());
    expect(complaint).toMatchObject({ status: 'new', assignee_id: null, first_response_due_at: '2026-12-01T01:20:00.000Z' });
    clock.set('2026-12-01T01:19:00.000Z');
    expect(await runJob(svc, 'complaint-clock')).toBe(0);
    clock.set('2026-12-01T01:21:00.000Z');
    expect(await runJob(svc, 'complaint-clock')).toBe(1);
    const escalated = (await eventsOf(complaint!.id)).find((e) => e.kind === 'escalated')!;
    expect(JSON.parse(escalated.details!)).toMatchObject({ deadline: 'first_response', to: [manager.id] });
    expect(await db().selectFrom('staff_notifications').select(['staff_id', 'kind']).where('complaint_id', '=', complaint!.id).where('kind', '=', 'escalated').execute()).toEqual([
      { staff_id: manager.id, kind: 'escalated' },
    ]);
    expect(await runJob(svc, 'complaint-clock')).toBe(0);
    expect(await db().selectFrom('audit_log').select(['action', 'actor_type', 'actor_label']).where('entity_id', '=', complaint!.id).execute()).toEqual([
      { action: 'complaint.escalate', actor_type: 'system', actor_label: 'complaint clock' },
    ]);
    // Whoever comes on duty later gets the ticket nobody could take.
    const care = await staffFor(svc, 'care', { onDuty: true, clock });
    expect(await runJob(svc, 'complaint-clock')).toBe(1);
    expect((await complaintsOf(await c.customerId()))[0]).toMatchObject({ status: 'assigned', assignee_id: care.id });
  });

  it('says when a person will answer outside opening hours, and a second "human" opens no second ticket', async () => {
    // Sunday 2026-12-06 15:00: closed all day.
    clock.set('2026-12-06T07:00:00.000Z');
    const c = webCustomer(svc, clock);
    const first = texts(await c.say('talk to a person'));
    expect(first).toContain('not in at the moment');
    expect(first).toContain('by Monday, December 7 at 09:30');
    expect(await c.say('My car is making a noise')).toMatchObject([{ type: 'text' }]);
    const second = texts(await c.say(c.tap('i:human')));
    const tickets = await complaintsOf(await c.customerId());
    expect(tickets).toHaveLength(1);
    expect(second).toContain(`already with our team`);
    expect(second).toContain(tickets[0]!.reference);
    expect(tickets[0]).toMatchObject({ source: 'handoff', category: null });
    expect((await eventsOf(tickets[0]!.id)).filter((e) => e.kind === 'customer_message').map((e) => e.text)).toEqual(['My car is making a noise']);
  });

  it('relays a handoff both ways, shows who answers, and returns to the bot by staff and after silence', async () => {
    const care = await staffFor(svc, 'care', { name: 'Mei Lin', onDuty: true, clock });
    const { complaints } = await staffServicesOf(svc, clock);
    const c = webCustomer(svc, clock);
    await c.say('human');
    const [ticket] = await complaintsOf(await c.customerId());
    expect((await complaints.reply(care.ctx(clock), ticket!.id, 'Hello, I am looking at it now.')).ok).toBe(true);
    await svc.flush();
    const heard = await c.heard();
    expect(texts(heard)).toBe('Mei Lin from our customer care team is answering you now.\n\nHello, I am looking at it now.');
    expect(await c.say('Thank you!')).toEqual([]);
    const timeline = await eventsOf(ticket!.id);
    expect(timeline.filter((e) => e.kind === 'staff_message' || e.kind === 'customer_message').map((e) => [e.kind, e.text])).toEqual([
      ['staff_message', 'Hello, I am looking at it now.'],
      ['customer_message', 'Thank you!'],
    ]);
    expect((await complaintsOf(await c.customerId()))[0]).toMatchObject({ status: 'assigned', first_responded_at: MONDAY_10 });
    expect((await complaints.returnToBot(care.ctx(clock), ticket!.id)).ok).toBe(true);
    await svc.flush();
    const back = await c.heard();
    expect(texts(back)).toContain("You're back with the automated assistant");
    expect(ids(back)).toContain('i:book');
    expect(texts(await c.say('qwxz zzv'))).toContain("didn't understand");

    // Another customer: nobody writes for longer than HANDOFF_IDLE_MINUTES (30 by default).
    const quiet = webCustomer(svc, clock);
    await quiet.say('human');
    const [quietTicket] = await complaintsOf(await quiet.customerId());
    clock.advance(29 * 60_000);
    expect(await runJob(svc, 'handoff-return')).toBe(0);
    clock.advance(2 * 60_000);
    expect(await runJob(svc, 'handoff-return')).toBe(1);
    const idle = await quiet.heard();
    expect(texts(idle)).toContain(`Your request ${quietTicket!.reference} stays open`);
    expect(ids(idle)).toContain('i:human');
    expect((await db().selectFrom('conversations').select('flow').where('customer_id', '=', await quiet.customerId()).executeTakeFirstOrThrow()).flow).toBeNull();
  });

  it('asks the customer after resolving: "yes" and a rating close it, "not yet" reopens it and tells the handler', async () => {
    const care = await staffFor(svc, 'care', { name: 'Mei Lin', onDuty: true, clock });
    const { complaints } = await staffServicesOf(svc, clock);
    const happy = webCustomer(svc, clock);
    await happy.say('human');
    const [one] = await complaintsOf(await happy.customerId());
    await complaints.reply(care.ctx(clock), one!.id, 'We will repaint the door for free.');
    await svc.flush();
    await happy.heard();
    expect(await complaints.resolve(care.ctx(clock), one!.id, 'Door repainted at no charge on Tuesday.')).toMatchObject({ ok: true, value: { asked: true } });
    await svc.flush();
    const asked = await happy.heard();
    expect(texts(asked)).toContain('Door repainted at no charge on Tuesday.');
    expect(ids(asked)).toEqual([`cmp:ry:${one!.id}`, `cmp:rn:${one!.id}`]);
    const rate = await happy.say('yes');
    expect(ids(rate)).toEqual([1, 2, 3, 4, 5].map((n) => `cmp:rt:${one!.id}:${n}`));
    expect(texts(await happy.say(happy.tap(`cmp:rt:${one!.id}:4`)))).toContain('is now closed');
    expect((await complaintsOf(await happy.customerId()))[0]).toMatchObject({ status: 'closed', rating: 4, customer_confirmed: 'yes' });
    // The same button pressed again changes nothing.
    expect(texts(await happy.say(happy.tap(`cmp:rt:${one!.id}:1`)))).toContain('already been answered');
    expect((await complaintsOf(await happy.customerId()))[0]!.rating).toBe(4);

    const unhappy = webCustomer(svc, clock);
    await unhappy.say('human');
    const [two] = await complaintsOf(await unhappy.customerId());
    await complaints.resolve(care.ctx(clock), two!.id, 'Refunded the diagnosis fee.');
    await svc.flush();
    await unhappy.heard();
    const reopened = texts(await unhappy.say(unhappy.tap(`cmp:rn:${two!.id}`)));
    expect(reopened).toContain(`We have reopened ${two!.reference}`);
    expect((await complaintsOf(await unhappy.customerId()))[0]).toMatchObject({ status: 'reopened', customer_confirmed: 'no', reopened_count: 1 });
    expect(await db().selectFrom('staff_notifications').select('kind').where('complaint_id', '=', two!.id).where('staff_id', '=', care.id).where('kind', '=', 'reopened').execute()).toHaveLength(1);
    // Back with the person: the bot is quiet, the words go to the ticket.
    expect(await unhappy.say('The fee is still on my card statement.')).toEqual([]);
    expect((await eventsOf(two!.id)).at(-1)).toMatchObject({ kind: 'customer_message', text: 'The fee is still on my card statement.' });
  });


});
