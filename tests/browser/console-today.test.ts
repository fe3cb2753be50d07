import { createHmac } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../../src/ops/clock';
import { hasChromium, NO_CHROMIUM, openChromium, serveOverHttp, type OpenBrowser, type ServedApp } from '../helpers/browser';
import { TEST_LINE_SECRET, testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { apiToken, staffMember, type SignedInStaff } from '../helpers/staff';
import { dialects } from '../helpers/stores';
import { startFakeLineApi, type FakeLineApi } from '../fakes/line-api';

/*
 * "Today" and answering a customer, as an advisor does it in a real Chromium on a phone and on a desktop,
 * in English and in Traditional Chinese: who waits (name, plate, what they wrote, for how long) and who
 * arrives today, then the conversation, where the reply box is in view and a reply goes out without the
 * page reloading. The whole service runs over HTTP with its engine and outbox loops; LINE is the fake.
 */

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
// Monday 2026-03-09, 09:30 in Taipei: the branch is open. The clock runs on from there in real time.
const START = Date.parse('2026-03-09T01:30:00.000Z');

/** A customer waiting for a person, one for each viewport and language the advisor tries. */
const WAITING = [
  { name: '王小明', plate: 'ABC-1234', says: 'My brakes squeal when I stop' },
  { name: '林美華', plate: 'BKD-5521', says: '冷氣不冷，可以幫我看一下嗎？' },
  { name: 'Emily Wong', plate: 'RBX-7788', says: 'Is my car ready? I need it by five.' },
  { name: '陳志強', plate: 'TPE-3300', says: '請問保養要多久？' },
] as const;

const CASES = [
  { viewport: PHONE, locale: 'en', size: 'phone' },
  { viewport: DESKTOP, locale: 'en', size: 'desktop' },
  { viewport: PHONE, locale: 'zh-TW', size: 'phone' },
  { viewport: DESKTOP, locale: 'zh-TW', size: 'desktop' },
] as const;

/** What the advisor reads, in their language: from the console's own texts, so rewording a text keeps the test true. */
function wordsOf(svc: TestService, locale: 'en' | 'zh-TW') {
  const t = (key: string, params?: Record<string, string>) => svc.translator.t(locale, key, params);
  const minute = new Intl.NumberFormat(locale, { style: 'unit', unit: 'minute', unitDisplay: 'short' }).format(7).replace('7', '\\d+');
  return {
    today: t('console:dashboard.title'),
    minutes: new RegExp(minute),
    skip: t('console:skipToContent'),
    answering: (name: string) => t('console-customers:conversation.status.answering', { name }),
    send: t('console-customers:conversation.send'),
  };
}

let eventSeq = 0;
const lineUserId = () => `U${crypto.randomUUID().replace(/-/g, '')}`;

describe.skipIf(!hasChromium)(`console today page and reply in Chromium${hasChromium ? '' : ` (skipped: ${NO_CHROMIUM})`}`, () => {
  let line: FakeLineApi;
  let svc: TestService;
  let http: ServedApp;
  let browser: OpenBrowser;
  const staff = new Map<string, SignedInStaff & { name: string }>();
  const customers: { userId: string; id: string }[] = [];
  let serviceNames: Record<string, string> = {};
  const shots = process.env.CONSOLE_SHOTS_DIR ?? null;

  async function lineWebhook(userId: string, extra: Record<string, unknown>): Promise<void> {
    eventSeq += 1;
    const event = {
      mode: 'active',
      timestamp: Date.now(),
      source: { type: 'user', userId },
      webhookEventId: `01JTODAY${String(eventSeq).padStart(18, '0')}`,
      deliveryContext: { isRedelivery: false },
      replyToken: line.issueReplyToken({ userId }),
      ...extra,
    };
    const body = JSON.stringify({ destination: 'Ubot', events: [event] });
    const res = await fetch(`${http.url}/webhooks/line`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-line-signature': createHmac('sha256', TEST_LINE_SECRET).update(body).digest('base64') },
      body,
    });
    expect(res.status).toBe(200);
  }
  const says = (userId: string, text: string) => lineWebhook(userId, { type: 'message', message: { id: String(9000 + eventSeq), type: 'text', text } });

  async function signInAs(page: Page, locale: string): Promise<SignedInStaff & { name: string }> {
    const who = staff.get(locale)!;
    await page.context().clearCookies();
    const [name, value] = who.cookie.split('=') as [string, string];
    await page.context().addCookies([{ name, value, url: http.url }]);
    return who;
  }

  beforeAll(async () => {
    line = await startFakeLineApi();
    const startedAt = Date.now();
    const clock: Clock = { now: () => new Date(START + (Date.now() - startedAt)) };
    svc = await startTestService(dialects[0]!, testConfig({ DEFAULT_LOCALE: 'en' }, { line: line.url }), clock);
    svc.engine.start();
    svc.outbox.start();
    http = await serveOverHttp(svc.app.fetch);
    const db = svc.db.store.db;
    for (const locale of ['en', 'zh-TW']) {
      const member = await staffMember(svc, 'advisor', { locale });
      const name = locale === 'en' ? 'Mei Lin' : '張家豪';
      await db.updateTable('staff_users').set({ name }).where('id', '=', member.id).execute();
      staff.set(locale, { ...member, name });
    }
    const dms = await apiToken(svc, 'manager');
    const branchId = (await db.selectFrom('branches').select('id').executeTakeFirstOrThrow()).id;
    serviceNames = JSON.parse((await db.selectFrom('service_types').select('names').where('branch_id', '=', branchId).where('code', '=', 'periodic_maintenance').executeTakeFirstOrThrow()).names) as Record<string, string>;

    for (const c of WAITING) {
      const userId = lineUserId();
      line.setProfile(userId, { displayName: c.name, language: 'zh-TW' });
      await lineWebhook(userId, { type: 'follow', follow: { isUnblocked: false } });
      await vi.waitFor(async () => expect(await db.selectFrom('channel_identities').select('customer_id').where('external_id', '=', userId).executeTakeFirst()).toBeDefined(), { timeout: 10_000, interval: 50 });
      const { customer_id: id } = await db.selectFrom('channel_identities').select('customer_id').where('external_id', '=', userId).executeTakeFirstOrThrow();
      customers.push({ userId, id });
      const car = await dms.request(`/api/customers/${id}/vehicles`, { json: { plate: c.plate, make: 'Toyota', model: 'Yaris' } });
      expect(car.status).toBe(201);
      await says(userId, 'human');
      await says(userId, c.says);
    }
    // Someone booked in for today, at 11:00 Taipei time.
    const arrival = lineUserId();
    line.setProfile(arrival, { displayName: 'Daniel Ho', language: 'en' });
    await lineWebhook(arrival, { type: 'follow', follow: { isUnblocked: false } });
    await vi.waitFor(async () => expect(await db.selectFrom('channel_identities').select('customer_id').where('external_id', '=', arrival).executeTakeFirst()).toBeDefined(), { timeout: 10_000, interval: 50 });
    const { customer_id: arrivalId } = await db.selectFrom('channel_identities').select('customer_id').where('external_id', '=', arrival).executeTakeFirstOrThrow();
    const car = (await (await dms.request(`/api/customers/${arrivalId}/vehicles`, { json: { plate: 'DAN-0808', make: 'Lexus', model: 'NX' } })).json()) as { id: string };
    const booked = await dms.request('/api/appointments', { json: { branchId, customerId: arrivalId, vehicleId: car.id, serviceType: 'periodic_maintenance', startsAt: '2026-03-09T03:00:00.000Z' } });
    expect(booked.status).toBe(201);

    // Every customer's words reached the transcript (the engine loop did its work).
    await vi.waitFor(
      async () => {
        for (const [i, c] of WAITING.entries()) {
          const said = await db.selectFrom('messages').select('text').where('customer_id', '=', customers[i]!.id).where('text', '=', c.says).executeTakeFirst();
          expect(said).toBeDefined();
        }
      },
      { timeout: 15_000, interval: 100 },
    );
    browser = await openChromium({ viewport: DESKTOP });
    if (shots) await mkdir(shots, { recursive: true });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await http?.close();
    await svc?.close();
    await line?.close();
  });

  for (const [i, c] of CASES.entries()) {
    it(`shows today and answers without a reload on a ${c.size} in ${c.locale}`, async () => {
      const { page } = browser;
      const words = wordsOf(svc, c.locale);
      const customer = WAITING[i]!;
      const { id: customerId, userId } = customers[i]!;
      await page.setViewportSize(c.viewport);
      const me = await signInAs(page, c.locale);

      await page.goto(`${http.url}/console`);
      expect(await page.locator('h1').textContent()).toContain(words.today);
      // The first Tab lands on the link past the menu, and it shows itself.
      await page.keyboard.press('Tab');
      const skip = page.locator('a.skip');
      expect(await skip.evaluate((el) => el === document.activeElement)).toBe(true);
      expect(await skip.textContent()).toBe(words.skip);
      expect((await skip.boundingBox())!.y).toBeGreaterThanOrEqual(0);

      const waitingRow = page.locator('#waiting + div table tbody tr', { hasText: customer.name });
      await expect.poll(() => waitingRow.count()).toBe(1);
      const waitingText = (await waitingRow.textContent())!;
      expect(waitingText).toContain(customer.plate);
      expect(waitingText).toContain(customer.says);
      expect(waitingText).toMatch(words.minutes);
      const arrivalText = (await page.locator('#arrivals + div table tbody tr').first().textContent())!;
      for (const part of ['11:00', 'Daniel Ho', 'DAN-0808', serviceNames[c.locale]!]) expect(arrivalText).toContain(part);
      // Nothing spills sideways: wide tables scroll inside their own box.
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      if (shots) await page.screenshot({ path: join(shots, `today-${c.size}-${c.locale}.png`), fullPage: true });

      await Promise.all([page.waitForURL(`${http.url}/console/customers/${customerId}/conversation`), waitingRow.getByRole('link', { name: customer.name }).click()]);
      // The reply box is in view as the page opens, with the latest message just above it.
      const box = (await page.locator('#text').boundingBox())!;
      expect(box.y).toBeGreaterThan(0);
      expect(box.y + box.height).toBeLessThanOrEqual(c.viewport.height);
      const send = (await page.getByRole('button', { name: words.send, exact: true }).boundingBox())!;
      expect(send.y + send.height).toBeLessThanOrEqual(c.viewport.height);
      await page.locator('#transcript .msg.in .text', { hasText: customer.says }).waitFor();
      if (shots) await page.screenshot({ path: join(shots, `conversation-${c.size}-${c.locale}.png`) });

      const reply = c.locale === 'en' ? `Hello, this is ${me.name}. We can look at it today at 14:00.` : `您好，我是${me.name}，今天下午兩點可以幫您檢查。`;
      await page.evaluate(() => ((window as unknown as { stayed: number }).stayed = 1));
      const pushesBefore = line.accepted.pushes().filter((p) => p.to === userId).length;
      await page.locator('#text').fill(reply);
      await page.getByRole('button', { name: words.send, exact: true }).click();
      // The line shows at once, the box is emptied, and the page never left.
      await page.locator('#transcript .msg.staff .text', { hasText: reply }).first().waitFor({ timeout: 5_000 });
      expect(await page.locator('#text').inputValue()).toBe('');
      // The delivered line replaces the one being sent, signed with who wrote it.
      const delivered = page.locator('#transcript .msg.staff:not(.pending)', { hasText: reply });
      await delivered.waitFor({ timeout: 10_000 });
      expect(await delivered.locator('.meta strong').textContent()).toContain(me.name);
      await expect.poll(() => page.locator('#transcript .msg.pending').count(), { timeout: 10_000 }).toBe(0);
      await expect.poll(() => page.locator('#conversation-status').textContent(), { timeout: 10_000 }).toBe(words.answering(me.name));
      expect(await page.evaluate(() => (window as unknown as { stayed?: number }).stayed)).toBe(1);
      expect(page.url()).toBe(`${http.url}/console/customers/${customerId}/conversation`);
      await vi.waitFor(() => expect(line.accepted.pushes().filter((p) => p.to === userId).length).toBe(pushesBefore + 1), { timeout: 10_000, interval: 100 });
      if (shots) await page.screenshot({ path: join(shots, `conversation-sent-${c.size}-${c.locale}.png`) });
    }, 60_000);
  }

  it('still sends without JavaScript: the form posts and the page comes back with the message queued', async () => {
    const { page, context } = browser;
    await page.setViewportSize(DESKTOP);
    await signInAs(page, 'en');
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setScriptExecutionDisabled', { value: true });
    try {
      const { id: customerId } = customers[0]!;
      await page.goto(`${http.url}/console/customers/${customerId}/conversation`);
      await page.locator('#text').fill('Sent from a browser without scripts.');
      await Promise.all([page.waitForURL(/\/conversation\?flash=sent$/), page.getByRole('button', { name: 'Send', exact: true }).click()]);
      expect(await page.locator('.flash').textContent()).toContain('Message queued');
    } finally {
      await cdp.send('Emulation.setScriptExecutionDisabled', { value: false });
      await cdp.detach();
    }
  }, 30_000);
});
