import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTelegramUpdate, TelegramBodyError, type TelegramParsed } from '../../../src/channels/telegram/parse';
import type { InboundEvent } from '../../../src/channels/types';

const FIXTURES = new URL('../../fixtures/platforms/', import.meta.url);
const fixture = (name: string): Record<string, any> => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8'));
const NOW = new Date('2026-03-02T08:00:00.000Z');
const parse = (body: unknown) => parseTelegramUpdate(body, { now: () => NOW });
const at = (seconds: number) => new Date(seconds * 1000).toISOString();

type Expected = { event: Omit<InboundEvent, 'channel' | 'replyToken'>; callbackQueryId?: string } | { ignored: RegExp; callbackQueryId?: string } | { throws: RegExp };

/** What every Telegram sample in the shared fixtures must become. */
const EXPECTED: Record<string, Expected> = {
  'tg-message-text.json': {
    event: { eventId: '123456789', externalId: '12345678', occurredAt: at(1631818904), profile: { displayName: 'Mario Bros', languageHint: 'it' }, input: { type: 'text', text: 'aaaaaaaaaa' } },
  },
  'tg-message-text-2.json': {
    event: { eventId: '306197398', externalId: '408258968', occurredAt: at(1581448857), profile: { displayName: 'Hirrolot', languageHint: 'en' }, input: { type: 'text', text: '4' } },
  },
  'tg-command-start.json': {
    // The sample's first_name is "": no name is better than an empty one.
    event: { eventId: '123456789', externalId: '987654321', occurredAt: at(1712803046), profile: { displayName: null, languageHint: 'en' }, input: { type: 'start', payload: null } },
  },
  'tg-command-start-telegram-docs.json': {
    event: {
      eventId: '10000',
      externalId: '1111111',
      occurredAt: at(1441645532),
      profile: { displayName: 'Test Firstname Test Lastname', languageHint: null },
      input: { type: 'start', payload: null },
    },
  },
  // No update_id, message_id, from or date: not an Update.
  'tg-command-start-payload-partial.json': { throws: /update_id/ },
  'tg-callback-query.json': {
    event: { eventId: '2', externalId: '222222222', occurredAt: NOW.toISOString(), profile: { displayName: 'Mario', languageHint: 'it' }, input: { type: 'choice', id: 'thedata', params: null } },
    callbackQueryId: '666728699048485871',
  },
  // A button under an inline message has no chat; it is still answered.
  'tg-callback-query-telegram-docs.json': { ignored: /inline message/, callbackQueryId: '4382bfdwdsb323b2d9' },
  'tg-edited-message.json': { ignored: /edited_message/ },
  'tg-edited-message-telegram-docs.json': { ignored: /edited_message/ },
  // Someone else's card (no user_id): not the customer's own number.
  'tg-message-contact.json': { ignored: /contact card of someone else/ },
  'tg-message-photo.json': {
    // The largest size is listed second, not last.
    event: { eventId: '144011148', externalId: '11111111', occurredAt: at(1614555305), profile: { displayName: 'Mario', languageHint: 'it' }, input: { type: 'image', mediaId: 'SAAS' } },
  },
  'tg-message-photo-2.json': {
    event: { eventId: '123', externalId: '1234', occurredAt: at(1644678608), profile: { displayName: 'XXX', languageHint: 'en' }, input: { type: 'image', mediaId: 'AgAredactedjBA' } },
  },
  'tg-my-chat-member-kicked.json': {
    event: { eventId: '0', externalId: '0', occurredAt: at(1644677726), profile: { displayName: 'FN LN', languageHint: null }, input: { type: 'stop' } },
  },
  'tg-my-chat-member-kicked-2.json': {
    event: { eventId: '276740005', externalId: '2000000', occurredAt: at(1656768003), profile: { displayName: 'Firstname Lastname', languageHint: 'en' }, input: { type: 'stop' } },
  },
};

function expectOutcome(actual: () => TelegramParsed, expected: Expected): void {
  if ('throws' in expected) {
    expect(actual).toThrow(TelegramBodyError);
    expect(actual).toThrow(expected.throws);
    return;
  }
  const parsed = actual();
  if ('event' in expected) {
    expect(parsed).toEqual({ kind: 'event', event: { channel: 'telegram', replyToken: null, ...expected.event }, callbackQueryId: expected.callbackQueryId ?? null });
  } else {
    expect(parsed.kind).toBe('ignored');
    expect(parsed.kind === 'ignored' && parsed.reason).toMatch(expected.ignored);
    expect(parsed.callbackQueryId).toBe(expected.callbackQueryId ?? null);
  }
}

describe('parseTelegramUpdate with real Telegram updates', () => {
  it('has an expectation for every Telegram sample in the shared fixtures', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.startsWith('tg-') && f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    expect(Object.keys(EXPECTED).sort()).toEqual(files.sort());
  });

  it.each(Object.entries(EXPECTED))('%s', (name, expected) => {
    expectOutcome(() => parse(fixture(name)), expected);
  });
});

describe('parseTelegramUpdate: commands', () => {
  const withText = (text: string) => {
    const body = fixture('tg-message-text.json');
    body.message.text = text;
    return parse(body);
  };
  const input = (parsed: TelegramParsed) => (parsed.kind === 'event' ? parsed.event.input : parsed);

  it.each([
    ['/start', { type: 'start', payload: null }],
    ['/start book', { type: 'start', payload: 'book' }],
    ['/start@DealerBot book', { type: 'start', payload: 'book' }],
    ['/START', { type: 'start', payload: null }],
    ['/book', { type: 'command', command: 'book', payload: null }],
    ['/book@SomeBot extra', { type: 'command', command: 'book', payload: 'extra' }],
    ['/MyBookings', { type: 'command', command: 'mybookings', payload: null }],
    ['/complaint the car still rattles\nat speed', { type: 'command', command: 'complaint', payload: 'the car still rattles\nat speed' }],
    ['/book   ', { type: 'command', command: 'book', payload: null }],
  ])('%j', (text, expected) => {
    expect(input(withText(text))).toEqual(expected);
  });

  it.each(['/', '/ menu', '/預約', '/book?', 'book', 'a /book'])('%j is plain text', (text) => {
    expect(input(withText(text))).toEqual({ type: 'text', text });
  });

  it('reads the deep-link payload in the partial telegraf sample once it is a whole update', () => {
    const partial = fixture('tg-command-start-payload-partial.json');
    const body = { update_id: 7, message: { ...partial.message, message_id: 1, date: 1700000000, chat: { ...partial.message.chat, type: 'private' } } };
    expect(input(parse(body))).toEqual({ type: 'start', payload: 'test' });
  });
});

describe('parseTelegramUpdate: other content', () => {
  const base = () => {
    const body = fixture('tg-message-text.json');
    delete body.message.text;
    return body;
  };

  it("takes a contact only when it is the customer's own card", () => {
    const body = fixture('tg-message-contact.json');
    body.message.contact.user_id = body.message.from.id;
    body.message.contact.phone_number = '886912345678';
    expect(parse(body)).toMatchObject({ kind: 'event', event: { input: { type: 'contact', phone: '886912345678' } } });
    body.message.contact.user_id = 99;
    expect(parse(body)).toMatchObject({ kind: 'ignored' });
  });

  it('maps a location and a venue', () => {
    const location = base();
    location.message.location = { latitude: 25.033, longitude: 121.5654 };
    expect(parse(location)).toMatchObject({ kind: 'event', event: { input: { type: 'location', latitude: 25.033, longitude: 121.5654, title: null, address: null } } });
    const venue = base();
    venue.message.location = { latitude: 25.033, longitude: 121.5654 };
    venue.message.venue = { location: { latitude: 25.033, longitude: 121.5654 }, title: 'Taipei 101', address: 'No. 7, Section 5, Xinyi Rd' };
    expect(parse(venue)).toMatchObject({ kind: 'event', event: { input: { type: 'location', title: 'Taipei 101', address: 'No. 7, Section 5, Xinyi Rd' } } });
  });

  it('maps a sticker', () => {
    const body = base();
    body.message.sticker = { file_id: 'CAACAgI', file_unique_id: 'x', type: 'regular', width: 512, height: 512, is_animated: false, is_video: false };
    expect(parse(body)).toMatchObject({ kind: 'event', event: { input: { type: 'sticker' } } });
  });

  it('ignores content the conversation has no input for', () => {
    const body = base();
    body.message.voice = { file_id: 'v', file_unique_id: 'v', duration: 3 };
    expect(parse(body)).toMatchObject({ kind: 'ignored', reason: expect.stringMatching(/content/) });
  });
});

describe('parseTelegramUpdate: only private chats', () => {
  it.each(['group', 'supergroup', 'channel'])('ignores a message in a %s', (type) => {
    const body = fixture('tg-message-text.json');
    body.message.chat = { id: -1001234567890, title: 'Owners club', type };
    expect(parse(body)).toEqual({ kind: 'ignored', reason: `message in a ${type} chat`, callbackQueryId: null });
  });

  it('ignores a button pressed in a group but still returns the id to answer', () => {
    const body = fixture('tg-callback-query.json');
    body.callback_query.message.chat = { id: -100987, title: 'Owners club', type: 'supergroup' };
    expect(parse(body)).toMatchObject({ kind: 'ignored', callbackQueryId: '666728699048485871' });
  });

  it('ignores the bot being removed from a group', () => {
    const body = fixture('tg-my-chat-member-kicked-2.json');
    body.my_chat_member.chat = { id: -100555, title: 'Owners club', type: 'group' };
    expect(parse(body)).toMatchObject({ kind: 'ignored' });
  });
});

describe('parseTelegramUpdate: buttons and membership', () => {
  it('answers a button without data but gives the conversation nothing', () => {
    const body = fixture('tg-callback-query.json');
    delete body.callback_query.data;
    body.callback_query.game_short_name = 'race';
    expect(parse(body)).toEqual({ kind: 'ignored', reason: 'button without callback data', callbackQueryId: '666728699048485871' });
  });

  it('dates a button press when it happened, not when the buttons were sent', () => {
    const parsed = parse(fixture('tg-callback-query.json'));
    expect(parsed.kind === 'event' && parsed.event.occurredAt).toBe(NOW.toISOString());
  });

  it('reads a button under a message the bot can no longer access (date 0)', () => {
    const body = fixture('tg-callback-query.json');
    body.callback_query.message = { chat: body.callback_query.message.chat, message_id: 69587, date: 0 };
    expect(parse(body)).toMatchObject({ kind: 'event', event: { externalId: '222222222', input: { type: 'choice', id: 'thedata' } } });
  });

  it('treats leaving a private chat like a block', () => {
    const body = fixture('tg-my-chat-member-kicked.json');
    body.my_chat_member.new_chat_member.status = 'left';
    expect(parse(body)).toMatchObject({ kind: 'event', event: { input: { type: 'stop' } } });
  });

  it('ignores an unblock: the customer comes back through /start', () => {
    const body = fixture('tg-my-chat-member-kicked.json');
    body.my_chat_member.old_chat_member.status = 'kicked';
    body.my_chat_member.new_chat_member.status = 'member';
    expect(parse(body)).toMatchObject({ kind: 'ignored', reason: 'bot became member in a private chat' });
  });

  it.each([
    ['inline_query', { id: '1', from: { id: 1, is_bot: false, first_name: 'A' }, query: 'x', offset: '' }],
    ['channel_post', { message_id: 1, date: 1, chat: { id: -100, type: 'channel', title: 'News' }, text: 'hi' }],
    ['message_reaction', { chat: { id: 1, type: 'private' }, message_id: 1, date: 1, old_reaction: [], new_reaction: [] }],
  ])('ignores %s', (kind, payload) => {
    expect(parse({ update_id: 5, [kind]: payload })).toEqual({ kind: 'ignored', reason: `update kind ${kind} is not handled`, callbackQueryId: null });
  });
});

describe('parseTelegramUpdate: refuses what is not an Update', () => {
  it.each([
    ['null', null],
    ['an array', [{ update_id: 1 }]],
    ['a string', 'update'],
    ['no update_id', { message: {} }],
    ['a string update_id', { update_id: '1' }],
    ['a fractional update_id', { update_id: 1.5 }],
    ['a negative update_id', { update_id: -1 }],
    ['a message without a chat', { update_id: 1, message: { message_id: 1, date: 1, text: 'hi' } }],
    ['a callback without an id', { update_id: 1, callback_query: { from: { id: 1, first_name: 'A' }, data: 'x' } }],
  ])('%s', (_, body) => {
    expect(() => parse(body)).toThrow(TelegramBodyError);
  });
});
