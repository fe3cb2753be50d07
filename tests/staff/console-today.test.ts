import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { staffMember, type SignedInStaff } from '../helpers/staff';
import { dialects } from '../helpers/stores';
import { startFakeLineApi, type FakeLineApi } from '../fakes/line-api';
import { intentButtons } from '../../src/conversation/button-ids';
import { MON, openConsoleWorld, TUE, type ConsoleWorld } from './console-world';

/*
 * "Today", the console's first page, as an advisor at a busy dealership reads it: who is waiting for a
 * person (name, plate, what they wrote, for how long) and who arrives today (time, name, plate, service),
 * never a customer's id, and a button tap is never "what the customer said".
 */

const MINUTE = 60_000;

/** The page's text without tags, as a person reads it. */
function visibleText(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>|<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

/** The rows of the table under a heading (header row left out), as text. */
function rowsUnder(html: string, headingId: string): string[] {
  const start = html.indexOf(`id="${headingId}"`);
  expect(start, `section ${headingId}`).toBeGreaterThan(-1);
  const rest = html.slice(start);
  const next = rest.indexOf('<h2', 10);
  const section = next > 0 ? rest.slice(0, next) : rest;
  return [...section.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].filter((m) => !m[1]!.includes('<th')).map((m) => visibleText(m[1]!).trim());
}

describe.each(dialects)('console today page on $name', (dialect) => {
  let line: FakeLineApi;
  let world: ConsoleWorld;
  let advisor: SignedInStaff;

  beforeAll(async () => {
    line = await startFakeLineApi();
  });
  afterAll(async () => {
    await line.close();
  });
  beforeEach(async () => {
    world = await openConsoleWorld(dialect, line);
    advisor = await staffMember(world.svc, 'advisor');
  });
  afterEach(async () => {
    await world.close();
  });

  it('lists who waits for a person by name, plate, last words and waiting time; a button tap is not their last message', async () => {
    const { userId: wang, customerId: wangId } = await world.newLineCustomer('王小明');
    await world.addCar(wangId, { plate: 'ABC-1234', make: 'Toyota', model: 'Corolla Cross' });
    await world.lineSays(wang, 'My brakes squeal when I stop');
    // They press "talk to a person" in the menu: a button, not words.
    await world.linePostback(wang, intentButtons.id('human'));
    const tap = await world.svc.db.store.db.selectFrom('messages').select(['kind', 'flow']).where('customer_id', '=', wangId).where('direction', '=', 'in').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(tap.kind).toBe('choice');

    world.clock.advance(12 * MINUTE);
    const html = await (await advisor.request('/console')).text();
    const waiting = rowsUnder(html, 'waiting');
    expect(waiting).toHaveLength(1);
    expect(waiting[0]).toContain('王小明');
    expect(waiting[0]).toContain('ABC-1234');
    expect(waiting[0]).toContain('My brakes squeal when I stop');
    // Waiting since they asked for a person, twelve minutes ago.
    expect(waiting[0]).toContain('12 min');
    // A person is named, never shown by their id (which only the links carry).
    expect(visibleText(html)).not.toContain(wangId.slice(0, 8));

    // The latest messages are what customers said ("hello", then the brakes), not the buttons they pressed.
    const recent = rowsUnder(html, 'recent');
    expect(recent).toHaveLength(2);
    expect(recent[0]).toContain('My brakes squeal when I stop');
    expect(recent[1]).toContain('hello');
    expect(recent.every((r) => r.includes('王小明') && r.includes('ABC-1234'))).toBe(true);
  });

  it('counts a waiting customer as answered once staff replied, and waiting again from their next message', async () => {
    const { userId: user, customerId: id } = await world.newLineCustomer('Emily Chen');
    await world.lineSays(user, 'human');
    world.clock.advance(5 * MINUTE);
    expect((await advisor.request(`/console/customers/${id}/messages`, { form: { text: 'Hello Emily, Mei here. How can I help?' } })).status).toBe(303);
    await world.svc.flush();

    world.clock.advance(MINUTE);
    let rows = rowsUnder(await (await advisor.request('/console')).text(), 'waiting');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain('Answered');

    await world.lineSays(user, 'Can you also check the air conditioning?');
    world.clock.advance(2 * MINUTE);
    rows = rowsUnder(await (await advisor.request('/console')).text(), 'waiting');
    expect(rows[0]).toContain('Can you also check the air conditioning?');
    expect(rows[0]).toContain('2 min');
    expect(rows[0]).not.toContain('Answered');
  });

  it('lists the day’s arrivals with time, name, plate and service, and not tomorrow’s or cancelled visits', async () => {
    const { customerId: emilyId } = await world.newLineCustomer('Emily Chen');
    const mazda = await world.addCar(emilyId, { plate: 'RBX-7788', make: 'Mazda', model: 'CX-5' });
    await world.book(emilyId, MON, '10:00', { vehicleId: mazda, loaner: true });

    const { customerId: tomId } = await world.newLineCustomer('Tom Lee');
    const tomCar = await world.addCar(tomId, { plate: 'TOM-0001' });
    await world.book(tomId, TUE, '10:00', { vehicleId: tomCar });

    const { customerId: kenId } = await world.newLineCustomer('Ken Sato');
    const cancelled = await world.book(kenId, MON, '11:00');
    const appointment = await world.svc.db.store.db.selectFrom('appointments').select('version').where('id', '=', cancelled.id).executeTakeFirstOrThrow();
    expect((await world.dms.request(`/api/appointments/${cancelled.id}/cancel`, { json: { version: appointment.version } })).status).toBe(200);

    const html = await (await advisor.request('/console')).text();
    const arrivals = rowsUnder(html, 'arrivals');
    expect(arrivals).toHaveLength(1);
    expect(arrivals[0]).toMatch(/^10:00 Emily Chen RBX-7788 Scheduled service/);
    expect(arrivals[0]).toContain('Needs a loaner car');
    expect(arrivals.join(' ')).not.toContain('Tom Lee');
    expect(arrivals.join(' ')).not.toContain('Ken Sato');
    for (const id of [emilyId, tomId, kenId]) expect(visibleText(html)).not.toContain(id.slice(0, 8));
  });

  it('speaks the staff member’s language and shows only the branches they belong to', async () => {
    const { customerId: emilyId } = await world.newLineCustomer('Emily Chen');
    await world.book(emilyId, MON, '10:00');

    const zh = await staffMember(world.svc, 'advisor', { locale: 'zh-TW' });
    const html = await (await zh.request('/console')).text();
    expect(html).toContain(world.svc.translator.t('zh-TW', 'console:dashboard.arrivals'));
    const names = (await world.svc.db.store.db.selectFrom('service_types').select('names').where('code', '=', 'periodic_maintenance').executeTakeFirstOrThrow()).names;
    expect(rowsUnder(html, 'arrivals')[0]).toContain((JSON.parse(names) as Record<string, string>)['zh-TW']);

    const elsewhere = await staffMember(world.svc, 'advisor', { branchIds: [] });
    const theirs = await (await elsewhere.request('/console')).text();
    expect(rowsUnder(theirs, 'arrivals')).toEqual([]);
    expect(visibleText(theirs)).toContain('No cars booked in for today.');
  });
});
