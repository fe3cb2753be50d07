import { describe, expect, it } from 'vitest';
import { infoButtons, myBookingsButtons } from '../../src/conversation/button-ids';
import { createUnderstanding, isPlainRequest, type Understood } from '../../src/conversation/understanding';
import { findWords, phraseKey, wordsOf } from '../../src/domain/segment';

/*
 * What customers write to a person, in the five languages, and what it should lead to. The vocabulary is
 * in locales/<lng>/intents.json ("phrases"); these tables are the examples it must keep understanding.
 */

const understand = createUnderstanding();

const intent = (name: string): Understood => ({ kind: 'intent', intent: name as never });
const info = (topic: string): Understood => ({ kind: 'button', id: infoButtons.id('topic', topic) });
const reference = (ref: string): Understood => ({ kind: 'button', id: myBookingsButtons.id('byReference', ref) });
const greeting: Understood = { kind: 'greeting' };
const thanks: Understood = { kind: 'thanks' };

const SENTENCES: Record<string, [string, Understood][]> = {
  en: [
    ['I want to book a service', intent('book')],
    ['Can I make an appointment for next week?', intent('book')],
    ['I need to bring my car in for an oil change', intent('book')],
    ['can I speak to someone please', intent('human')],
    ["I'd like to talk to a real person", intent('human')],
    ['could someone call me back?', intent('human')],
    ['when are you open?', info('hours')],
    ['What are your opening hours on Saturday', info('hours')],
    ['what time do you close today', info('hours')],
    ['where are you located?', info('address')],
    ["what's your address", info('address')],
    ['how do I get there', info('address')],
    ['what is your phone number', info('phone')],
    ['what services do you offer?', info('services')],
    ['I want to cancel my booking', intent('myBookings')],
    ['show me my appointments', intent('myBookings')],
    ['can I reschedule?', intent('myBookings')],
    ['is my car ready yet?', intent('status')],
    ["I'd like to change the language", intent('language')],
    ['I want to make a complaint', intent('complaint')],
    ['hello', greeting],
    ['Hi there, I want to book a service', intent('book')],
    ['thanks a lot!', thanks],
    ['BK-7K3QXM', reference('BK-7K3QXM')],
    ['what about bk 7k3qxm?', reference('BK-7K3QXM')],
  ],
  'zh-TW': [
    ['我想預約保養', intent('book')],
    ['可以幫我預約下週二嗎', intent('book')],
    ['我的車要進廠維修', intent('book')],
    ['你們幾點開門', info('hours')],
    ['請問營業時間', info('hours')],
    ['週六有營業嗎', info('hours')],
    ['地址在哪裡', info('address')],
    ['你們在哪', info('address')],
    ['電話幾號', info('phone')],
    ['有哪些服務項目', info('services')],
    ['我要取消預約', intent('myBookings')],
    ['我想改時間', intent('myBookings')],
    ['可以幫我轉真人客服嗎', intent('human')],
    ['我的車修好了嗎', intent('status')],
    ['你好', greeting],
    ['謝謝', thanks],
    ['我的預約 bk-7k3qxm', reference('BK-7K3QXM')],
  ],
  'zh-CN': [
    ['我想预约保养', intent('book')],
    ['你们几点开门', info('hours')],
    ['营业时间是几点', info('hours')],
    ['地址在哪里', info('address')],
    ['电话是多少', info('phone')],
    ['我要取消预约', intent('myBookings')],
    ['我想找人工客服', intent('human')],
    ['有什么服务', info('services')],
    ['您好', greeting],
  ],
  ja: [
    ['サービスの予約をしたいです', intent('book')],
    ['点検を予約したい', intent('book')],
    ['何時に開いていますか', info('hours')],
    ['営業時間を教えてください', info('hours')],
    ['住所はどこですか', info('address')],
    ['電話番号を教えて', info('phone')],
    ['担当者と話したいです', intent('human')],
    ['予約をキャンセルしたい', intent('myBookings')],
    ['どんなサービスがありますか', info('services')],
    ['こんにちは', greeting],
    ['ありがとうございます', thanks],
  ],
  th: [
    ['อยากจองเข้ารับบริการครับ', intent('book')],
    ['ขอจองคิวเช็คระยะค่ะ', intent('book')],
    ['เปิดกี่โมงครับ', info('hours')],
    ['เวลาทำการของร้าน', info('hours')],
    ['ที่อยู่อยู่ที่ไหน', info('address')],
    ['ขอเบอร์โทรหน่อย', info('phone')],
    ['ขอคุยกับเจ้าหน้าที่หน่อยค่ะ', intent('human')],
    ['อยากยกเลิกการจอง', intent('myBookings')],
    ['มีบริการอะไรบ้าง', info('services')],
    ['สวัสดีครับ', greeting],
    ['สวัสดีครับ อยากจองคิว', intent('book')],
    ['ขอบคุณครับ', thanks],
  ],
};

describe('understanding whole sentences', () => {
  for (const [locale, table] of Object.entries(SENTENCES)) {
    it.each(table)(`${locale}: “%s”`, (sentence, expected) => {
      expect(understand(sentence)).toEqual(expected);
    });
  }

  it.each(['the weather is nice today', 'asdf qwer', '123', '今天天氣很好', 'ข้าวมันไก่'])('finds nothing in “%s”', (sentence) => {
    expect(understand(sentence)).toBeNull();
  });

  it('asks rather than guesses when two meanings fit equally well', () => {
    const both = understand('hours and phone');
    expect(both?.kind).toBe('unsure');
    expect(both?.kind === 'unsure' ? both.options.map((o) => o.label) : []).toEqual(expect.arrayContaining([{ key: 'info.hours' }, { key: 'info.phone' }]));
  });
});

describe('a request among answers', () => {
  it.each(['can I speak to someone please', 'when are you open?', '地址在哪裡', '你們幾點開門', 'BK-7K3QXM', 'ขอคุยกับเจ้าหน้าที่หน่อยค่ะ'])('takes “%s” as a request, not an answer to a free-text question', (text) => {
    expect(isPlainRequest(text)).toBe(true);
  });

  it.each(['Toyota Corolla', 'BMW 320i open top', 'the brakes make a noise when I cancel cruise control', '陳美玲', 'Honda Civic Type R', 'hello', '山田 花子'])('takes “%s” as an answer', (text) => {
    expect(isPlainRequest(text)).toBe(false);
  });
});

describe('words of a sentence', () => {
  it('splits Chinese, Japanese and Thai with the built-in segmenter, and folds case and width', () => {
    expect(wordsOf('我想預約保養')).toEqual(['我想', '預約', '保養']);
    expect(wordsOf('ＢＯＯＫ a Service!')).toEqual(['book', 'a', 'service']);
    expect(wordsOf('เปิดกี่โมงครับ')).toContain('เปิด');
  });

  it('finds a phrase only on word boundaries, however the segmenter split it inside', () => {
    const words = wordsOf('可以幫我轉真人客服嗎');
    expect(findWords(words, phraseKey('客服'))).toBeGreaterThan(0);
    // "open" is not inside "reopening", and "ปิด" (closed) is not inside "เปิด" (open).
    expect(findWords(wordsOf('reopening soon'), phraseKey('open'))).toBe(-1);
    expect(findWords(wordsOf('เปิดกี่โมง'), phraseKey('ปิด'))).toBe(-1);
  });
});
