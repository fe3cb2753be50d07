import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signVisitor } from '../../../src/channels/web/visitor-cookie';
import { testConfig } from '../../helpers/config';
import { startTestService, type TestService } from '../../helpers/service';
import { dialects } from '../../helpers/stores';

interface ChatMessage {
  id: number;
  direction: 'in' | 'out';
  text: string | null;
  message: { type: string; text?: string; choices?: { id: string; label: string }[] } | null;
}

describe.each(dialects)('web chat on $name', (dialect) => {
  let svc: TestService;

  beforeEach(async () => {
    svc = await startTestService(dialect, testConfig());
  });
  afterEach(async () => {
    await svc.close();
  });

  /** Opens /chat the way a browser does and keeps its cookie. */
  async function visitor(language = 'en-US,en;q=0.8') {
    const page = await svc.app.request('/chat', { headers: { 'accept-language': language } });
    expect(page.status).toBe(200);
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    const html = await page.text();
    let cursor = 0;
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      svc.app.request(`/chat/api/${path}`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', 'accept-language': language, ...headers }, body: JSON.stringify(body) });
    const poll = async (): Promise<ChatMessage[]> => {
      await svc.flush();
      const res = await svc.app.request(`/chat/api/messages?after=${cursor}`, { headers: { cookie } });
      const data = (await res.json()) as { messages: ChatMessage[]; cursor: number };
      cursor = data.cursor;
      return data.messages;
    };
    return { cookie, html, post, poll };
  }

  it('serves a page that works on a phone and greets a new visitor in the browser language with buttons', async () => {
    const v = await visitor('ja-JP,ja;q=0.9,en;q=0.5');
    expect(v.html).toContain('name="viewport"');
    expect(v.html).toContain('<html lang="ja">');
    expect(v.cookie).toMatch(/^dealer_chat_visitor=/);
    expect((await v.post('start', { id: 'start-0001', language: 'ja' })).status).toBe(200);
    const [greeting] = await v.poll();
    expect(greeting!.message!.text).toContain('ようこそ');
    expect(greeting!.message!.choices!.map((c) => c.id)).toContain('i:language');
  });

  it('runs the same engine: a button press, a typed word, and a retried post handled once', async () => {
    const v = await visitor();
    await v.post('start', { id: 'start-0002' });
    await v.poll();
    expect((await v.post('messages', { id: 'tap-000001', choice: 'i:language' })).status).toBe(200);
    const retried = await v.post('messages', { id: 'tap-000001', choice: 'i:language' });
    expect(await retried.json()).toEqual({ ok: true, duplicate: true });
    const prompt = await v.poll();
    expect(prompt.map((m) => m.direction)).toEqual(['in', 'out']);
    expect(prompt[0]!.text).toBe('Language');
    await v.post('messages', { id: 'text-00001', text: '繁體中文' });
    const changed = await v.poll();
    expect(changed.at(-1)!.message!.text).toContain('繁體中文');
  });

  it('keeps the page in the language chosen in the chat after a reload, whatever the browser says', async () => {
    const v = await visitor('en-US,en;q=0.9');
    await v.post('start', { id: 'start-0003' });
    await v.post('messages', { id: 'lang-00001', choice: 'i:language' });
    await v.post('messages', { id: 'lang-00002', choice: 'lang:zh-TW' });
    await v.poll();
    const reloaded = await svc.app.request('/chat', { headers: { cookie: v.cookie, 'accept-language': 'en-US,en;q=0.9' } });
    const html = await reloaded.text();
    expect(html).toContain('<html lang="zh-TW">');
    expect(html).toContain('placeholder="輸入訊息…"');
    const latest = (await (await svc.app.request('/chat/api/messages?latest=1', { headers: { cookie: v.cookie } })).json()) as { locale: string; texts: { send: string } };
    expect(latest).toMatchObject({ locale: 'zh-TW', texts: { send: '送出' } });
  });

  it('gives a reloaded page the latest messages at once, not the oldest', async () => {
    const v = await visitor();
    await v.post('start', { id: 'start-0004' });
    await svc.flush();
    for (let i = 0; i < 40; i++) {
      await v.post('messages', { id: `menu-${String(i).padStart(5, '0')}`, text: 'menu' });
      await svc.flush();
    }
    const res = await svc.app.request('/chat/api/messages?latest=1', { headers: { cookie: v.cookie } });
    const data = (await res.json()) as { messages: ChatMessage[]; cursor: number };
    const last = await svc.db.store.db.selectFrom('messages').select(({ fn }) => fn.max('id').as('id')).executeTakeFirstOrThrow();
    expect(data.cursor).toBe(Number(last.id));
    expect(data.messages.at(-1)!.id).toBe(Number(last.id));
    // The newest page only: the greeting of 80 messages ago is not in it.
    expect(data.messages.length).toBeLessThanOrEqual(60);
    expect(data.messages.some((m) => m.message?.text?.includes('Welcome'))).toBe(false);
  });

  it('streams new messages as server-sent events, and carries on from the last event after a reconnect', async () => {
    const v = await visitor();
    await v.post('start', { id: 'start-0005' });
    await v.poll();
    const cursor = Number(((await (await svc.app.request('/chat/api/messages?latest=1', { headers: { cookie: v.cookie } })).json()) as { cursor: number }).cursor);
    const res = await svc.app.request(`/chat/api/stream?after=${cursor}`, { headers: { cookie: v.cookie } });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    await v.post('messages', { id: 'stream-001', text: 'when are you open?' });
    await svc.flush();
    const reader = res.body!.getReader();
    let received = '';
    while (!received.includes('event: messages')) received += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const data = JSON.parse(/data: (.*)/.exec(received.slice(received.indexOf('event: messages')))![1]!) as { messages: ChatMessage[]; cursor: number };
    expect(data.messages.map((m) => m.direction)).toEqual(['in', 'out']);
    expect(data.messages[1]!.message!.text).toContain('Opening hours');
    expect(received).toContain(`id: ${data.cursor}`);
    // A reconnect with Last-Event-ID starts after it: nothing is sent twice.
    const again = await svc.app.request('/chat/api/stream?after=0', { headers: { cookie: v.cookie, 'last-event-id': String(data.cursor) } });
    const r2 = again.body!.getReader();
    const first = new TextDecoder().decode((await r2.read()).value);
    await r2.cancel();
    expect(first).toContain('event: ready');
    expect(first).not.toContain('event: messages');
  });

  it('refuses a fifth open stream of one visitor politely, and takes one again once a tab is closed', async () => {
    const v = await visitor();
    await v.post('start', { id: 'start-0006' });
    const open = [];
    for (let i = 0; i < 4; i++) {
      const res = await svc.app.request('/chat/api/stream', { headers: { cookie: v.cookie } });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toContain('event: ready');
      open.push(reader);
    }
    const fifth = await svc.app.request('/chat/api/stream', { headers: { cookie: v.cookie } });
    expect(fifth.status).toBe(429);
    expect(fifth.headers.get('retry-after')).toBe('10');
    expect(JSON.stringify(await fifth.json())).toContain('moment');
    // Another visitor is not held back by this one's tabs.
    const other = await visitor();
    const theirs = await svc.app.request('/chat/api/stream', { headers: { cookie: other.cookie } });
    expect(theirs.status).toBe(200);
    await theirs.body!.cancel();
    await open.pop()!.cancel();
    await expect.poll(async () => {
      const res = await svc.app.request('/chat/api/stream', { headers: { cookie: v.cookie } });
      await res.body?.cancel();
      return res.status;
    }).toBe(200);
    for (const reader of open) await reader.cancel();
  });

  it('refuses a forged or missing cookie, malformed JSON and bodies without the expected fields', async () => {
    const forged = `dealer_chat_visitor=${await signVisitor('some-other-secret-0123456789abcdefghij', crypto.randomUUID())}`;
    const noCookie = await svc.app.request('/chat/api/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(noCookie.status).toBe(401);
    const bad = await svc.app.request('/chat/api/messages', { method: 'POST', headers: { cookie: forged, 'content-type': 'application/json' }, body: '{}' });
    expect(bad.status).toBe(401);
    const v = await visitor();
    const malformed = await svc.app.request('/chat/api/messages', { method: 'POST', headers: { cookie: v.cookie, 'content-type': 'application/json' }, body: '{"id":' });
    expect(malformed.status).toBe(400);
    const missing = await v.post('messages', { id: 'x' });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { details: unknown[] }).details.length).toBeGreaterThan(0);
    const form = await svc.app.request('/chat/api/messages', { method: 'POST', headers: { cookie: v.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: 'text=hi' });
    expect(form.status).toBe(400);
    const huge = await v.post('messages', { id: 'big-000001', text: 'x'.repeat(70 * 1024) });
    expect(huge.status).toBe(413);
    expect(await svc.db.store.db.selectFrom('messages').select('id').where('direction', '=', 'in').execute()).toHaveLength(0);
  });
});
