import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTranslator } from '../../src/i18n';
import { hasChromium, NO_CHROMIUM, openChromium, serveOverHttp, type ServedApp } from '../helpers/browser';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { dialects } from '../helpers/stores';

/* A visitor over the web chat's limit, in Chromium: the page says so politely in their language and gives the text back. */
describe.skipIf(!hasChromium)(`the web chat page over its limit${hasChromium ? '' : ` (skipped: ${NO_CHROMIUM})`}`, () => {
  let svc: TestService;
  let http: ServedApp;
  beforeAll(async () => {
    // Three a minute: the greeting's start and two messages.
    svc = await startTestService(dialects[0]!, testConfig({ DEFAULT_LOCALE: 'en', WEB_CHAT_MESSAGES_PER_VISITOR: '3' }));
    svc.engine.start();
    svc.outbox.start();
    http = await serveOverHttp(svc.app.fetch);
  });
  afterAll(async () => {
    await http?.close();
    await svc?.close();
  });

  it('shows the refusal in Japanese and keeps the typed message', async () => {
    const { page, close } = await openChromium({ viewport: { width: 390, height: 844 }, locale: 'ja-JP' });
    try {
      await page.goto(`${http.url}/chat`);
      await page.locator('.msg.out').first().waitFor({ timeout: 10_000 });
      for (const text of ['menu', 'menu']) {
        await page.locator('#text').fill(text);
        await page.locator('#send').click();
        await expect.poll(() => page.locator('#text').inputValue()).toBe('');
      }
      await page.locator('#text').fill('three is too many');
      await page.locator('#send').click();
      const sentence = createTranslator('en').t('ja', 'web.slowDown');
      await expect.poll(() => page.locator('#status').textContent(), { timeout: 5000 }).toBe(sentence);
      expect(await page.locator('#text').inputValue()).toBe('three is too many');
    } finally {
      await close();
    }
  });
});
