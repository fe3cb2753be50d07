import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LineBodyError, parseLineWebhook, type LineParsedEvent } from '../../../src/channels/line/parse';

const FIXTURES = new URL('../../fixtures/platforms/', import.meta.url);
const load = (file: string): unknown => JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8'));

const USER = 'u206d25c2ea6bd87c17655609a1c37cb8';
const USER_UPPER = 'U206d25c2ea6bd87c17655609a1c37cb8';
const TOKEN = 'nHuyWiB7yP5Zw52FIkcQobQuGDXCTA';
const AT = new Date(1462629479859).toISOString();

type Expected = { events: Partial<LineParsedEvent>[]; ignored: number };

/** What every LINE webhook sample in the shared fixtures must become. */
const EXPECTED: Record<string, Expected> = {
  'line-message-text.json': {
    events: [{ channel: 'line', eventId: '325708', externalId: USER, occurredAt: AT, replyToken: TOKEN, profile: null, input: { type: 'text', text: 'Hello, world' }, isRedelivery: false }],
    ignored: 0,
  },
  'line-message-image.json': { events: [{ eventId: '325708', externalId: USER, input: { type: 'image', mediaId: '325708' } }], ignored: 0 },
  'line-message-location.json': {
    events: [{ eventId: '325708', input: { type: 'location', latitude: 35.65910807942215, longitude: 139.70372892916203, title: 'hello', address: '〒150-0002 東京都渋谷区渋谷２丁目２１−１' } }],
    ignored: 0,
  },
  'line-message-sticker.json': { events: [{ eventId: '325708', input: { type: 'sticker' } }], ignored: 0 },
  'line-postback-empty-params.json': { events: [{ input: { type: 'choice', id: 'action=buyItem&itemId=123123&color=red', params: null }, replyToken: TOKEN }], ignored: 0 },
  'line-postback-datetime.json': {
    events: [{ eventId: 'testwebhookeventid', externalId: USER_UPPER, input: { type: 'choice', id: 'action=buyItem&itemId=123123&color=red', params: { datetime: '2017-12-25T01:00' } } }],
    ignored: 0,
  },
  'line-postback-date.json': { events: [{ input: { type: 'choice', id: 'action=buyItem&itemId=123123&color=red', params: { date: '2013-04-01' } } }], ignored: 0 },
  'line-postback-time.json': { events: [{ input: { type: 'choice', id: 'action=buyItem&itemId=123123&color=red', params: { time: '10:00' } } }], ignored: 0 },
  'line-follow.json': { events: [{ externalId: USER, replyToken: TOKEN, input: { type: 'start', payload: null }, profile: null }], ignored: 0 },
  'line-follow-unblocked.json': { events: [{ eventId: 'testwebhookeventid', externalId: USER_UPPER, input: { type: 'start', payload: null } }], ignored: 0 },
  'line-unfollow.json': { events: [{ externalId: USER, replyToken: null, input: { type: 'stop' } }], ignored: 0 },
  'line-join.json': { events: [], ignored: 1 },
  'line-member-joined.json': { events: [], ignored: 1 },
  'line-member-joined-with-webhookeventid.json': { events: [], ignored: 1 },
  'line-message-edited.json': { events: [], ignored: 1 },
  'line-message-text-group-signed-nodejs.json': { events: [], ignored: 1 },
  'line-message-text-redelivery.json': {
    events: [{ eventId: '01G2KZKG2DS765NMRH3GZFD8AP', externalId: USER, input: { type: 'text', text: 'Hello, world' }, isRedelivery: true }],
    ignored: 0,
  },
  'line-message-text-with-webhookeventid.json': { events: [{ eventId: 'testwebhookeventid', externalId: USER_UPPER, input: { type: 'text', text: 'Hello, world' }, isRedelivery: false }], ignored: 0 },
  'line-webhook-all-events-python-sdk.json': {
    // Of the 28 events, these 11 are one-to-one and of a kind the conversation acts on, in body order.
    events: [
      { input: { type: 'text', text: 'Hello, world' }, isRedelivery: false },
      { input: { type: 'location', latitude: 35.65910807942215, longitude: 139.70372892916203, title: 'my location', address: 'Tokyo' } },
      { input: { type: 'sticker' } },
      { input: { type: 'start', payload: null } },
      { input: { type: 'stop' }, replyToken: null },
      { input: { type: 'choice', id: 'action=buyItem&itemId=123123&color=red', params: { datetime: '2017-12-25T01:00' } } },
      { input: { type: 'choice', id: 'action=buyItem&itemId=123123&color=red', params: { date: '2013-04-01' } } },
      { input: { type: 'choice', id: 'action=buyItem&itemId=123123&color=red', params: { time: '10:00' } } },
      { input: { type: 'choice', id: 'action=buyItem&itemId=123123&color=red', params: { datetime: '2013-04-01T10:00' } } },
      { input: { type: 'image', mediaId: '354718705033693861' }, replyToken: 'fbf94e269485410da6b7e3a5e33283e8', occurredAt: new Date(1627356924722).toISOString() },
      { input: { type: 'text', text: 'Hello, world' }, isRedelivery: true },
    ],
    // room image, video, audio, join, leave, 2 beacons, accountLink, group text, room text, memberJoined,
    // memberLeft, file, unsend, videoPlayComplete, messageEdited, an unknown type.
    ignored: 17,
  },
};

describe('parseLineWebhook on what LINE really sends', () => {
  it('has an expectation for every LINE webhook sample in the shared fixtures', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.startsWith('line-') && f.endsWith('.json') && !f.startsWith('line-signature'));
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s', async (file, expected) => {
    const result = await parseLineWebhook(load(file));
    expect(result.ignored).toBe(expected.ignored);
    expect(result.events).toHaveLength(expected.events.length);
    expected.events.forEach((want, i) => expect(result.events[i]).toMatchObject(want));
    for (const event of result.events) {
      expect(event.channel).toBe('line');
      expect(event.externalId).toMatch(/^[uU][0-9a-f]{32}$/);
      expect(event.eventId).not.toBe('');
      expect(Number.isNaN(Date.parse(event.occurredAt))).toBe(false);
      expect(event.profile).toBeNull();
    }
  });

  it('keeps every supported event of the 28 that share one webhookEventId; dedupe is the engine’s job', async () => {
    const { events } = await parseLineWebhook(load('line-webhook-all-events-python-sdk.json'));
    expect(new Set(events.map((e) => e.eventId))).toEqual(new Set(['testwebhookeventid']));
    expect(events.every((e) => e.externalId === USER_UPPER)).toBe(true);
  });
});

describe('parseLineWebhook rules', () => {
  const userEvent = (extra: Record<string, unknown>) => ({
    type: 'message',
    mode: 'active',
    timestamp: 1700000000000,
    source: { type: 'user', userId: 'U0123456789abcdef0123456789abcdef' },
    replyToken: 'abc',
    message: { id: '100', type: 'text', text: 'hi' },
    ...extra,
  });

  it('treats an empty events array as the verification ping: nothing to do', async () => {
    expect(await parseLineWebhook({ destination: 'Uxxx', events: [] })).toEqual({ events: [], ignored: 0 });
  });

  it('treats LINE’s placeholder reply tokens as no token', async () => {
    const { events } = await parseLineWebhook({
      events: [userEvent({ replyToken: '00000000000000000000000000000000' }), userEvent({ replyToken: 'ffffffffffffffffffffffffffffffff', message: { id: '101', type: 'text', text: 'x' } })],
    });
    expect(events.map((e) => e.replyToken)).toEqual([null, null]);
  });

  it('ignores events in standby mode: another module owns the chat then', async () => {
    expect(await parseLineWebhook({ events: [userEvent({ mode: 'standby', replyToken: undefined })] })).toEqual({ events: [], ignored: 1 });
  });

  it('ignores a group message even when it names the user who wrote it', async () => {
    const result = await parseLineWebhook({ events: [userEvent({ source: { type: 'group', groupId: 'C1', userId: 'U0123456789abcdef0123456789abcdef' } })] });
    expect(result).toEqual({ events: [], ignored: 1 });
  });

  it('keeps only date/time/datetime from postback params', async () => {
    const { events } = await parseLineWebhook({
      events: [userEvent({ type: 'postback', message: undefined, postback: { data: 'pick', params: { date: '2025-01-02', newRichMenuAliasId: 'x', status: 'SUCCESS' } } })],
    });
    expect(events[0]!.input).toEqual({ type: 'choice', id: 'pick', params: { date: '2025-01-02' } });
    const switched = await parseLineWebhook({ events: [userEvent({ type: 'postback', message: undefined, postback: { data: 'menu2', params: { newRichMenuAliasId: 'x', status: 'SUCCESS' } } })] });
    expect(switched.events[0]!.input).toEqual({ type: 'choice', id: 'menu2', params: null });
  });

  it('gives an event without webhookEventId or message a stable id, the same for a redelivered copy', async () => {
    const follow = { type: 'follow', mode: 'active', timestamp: 1700000000000, source: { type: 'user', userId: 'U1' }, replyToken: 'r1' };
    const first = await parseLineWebhook({ events: [follow] });
    const again = await parseLineWebhook({ events: [{ deliveryContext: { isRedelivery: true }, replyToken: 'r2', source: { userId: 'U1', type: 'user' }, timestamp: 1700000000000, type: 'follow', mode: 'active' }] });
    const later = await parseLineWebhook({ events: [{ ...follow, timestamp: 1700000000001 }] });
    expect(first.events[0]!.eventId).toMatch(/^[0-9a-f]{64}$/);
    expect(again.events[0]!.eventId).toBe(first.events[0]!.eventId);
    expect(again.events[0]!.isRedelivery).toBe(true);
    expect(later.events[0]!.eventId).not.toBe(first.events[0]!.eventId);
  });

  it('reads a location without title or address', async () => {
    const { events } = await parseLineWebhook({ events: [userEvent({ message: { id: '7', type: 'location', latitude: 25.03, longitude: 121.56 } })] });
    expect(events[0]!.input).toEqual({ type: 'location', latitude: 25.03, longitude: 121.56, title: null, address: null });
  });

  it.each([
    ['not an object', 'hello', /body/],
    ['no events', { destination: 'U1' }, /body\.events/],
    ['events not an array', { events: {} }, /body\.events/],
    ['an event without a type', { events: [{ timestamp: 1 }] }, /events\[0\]\.type/],
    ['an event without a timestamp', { events: [{ type: 'follow', source: { type: 'user', userId: 'U1' } }] }, /events\[0\]\.timestamp/],
    ['a text message without text', { events: [{ type: 'message', timestamp: 1, source: { type: 'user', userId: 'U1' }, message: { id: '1', type: 'text' } }] }, /events\[0\]\.message\.text/],
    ['a postback without data', { events: [{ type: 'postback', timestamp: 1, source: { type: 'user', userId: 'U1' }, postback: {} }] }, /events\[0\]\.postback\.data/],
    ['a timestamp no date can hold', { events: [{ type: 'follow', timestamp: 1e20, source: { type: 'user', userId: 'U1' } }] }, /events\[0\]\.timestamp/],
    // A user id no push could be addressed to (LINE takes at most 100 characters in `to`).
    ['a user id of 101 characters', { events: [{ type: 'follow', timestamp: 1, source: { type: 'user', userId: `U${'a'.repeat(100)}` } }] }, /events\[0\]\.source\.userId/],
    ['a user id with a line break', { events: [{ type: 'follow', timestamp: 1, source: { type: 'user', userId: 'U1\nU2' } }] }, /events\[0\]\.source\.userId/],
  ])('refuses a body that is not a LINE webhook: %s', async (_what, body, message) => {
    const error = await parseLineWebhook(body).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(LineBodyError);
    expect((error as Error).message).toMatch(message);
  });
});
