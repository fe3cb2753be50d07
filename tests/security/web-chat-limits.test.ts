import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderChatPage, pageTexts } from '../../src/channels/web/page';
import { webChatLimits } from '../../src/channels/web/routes';
import { createTranslator } from '../../src/i18n';
import { SUPPORTED_LOCALES } from '../../src/i18n/locales';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { dialects } from '../helpers/stores';

/*
 * The web chat's limits: messages per visitor and per address, new visitors per address; over a limit, a
 * 429 with Retry-After and a sentence in the visitor's language that the page shows. `from` is the address
 * of the connection, as the Node server hands it to the app.
 */
describe.each(dialects)('web chat limits on $name', (dialect) => {
  let svc: TestService;
  // The defaults an operator gets.
  const WEB_CHAT_LIMITS = webChatLimits(testConfig());
  beforeAll(async () => {
    svc = await startTestService(dialect, testConfig());
  });
  afterAll(async () => {
    await svc.close();
  });

  const env = (from: string | null) => (from ? { incoming: { socket: { remoteAddress: from } } } : undefined);

  async function visitor(from: string | null, language = 'en') {
    const page = await svc.app.request('/chat', { headers: { 'accept-language': language } }, env(from));
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    let n = 0;
    return {
      cookie,
      post: (path: 'start' | 'messages', body: Record<string, unknown>, headers: Record<string, string> = {}) =>
        svc.app.request(`/chat/api/${path}`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', 'accept-language': language, ...headers }, body: JSON.stringify(body) }, env(from)),
      say: (text: string) => svc.app.request('/chat/api/messages', { method: 'POST', headers: { cookie, 'content-type': 'application/json', 'accept-language': language }, body: JSON.stringify({ id: `msg-${String(++n).padStart(6, '0')}`, text }) }, env(from)),
    };
  }

  it('one visitor flooding messages gets a polite 429 in their language after the per-visitor limit', async () => {
    const v = await visitor(null, 'ja');
    const statuses: number[] = [];
    let refused: Response | null = null;
    for (let i = 0; i < WEB_CHAT_LIMITS.messagesPerVisitor.limit + 20; i++) {
      const res = await v.say(`hello ${i}`);
      statuses.push(res.status);
      if (res.status === 429) refused ??= res;
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(WEB_CHAT_LIMITS.messagesPerVisitor.limit);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20);
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await refused!.json()) as { error: string; code: string };
    expect(body.code).toBe('rate_limited');
    expect(body.error).toBe(createTranslator('en').t('ja', 'web.slowDown'));
    expect(body.error).toMatch(/[ぁ-んァ-ン]/);
  });

  it('new visitors from one address are limited; another address still gets in', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < WEB_CHAT_LIMITS.newVisitorsPerAddress.limit + 5; i++) {
      const v = await visitor('198.51.100.10');
      statuses.push((await v.post('start', { id: `start-${String(i).padStart(6, '0')}` })).status);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(WEB_CHAT_LIMITS.newVisitorsPerAddress.limit);
    expect(statuses.slice(WEB_CHAT_LIMITS.newVisitorsPerAddress.limit).every((s) => s === 429)).toBe(true);
    const other = await visitor('198.51.100.11');
    expect((await other.post('start', { id: 'start-other-0001' })).status).toBe(200);
  });

  it('messages from one address together are limited, across visitors', async () => {
    const visitors = await Promise.all(Array.from({ length: 5 }, () => visitor('198.51.100.20')));
    let ok = 0;
    let refused = 0;
    // Five visitors, each below their own limit, together above the address's.
    for (let round = 0; round < 55; round++) {
      for (const v of visitors) {
        const status = (await v.say(`round ${round}`)).status;
        if (status === 200) ok += 1;
        else if (status === 429) refused += 1;
      }
    }
    expect(ok).toBe(WEB_CHAT_LIMITS.messagesPerAddress.limit);
    expect(refused).toBe(5 * 55 - WEB_CHAT_LIMITS.messagesPerAddress.limit);
  });

  it('a client message id is the visitor’s own: another visitor using it is not taken for a repeat', async () => {
    const a = await visitor(null);
    const b = await visitor(null);
    expect(await (await a.post('messages', { id: 'shared-id-0001', text: 'from A' })).json()).toMatchObject({ duplicate: false });
    expect(await (await b.post('messages', { id: 'shared-id-0001', text: 'from B' })).json()).toMatchObject({ duplicate: false });
    // The same visitor sending the same id again is a retry, and dropped.
    expect(await (await a.post('messages', { id: 'shared-id-0001', text: 'from A' })).json()).toMatchObject({ duplicate: true });
  });

  it('reads the media type of Content-Type, not a substring of it', async () => {
    const v = await visitor(null);
    for (const type of ['text/plain; x=application/json', 'text/plain;application/json', 'application/jsonx']) {
      expect((await v.post('messages', { id: 'type-check-0001', text: 'hi' }, { 'content-type': type })).status, type).toBe(400);
    }
    expect((await v.post('messages', { id: 'type-check-0002', text: 'hi' }, { 'content-type': 'Application/JSON; charset=utf-8' })).status).toBe(200);
  });

  it('the defaults are those SECURITY.md lists, and an operator can change them', () => {
    expect(WEB_CHAT_LIMITS).toEqual({
      messagesPerVisitor: { limit: 60, windowMs: 60_000 },
      messagesPerAddress: { limit: 240, windowMs: 60_000 },
      newVisitorsPerAddress: { limit: 20, windowMs: 600_000 },
    });
    expect(webChatLimits(testConfig({ WEB_CHAT_MESSAGES_PER_ADDRESS: '1000' })).messagesPerAddress.limit).toBe(1000);
    expect(() => testConfig({ WEB_CHAT_MESSAGES_PER_VISITOR: '0' })).toThrow(/WEB_CHAT_MESSAGES_PER_VISITOR/);
  });

  it('the page carries the sentence for a refusal in every language, and shows it on a 429', () => {
    const translator = createTranslator('en');
    const texts = new Set<string>();
    for (const locale of SUPPORTED_LOCALES) {
      const t = (key: string) => translator.t(locale, key);
      const sentence = pageTexts(t, 'Test Motors').slowDown;
      expect(sentence).not.toBe('web.slowDown');
      texts.add(sentence);
      const page = String(renderChatPage({ locale, dealerName: 'Test Motors', t }));
      expect(page).toContain(JSON.stringify(sentence).slice(1, -1).replace(/</g, '\\u003c'));
      expect(page).toContain('res.status === 429');
    }
    expect(texts.size).toBe(SUPPORTED_LOCALES.length);
  });
});
