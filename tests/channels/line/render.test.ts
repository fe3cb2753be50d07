import { describe, expect, it } from 'vitest';
import { linePickerValue, lineMessagesOfDelivery, LineRenderError, toLineMessages } from '../../../src/channels/line/render';
import { LINE_LIMITS } from '../../../src/channels/limits';
import type { RenderedChoice, RenderedMessage } from '../../../src/channels/types';
import { lineMessageProblems } from '../../fakes/line-api';

const text = (t: string, choices: RenderedChoice[] = []): RenderedMessage => ({ type: 'text', text: t, choices });
const postback = (id: string, label: string): RenderedChoice => ({ kind: 'postback', id, label });
const card = (over: Partial<Extract<RenderedMessage, { type: 'card' }>> = {}): RenderedMessage => ({
  type: 'card',
  title: 'Booking confirmed',
  rows: [
    { label: 'Date', value: '2025-03-04 10:00' },
    { label: 'Service', value: 'Periodic maintenance' },
  ],
  footer: 'Please arrive 10 minutes early.',
  choices: [postback('b:cancel:1', 'Cancel booking'), postback('i:menu', 'Menu')],
  altText: 'Booking confirmed\nDate: 2025-03-04 10:00\nService: Periodic maintenance\nPlease arrive 10 minutes early.',
  ...over,
});

/** Renders and asserts LINE would take every request the messages become. */
function render(messages: RenderedMessage[]) {
  const batches = lineMessagesOfDelivery(messages);
  for (const batch of batches) expect(lineMessageProblems(batch)).toEqual([]);
  return batches.flat() as Record<string, any>[];
}

describe('toLineMessages: text', () => {
  it('is one text message without buttons when there are no choices', () => {
    expect(render([text('Hello')])).toEqual([{ type: 'text', text: 'Hello' }]);
  });

  it('splits text over 5,000 characters and puts the buttons under the last piece', () => {
    const paragraph = `${'這是一段很長的說明。'.repeat(60)}\n\n`;
    const long = paragraph.repeat(12).trim();
    expect(long.length).toBeGreaterThan(LINE_LIMITS.textChars);
    const out = render([text(long, [postback('ok', 'OK')])]);
    expect(out.length).toBeGreaterThan(1);
    for (const m of out) expect(m.text.length).toBeLessThanOrEqual(LINE_LIMITS.textChars);
    expect(out.slice(0, -1).every((m) => m.quickReply === undefined)).toBe(true);
    expect(out.at(-1)!.quickReply.items).toHaveLength(1);
    // Nothing is lost: only the line breaks at the cuts go.
    expect(out.map((m) => m.text).join('').replace(/\n/g, '') === long.replace(/\n/g, '')).toBe(true);
  });

  it('never cuts an emoji in half at the 5,000 boundary', () => {
    const long = 'a'.repeat(4999) + '😀' + 'b'.repeat(10);
    const out = render([text(long)]);
    expect(out[0]!.text).toBe('a'.repeat(4999));
    expect(out[1]!.text).toBe('😀' + 'b'.repeat(10));
  });

  it('refuses empty text: LINE does', () => {
    expect(() => toLineMessages([text('   ')])).toThrow(LineRenderError);
  });
});

describe('toLineMessages: choices', () => {
  it('turns a choice into a postback whose data is the id and whose label fits in 20 characters', () => {
    const label = 'Book periodic maintenance now';
    const [m] = render([text('Pick one', [postback('i:book', label), postback('i:status', '預約保養維修預約保養維修預約保養維修預約保養維修')])]);
    const [first, second] = m!.quickReply.items;
    expect(first).toEqual({ type: 'action', action: { type: 'postback', label: 'Book periodic maint…', data: 'i:book', displayText: label } });
    expect(first.action.label).toHaveLength(LINE_LIMITS.actionLabelChars);
    expect(second.action.label).toBe('預約保養維修預約保養維修預約保養維修預…');
    expect(second.action.label).toHaveLength(LINE_LIMITS.actionLabelChars);
    expect(second.action.displayText).toBe('預約保養維修預約保養維修預約保養維修預約保養維修');
  });

  it('takes 13 choices and refuses a 14th', () => {
    const choices = Array.from({ length: 13 }, (_, i) => postback(`c${i}`, `Choice ${i}`));
    expect(render([text('Many', choices)])[0]!.quickReply.items).toHaveLength(13);
    expect(() => toLineMessages([text('Too many', [...choices, postback('c13', 'One more')])])).toThrow(/at most 13/);
  });

  it('refuses a choice id longer than postback data may be, an empty id and an empty label', () => {
    expect(() => toLineMessages([text('x', [postback('x'.repeat(301), 'Long')])])).toThrow(/1–300/);
    expect(render([text('x', [postback('x'.repeat(300), 'Fits')])])[0]!.quickReply.items[0].action.data).toHaveLength(300);
    expect(() => toLineMessages([text('x', [postback('', 'Empty')])])).toThrow(LineRenderError);
    expect(() => toLineMessages([text('x', [postback('a', '  ')])])).toThrow(/empty label/);
  });

  it('turns a date choice into a datetimepicker in LINE’s formats', () => {
    const [m] = render([
      text('When?', [
        { kind: 'datetime', id: 'b:date', label: 'Pick a date', mode: 'date', initial: '2025-03-04T10:00:00+08:00', min: '2025-03-01', max: '2025-06-30T23:59:59Z' },
        { kind: 'datetime', id: 'b:time', label: 'Pick a time', mode: 'time', initial: '09:30:00', min: '2025-03-04T08:00', max: '18:00' },
        { kind: 'datetime', id: 'b:at', label: 'Pick a slot', mode: 'datetime', initial: '2025-03-04T10:00:00.000Z', min: '2025-03-01', max: '2025-03-31' },
      ]),
    ]);
    expect(m!.quickReply.items.map((i: any) => i.action)).toEqual([
      { type: 'datetimepicker', label: 'Pick a date', data: 'b:date', mode: 'date', initial: '2025-03-04', min: '2025-03-01', max: '2025-06-30' },
      { type: 'datetimepicker', label: 'Pick a time', data: 'b:time', mode: 'time', initial: '09:30', min: '08:00', max: '18:00' },
      { type: 'datetimepicker', label: 'Pick a slot', data: 'b:at', mode: 'datetime', initial: '2025-03-04T10:00', min: '2025-03-01T00:00', max: '2025-03-31T23:59' },
    ]);
  });

  it('drops picker bounds LINE would refuse instead of sending them', () => {
    const [m] = render([
      text('When?', [
        { kind: 'datetime', id: 'a', label: 'Bad values', mode: 'date', initial: 'tomorrow', min: '2025-13-01', max: '1899-01-01' },
        { kind: 'datetime', id: 'b', label: 'Max before min', mode: 'date', min: '2025-06-01', max: '2025-05-01', initial: '2025-05-15' },
        { kind: 'datetime', id: 'c', label: 'Initial outside', mode: 'time', min: '09:00', max: '18:00', initial: '20:00' },
      ]),
    ]);
    expect(m!.quickReply.items.map((i: any) => i.action)).toEqual([
      { type: 'datetimepicker', label: 'Bad values', data: 'a', mode: 'date' },
      { type: 'datetimepicker', label: 'Max before min', data: 'b', mode: 'date', initial: '2025-05-15' },
      { type: 'datetimepicker', label: 'Initial outside', data: 'c', mode: 'time', min: '09:00', max: '18:00' },
    ]);
    expect(linePickerValue('time', '25:00')).toBeUndefined();
    expect(linePickerValue('datetime', '2025-03-04 07:05')).toBe('2025-03-04T07:05');
  });

  it('turns a link into a uri action and refuses schemes LINE refuses', () => {
    const [m] = render([text('Read', [{ kind: 'url', url: 'https://dealer.example/terms', label: 'Terms' }])]);
    expect(m!.quickReply.items[0].action).toEqual({ type: 'uri', label: 'Terms', uri: 'https://dealer.example/terms' });
    expect(() => toLineMessages([text('x', [{ kind: 'url', url: 'javascript:alert(1)', label: 'Bad' }])])).toThrow(LineRenderError);
    expect(() => toLineMessages([text('x', [{ kind: 'url', url: `https://x.example/${'a'.repeat(1000)}`, label: 'Long' }])])).toThrow(/at most 1000/);
  });
});

describe('toLineMessages: cards and images', () => {
  it('turns a card into a Flex bubble with its rows, footer and buttons, and the same quick reply', () => {
    const [m] = render([card()]);
    expect(m!.type).toBe('flex');
    expect(m!.altText).toBe('Booking confirmed\nDate: 2025-03-04 10:00\nService: Periodic maintenance\nPlease arrive 10 minutes early.');
    const json = JSON.stringify(m!.contents);
    for (const part of ['Booking confirmed', 'Date', '2025-03-04 10:00', 'Service', 'Periodic maintenance', 'Please arrive 10 minutes early.']) expect(json).toContain(JSON.stringify(part));
    const buttons = m!.contents.footer.contents;
    expect(buttons.map((b: any) => [b.type, b.action.data, b.action.label])).toEqual([
      ['button', 'b:cancel:1', 'Cancel booking'],
      ['button', 'i:menu', 'Menu'],
    ]);
    expect(m!.quickReply.items.map((i: any) => i.action.data)).toEqual(['b:cancel:1', 'i:menu']);
  });

  it('keeps a card without choices, rows or footer valid, and fills empty cells', () => {
    const [m] = render([card({ rows: [{ label: 'Note', value: '' }], footer: null, choices: [] })]);
    expect(m!.contents.footer).toBeUndefined();
    expect(m!.quickReply).toBeUndefined();
    expect(JSON.stringify(m!.contents)).toContain('"—"');
    const [bare] = render([card({ rows: [], footer: null, choices: [] })]);
    expect(bare!.contents.body.contents).toHaveLength(1);
  });

  it('cuts the alt text to 1,500 characters', () => {
    const [m] = render([card({ altText: 'x'.repeat(4000) })]);
    expect(m!.altText).toHaveLength(LINE_LIMITS.altTextChars);
    expect(m!.altText.endsWith('…')).toBe(true);
  });

  it('falls back to text when a card is too large for a bubble', () => {
    const rows = Array.from({ length: 60 }, (_, i) => ({ label: `Item ${i}`, value: '更換機油濾芯與空氣濾芯，檢查煞車來令片與輪胎胎紋深度。'.repeat(8) }));
    const altText = rows.map((r) => `${r.label}: ${r.value}`).join('\n');
    const out = render([card({ rows, altText })]);
    expect(out.every((m) => m.type === 'text')).toBe(true);
    expect(out.at(-1)!.quickReply.items).toHaveLength(2);
  });

  it('turns an image into an image message and refuses one LINE cannot fetch', () => {
    expect(render([{ type: 'image', url: 'https://cdn.example/ro/1.jpg', previewUrl: 'https://cdn.example/ro/1-s.jpg' }])).toEqual([
      { type: 'image', originalContentUrl: 'https://cdn.example/ro/1.jpg', previewImageUrl: 'https://cdn.example/ro/1-s.jpg' },
    ]);
    expect(() => toLineMessages([{ type: 'image', url: 'http://cdn.example/1.jpg', previewUrl: 'http://cdn.example/1.jpg' }])).toThrow(/scheme/);
  });
});

describe('lineMessagesOfDelivery', () => {
  it('groups messages into requests of at most five, in order', () => {
    const long = 'word '.repeat(2400).trim();
    const messages: RenderedMessage[] = [text('one'), text(long), card(), text('four'), text('five', [postback('i:menu', 'Menu')])];
    const batches = lineMessagesOfDelivery(messages);
    expect(batches.map((b) => b.length)).toEqual([5, 2]);
    const flat = batches.flat() as Record<string, any>[];
    expect(flat.map((m) => m.type)).toEqual(['text', 'text', 'text', 'text', 'flex', 'text', 'text']);
    expect(flat.at(-1)!.text).toBe('five');
    for (const batch of batches) expect(lineMessageProblems(batch)).toEqual([]);
  });

  it('is a single request for the usual delivery', () => {
    expect(lineMessagesOfDelivery([text('a'), text('b')])).toHaveLength(1);
    expect(lineMessagesOfDelivery([])).toEqual([]);
  });
});
