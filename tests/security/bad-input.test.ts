import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_IDS_KEPT_MS, LINE_EVENT_MAX_AGE_MS } from '../../src/webhooks/line';
import { startFakeLineApi, type FakeLineApi } from '../fakes/line-api';
import { startFakeTelegramApi, type FakeTelegramApi } from '../fakes/telegram-api';
import { TEST_LINE_SECRET, TEST_TELEGRAM_SECRET, testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { staffMember } from '../helpers/staff';
import { dialects } from '../helpers/stores';

/* Signed or signed-in input that used to end in a 500; each is now a 4xx, or ignored. */
describe.each(dialects)('bad input from signed-in or signed callers on $name', (dialect) => {
  let svc: TestService;
  let line: FakeLineApi;
  let telegram: FakeTelegramApi;
  beforeAll(async () => {
    line = await startFakeLineApi();
    telegram = await startFakeTelegramApi();
    svc = await startTestService(dialect, testConfig({}, { line: line.url, telegram: telegram.url }));
  });
  afterAll(async () => {
    await svc.close();
    await line.close();
    await telegram.close();
  });

  const telegramPost = (update: unknown) =>
    svc.app.request('/webhooks/telegram', { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TEST_TELEGRAM_SECRET }, body: JSON.stringify(update) });

  it('a Telegram date no Date can hold is refused with 400, in each place a date is read', async () => {
    const huge = Number.MAX_SAFE_INTEGER;
    const chat = { id: 5151, type: 'private', first_name: 'Mei' };
    const from = { id: 5151, is_bot: false, first_name: 'Mei' };
    const updates = [
      { update_id: 1, message: { message_id: 1, date: huge, chat, from, text: 'hi' } },
      { update_id: 2, callback_query: { id: 'cb', from, message: { message_id: 2, date: huge, chat }, data: 'x' } },
      { update_id: 3, my_chat_member: { chat, from, date: huge, new_chat_member: { status: 'kicked' } } },
    ];
    for (const update of updates) expect((await telegramPost(update)).status, JSON.stringify(update)).toBe(400);
    expect((await telegramPost({ update_id: 4, message: { message_id: 4, date: -1, chat, from, text: 'hi' } })).status).toBe(400);
  });

  it('page numbers no list has are read as the nearest page, not a database error', async () => {
    const manager = await staffMember(svc, 'manager');
    for (const path of ['/console/customers', '/console/outbox', '/console/audit']) {
      for (const page of ['1e309', '-1e309', '1e20', '99999999999999999999', 'NaN', '-5', '2.5', '0x10']) {
        const res = await manager.request(`${path}?page=${encodeURIComponent(page)}`);
        expect(res.status, `${path}?page=${page}`).toBe(200);
      }
    }
  });

  it('cursors past the largest message id find nothing, on every store', async () => {
    const manager = await staffMember(svc, 'manager');
    const customer = await svc.db.store.db.insertInto('customers').values({ id: crypto.randomUUID(), display_name: 'Cursor', phone: null, locale: 'en', category: 'prospect', notes: null, consent_at: null, opted_out_at: null, erased_at: null, merged_into_id: null, created_at: new Date().toISOString(), updated_at: new Date().toISOString() }).returning('id').executeTakeFirstOrThrow();
    for (const after of ['2147483648', '9007199254740991', '1e300']) {
      expect((await manager.request(`/console/customers/${customer.id}/messages.json?after=${after}`)).status, after).toBe(200);
    }
    const cookie = (await svc.app.request('/chat')).headers.get('set-cookie')!.split(';')[0]!;
    for (const after of ['2147483648', '9007199254740991']) {
      expect((await svc.app.request(`/chat/api/messages?after=${after}`, { headers: { cookie } })).status, after).toBe(200);
    }
  });

  it('a next= with CR/LF on the sign-in page never reaches a header', async () => {
    for (const next of ['/console/\r\nSet-Cookie: x=1', '/console\r\n', '/console/%0d%0aX: y', '/console\\@evil.example', '//evil.example/console']) {
      const page = await svc.app.request(`/console/login?next=${encodeURIComponent(next)}`);
      expect(page.status).toBe(200);
      expect(await page.text()).not.toContain('Set-Cookie: x=1');
      const posted = await svc.app.request('/console/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ email: 'a@b.example', password: 'x', next }).toString() });
      expect(posted.status).toBe(401);
    }
    const staff = await staffMember(svc, 'advisor');
    const signedIn = await svc.app.request(`/console/login?next=${encodeURIComponent('/console/x\r\nSet-Cookie: x=1')}`, { headers: { cookie: staff.cookie } });
    expect(signedIn.status).toBe(302);
    expect(signedIn.headers.get('location')).toBe('/console');
    expect(signedIn.headers.get('set-cookie')).toBeNull();
    const kept = await svc.app.request(`/console/login?next=${encodeURIComponent('/console/customers?q=a%20b')}`, { headers: { cookie: staff.cookie } });
    expect(kept.headers.get('location')).toBe('/console/customers?q=a%20b');
  });

  it('a signed LINE event much older than LINE redelivers is ignored (200, logged), a recent one is taken', async () => {
    expect(EVENT_IDS_KEPT_MS).toBeGreaterThan(LINE_EVENT_MAX_AGE_MS);
    const event = (timestamp: number, id: string) => ({
      type: 'message',
      mode: 'active',
      timestamp,
      source: { type: 'user', userId: 'Ureplayreplayreplayreplayreplay00' },
      webhookEventId: id,
      deliveryContext: { isRedelivery: true },
      message: { id: id.slice(-6), type: 'text', text: 'hello' },
    });
    const post = (events: unknown[]) => {
      const raw = JSON.stringify({ destination: 'Ubot', events });
      return svc.app.request('/webhooks/line', { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': createHmac('sha256', TEST_LINE_SECRET).update(raw).digest('base64') }, body: raw });
    };
    const old = await post([event(Date.now() - LINE_EVENT_MAX_AGE_MS - 3600_000, '01JREPLAYOLD000000000000001')]);
    expect(old.status).toBe(200);
    expect(await old.json()).toMatchObject({ events: 0, ignored: 1 });
    const recent = await post([event(Date.now() - 3600_000, '01JREPLAYNEW000000000000001')]);
    expect(await recent.json()).toMatchObject({ events: 1, ignored: 0 });
    const kept = await svc.db.store.db.selectFrom('inbound_events').select('event_id').where('channel', '=', 'line').execute();
    const processed = await svc.db.store.db.selectFrom('processed_events').select('event_id').where('channel', '=', 'line').execute();
    const ids = [...kept, ...processed].map((r) => r.event_id);
    expect(ids.some((id) => id.includes('REPLAYOLD'))).toBe(false);
    expect(ids.some((id) => id.includes('REPLAYNEW'))).toBe(true);
  });
});
