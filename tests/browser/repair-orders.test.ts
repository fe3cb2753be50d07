import { createHmac } from 'node:crypto';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiTokenAccount, createStaffAccount } from '../../src/staff/accounts';
import { hasChromium, NO_CHROMIUM, openChromium, pngSize, serveOverHttp, type OpenBrowser, type ServedApp } from '../helpers/browser';
import { TEST_LINE_SECRET, testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { TEST_PASSWORD_ITERATIONS } from '../helpers/staff';
import { dialects } from '../helpers/stores';
import { startFakeLineApi, type FakeLineApi } from '../fakes/line-api';

/*
 * A busy advisor's morning in a real Chromium, against the whole service served over HTTP with its
 * background loops running and LINE played by the fake LINE API: the board full of cars, a car moved on
 * from it, added items sent, the customer's answer on LINE appearing on the open order page without a
 * reload, an answer taken on the phone, and a walk-in opened for a customer found by plate.
 */

const ADVISOR = { email: 'amy@dealer.example', password: 'Bl4ck-coffee-at-eight', name: 'Amy Wu' };
const SCREENSHOTS = new URL('../../docs/screenshots/', import.meta.url).pathname;
const CUSTOMERS = [
  { name: '王小明', language: 'zh-TW', plate: 'ABC-1234', number: 'W-1001', status: 'checked_in' },
  { name: 'Emily Chen', language: 'en', plate: 'RBX-7788', number: 'W-1002', status: 'diagnosing' },
  { name: '田中 優子', language: 'ja', plate: 'KLM-5521', number: 'W-1003', status: 'in_progress' },
  { name: 'สมชาย ใจดี', language: 'th', plate: 'TH-2022', number: 'W-1004', status: 'quality_check' },
  { name: '李娜', language: 'zh-CN', plate: 'SH-8800', number: 'W-1005', status: 'ready' },
] as const;

let eventSeq = 0;

describe.skipIf(!hasChromium)(`repair orders in Chromium${hasChromium ? '' : ` (skipped: ${NO_CHROMIUM})`}`, () => {
  let line: FakeLineApi;
  let svc: TestService;
  let http: ServedApp;
  let browser: OpenBrowser;
  let dmsToken: string;
  const users: string[] = [];

  async function lineWebhook(userId: string, extra: Record<string, unknown>): Promise<void> {
    eventSeq += 1;
    const event = {
      type: 'message',
      mode: 'active',
      timestamp: Date.now(),
      source: { type: 'user', userId },
      webhookEventId: `01JROBROWSER${String(eventSeq).padStart(14, '0')}`,
      deliveryContext: { isRedelivery: false },
      replyToken: line.issueReplyToken({ userId }),
      ...extra,
    };
    const body = JSON.stringify({ destination: 'Ubot', events: [event] });
    const res = await fetch(`${http.url}/webhooks/line`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': createHmac('sha256', TEST_LINE_SECRET).update(body).digest('base64') }, body });
    expect(res.status).toBe(200);
  }

  async function api(path: string, method: string, body?: unknown): Promise<Record<string, any>> {
    const res = await fetch(`${http.url}${path}`, { method, headers: { authorization: `Bearer ${dmsToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    return (await res.json()) as Record<string, any>;
  }

  beforeAll(async () => {
    line = await startFakeLineApi();
    svc = await startTestService(dialects[0]!, testConfig({ DEFAULT_LOCALE: 'en' }, { line: line.url }));
    svc.engine.start();
    svc.outbox.start();
    http = await serveOverHttp(svc.app.fetch);
    // The service runs on the real clock, at whatever hour the suite runs: the branch keeps no quiet hours,
    // so the customer hears each notice at once rather than the next morning.
    await svc.db.store.db.updateTable('branch_settings').set({ quiet_hours_start: null, quiet_hours_end: null }).execute();
    const now = new Date();
    const branch = await svc.db.store.db.selectFrom('branches').select('id').executeTakeFirstOrThrow();
    await createStaffAccount(svc.db.store, { ...ADVISOR, role: 'advisor', locale: 'en', branches: 'all' }, { kind: 'cli', label: 'browser test' }, now, { defaultLocale: 'en', iterations: TEST_PASSWORD_ITERATIONS });
    dmsToken = (await createApiTokenAccount(svc.db.store, { name: 'DMS', role: 'manager', branches: [branch.id] }, { kind: 'cli', label: 'browser test' }, now)).token;
    for (const c of CUSTOMERS) {
      const userId = `U${crypto.randomUUID().replace(/-/g, '')}`;
      users.push(userId);
      line.setProfile(userId, { displayName: c.name, language: c.language });
      await lineWebhook(userId, { type: 'follow', follow: { isUnblocked: false } });
    }
    await vi.waitFor(async () => expect(await svc.db.store.db.selectFrom('channel_identities').select('id').execute()).toHaveLength(CUSTOMERS.length), { timeout: 10_000, interval: 100 });
    // The DMS knows the cars and has them in the workshop at different stages.
    for (const [i, c] of CUSTOMERS.entries()) {
      const identity = await svc.db.store.db.selectFrom('channel_identities').select('customer_id').where('external_id', '=', users[i]!).executeTakeFirstOrThrow();
      await api(`/api/customers/${identity.customer_id}/vehicles`, 'POST', { plate: c.plate, make: 'Toyota', model: 'Corolla' });
      await api(`/api/repair-orders/${c.number}`, 'PUT', { plate: c.plate, status: c.status, promisedAt: new Date(Date.now() + (i - 1) * 3600_000).toISOString(), estimatedAmount: 3000 + i * 500, advisor: ADVISOR.email, notifyNow: true });
    }
    browser = await openChromium({ viewport: { width: 1440, height: 900 } });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await http?.close();
    await svc?.close();
    await line?.close();
  });

  it('moves a car on from the board, sends added items, sees the LINE answer arrive live, and records a phone answer', async () => {
    const { page } = browser;
    await page.goto(`${http.url}/console/login`);
    await page.locator('#email').fill(ADVISOR.email);
    await page.locator('#password').fill(ADVISOR.password);
    await Promise.all([page.waitForURL(`${http.url}/console`), page.getByRole('button', { name: 'Sign in' }).click()]);
    await page.getByRole('navigation').getByRole('link', { name: 'Repair orders' }).click();
    await page.waitForURL(/\/console\/repair-orders$/);
    for (const c of CUSTOMERS) expect(await page.locator(`[data-column="${c.status}"]`).textContent()).toContain(c.number);
    const shots = process.env.UPDATE_SCREENSHOTS === '1' ? SCREENSHOTS : await mkdtemp(join(tmpdir(), 'dealer-chat-ro-'));
    await mkdir(shots, { recursive: true });
    const board = await page.screenshot({ path: join(shots, 'console-repair-order-board.png'), fullPage: true });
    expect(pngSize(board).width).toBe(1440);

    // The first car is looked at by a technician: one press moves it on.
    const card = page.locator('[data-column="checked_in"] .card', { hasText: 'W-1001' });
    await Promise.all([page.waitForURL(/flash=moved/), card.getByRole('button', { name: '→ Diagnosing' }).click()]);
    expect(await page.locator('.flash').textContent()).toContain('Status changed.');
    expect(await page.locator('[data-column="diagnosing"]').textContent()).toContain('W-1001');

    // Emily's car needs more work: two items with prices go to her on LINE.
    await page.locator('[data-column="diagnosing"] .card', { hasText: 'W-1002' }).getByRole('link', { name: 'W-1002' }).click();
    await page.waitForURL(/\/console\/repair-orders\/[0-9a-f-]{36}$/);
    await page.getByLabel('Description 1').fill('Front brake pads');
    await page.getByLabel('Price 1').fill('2400');
    await page.getByLabel('Urgency 1').selectOption('red');
    await page.getByLabel('Photo (https address) 1').fill('https://photos.dealer.example/w1002/pads.jpg');
    await page.getByLabel('Description 2').fill('Wiper blades');
    await page.getByLabel('Price 2').fill('600');
    await page.getByLabel('Urgency 2').selectOption('green');
    await Promise.all([page.waitForURL(/flash=itemsSent/), page.getByRole('button', { name: 'Send to the customer' }).click()]);
    const orderUrl = page.url();
    const emily = users[1]!;
    await vi.waitFor(() => expect(line.accepted.pushes().some((p) => p.to === emily && (p.messages[0] as { type: string }).type === 'flex')).toBe(true), { timeout: 10_000, interval: 100 });
    const carousel = line.accepted.pushes().filter((p) => p.to === emily).at(-1)!.messages[0] as { contents: { contents: { footer: { contents: { action: { data: string } }[] } }[] } };
    const approvePads = carousel.contents.contents[1]!.footer.contents[0]!.action.data;
    expect(approvePads).toMatch(/^prog:a:/);
    await page.locator('#live').getByText('Waiting for answer').first().waitFor();

    // She approves the pads on LINE while the advisor's page stays open: the answer appears without a reload.
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    await lineWebhook(emily, { type: 'postback', postback: { data: approvePads } });
    await page.locator('#live .badge.ok', { hasText: 'Approved' }).waitFor({ timeout: 15_000 });
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    expect(page.url()).toBe(orderUrl);

    // She phones about the wipers; the advisor writes it down with the time of the call.
    await page.locator('#live summary', { hasText: 'Record an answer given by phone for #2' }).click();
    await page.locator('#live select[name="decision"]').selectOption('declined');
    await page.locator('#live input[name="note"]').fill('Emily: next service');
    await Promise.all([page.waitForURL(/flash=decided/), page.locator('#live').getByRole('button', { name: 'Record' }).click()]);
    expect(await page.locator('#live').textContent()).toContain('Emily: next service');
    expect(await page.locator('#live .badge.bad', { hasText: 'Declined' }).count()).toBe(1);
    const order = await page.screenshot({ path: join(shots, 'console-repair-order.png'), fullPage: true });
    expect(pngSize(order).width).toBe(1440);
  }, 60_000);

  it('opens a walk-in for a customer found by plate, and the customer hears it on LINE', async () => {
    const { page } = browser;
    await page.goto(`${http.url}/console/repair-orders`);
    await page.getByRole('link', { name: 'Walk-in repair order' }).click();
    await page.getByRole('searchbox').fill('klm 5521');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('link', { name: 'Open an order' }).click();
    await page.getByLabel('Estimate').fill('1,800');
    await Promise.all([page.waitForURL(/flash=opened/), page.getByRole('button', { name: 'Open and tell the customer' }).click()]);
    expect(await page.locator('h1').textContent()).toMatch(/RO-\d{6}/);
    const yuko = users[2]!;
    await vi.waitFor(() => expect(line.accepted.pushes().filter((p) => p.to === yuko).map((p) => String((p.messages[0] as { text?: string }).text ?? ''))).toContainEqual(expect.stringContaining('KLM-5521')), { timeout: 10_000, interval: 100 });
  }, 45_000);
});
