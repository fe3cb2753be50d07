import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../../src/ops/clock';
import { TEST_LINE_SECRET, testConfig } from '../../helpers/config';
import { startTestService, type TestService } from '../../helpers/service';
import { dialects } from '../../helpers/stores';
import { startFakeLineApi, type FakeLineApi } from '../../fakes/line-api';

const FIXTURES = new URL('../../fixtures/platforms/', import.meta.url);
let seq = 0;

const user = () => `U${crypto.randomUUID().replace(/-/g, '')}`;
const sign = (body: string, secret = TEST_LINE_SECRET) => createHmac('sha256', secret).update(body).digest('base64');

function event(userId: string, extra: Record<string, unknown>) {
  seq += 1;
  return {
    type: 'message',
    mode: 'active',
    timestamp: Date.now(),
    source: { type: 'user', userId },
    webhookEventId: `01J${String(seq).padStart(23, '0')}`,
    deliveryContext: { isRedelivery: false },
    ...extra,
  };
}
const textEvent = (userId: string, text: string, replyToken?: string) => event(userId, { replyToken, message: { id: String(1000 + seq), type: 'text', text } });
const followEvent = (userId: string, replyToken?: string) => event(userId, { type: 'follow', replyToken, follow: { isUnblocked: false } });

describe.each(dialects)('LINE webhook on $name', (dialect) => {
  let line: FakeLineApi;
  let svc: TestService;

  beforeAll(async () => {
    line = await startFakeLineApi();
  });
  afterAll(async () => {
    await line.close();
  });
  beforeEach(async () => {
    svc = await startTestService(dialect, testConfig({}, { line: line.url }));
  });
  afterEach(async () => {
    await svc.close();
  });

  const post = (body: unknown, signature?: string | null) => {
    const raw = typeof body === 'string' ? body : JSON.stringify({ destination: 'Ubot', events: Array.isArray(body) ? body : [body] });
    return svc.app.request('/webhooks/line', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(signature === null ? {} : { 'x-line-signature': signature ?? sign(raw) }) },
      body: raw,
    });
  };

  it('answers LINE’s verification ping', async () => {
    expect((await post('{"destination":"Ubot","events":[]}')).status).toBe(200);
  });

  it('greets a new follower by name, in their language, with a reply', async () => {
    const id = user();
    line.setProfile(id, { displayName: '山田花子', language: 'ja' });
    const token = line.issueReplyToken({ userId: id });
    expect((await post(followEvent(id, token))).status).toBe(200);
    await svc.flush();
    const [greeting] = line.accepted.messagesTo(id);
    expect(line.accepted.replies().filter((r) => r.to === id)).toHaveLength(1);
    expect(greeting!.text).toContain('山田花子');
    expect(greeting!.text).toContain('ようこそ');
  });

  it('still greets a follower whose profile LINE will not give', async () => {
    const id = user();
    line.failNext('profile', { status: 500 });
    expect((await post(followEvent(id, line.issueReplyToken({ userId: id })))).status).toBe(200);
    await svc.flush();
    expect(line.accepted.messagesTo(id)).not.toHaveLength(0);
  });

  it('pushes with a retry key when the reply token is no longer valid', async () => {
    const id = user();
    expect((await post(textEvent(id, 'menu', line.issueReplyToken({ userId: id, ttlMs: 0 })))).status).toBe(200);
    await svc.flush();
    const pushes = line.accepted.pushes().filter((p) => p.to === id);
    expect(pushes).toHaveLength(1);
    expect(pushes[0]!.retryKey).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('handles a redelivered event once', async () => {
    const id = user();
    const first = textEvent(id, 'hello', line.issueReplyToken({ userId: id }));
    await post(first);
    await post({ ...first, deliveryContext: { isRedelivery: true } });
    await svc.flush();
    expect(line.accepted.all().filter((s) => s.to === id)).toHaveLength(1);
  });

  it('never writes into a group', async () => {
    const before = line.accepted.all().length;
    const res = await post(event('Uingroup', { source: { type: 'group', groupId: 'Cgroup', userId: 'Uingroup' }, replyToken: line.issueReplyToken(), message: { id: '9', type: 'text', text: 'menu' } }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ events: 0, ignored: 1 });
    await svc.flush();
    expect(line.accepted.all().length).toBe(before);
  });

  it('refuses a missing or wrong signature with 401 before writing anything, and malformed bodies with 400', async () => {
    const id = user();
    expect((await post(textEvent(id, 'hello'), null)).status).toBe(401);
    expect((await post(textEvent(id, 'hello'), sign('something else'))).status).toBe(401);
    const tampered = JSON.stringify({ events: [textEvent(id, 'hello')] });
    expect((await post(tampered.replace('hello', 'hellO'), sign(tampered))).status).toBe(401);
    expect((await post('{"events": [')).status).toBe(400);
    expect((await post('{"hello":"world"}')).status).toBe(400);
    const db = svc.db.store.db;
    expect(await db.selectFrom('processed_events').selectAll().execute()).toHaveLength(0);
    expect(await db.selectFrom('customers').selectAll().execute()).toHaveLength(0);
  });

  it('accepts every real LINE sample (exact bytes, signed) and sends only what LINE would take', async () => {
    // The samples carry LINE's example times (2016 on): run the service at that time, as if they had just arrived
    // (events much older than LINE redelivers are ignored as replays).
    await svc.close();
    svc = await startTestService(dialect, testConfig({}, { line: line.url }), manualClock('2016-05-07T14:00:00Z'));
    const files = ['line-message-text.json', 'line-follow.json', 'line-postback-datetime.json', 'line-message-location.json', 'line-join.json', 'line-webhook-all-events-python-sdk.json'];
    for (const file of files) {
      const raw = readFileSync(new URL(file, FIXTURES), 'utf8');
      expect((await post(raw)).status, file).toBe(200);
    }
    await svc.flush();
    // The samples' reply tokens were never issued by LINE, so every answer went out as a push, and was accepted.
    expect(line.requests.filter((r) => r.kind === 'push' && r.status !== 200)).toEqual([]);
    expect(line.accepted.messagesTo('u206d25c2ea6bd87c17655609a1c37cb8').length).toBeGreaterThan(0);
    expect(line.accepted.messagesTo('U206d25c2ea6bd87c17655609a1c37cb8').length).toBeGreaterThan(0);
  });
});
