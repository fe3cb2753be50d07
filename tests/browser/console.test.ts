import { createHmac } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiTokenAccount, createStaffAccount } from '../../src/staff/accounts';
import { hasChromium, NO_CHROMIUM, openChromium, pngSize, serveOverHttp, type OpenBrowser, type ServedApp } from '../helpers/browser';
import { TEST_LINE_SECRET, testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { TEST_PASSWORD_ITERATIONS } from '../helpers/staff';
import { dialects } from '../helpers/stores';
import { startFakeLineApi, type FakeLineApi } from '../fakes/line-api';

/*
 * The staff console as staff use it: a real Chromium against the whole service served over HTTP, with the
 * outbox and engine loops running and LINE played by the fake LINE API. Browser tests are about the UI,
 * so they run on SQLite only; the same routes are proven on Postgres by tests/staff.
 */

const ADMIN = { email: 'admin@dealer.example', password: 'Gr33n-lantern-at-dawn', name: 'Alex Wu' };
const LAPTOP = { width: 1280, height: 800 };
const TABLET = { width: 820, height: 1180 };
const PHONE = { width: 390, height: 844 };
const SCREENSHOTS = new URL('../../docs/screenshots/', import.meta.url).pathname;

/** People who wrote to the dealership's LINE account before the tests begin; the first is the one staff answer. */
const LINE_CUSTOMERS = [
  { name: '王小明', language: 'zh-TW', says: '你好，我想問一下定期保養大概要多少錢？', plate: 'ABC 1234', make: 'Toyota', model: 'Corolla Cross', year: 2021, mileageKm: 42000 },
  { name: '田中 優子', language: 'ja', says: 'スタッフと話す', plate: 'KLM-5521', make: 'Honda', model: 'Fit', year: 2019, mileageKm: 61000 },
  { name: 'สมชาย ใจดี', language: 'th', says: 'สวัสดีครับ', plate: 'กข 1234', make: 'Isuzu', model: 'D-Max', year: 2022, mileageKm: 18500 },
  { name: 'Emily Chen', language: 'en', says: 'Hi, can I book a service for next week?', plate: 'RBX-7788', make: 'Mazda', model: 'CX-5', year: 2020, mileageKm: 55000 },
  { name: '李娜', language: 'zh-CN', says: '你好', plate: null, make: null, model: null, year: null, mileageKm: null },
] as const;

const lineUserId = () => `U${crypto.randomUUID().replace(/-/g, '')}`;
let eventSeq = 0;

describe.skipIf(!hasChromium)(`staff console in Chromium${hasChromium ? '' : ` (skipped: ${NO_CHROMIUM})`}`, () => {
  let line: FakeLineApi;
  let svc: TestService;
  let http: ServedApp;
  let browser: OpenBrowser;
  const users: string[] = [];
  const customerIds: string[] = [];

  /** A LINE webhook as LINE sends it: signed with the channel secret, posted over HTTP to the served app. */
  async function lineWebhook(userId: string, extra: Record<string, unknown>): Promise<void> {
    eventSeq += 1;
    const event = {
      type: 'message',
      mode: 'active',
      timestamp: Date.now(),
      source: { type: 'user', userId },
      webhookEventId: `01JBROWSER${String(eventSeq).padStart(16, '0')}`,
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

  async function signIn(page: Page): Promise<void> {
    await page.goto(`${http.url}/console/login`);
    await page.locator('#email').fill(ADMIN.email);
    await page.locator('#password').fill(ADMIN.password);
    await Promise.all([page.waitForURL(`${http.url}/console`), page.getByRole('button', { name: 'Sign in' }).click()]);
  }

  beforeAll(async () => {
    line = await startFakeLineApi();
    svc = await startTestService(dialects[0]!, testConfig({ DEFAULT_LOCALE: 'en' }, { line: line.url }));
    svc.engine.start();
    svc.outbox.start();
    http = await serveOverHttp(svc.app.fetch);
    const now = new Date();
    await createStaffAccount(svc.db.store, { ...ADMIN, role: 'admin', locale: 'en', branches: 'all' }, { kind: 'cli', label: 'browser test' }, now, { defaultLocale: 'en', iterations: TEST_PASSWORD_ITERATIONS });
    const dms = await createApiTokenAccount(svc.db.store, { name: 'DMS', role: 'manager', branches: 'all' }, { kind: 'cli', label: 'browser test' }, now);

    for (const c of LINE_CUSTOMERS) {
      const userId = lineUserId();
      users.push(userId);
      line.setProfile(userId, { displayName: c.name, language: c.language });
      await lineWebhook(userId, { type: 'follow', follow: { isUnblocked: false } });
      await lineWebhook(userId, { message: { id: String(5000 + eventSeq), type: 'text', text: c.says } });
    }
    // Every customer was greeted and answered: the engine and the outbox loops did their work.
    await vi.waitFor(() => expect(users.every((u) => line.accepted.messagesTo(u).length >= 2)).toBe(true), { timeout: 10_000, interval: 100 });
    for (const [i, c] of LINE_CUSTOMERS.entries()) {
      const identity = await svc.db.store.db.selectFrom('channel_identities').select('customer_id').where('channel', '=', 'line').where('external_id', '=', users[i]!).executeTakeFirstOrThrow();
      customerIds.push(identity.customer_id);
      if (!c.plate) continue;
      // The dealership's DMS knows the car, as it would in production.
      const res = await fetch(`${http.url}/api/customers/${identity.customer_id}/vehicles`, {
        method: 'POST',
        headers: { authorization: `Bearer ${dms.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ plate: c.plate, make: c.make, model: c.model, year: c.year, mileageKm: c.mileageKm }),
      });
      expect(res.status).toBe(201);
    }
    browser = await openChromium({ viewport: LAPTOP });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await http?.close();
    await svc?.close();
    await line?.close();
  });

  it('signs in, finds a LINE customer by plate, answers them on LINE and signs out', async () => {
    const { page } = browser;
    const [customer] = LINE_CUSTOMERS;
    const userId = users[0]!;
    await signIn(page);
    await expect.poll(() => page.locator('h1').textContent()).toMatch(/^Today /);

    await page.getByRole('navigation').getByRole('link', { name: 'Customers' }).click();
    await page.waitForURL(`${http.url}/console/customers`);
    // Typed as staff type it: dashed and lower-case, while the plate is stored as "ABC 1234".
    await page.getByRole('searchbox').fill('abc-1234');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\/console\/customers\?q=abc-1234$/);
    const rows = page.locator('table tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('ABC 1234');

    await rows.first().getByRole('link', { name: customer.name }).click();
    await page.waitForURL(`${http.url}/console/customers/${customerIds[0]}`);
    await page.getByRole('link', { name: 'Conversation', exact: true }).click();
    await page.waitForURL(`${http.url}/console/customers/${customerIds[0]}/conversation`);
    const transcript = page.locator('#transcript');
    expect(await transcript.locator('.msg.in .text').allTextContents()).toContain(customer.says);

    const reply = `王先生您好，定期保養約 NT$3,500，約需 1 小時。要幫您預約嗎？`;
    const pushesBefore = line.accepted.pushes().length;
    await page.locator('#text').fill(reply);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    // Sent by the page's script: the line shows at once and the page stays where it is.
    await page.locator('#transcript .msg.staff .text', { hasText: reply }).first().waitFor({ timeout: 5_000 });
    expect(page.url()).toBe(`${http.url}/console/customers/${customerIds[0]}/conversation`);

    await vi.waitFor(
      () => {
        const pushes = line.accepted.pushes().slice(pushesBefore).filter((p) => p.to === userId);
        expect(pushes).toHaveLength(1);
        // The first answer says who is answering, in the customer's language, in the same message.
        const notice = svc.translator.t('zh-TW', 'complaint:joined.admin', { name: ADMIN.name });
        expect(pushes[0]!.messages).toEqual([expect.objectContaining({ type: 'text', text: `${notice}\n\n${reply}` })]);
      },
      { timeout: 10_000, interval: 100 },
    );
    // The page's own polling (every 3 s) shows what staff sent, among the staff lines of the transcript.
    await page.locator('#transcript .msg.staff .text', { hasText: reply }).waitFor({ timeout: 10_000 });
    // The customer answers on LINE while the page stays open: the transcript's polling (every 3 s) shows it.
    const answer = '好的，請幫我預約下週六上午';
    await lineWebhook(userId, { message: { id: String(6000 + eventSeq), type: 'text', text: answer } });
    await page.locator('#transcript .msg.in .text', { hasText: answer }).waitFor({ timeout: 10_000 });

    await Promise.all([page.waitForURL(/\/console\/login\?signedOut=1$/), page.getByRole('button', { name: 'Sign out' }).click()]);
    expect(await page.locator('.flash').textContent()).toContain('You have signed out.');
    await expect.poll(() => page.locator('#password').isVisible()).toBe(true);
    // The session is really over: the console sends the browser back to the login page.
    await page.goto(`${http.url}/console`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
  }, 45_000);

  it('sends a visitor without a session to the login page, and downloads nothing for them', async () => {
    const { page, context } = browser;
    await context.clearCookies();
    const response = await page.goto(`${http.url}/console/customers`);
    expect(response!.status()).toBe(200);
    expect(response!.request().redirectedFrom()).not.toBeNull();
    expect((await response!.request().redirectedFrom()!.response())!.status()).toBe(302);
    const landed = new URL(page.url());
    expect(landed.pathname).toBe('/console/login');
    expect(landed.searchParams.get('next')).toBe('/console/customers');
    expect(await page.locator('#email').isVisible()).toBe(true);
    expect(await page.content()).not.toContain(LINE_CUSTOMERS[0].name);

    const downloads: string[] = [];
    page.on('download', (d) => downloads.push(d.suggestedFilename()));
    const exportResponse = await page.goto(`${http.url}/console/customers/${customerIds[0]}/export`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    expect(exportResponse!.headers()['content-disposition']).toBeUndefined();
    expect(await page.content()).not.toContain(LINE_CUSTOMERS[0].plate);
    expect(downloads).toEqual([]);
    const exports = await svc.db.store.db.selectFrom('audit_log').select('id').where('action', '=', 'customer.export').execute();
    expect(exports).toHaveLength(0);
  }, 30_000);

  it('shows the main pages tidily on a laptop, a tablet and a phone (screenshots)', async () => {
    const update = process.env.UPDATE_SCREENSHOTS === '1';
    const dir = update ? SCREENSHOTS : await mkdtemp(join(tmpdir(), 'dealer-chat-screenshots-'));
    await mkdir(dir, { recursive: true });
    const taken: { file: string; size: { width: number; height: number } }[] = [];
    const { page, context } = browser;
    const shoot = async (name: string, size: { width: number; height: number }) => {
      const file = join(dir, `${name}.png`);
      await page.screenshot({ path: file, animations: 'disabled' });
      taken.push({ file, size });
    };
    const visit = async (path: string) => {
      const res = await page.goto(`${http.url}${path}`);
      expect(res!.status(), path).toBe(200);
    };

    try {
      await context.clearCookies();
      await page.setViewportSize(LAPTOP);
      await page.goto(`${http.url}/console/login`);
      await page.locator('#email').fill(ADMIN.email);
      await shoot('console-login', LAPTOP);
      await signIn(page);

      // One message that could not be delivered, for the delivery problems page: LINE refuses the next push.
      line.failNext('push', { status: 400, body: { message: 'Failed to send messages' } });
      const undeliverable = '田中様、担当の佐藤です。ただいまお電話してもよろしいでしょうか？';
      await visit(`/console/customers/${customerIds[1]}/conversation`);
      await page.locator('#text').fill(undeliverable);
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      await page.locator('#transcript .msg.staff .text', { hasText: undeliverable }).waitFor({ timeout: 5_000 });
      await vi.waitFor(async () => {
        const dead = await svc.db.store.db.selectFrom('outbox').select('id').where('status', '=', 'dead').execute();
        expect(dead).toHaveLength(1);
      }, { timeout: 10_000, interval: 100 });
      expect(line.accepted.messagesTo(users[1]!).map((m) => m.text)).not.toContain(undeliverable);
      // The line the page showed as being sent now says it was given up on.
      await page.locator('#transcript .msg.failed .text', { hasText: undeliverable }).waitFor({ timeout: 10_000 });
      expect(await page.locator('#transcript .msg.failed .meta').textContent()).toContain('Given up');

      await visit('/console');
      // 田中 asked for a person on LINE, so the dashboard lists her as waiting.
      expect(await page.getByRole('heading', { name: 'Waiting for a person' }).isVisible()).toBe(true);
      await shoot('console-dashboard', LAPTOP);
      await visit('/console/customers');
      await shoot('console-customers', LAPTOP);
      await visit(`/console/customers/${customerIds[0]}`);
      await shoot('console-customer-profile', LAPTOP);
      await visit(`/console/customers/${customerIds[0]}/conversation`);
      await shoot('console-conversation', LAPTOP);
      await visit('/console/outbox');
      expect(await page.locator('table tbody tr').count()).toBe(1);
      await shoot('console-outbox', LAPTOP);
      const branch = await svc.db.store.db.selectFrom('branches').select('id').executeTakeFirstOrThrow();
      await visit(`/console/branches/${branch.id}`);
      await shoot('console-branch-edit', LAPTOP);
      await visit('/console/staff');
      await shoot('console-staff', LAPTOP);
      await visit('/console/tokens');
      await shoot('console-api-tokens', LAPTOP);

      // A tablet, with the console in Traditional Chinese: the staff member's language, not the browser's.
      const db = svc.db.store.db;
      await db.updateTable('staff_users').set({ locale: 'zh-TW' }).where('email', '=', ADMIN.email).execute();
      try {
        await page.setViewportSize(TABLET);
        await visit(`/console/customers/${customerIds[1]}/conversation`);
        expect(await page.locator('h1').textContent()).toContain('對話');
        await shoot('console-conversation-tablet-zh-tw', TABLET);
      } finally {
        await db.updateTable('staff_users').set({ locale: 'en' }).where('email', '=', ADMIN.email).execute();
      }

      // The web chat on a phone, part-way through booking a service.
      await context.clearCookies();
      await page.setViewportSize(PHONE);
      await visit('/chat');
      const book = page.locator('.choices button', { hasText: 'Book a service' }).last();
      await book.waitFor({ timeout: 10_000 });
      await book.click();
      const service = page.locator('.choices button', { hasText: 'Scheduled service' }).last();
      await service.waitFor({ timeout: 10_000 });
      await service.click();
      await page.locator('.msg.out', { hasText: 'licence plate' }).waitFor({ timeout: 10_000 });
      const say = async (text: string, next: string) => {
        await page.locator('#text').fill(text);
        await page.locator('#send').click();
        await page.locator('.msg.out', { hasText: next }).last().waitFor({ timeout: 10_000 });
      };
      await say('abc-5678', 'make and model');
      await say('Toyota Yaris', 'Which year');
      await say('2020', 'kilometres');
      await say('32000', 'Which day suits you?');
      const day = page.locator('.choices').last().locator('button:not([disabled])').first();
      await day.click();
      await page.locator('.msg.out', { hasText: 'Free times on' }).waitFor({ timeout: 10_000 });
      await page.locator('.choices').last().locator('button:not([disabled])').first().waitFor();
      await shoot('web-chat-booking-phone', PHONE);
    } finally {
      await page.setViewportSize(LAPTOP);
    }

    expect(taken).toHaveLength(11);
    for (const { file, size } of taken) {
      const png = await readFile(file);
      expect(png.byteLength, file).toBeGreaterThan(10_000);
      expect(pngSize(png), file).toEqual(size);
    }
    if (!update) await rm(dir, { recursive: true, force: true });
  }, 60_000);
});
