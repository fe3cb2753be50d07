import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FLOWS } from '../../src/conversation/flows';
import { createTranslator } from '../../src/i18n';
import { SUPPORTED_LOCALES } from '../../src/i18n/locales';
import { staffMember, type SignedInStaff } from '../helpers/staff';
import { dialects } from '../helpers/stores';
import { startFakeLineApi, type FakeLineApi } from '../fakes/line-api';
import { MON, openConsoleWorld, TUE, type ConsoleWorld } from './console-world';

/*
 * The conversation page as the staff member answering reads it: where the customer is in words (never
 * `book · date`), their staff lines signed, the status moving on once someone answers, a reply sent
 * without leaving the page, and the customer's bookings, cars and car in the workshop beside the chat.
 */

function visibleText(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>|<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ');
}

/** The text of the element with this id (its first closing tag of the same name ends it). */
function textOfId(html: string, id: string): string {
  const m = new RegExp(`<(\\w+)[^>]*id="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(html);
  expect(m, `#${id}`).not.toBeNull();
  return visibleText(m![2]!).trim();
}

describe('flow and step names', () => {
  const translator = createTranslator('en');

  it('has a name for every flow and every step of it, in every language', () => {
    const missing: string[] = [];
    for (const flow of FLOWS) {
      expect(flow.stepNames?.length, flow.name).toBeGreaterThan(0);
      for (const locale of SUPPORTED_LOCALES) {
        if (!translator.has(locale, `console-customers:flows.${flow.name}`)) missing.push(`${locale} flows.${flow.name}`);
        for (const step of flow.stepNames ?? []) if (!translator.has(locale, `console-customers:steps.${flow.name}.${step}`)) missing.push(`${locale} steps.${flow.name}.${step}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe.each(dialects)('console conversation page on $name', (dialect) => {
  let line: FakeLineApi;
  let world: ConsoleWorld;
  let advisor: SignedInStaff;
  const db = () => world.svc.db.store.db;

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

  it('says where the customer is in the booking flow in words, in the status and beside each message', async () => {
    const { userId, customerId } = await world.newLineCustomer('Emily Chen');
    await world.lineSays(userId, 'book');
    const conversation = await db().selectFrom('conversations').select(['flow', 'step']).where('customer_id', '=', customerId).executeTakeFirstOrThrow();
    expect(conversation.flow).toBe('book');

    const html = await (await advisor.request(`/console/customers/${customerId}/conversation`)).text();
    const stepName = createTranslator('en').t('en', `console-customers:steps.book.${conversation.step}`);
    expect(textOfId(html, 'conversation-status')).toBe(`In Service booking · ${stepName}`);
    const text = visibleText(html);
    expect(text).toContain(`Service booking · ${stepName}`);
    expect(text).not.toMatch(/\bbook · /);
    expect(text).not.toContain(`· ${conversation.step} `);

    const zh = await staffMember(world.svc, 'advisor', { locale: 'zh-TW' });
    const zhHtml = await (await zh.request(`/console/customers/${customerId}/conversation`)).text();
    expect(textOfId(zhHtml, 'conversation-status')).toContain(createTranslator('en').t('zh-TW', 'console-customers:flows.book'));
    expect(textOfId(zhHtml, 'conversation-status')).not.toContain(conversation.step!);
  });

  it('sends a reply from the page’s script without a reload: JSON in, JSON out, the status moves on and the line is signed', async () => {
    const { userId, customerId } = await world.newLineCustomer('王小明', 'zh-TW');
    await world.lineSays(userId, 'human');
    let html = await (await advisor.request(`/console/customers/${customerId}/conversation`)).text();
    expect(textOfId(html, 'conversation-status')).toBe('Waiting for a person');
    // The reply box sits right under the transcript, in the same card, not below other cards.
    const between = html.slice(html.indexOf('id="transcript"'), html.indexOf('id="reply-form"'));
    expect(html.indexOf('id="reply-form"')).toBeGreaterThan(html.indexOf('id="transcript"'));
    expect(between).not.toContain('class="card"');

    const asScript = { accept: 'application/json' };
    const empty = await advisor.request(`/console/customers/${customerId}/messages`, { form: { text: '  ' }, headers: asScript });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toEqual({ error: 'Write a message first.' });

    const sent = await advisor.request(`/console/customers/${customerId}/messages`, { form: { text: '王先生您好，我是服務顧問。' }, headers: asScript });
    expect(sent.status).toBe(200);
    expect(await sent.json()).toEqual({ ok: true, channel: 'line', status: 'advisor user is answering', statusClass: 'ok' });
    await world.svc.flush();

    // A nonsense position is read as "after everything", never a server error.
    const far = await advisor.request(`/console/customers/${customerId}/messages.json?after=99999999999999`);
    expect(far.status).toBe(200);
    expect(((await far.json()) as { messages: unknown[] }).messages).toEqual([]);

    const poll = (await (await advisor.request(`/console/customers/${customerId}/messages.json?after=0`)).json()) as { messages: { sender: string; senderLabel: string; text: string }[]; status: string; statusClass: string };
    expect(poll.status).toBe('advisor user is answering');
    const staffLine = poll.messages.find((m) => m.sender === 'staff')!;
    expect(staffLine.text).toContain('王先生您好，我是服務顧問。');
    expect(staffLine.senderLabel).toBe('advisor user (Staff)');

    html = await (await advisor.request(`/console/customers/${customerId}/conversation`)).text();
    expect(textOfId(html, 'conversation-status')).toBe('advisor user is answering');
    expect(html).toMatch(/class="msg out staff"[\s\S]*?<strong>advisor user \(Staff\)<\/strong>/);
  });

  it('shows the customer’s bookings, cars and car in the workshop beside the chat, within the staff member’s branches', async () => {
    const { customerId } = await world.newLineCustomer('Emily Chen');
    const mazda = await world.addCar(customerId, { plate: 'RBX-7788', make: 'Mazda', model: 'CX-5', year: 2020, mileageKm: 55000 });
    await world.addCar(customerId, { plate: 'KLM-5521', make: 'Honda', model: 'Fit' });
    const today = await world.book(customerId, MON, '10:00', { vehicleId: mazda });
    const tomorrow = await world.book(customerId, TUE, '14:00', { vehicleId: mazda });
    const order = await world.dms.request('/api/repair-orders/RO-100200', { method: 'PUT', json: { bookingReference: today.reference, promisedAt: '2026-03-09T09:00:00.000Z' } });
    expect(order.status).toBe(201);

    const html = await (await advisor.request(`/console/customers/${customerId}/conversation`)).text();
    const aside = visibleText(html.slice(html.indexOf('<aside'), html.indexOf('</aside>')));
    expect(aside).toContain('RO-100200');
    expect(aside).toContain('Checked in');
    expect(aside).toContain('promised 03/09/2026, 17:00');
    expect(aside).toContain(tomorrow.reference);
    expect(aside).toContain('Scheduled service');
    expect(aside).toContain('RBX-7788 Mazda CX-5 2020');
    expect(aside).toContain('55,000 km');
    expect(aside).toContain('KLM-5521 Honda Fit');
    expect(html).toContain(`href="/console/appointments/${tomorrow.id}"`);

    const elsewhere = await staffMember(world.svc, 'advisor', { branchIds: [] });
    // A customer of another branch is not theirs to see at all (customers are scoped to branches).
    const theirs = await elsewhere.request(`/console/customers/${customerId}/conversation`);
    expect(theirs.status).toBe(404);
    const body = await theirs.text();
    expect(body).not.toContain('RO-100200');
    expect(body).not.toContain(tomorrow.reference);
  });
});
