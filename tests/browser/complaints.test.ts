import { createHmac } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { setOnDuty } from '../../src/complaints/staffing';
import { createStaffAccount } from '../../src/staff/accounts';
import { hasChromium, NO_CHROMIUM, openChromium, pngSize, serveOverHttp, type OpenBrowser, type ServedApp } from '../helpers/browser';
import { TEST_LINE_SECRET, testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { TEST_PASSWORD_ITERATIONS } from '../helpers/staff';
import { dialects } from '../helpers/stores';
import { startFakeLineApi, type FakeLineApi } from '../fakes/line-api';
import { JPEG } from '../complaints/helpers';

/*
 * The complaints inbox and a ticket's live chat as a care staff member uses them, in a real Chromium
 * against the whole service over HTTP, with the engine and outbox loops running and LINE played by the
 * fake LINE API: the new complaint is announced in the console, the ticket shows the customer's words and
 * photo, staff take it, chat with the customer live, hand back to the bot and resolve it, and the customer
 * confirms and rates it on LINE.
 */

const CARE = { email: 'mei@dealer.example', password: 'Blue-heron-over-the-bay', name: 'Mei Lin' };
const SCREENSHOTS = new URL('../../docs/screenshots/', import.meta.url).pathname;

describe.skipIf(!hasChromium)(`complaints in the console in Chromium${hasChromium ? '' : ` (skipped: ${NO_CHROMIUM})`}`, () => {
  let line: FakeLineApi;
  let svc: TestService;
  let http: ServedApp;
  let browser: OpenBrowser;
  let seq = 0;
  const userId = `U${'e'.repeat(32)}`;

  async function lineWebhook(extra: Record<string, unknown>): Promise<void> {
    seq += 1;
    const event = { type: 'message', mode: 'active', timestamp: Date.now(), source: { type: 'user', userId }, webhookEventId: `01JBRCOMP${String(seq).padStart(17, '0')}`, deliveryContext: { isRedelivery: false }, replyToken: line.issueReplyToken({ userId }), ...extra };
    const body = JSON.stringify({ destination: 'Ubot', events: [event] });
    const res = await fetch(`${http.url}/webhooks/line`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': createHmac('sha256', TEST_LINE_SECRET).update(body).digest('base64') }, body });
    expect(res.status).toBe(200);
  }
  const says = (text: string) => lineWebhook({ message: { id: `7${seq}`, type: 'text', text } });
  const presses = (data: string) => lineWebhook({ type: 'postback', postback: { data } });
  /** Waits until the customer has received `count` messages in all, and returns the last. */
  async function received(count: number): Promise<Record<string, any>> {
    await vi.waitFor(() => expect(line.accepted.messagesTo(userId).length).toBeGreaterThanOrEqual(count), { timeout: 10_000, interval: 100 });
    return line.accepted.messagesTo(userId).at(-1) as Record<string, any>;
  }

  beforeAll(async () => {
    line = await startFakeLineApi();
    // Opening hours are the demo branch's (Mon–Sat 09:00–18:00); the test runs whenever it runs, so the
    // answer time it shows may be "within 30 minutes" or "by" the next opening.
    svc = await startTestService(dialects[0]!, testConfig({ DEFAULT_LOCALE: 'en', PUBLIC_BASE_URL: 'https://chat.dealer.example' }, { line: line.url }));
    svc.engine.start();
    svc.outbox.start();
    http = await serveOverHttp(svc.app.fetch);
    const care = await createStaffAccount(svc.db.store, { ...CARE, role: 'care', locale: 'en', branches: 'all' }, { kind: 'cli', label: 'browser test' }, new Date(), { defaultLocale: 'en', iterations: TEST_PASSWORD_ITERATIONS });
    await setOnDuty(svc.db.store.db, care.user.id, true, new Date().toISOString());
    browser = await openChromium({ viewport: { width: 1280, height: 900 } });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await http?.close();
    await svc?.close();
    await line?.close();
  });

  it('announces a new complaint, shows it with its photo, and chats with the customer live until it is resolved and rated', async () => {
    const { page } = browser;
    await page.goto(`${http.url}/console/login`);
    await page.locator('#email').fill(CARE.email);
    await page.locator('#password').fill(CARE.password);
    await Promise.all([page.waitForURL(`${http.url}/console`), page.getByRole('button', { name: 'Sign in' }).click()]);

    // A LINE customer complains, with a photo, while the console is open.
    line.setProfile(userId, { displayName: 'Chen Ya-Ting', language: 'en' });
    await lineWebhook({ type: 'follow', follow: { isUnblocked: false } });
    await received(1);
    await presses('i:complaint');
    await received(2);
    await presses('cmp:c:damage');
    await received(3);
    await says('There is a dent in the front bumper after the car wash.');
    await received(4);
    line.setContent('66000001', JPEG);
    await lineWebhook({ message: { id: '66000001', type: 'image', contentProvider: { type: 'line' } } });
    await received(5);
    await presses('cmp:done');
    await received(6);
    await presses('cmp:skip');
    await received(7);
    await presses('cmp:u:high');
    await received(8);
    await presses('cmp:ct:chat');
    const done = await received(9);
    const complaint = await svc.db.store.db.selectFrom('complaints').selectAll().executeTakeFirstOrThrow();
    expect(String(done.text)).toContain(complaint.reference);

    // The console announces it without a reload: the badge by "Complaints" and a note with a link.
    await page.locator('#complaint-notices').filter({ hasText: '1' }).waitFor({ timeout: 15_000 });
    await page.locator('#complaint-toast a').filter({ hasText: complaint.reference }).waitFor({ timeout: 15_000 });

    await page.getByRole('navigation').getByRole('link', { name: /Complaints/ }).click();
    await page.waitForURL(`${http.url}/console/complaints`);
    const row = page.locator('table tbody tr', { hasText: complaint.reference });
    expect(await row.textContent()).toContain('There is a dent in the front bumper');
    expect(await row.textContent()).toContain('Mei Lin');
    await shoot('console-complaints-inbox');

    await row.getByRole('link', { name: complaint.reference }).click();
    await page.waitForURL(`${http.url}/console/complaints/${complaint.id}`);
    const timeline = page.locator('#timeline');
    expect(await timeline.textContent()).toContain('There is a dent in the front bumper after the car wash.');
    // The customer's photo is shown, served from the blob store.
    const photo = timeline.locator('img').first();
    await expect.poll(() => photo.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(16);
    // Opening the ticket read its notice.
    await vi.waitFor(() => expect(page.locator('#complaint-notices').isHidden()).resolves.toBe(true), { timeout: 15_000 });

    // Take it: the chat is Mei's now, and the customer is told who is answering.
    await Promise.all([page.waitForURL(/flash=taken$/), page.getByRole('button', { name: 'Take it' }).click()]);
    expect(String((await received(10)).text)).toBe('Mei Lin from our customer care team is answering you now.');
    expect(await page.locator('#ticket-held').textContent()).toBe('A person holds the chat');

    await page.locator('#text').fill('I am very sorry. Could you come by tomorrow so we can look at it?');
    await Promise.all([page.waitForURL(/flash=sent$/), page.getByRole('button', { name: 'Send', exact: true }).click()]);
    expect(String((await received(11)).text)).toBe('I am very sorry. Could you come by tomorrow so we can look at it?');

    // The customer answers on LINE; the ticket page shows it within seconds, without a reload.
    await says('Yes, tomorrow at 10 works for me.');
    await timeline.locator('.entry.customer .text', { hasText: 'Yes, tomorrow at 10 works for me.' }).waitFor({ timeout: 10_000 });
    // The bot said nothing over the person.
    expect(line.accepted.messagesTo(userId)).toHaveLength(11);
    await shoot('console-complaint-ticket');

    // Hand back to the bot: the customer is told, with the menu.
    await Promise.all([page.waitForURL(/flash=handedBack$/), page.getByRole('button', { name: 'Return to bot' }).click()]);
    const back = await received(12);
    expect(String(back.text)).toContain("You're back with the automated assistant");
    expect((back.quickReply?.items ?? []).map((i: any) => i.action.data)).toContain('i:book');

    // Resolve: the customer is asked in LINE, confirms and rates the handling.
    await page.locator('#resolution').fill('Bumper repaired and repainted at no charge.');
    await Promise.all([page.waitForURL(/flash=resolved$/), page.getByRole('button', { name: 'Resolve and ask the customer' }).click()]);
    const asked = await received(13);
    expect(String(asked.text)).toContain('Bumper repaired and repainted at no charge.');
    expect(asked.quickReply.items.map((i: any) => i.action.data)).toEqual([`cmp:ry:${complaint.id}`, `cmp:rn:${complaint.id}`]);
    await presses(`cmp:ry:${complaint.id}`);
    await received(14);
    await presses(`cmp:rt:${complaint.id}:5`);
    expect(String((await received(15)).text)).toContain('is now closed');
    await page.locator('#ticket-status', { hasText: 'Closed' }).waitFor({ timeout: 10_000 });
    await timeline.locator('.entry.event', { hasText: 'rated the handling 5 of 5' }).waitFor({ timeout: 10_000 });
    expect(line.requests.filter((r) => r.status >= 400)).toEqual([]);
  }, 60_000);

  /** A screenshot for the README when UPDATE_SCREENSHOTS=1 (elsewhere a temporary file), checked to be the page's size. */
  async function shoot(name: string): Promise<void> {
    const update = process.env.UPDATE_SCREENSHOTS === '1';
    const dir = update ? SCREENSHOTS : await mkdtemp(join(tmpdir(), 'dealer-chat-screenshots-'));
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${name}.png`);
    await browser.page.screenshot({ path: file, animations: 'disabled' });
    expect(pngSize(await readFile(file))).toEqual({ width: 1280, height: 900 });
    if (!update) await rm(dir, { recursive: true, force: true });
  }
});
