import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeLineApi, type FakeLineApi } from '../../fakes/line-api';

const USER = 'U0123456789abcdef0123456789abcdef';

describe('the fake LINE API refuses what LINE refuses', () => {
  let fake: FakeLineApi;
  beforeEach(async () => {
    fake = await startFakeLineApi({ channelAccessToken: 'fake-token' });
  });
  afterEach(async () => {
    await fake.close();
  });

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${fake.url}${path}`, {
      method,
      headers: { authorization: 'Bearer fake-token', 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as { message: string; details?: { property: string; message: string }[] } };
  };
  const reply = (replyToken: string, messages: unknown[]) => call('POST', '/v2/bot/message/reply', { replyToken, messages });
  const push = (messages: unknown[], retryKey?: string) => call('POST', '/v2/bot/message/push', { to: USER, messages }, retryKey ? { 'x-line-retry-key': retryKey } : {});
  const hi = { type: 'text', text: 'hi' };
  const properties = (r: Awaited<ReturnType<typeof call>>) => (r.body.details ?? []).map((d) => d.property);

  it('refuses a wrong channel access token', async () => {
    const res = await fetch(`${fake.url}/v2/bot/message/push`, { method: 'POST', headers: { authorization: 'Bearer nope', 'content-type': 'application/json' }, body: JSON.stringify({ to: USER, messages: [hi] }) });
    expect(res.status).toBe(401);
    expect(fake.accepted.all()).toEqual([]);
  });

  it('takes a reply with a fresh token once, and refuses the token after that', async () => {
    const token = fake.issueReplyToken({ userId: USER });
    expect((await reply(token, [hi])).status).toBe(200);
    const again = await reply(token, [hi]);
    expect(again.status).toBe(400);
    expect(again.body.message).toBe('Invalid reply token');
    expect(fake.accepted.replies()).toHaveLength(1);
    expect(fake.accepted.messagesTo(USER)).toEqual([hi]);
  });

  it('refuses an expired or unknown reply token', async () => {
    const expired = fake.issueReplyToken({ ttlMs: 0 });
    expect((await reply(expired, [hi])).body.message).toBe('Invalid reply token');
    expect((await reply('made-up-token', [hi])).status).toBe(400);
  });

  it('refuses six messages in one reply, and none', async () => {
    const token = fake.issueReplyToken();
    const six = await reply(token, Array.from({ length: 6 }, () => hi));
    expect(six.status).toBe(400);
    expect(properties(six)).toEqual(['messages']);
    expect((await reply(token, [])).status).toBe(400);
    // A refused request does not use the token up.
    expect((await reply(token, [hi])).status).toBe(200);
  });

  it('refuses a 21-character action label, in a quick reply and in a Flex button', async () => {
    const action = { type: 'postback', label: 'x'.repeat(21), data: 'a' };
    const quick = await push([{ ...hi, quickReply: { items: [{ type: 'action', action }] } }]);
    expect(quick.status).toBe(400);
    expect(properties(quick)).toEqual(['messages[0].quickReply.items[0].action.label']);
    const flex = await push([{ type: 'flex', altText: 'a', contents: { type: 'bubble', footer: { type: 'box', layout: 'vertical', contents: [{ type: 'button', action }] } } }]);
    expect(properties(flex)).toEqual(['messages[0].contents.footer.contents[0].action.label']);
    const ok = await push([{ ...hi, quickReply: { items: [{ type: 'action', action: { ...action, label: 'x'.repeat(20) } }] } }]);
    expect(ok.status).toBe(200);
  });

  it.each([
    ['text over 5,000 characters', { type: 'text', text: 'a'.repeat(5001) }, 'messages[0].text'],
    ['empty text', { type: 'text', text: '' }, 'messages[0].text'],
    ['14 quick reply items', { ...hi, quickReply: { items: Array.from({ length: 14 }, (_, i) => ({ type: 'action', action: { type: 'postback', label: `b${i}`, data: `${i}` } })) } }, 'messages[0].quickReply.items'],
    ['postback data over 300', { ...hi, quickReply: { items: [{ type: 'action', action: { type: 'postback', label: 'b', data: 'd'.repeat(301) } }] } }, 'messages[0].quickReply.items[0].action.data'],
    ['a picker mode LINE does not know', { ...hi, quickReply: { items: [{ type: 'action', action: { type: 'datetimepicker', label: 'b', data: 'd', mode: 'month' } }] } }, 'messages[0].quickReply.items[0].action.mode'],
    ['a picker date with seconds', { ...hi, quickReply: { items: [{ type: 'action', action: { type: 'datetimepicker', label: 'b', data: 'd', mode: 'datetime', initial: '2025-01-01T10:00:00' } }] } }, 'messages[0].quickReply.items[0].action.initial'],
    ['a picker time in the wrong format', { ...hi, quickReply: { items: [{ type: 'action', action: { type: 'datetimepicker', label: 'b', data: 'd', mode: 'time', min: '9:00' } }] } }, 'messages[0].quickReply.items[0].action.min'],
    ['a picker max before its min', { ...hi, quickReply: { items: [{ type: 'action', action: { type: 'datetimepicker', label: 'b', data: 'd', mode: 'date', min: '2025-02-01', max: '2025-01-01' } }] } }, 'messages[0].quickReply.items[0].action.max'],
    ['Flex alt text over 1,500', { type: 'flex', altText: 'a'.repeat(1501), contents: { type: 'bubble' } }, 'messages[0].altText'],
    ['template alt text over 400', { type: 'template', altText: 'a'.repeat(401), template: { type: 'confirm', text: 'ok?', actions: [{ type: 'message', label: 'y', text: 'y' }, { type: 'message', label: 'n', text: 'n' }] } }, 'messages[0].altText'],
    ['an empty Flex text', { type: 'flex', altText: 'a', contents: { type: 'bubble', body: { type: 'box', layout: 'vertical', contents: [{ type: 'text', text: '' }] } } }, 'messages[0].contents.body.contents[0].text'],
    ['a message type it does not know', { type: 'carousel', text: 'x' }, 'messages[0].type'],
    ['a plain-http image', { type: 'image', originalContentUrl: 'http://x.example/a.jpg', previewImageUrl: 'https://x.example/a.jpg' }, 'messages[0].originalContentUrl'],
  ])('refuses %s', async (_what, message, property) => {
    const res = await push([message]);
    expect(res.status).toBe(400);
    expect(properties(res)).toContain(property);
    expect(fake.accepted.pushes()).toEqual([]);
  });

  it('delivers a push once per retry key and answers 409 to a repeat', async () => {
    const key = '123e4567-e89b-12d3-a456-426614174000';
    expect((await push([hi], key)).status).toBe(200);
    const repeat = await push([hi], key);
    expect(repeat.status).toBe(409);
    expect(repeat.headers.get('x-line-accepted-request-id')).toBe(fake.accepted.pushes()[0]!.requestId);
    expect(fake.accepted.pushes()).toHaveLength(1);
    expect((await push([hi], 'not-a-uuid')).status).toBe(400);
  });

  it('lets a push retried after a failure through, unless the failed one was in fact accepted', async () => {
    const key = '223e4567-e89b-12d3-a456-426614174000';
    fake.failNext('push', { status: 500 });
    expect((await push([hi], key)).status).toBe(500);
    expect((await push([hi], key)).status).toBe(200);

    const lost = '323e4567-e89b-12d3-a456-426614174000';
    fake.failNext('push', { status: 500, afterAccepting: true });
    expect((await push([hi], lost)).status).toBe(500);
    expect((await push([hi], lost)).status).toBe(409);
    expect(fake.accepted.pushes()).toHaveLength(2);
  });

  it('answers injected failures with their headers, as many times as asked', async () => {
    fake.failNext('/v2/bot/message/push', { status: 429, headers: { 'retry-after': '3' }, body: { message: 'Too Many Requests' }, times: 2 });
    const first = await push([hi]);
    expect([first.status, first.headers.get('retry-after'), first.body.message]).toEqual([429, '3', 'Too Many Requests']);
    expect((await push([hi])).status).toBe(429);
    expect((await push([hi])).status).toBe(200);
  });

  it('drops a connection when asked', async () => {
    fake.dropNext('push');
    await expect(push([hi])).rejects.toThrow();
    expect(fake.requests.at(-1)!.status).toBe(0);
  });

  it('answers profiles it knows and 404 for others', async () => {
    fake.setProfile(USER, { displayName: '王小明', language: 'zh-TW' });
    const known = await call('GET', `/v2/bot/profile/${USER}`);
    expect(known.body).toEqual({ userId: USER, displayName: '王小明', language: 'zh-TW' });
    expect((await call('GET', '/v2/bot/profile/Uunknown')).status).toBe(404);
  });

  it('checks rich menus as LINE does', async () => {
    const area = (i: number, label = 'Book') => ({ bounds: { x: (i % 5) * 500, y: 0, width: 500, height: 500 }, action: { type: 'postback', label, data: `a${i}` } });
    const menu = { size: { width: 2500, height: 1686 }, selected: true, name: 'm', chatBarText: 'Menu', areas: [area(0)] };
    expect((await call('POST', '/v2/bot/richmenu', { ...menu, areas: Array.from({ length: 21 }, (_, i) => area(i)) })).status).toBe(400);
    expect((await call('POST', '/v2/bot/richmenu', { ...menu, size: { width: 2500, height: 2000 } })).status).toBe(400);
    expect((await call('POST', '/v2/bot/richmenu', { ...menu, chatBarText: 'a'.repeat(15) })).status).toBe(400);
    expect(properties(await call('POST', '/v2/bot/richmenu', { ...menu, areas: [area(0, 'x'.repeat(21))] }))).toEqual(['areas[0].action.label']);
    const created = await call('POST', '/v2/bot/richmenu', menu);
    expect(created.status).toBe(200);
    const id = (created.body as unknown as { richMenuId: string }).richMenuId;
    // No picture yet: it cannot be the default.
    expect((await call('POST', `/v2/bot/user/all/richmenu/${id}`)).status).toBe(400);
    // A picture of another size is refused.
    const png = Buffer.alloc(45);
    png.writeUInt32BE(0x89504e47, 0);
    png.write('IHDR', 12, 'ascii');
    png.writeUInt32BE(2500, 16);
    png.writeUInt32BE(843, 20);
    png.write('IEND', 45 - 8, 'ascii');
    const upload = (body: Buffer) => fetch(`${fake.url}/v2/bot/richmenu/${id}/content`, { method: 'POST', headers: { authorization: 'Bearer fake-token', 'content-type': 'image/png' }, body: new Uint8Array(body) });
    const wrongSize = await upload(png);
    expect(wrongSize.status).toBe(400);
    expect(((await wrongSize.json()) as { message: string }).message).toContain('2500x843');
    // A picture cut short is refused too.
    png.writeUInt32BE(1686, 20);
    expect((await upload(png.subarray(0, 40))).status).toBe(400);
    expect(fake.richMenus.get(id)!.image).toBeNull();
    expect((await upload(png)).status).toBe(200);
    expect((await call('POST', `/v2/bot/user/all/richmenu/${id}`)).status).toBe(200);
    expect(fake.defaultRichMenuId).toBe(id);
  });

  it('serves what a user sent from the data API with its content type, and 404 for content it does not have', async () => {
    const bytes = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 9, 9, 0xff, 0xd9]);
    fake.setContent('325708', bytes, 'image/jpeg');
    const res = await fetch(`${fake.url}/v2/bot/message/325708/content`, { headers: { authorization: 'Bearer fake-token' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    expect((await fetch(`${fake.url}/v2/bot/message/325708/content`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    const missing = await fetch(`${fake.url}/v2/bot/message/999/content`, { headers: { authorization: 'Bearer fake-token' } });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { message: string }).message).toBe('Not found');
  });
});
