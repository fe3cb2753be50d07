import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookAppointment } from '../../src/booking/booking';
import { hasChromium, NO_CHROMIUM, openChromium, serveOverHttp, type OpenBrowser, type ServedApp } from '../helpers/browser';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { dialects } from '../helpers/stores';

/*
 * The web chat as a customer uses it on a phone: a real Chromium against the whole service served over
 * HTTP, with the engine and outbox loops running. Sentences in English and Traditional Chinese, two
 * bookings held at once, a reload in the middle of a question, and a tab left in the background.
 */

const PHONE = { width: 390, height: 844 };

describe.skipIf(!hasChromium)(`web chat on a phone in Chromium${hasChromium ? '' : ` (skipped: ${NO_CHROMIUM})`}`, () => {
  let svc: TestService;
  let http: ServedApp;

  beforeAll(async () => {
    svc = await startTestService(dialects[0]!, testConfig({ DEFAULT_LOCALE: 'en' }));
    svc.engine.start();
    svc.outbox.start();
    http = await serveOverHttp(svc.app.fetch);
  });
  afterAll(async () => {
    await http?.close();
    await svc?.close();
  });

  /** A fresh phone browser in `locale`, with the chat open and the greeting shown; `requests` are the chat API calls it made. */
  async function phone(locale: string): Promise<OpenBrowser & { requests: string[] }> {
    const browser = await openChromium({ viewport: PHONE, locale });
    const requests: string[] = [];
    browser.page.on('request', (r) => {
      if (r.url().includes('/chat/api/')) requests.push(r.url());
    });
    await browser.page.goto(`${http.url}/chat`);
    await browser.page.locator('.msg.out').first().waitFor({ timeout: 10_000 });
    return { ...browser, requests };
  }

  /** Types `text` and waits for an answer that contains `reply` (among the messages that came after it). */
  async function say(page: Page, text: string, reply: string | RegExp) {
    const before = await page.locator('.msg').count();
    await page.locator('#text').fill(text);
    await page.locator('#send').click();
    await expect
      .poll(async () => (await page.locator('.msg').allTextContents()).slice(before).join('\n'), { timeout: 10_000 })
      .toMatch(typeof reply === 'string' ? new RegExp(reply.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : reply);
  }

  /** Buttons that can still be pressed: a card's, and the latest question's. */
  const liveButtons = (page: Page) => page.locator('.choices button:not([disabled])').allTextContents();

  it('understands sentences typed in English, also in the middle of a booking', async () => {
    const { page, close } = await phone('en-US');
    try {
      await say(page, 'I want to book a service', 'What does your car need?');
      expect(await liveButtons(page)).toContain('Scheduled service');
      await page.locator('.choices button', { hasText: 'Vehicle check' }).last().click();
      await page.locator('.msg.out', { hasText: 'licence plate' }).waitFor({ timeout: 10_000 });
      await say(page, 'hello', "doesn't look like a licence plate");
      // A question on the side is answered, then the booking's question comes again.
      await say(page, 'when are you open?', 'Opening hours of');
      await expect.poll(() => page.locator('.msg.out').last().textContent(), { timeout: 10_000 }).toContain('licence plate');
      await say(page, 'ABC-1234', 'make and model');
      // The handoff says a person joins now when the branch is open, else when one will answer: it runs on the real clock.
      await say(page, 'can I speak to someone please', /I've asked our team to join this chat|a person from our team will answer by/);
    } finally {
      await close();
    }
  }, 60_000);

  it('understands sentences typed in Traditional Chinese, and shows the branch in Chinese', async () => {
    const { page, close } = await phone('zh-TW');
    try {
      expect(await page.locator('#text').getAttribute('placeholder')).toBe('輸入訊息…');
      await say(page, '你們幾點開門', 'Test Motors（示範據點） 營業時間');
      await say(page, '地址在哪裡', '台北市內湖區瑞光路 100 號');
      expect(await page.locator('.choices a', { hasText: '開啟地圖' }).last().getAttribute('href')).toMatch(/^https:\/\/www\.google\.com\/maps\//);
      await say(page, '我想預約保養', '請問這次需要什麼服務？');
      expect(await liveButtons(page)).toContain('定期保養');
    } finally {
      await close();
    }
  }, 60_000);

  it('keeps every booking manageable from its own card when two are held', async () => {
    const { page, close } = await phone('en-US');
    try {
      // Two bookings of this visitor's, made as the booking flow makes them.
      const db = svc.db.store.db;
      const customerId = (await db.selectFrom('channel_identities').select(['customer_id']).where('channel', '=', 'web').orderBy('created_at', 'desc').executeTakeFirstOrThrow()).customer_id;
      const branchId = (await db.selectFrom('branches').select('id').executeTakeFirstOrThrow()).id;
      const now = new Date();
      const day = (n: number) => {
        const d = new Date(now.getTime() + n * 86_400_000);
        // Skip Sundays, when the demo branch is closed.
        if (d.getUTCDay() === 0) d.setTime(d.getTime() + 86_400_000);
        return d.toISOString().slice(0, 10);
      };
      const references: string[] = [];
      for (const date of [day(3), day(5)]) {
        const booked = await svc.db.store.transaction((tx) =>
          bookAppointment(tx, { branchId, customerId, vehicleId: null, serviceTypeCode: 'inspection', startsAt: new Date(`${date}T10:00:00+08:00`).toISOString(), loaner: false, note: null, channel: 'web', actor: { type: 'customer', customerId } }, now),
        );
        if (!booked.ok) throw new Error(booked.reason);
        references.push(booked.appointment.reference);
      }
      await say(page, 'show me my bookings', 'You have 2 upcoming bookings');
      const cards = page.locator('.msg.card-msg');
      await expect.poll(() => cards.count()).toBe(2);
      // Both cards keep their buttons after the second arrived.
      const cardButtons = page.locator('.choices.card-actions button:not([disabled])');
      expect(await cardButtons.allTextContents()).toEqual(['Reschedule', 'Cancel booking', 'Reschedule', 'Cancel booking', 'Menu']);
      // The first card's cancel.
      await page.locator('.choices.card-actions').first().locator('button', { hasText: 'Cancel booking' }).click();
      await page.locator('.msg.out', { hasText: `Cancel your booking ${references[0]}` }).waitFor({ timeout: 10_000 });
      await page.locator('.choices.quick button', { hasText: 'Yes, cancel it' }).last().click();
      await page.locator('.msg.out', { hasText: 'Your booking is cancelled' }).waitFor({ timeout: 10_000 });
      // The second card, scrolled back to, still works.
      await page.locator('.choices.card-actions').nth(1).locator('button', { hasText: 'Reschedule' }).click();
      await page.locator('.msg.out', { hasText: 'Which day suits you?' }).last().waitFor({ timeout: 10_000 });
      // Its own reference typed in the chat finds it too.
      await say(page, 'cancel', 'stands as it was');
      await say(page, references[1]!.toLowerCase(), references[1]!);
    } finally {
      await close();
    }
  }, 60_000);

  it('shows the latest question after a reload at once, with only its buttons live, in the language chosen in the chat', async () => {
    const { page, close } = await phone('en-US');
    try {
      await page.locator('.choices button', { hasText: 'Language' }).last().click();
      await page.locator('.msg.out', { hasText: 'Which language' }).waitFor({ timeout: 10_000 });
      await page.locator('.choices button', { hasText: '繁體中文' }).last().click();
      await page.locator('.msg.out', { hasText: '之後將以繁體中文為您服務' }).waitFor({ timeout: 10_000 });
      await say(page, '我想預約保養', '請問這次需要什麼服務？');
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.reload();
      // The first thing drawn is the latest page of the conversation: the service question with live buttons.
      await page.locator('.msg.out', { hasText: '請問這次需要什麼服務？' }).waitFor({ timeout: 3_000 });
      expect(requests.some((u) => u.includes('/chat/api/messages?latest=1'))).toBe(true);
      expect(await page.locator('.msg').last().textContent()).toContain('請問這次需要什麼服務？');
      const live = await liveButtons(page);
      expect(live).toContain('定期保養');
      // The menu and language buttons of older messages are not live.
      expect(live).not.toContain('語言 Language');
      // The page's own words follow the language chosen in the chat, not the browser's.
      expect(await page.locator('html').getAttribute('lang')).toBe('zh-TW');
      expect(await page.locator('#send').textContent()).toBe('送出');
    } finally {
      await close();
    }
  }, 60_000);

  it('stops its stream in the background and looks only rarely, then catches up when shown again', async () => {
    const { page, close, requests: all } = await phone('en-US');
    try {
      // Let the live stream open first.
      await expect.poll(() => all.some((u) => u.includes('/chat/api/stream')), { timeout: 10_000 }).toBe(true);
      const requests: string[] = [];
      page.on('request', (r) => {
        if (r.url().includes('/chat/api/')) requests.push(r.url());
      });
      await page.evaluate(() => {
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
        document.dispatchEvent(new Event('visibilitychange'));
      });
      await page.waitForTimeout(5_000);
      expect(requests).toEqual([]);
      await page.evaluate(() => {
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
        document.dispatchEvent(new Event('visibilitychange'));
      });
      await expect.poll(() => requests.some((u) => u.includes('/chat/api/messages?after=')), { timeout: 5_000 }).toBe(true);
      await expect.poll(() => requests.some((u) => u.includes('/chat/api/stream')), { timeout: 5_000 }).toBe(true);
    } finally {
      await close();
    }
  }, 60_000);
});
