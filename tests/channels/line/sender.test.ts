import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLineSender, lineRetryKey, retryAfterMs, type LineSender } from '../../../src/channels/line/sender';
import type { Delivery, RenderedMessage } from '../../../src/channels/types';
import { recordingLogger } from '../../helpers/logger';
import { startFakeLineApi, type FakeLineApi } from '../../fakes/line-api';

const USER = 'U0123456789abcdef0123456789abcdef';
const text = (t: string): RenderedMessage => ({ type: 'text', text: t, choices: [] });
const delivery = (messages: RenderedMessage[], replyToken: string | null = null, key: string = crypto.randomUUID()): Delivery => ({ key, externalId: USER, replyToken, messages });

describe('LINE sender against the fake Messaging API', () => {
  let fake: FakeLineApi;
  let sender: LineSender;
  let log: ReturnType<typeof recordingLogger>;
  beforeEach(async () => {
    fake = await startFakeLineApi();
    log = recordingLogger();
    sender = createLineSender({ channelAccessToken: fake.channelAccessToken, apiBaseUrl: fake.url, logger: log.logger });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('is the line channel, five messages a request', () => {
    expect(sender.channel).toBe('line');
    expect(sender.maxMessagesPerDelivery).toBe(5);
  });

  it('replies with a fresh reply token and pushes nothing', async () => {
    const token = fake.issueReplyToken({ userId: USER });
    const outcome = await sender.send(delivery([text('Welcome'), { type: 'card', title: 'Booking', rows: [{ label: 'Date', value: 'Mon' }], footer: null, choices: [], altText: 'Booking\nDate: Mon' }], token));
    expect(outcome).toEqual({ ok: true, via: 'reply' });
    expect(fake.accepted.pushes()).toEqual([]);
    expect(fake.accepted.replies()).toHaveLength(1);
    expect(fake.accepted.messagesTo(USER).map((m) => m.type)).toEqual(['text', 'flex']);
  });

  it('pushes with the delivery key as retry key when the reply token was already used', async () => {
    const token = fake.issueReplyToken({ userId: USER });
    expect(await sender.send(delivery([text('first')], token))).toEqual({ ok: true, via: 'reply' });
    const d = delivery([text('second')], token);
    expect(await sender.send(d)).toEqual({ ok: true, via: 'push' });
    const [pushed] = fake.accepted.pushes();
    expect(pushed).toMatchObject({ to: USER, retryKey: d.key, messages: [{ type: 'text', text: 'second' }] });
    expect(fake.accepted.messagesTo(USER).map((m) => m.text)).toEqual(['first', 'second']);
    expect(log.records.some((r) => r.msg?.includes('reply token refused'))).toBe(true);
  });

  it('pushes when the reply token has expired', async () => {
    const token = fake.issueReplyToken({ userId: USER, ttlMs: 0 });
    const d = delivery([text('late')], token);
    expect(await sender.send(d)).toEqual({ ok: true, via: 'push' });
    expect(fake.accepted.pushes()[0]!.retryKey).toBe(d.key);
    expect(fake.accepted.replies()).toEqual([]);
  });

  it('pushes with the retry key when there is no reply token', async () => {
    const d = delivery([text('Your car is ready for pickup')]);
    expect(await sender.send(d)).toEqual({ ok: true, via: 'push' });
    expect(fake.requests.filter((r) => r.kind === 'reply')).toEqual([]);
    expect(fake.requests.find((r) => r.kind === 'push')!.headers['x-line-retry-key']).toBe(d.key);
  });

  it('reports 429 as retryable with Retry-After in milliseconds', async () => {
    fake.failNext('push', { status: 429, headers: { 'retry-after': '7' }, body: { message: 'You have reached your monthly limit.' } });
    const outcome = await sender.send(delivery([text('hi')]));
    expect(outcome).toEqual({ ok: false, retryable: true, retryAfterMs: 7000, status: 429, error: 'You have reached your monthly limit.' });
  });

  it('reports 429 without Retry-After as retryable with no wait given', async () => {
    fake.failNext('reply', { status: 429 });
    const outcome = await sender.send(delivery([text('hi')], fake.issueReplyToken()));
    expect(outcome).toMatchObject({ ok: false, retryable: true, retryAfterMs: null, status: 429 });
  });

  it('takes 409 on a retried push as already delivered, so the customer gets it once', async () => {
    fake.failNext('push', { status: 500, afterAccepting: true });
    const d = delivery([text('Added item: brake pads, NT$3,200')]);
    expect(await sender.send(d)).toMatchObject({ ok: false, retryable: true, status: 500 });
    expect(await sender.send(d)).toEqual({ ok: true, via: 'push' });
    expect(fake.requests.filter((r) => r.kind === 'push').map((r) => r.status)).toEqual([500, 409]);
    expect(fake.accepted.messagesTo(USER)).toHaveLength(1);
  });

  it('reports 5xx and a dropped connection as retryable', async () => {
    fake.failNext('push', { status: 503 });
    expect(await sender.send(delivery([text('a')]))).toMatchObject({ ok: false, retryable: true, status: 503, retryAfterMs: null });
    fake.dropNext('push');
    const dropped = await sender.send(delivery([text('b')]));
    expect(dropped).toMatchObject({ ok: false, retryable: true, status: null });
  });

  it('reports any other 4xx as final, with LINE’s message', async () => {
    fake.failNext('push', { status: 400, body: { message: 'The property, \'to\', in the request body is invalid (line: -, column: -)' } });
    expect(await sender.send(delivery([text('a')]))).toEqual({
      ok: false,
      retryable: false,
      retryAfterMs: null,
      status: 400,
      error: "The property, 'to', in the request body is invalid (line: -, column: -)",
    });
    fake.failNext('push', { status: 403, body: { message: 'Access to this API is not available for your account' } });
    expect(await sender.send(delivery([text('b')]))).toMatchObject({ ok: false, retryable: false, status: 403 });
  });

  it('does not push when a reply is refused for its content rather than its token', async () => {
    fake.failNext('reply', { status: 400, body: { message: 'The request body has 1 error(s)', details: [{ message: 'May not be empty', property: 'messages[0].text' }] } });
    const outcome = await sender.send(delivery([text('a')], fake.issueReplyToken()));
    expect(outcome).toMatchObject({ ok: false, retryable: false, status: 400, error: 'The request body has 1 error(s) (messages[0].text: May not be empty)' });
    expect(fake.requests.filter((r) => r.kind === 'push')).toEqual([]);
  });

  it('reports a refused access token as final and says which setting to check', async () => {
    const wrong = createLineSender({ channelAccessToken: 'wrong', apiBaseUrl: fake.url, logger: log.logger });
    expect(await wrong.send(delivery([text('a')]))).toMatchObject({ ok: false, retryable: false, status: 401 });
    expect(log.records.some((r) => r.level === 'error' && r.msg?.includes('LINE_CHANNEL_ACCESS_TOKEN'))).toBe(true);
  });

  it('gives up at once, sending nothing, on a message LINE could never take', async () => {
    const outcome = await sender.send(delivery([{ type: 'text', text: 'pick', choices: [{ kind: 'postback', id: 'x'.repeat(301), label: 'Too long an id' }] }]));
    expect(outcome).toMatchObject({ ok: false, retryable: false, status: null });
    expect(fake.requests).toEqual([]);
  });

  it('sends a delivery that split past five messages as a reply and a push, resuming after a failure without repeats', async () => {
    const long = 'word '.repeat(2400).trim();
    const d = delivery([text('one'), text(long), text('three'), text('four'), text('five')], fake.issueReplyToken({ userId: USER }));
    fake.failNext('push', { status: 500 });
    expect(await sender.send(d)).toMatchObject({ ok: false, retryable: true });
    expect(await sender.send(d)).toEqual({ ok: true, via: 'push' });
    const received = fake.accepted.messagesTo(USER).map((m) => m.text as string);
    // one, three pieces of the long text, three, four, five: five by reply, two by push.
    expect(received).toHaveLength(7);
    expect(received[0]).toBe('one');
    expect(received.at(-1)).toBe('five');
    expect(fake.accepted.replies()).toHaveLength(1);
    const pushKey = fake.accepted.pushes()[0]!.retryKey!;
    expect(pushKey).not.toBe(d.key);
    expect(pushKey).toBe(await lineRetryKey(d.key, 1));
  });

  it('looks up a profile, and answers null when LINE cannot say', async () => {
    fake.setProfile(USER, { displayName: '林美玲', language: 'zh-TW' });
    expect(await sender.getProfile(USER)).toEqual({ displayName: '林美玲', language: 'zh-TW' });
    fake.setProfile('Unolang', { displayName: 'Ken' });
    expect(await sender.getProfile('Unolang')).toEqual({ displayName: 'Ken', language: null });
    expect(await sender.getProfile('Uunknown')).toBeNull();
    fake.failNext('profile', { status: 500 });
    expect(await sender.getProfile(USER)).toBeNull();
  });
});

describe('retry keys and Retry-After', () => {
  it('uses the delivery key itself for the first request and stable derived UUIDs after it', async () => {
    const key = '5f0c8f7e-1d2b-4c3a-9e8f-7a6b5c4d3e2f';
    expect(await lineRetryKey(key, 0)).toBe(key);
    const second = await lineRetryKey(key, 1);
    expect(second).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await lineRetryKey(key, 1)).toBe(second);
    expect(await lineRetryKey(key, 2)).not.toBe(second);
    expect(await lineRetryKey('outbox-row-7', 0)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5/);
    expect(await lineRetryKey('outbox-row-7', 0)).not.toBe(await lineRetryKey('outbox-row-8', 0));
  });

  it('reads Retry-After as seconds or as a date', () => {
    expect(retryAfterMs('30')).toBe(30_000);
    expect(retryAfterMs(null)).toBeNull();
    expect(retryAfterMs('soon')).toBeNull();
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs('Wed, 01 Jan 2025 00:00:05 GMT', now)).toBe(5000);
  });
});
