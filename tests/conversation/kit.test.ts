import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Input } from '../../src/channels/types';
import { bookingButtons, defineButtons, infoButtons, intentButtons, intentOfChoice, languageButtons, myBookingsButtons } from '../../src/conversation/button-ids';
import { flowClock, type FlowContext } from '../../src/conversation/flow';
import { defineFlow, isConfirm, isDone, isSkip, MAX_REASKS, pickOne, savedState, stepKit, yesNo, type Option } from '../../src/conversation/kit';
import { createWords } from '../../src/conversation/words';

const text = (t: string): Input => ({ type: 'text', text: t });
const tap = (id: string): Input => ({ type: 'choice', id, params: null });

describe('button ids', () => {
  it('makes and reads back every button of a table, arguments by name', () => {
    const id = myBookingsButtons.id('cancelConfirmed', 'a1b2');
    expect(id).toBe('mybk:cy:a1b2');
    expect(myBookingsButtons.parse(id)).toEqual({ name: 'cancelConfirmed', args: { appointmentId: 'a1b2' } });
    expect(bookingButtons.parse(bookingButtons.id('time', '2026-12-03', '1430'))).toEqual({ name: 'time', args: { date: '2026-12-03', hhmm: '1430' } });
    expect(bookingButtons.argsOf('book:d:2026-12-03', 'day')).toEqual({ date: '2026-12-03' });
    expect(bookingButtons.argsOf('book:d:2026-12-03', 'time')).toBeNull();
    expect(intentOfChoice(intentButtons.id('human'))).toBe('human');
    expect(languageButtons.parse('lang:ja')).toEqual({ name: 'ja', args: {} });
  });

  it('refuses ids that are not exactly one of its buttons', () => {
    expect(myBookingsButtons.parse('mybk:c')).toBeNull(); // an argument is missing
    expect(myBookingsButtons.parse('mybk:k:extra')).toBeNull(); // an argument too many
    expect(myBookingsButtons.parse('mybk:zz:1')).toBeNull(); // no such button
    expect(myBookingsButtons.parse('book:c:1')).toBeNull(); // another flow's
    expect(intentOfChoice('i:nonsense')).toBeNull();
    expect(myBookingsButtons.owns('mybk:zz:1')).toBe(true);
  });

  it('throws on a table that repeats a code or makes an id Telegram would refuse (64 bytes)', () => {
    expect(() => defineButtons('x', { a: { code: 'a', args: [] }, b: { code: 'a', args: [] } })).toThrow(/twice/);
    const long = defineButtons('x', { note: { code: 'n', args: ['text'] } });
    expect(() => long.id('note', '預約'.repeat(11))).toThrow(/64 bytes/);
    expect(long.id('note', '預約'.repeat(10))).toBe(`x:n:${'預約'.repeat(10)}`);
  });

  it('is the only place in src that writes a button id', () => {
    const prefixes = [intentButtons, bookingButtons, myBookingsButtons, languageButtons, infoButtons].map((b) => b.prefix);
    const literal = new RegExp(`['"\`](${prefixes.join('|')}):`);
    const root = join(__dirname, '../../src');
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.tsx?$/.test(name) && !path.endsWith('button-ids.ts')) {
          readFileSync(path, 'utf8')
            .split('\n')
            .forEach((line, i) => {
              if (literal.test(line)) offenders.push(`${relative(root, path)}:${i + 1}: ${line.trim()}`);
            });
        }
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
  });
});

describe('the words customers answer with (locales/*/words.json)', () => {
  const words = createWords();
  const buttons = bookingButtons;

  it.each([
    ['yes', true],
    ['Yes please', true],
    ['好的', true],
    ['需要', true],
    ['はい', true],
    ['ใช่ครับ', true],
    ['no thank you', false],
    ['不用了謝謝', false],
    ['いいえ', false],
    ['ไม่ต้องการค่ะ', false],
    ['maybe', null],
    ['', null],
  ])('reads "%s" as %s', (typed, expected) => {
    expect(yesNo(words, text(typed), buttons)).toBe(expected);
  });

  it('adds a question’s own words: a loaner car is answered 需要代步車 or ไม่ต้องการรถสำรอง', () => {
    expect(yesNo(words, text('需要代步車'), buttons)).toBeNull();
    expect(yesNo(words, text('需要代步車'), buttons, { yes: 'booking.loanerYes', no: 'booking.loanerNo' })).toBe(true);
    expect(yesNo(words, text('ไม่ต้องการรถสำรอง'), buttons, { yes: 'booking.loanerYes', no: 'booking.loanerNo' })).toBe(false);
  });

  it('reads buttons before words, and only its own flow’s buttons', () => {
    expect(yesNo(words, tap('book:yes'), buttons)).toBe(true);
    expect(yesNo(words, tap('book:no'), buttons)).toBe(false);
    expect(yesNo(words, tap('mybk:yes'), buttons)).toBeNull();
    expect(isSkip(words, tap('book:skip'), buttons)).toBe(true);
    expect(isConfirm(words, tap('book:ok'), buttons)).toBe(true);
    expect(isDone(words, tap('book:done'), buttons)).toBe(true);
  });

  it.each(['skip', 'no thanks', 'nothing special', '不用', '不用啦', '沒有耶', '都沒有', '沒什麼', '不用了，謝謝', '没什么', 'なし', '特にないです', 'ไม่มี', 'ไม่มีค่ะ', '-'])('takes "%s" as skipping, not as an answer', (typed) => {
    expect(isSkip(words, text(typed), buttons)).toBe(true);
  });

  it.each(['done', '完成', '以上です', 'เสร็จแล้ว'])('takes "%s" as done', (typed) => {
    expect(isDone(words, text(typed), buttons)).toBe(true);
  });

  it('does not take a sentence that merely contains a word', () => {
    expect(isSkip(words, text('no oil leak but a noise'), buttons)).toBe(false);
    expect(isConfirm(words, text('confirm the time with my wife first'), buttons)).toBe(false);
  });
});

describe('pickOne', () => {
  const options: Option<string>[] = [
    { id: 'book:br:1', label: { raw: '台北內湖廠' }, names: ['台北內湖廠', 'Taipei Neihu'], value: 'neihu' },
    { id: 'book:br:2', label: { raw: '新竹廠' }, names: ['新竹廠', 'Hsinchu'], value: 'hsinchu' },
    { id: 'book:br:3', label: { raw: '台北士林廠' }, names: ['台北士林廠', 'Taipei Shilin'], value: 'shilin' },
  ];
  it('reads a button, a number, a name, or a part of one name', () => {
    expect(pickOne(tap('book:br:2'), options)).toBe('hsinchu');
    expect(pickOne(text('3'), options)).toBe('shilin');
    expect(pickOne(text('hsinchu'), options)).toBe('hsinchu');
    expect(pickOne(text('內湖'), options)).toBe('neihu');
  });
  it('refuses what fits none or more than one', () => {
    expect(pickOne(text('台北'), options)).toBeNull();
    expect(pickOne(text('9'), options)).toBeNull();
    expect(pickOne(text('x'), options)).toBeNull();
    expect(pickOne(tap('book:br:9'), options)).toBeNull();
  });
});

describe('defineFlow', () => {
  type Steps = { name: { tries: number }; done: Record<string, never> };
  const { ask, reask, done } = stepKit<Steps>();
  const flow = defineFlow<Steps>({
    name: 'demo',
    stateVersion: 1,
    start: () => ask('name', { tries: 0 }, { type: 'text', text: { raw: 'Your name?' }, choices: [{ kind: 'postback', id: 'demo:x', label: { raw: 'X' } }] }),
    steps: {
      name: (_ctx, state, input) =>
        input.type === 'text' && /^[a-z]+$/i.test(input.text)
          ? done({ type: 'text', text: { raw: `Hello ${input.text}` } })
          : reask('name', { tries: state.tries + 1 }, { type: 'text', text: { raw: 'Your name?' }, choices: [{ kind: 'postback', id: 'demo:x', label: { raw: 'X' } }] }),
      done: () => done(),
    },
  });
  const ctx = { clock: flowClock(new Date('2026-12-01T00:00:00Z'), 'Asia/Taipei'), menuChoices: () => [] } as unknown as FlowContext;

  it('saves each step’s state in an envelope and gives it back typed', async () => {
    const started = await flow.start(ctx, null);
    expect(started.next).toMatchObject({ step: 'name', state: savedState({ tries: 0 }) });
    // The question is kept with the state, to be asked again after an aside.
    expect(flow.question?.('name', started.next!.state)).toEqual(started.replies);
    const answered = await flow.step(ctx, 'name', started.next!.state, text('Mei'));
    expect(answered).toMatchObject({ next: null, replies: [{ text: { raw: 'Hello Mei' } }] });
  });

  it(`asks again ${MAX_REASKS} times, then keeps the question's buttons and adds a person and the menu`, async () => {
    let state = (await flow.start(ctx, null)).next!.state;
    for (let i = 1; i <= MAX_REASKS; i++) {
      const again = await flow.step(ctx, 'name', state, text('123'));
      expect(again.replies[0]).toMatchObject({ text: { raw: 'Your name?' } });
      state = again.next!.state;
    }
    const wayOut = await flow.step(ctx, 'name', state, text('123'));
    expect(wayOut.next?.step).toBe('name');
    expect(wayOut.replies).toEqual([
      {
        type: 'text',
        text: { key: 'stillNotUnderstood' },
        choices: [
          { kind: 'postback', id: 'demo:x', label: { raw: 'X' } },
          { kind: 'postback', id: 'i:human', label: { key: 'menu.human' } },
          { kind: 'postback', id: 'i:menu', label: { key: 'labels.menu' } },
        ],
      },
    ]);
    // A good answer still works, and the count starts over with the next question.
    expect((await flow.step(ctx, 'name', wayOut.next!.state, text('Mei'))).next).toBeNull();
  });

  it('restarts politely at a step it does not know or a state it did not save', async () => {
    const restarted = await flow.step(ctx, 'gone', savedState({}), text('hi'));
    expect(restarted.next).toMatchObject({ step: 'name', state: savedState({ tries: 0 }) });
    expect((await flow.step(ctx, 'name', { tries: 3 }, text('hi'))).next?.step).toBe('name');
  });
});

describe('the flow clock', () => {
  it('reads today in the zone it is given, so a branch abroad and its "tomorrow" agree', () => {
    const clock = flowClock(new Date('2026-12-01T20:00:00Z'), 'Asia/Taipei');
    expect(clock.today()).toBe('2026-12-02');
    expect(clock.at('Europe/London').today()).toBe('2026-12-01');
    expect(clock.at('Asia/Bangkok').inDays(1)).toBe('2026-12-03');
  });
});
