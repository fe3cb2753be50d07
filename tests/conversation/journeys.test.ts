import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bookAppointment } from '../../src/booking/booking';
import { renderReplies } from '../../src/channels/render';
import type { ChannelName, InboundEvent, Input, RenderedMessage, Reply } from '../../src/channels/types';
import { isLocale, type Locale } from '../../src/i18n/locales';
import { manualClock } from '../../src/ops/clock';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { closeTestD1, flowDialects } from '../helpers/stores';

/*
 * The chat as new car owners really use it: whole sentences instead of menu words, a plate typed wrong,
 * mileage as people say it, two bookings at once, a visit inside the change cutoff, a name and a number,
 * questions about the branch in the middle of a booking. Each case here was once a customer stumbling.
 *
 * The demo branch: Mon–Sat 09:00–18:00 in Asia/Taipei, 30-minute slots, two hours' notice, changes in the
 * chat until 24 hours before a visit.
 */

// Monday 2026-11-30, 09:00 in Taipei.
const START = '2026-11-30T01:00:00.000Z';

afterAll(closeTestD1);

describe.each(flowDialects)('customers on $name', (dialect) => {
  let svc: TestService;
  const clock = manualClock(START);
  let seq = 0;

  beforeEach(async () => {
    clock.set(START);
    svc = await startTestService(dialect, testConfig(), clock);
  });
  afterEach(async () => {
    await svc.close();
  });

  const db = () => svc.db.store.db;

  /**
   * A customer on a channel. Replies are read from the outbox as the customer's language renders them, so
   * LINE and Telegram customers need no platform here; `say` returns what came back to this message.
   */
  function customer(externalId: string, opts: { channel?: ChannelName; language?: Locale; name?: string | null } = {}) {
    const channel = opts.channel ?? 'web';
    let cursor = 0;
    const self = {
      async say(input: Input | string): Promise<RenderedMessage[]> {
        const event: InboundEvent = {
          channel,
          eventId: `j-${++seq}`,
          externalId,
          occurredAt: clock.now().toISOString(),
          replyToken: null,
          profile: { displayName: opts.name ?? null, languageHint: opts.language ?? 'en' },
          input: typeof input === 'string' ? { type: 'text', text: input } : input,
        };
        await svc.engine.handle(event);
        await svc.engine.drain();
        return self.heard();
      },
      async heard(): Promise<RenderedMessage[]> {
        const rows = await db().selectFrom('outbox').select(['id', 'payload']).where('channel', '=', channel).where('external_id', '=', externalId).where('id', '>', cursor).orderBy('id').execute();
        cursor = rows.at(-1)?.id ?? cursor;
        const who = await self.record();
        const locale = who && isLocale(who.locale) ? who.locale : 'en';
        return rows.flatMap((r) => renderReplies(svc.translator, locale, JSON.parse(r.payload) as Reply[]));
      },
      async record() {
        return db()
          .selectFrom('channel_identities')
          .innerJoin('customers', 'customers.id', 'channel_identities.customer_id')
          .select(['customers.id', 'customers.locale', 'customers.display_name', 'customers.phone'])
          .where('channel', '=', channel)
          .where('external_id', '=', externalId)
          .executeTakeFirst();
      },
      async position() {
        const who = await self.record();
        return db().selectFrom('conversations').select(['flow', 'step']).where('customer_id', '=', who!.id).executeTakeFirstOrThrow();
      },
      tap: (id: string, params: { date?: string } | null = null): Input => ({ type: 'choice', id, params }),
    };
    return self;
  }
  type Customer = ReturnType<typeof customer>;

  const texts = (messages: RenderedMessage[]) => messages.map((m) => (m.type === 'card' || m.type === 'carousel' ? m.altText : m.type === 'text' ? m.text : m.url)).join('\n');
  const ids = (messages: RenderedMessage[]) => messages.flatMap((m) => (m.type === 'image' ? [] : m.choices.map((c) => ('id' in c ? c.id : c.url))));
  const urls = (messages: RenderedMessage[]) => messages.flatMap((m) => (m.type === 'image' ? [] : m.choices.flatMap((c) => (c.kind === 'url' ? [c.url] : []))));

  async function branchId(): Promise<string> {
    return (await db().selectFrom('branches').select('id').executeTakeFirstOrThrow()).id;
  }

  /** Up to the date question, on a new car with plate `plate`. */
  async function toTheDay(c: Customer, plate = 'ABC-1234') {
    await c.say(c.tap('i:book'));
    await c.say(c.tap('book:st:inspection'));
    await c.say(plate);
    for (let i = 0; i < 3; i++) await c.say(c.tap('book:skip'));
  }

  /** A booking made for `c` directly, as the flow would write it. */
  async function bookFor(c: Customer, date: string, time: string, serviceTypeCode = 'inspection') {
    const who = await c.record();
    const startsAt = new Date(`${date}T${time}:00+08:00`).toISOString();
    const branch = await branchId();
    const real = await svc.db.store.transaction(async (tx) =>
      bookAppointment(tx, { branchId: branch, customerId: who!.id, vehicleId: null, serviceTypeCode, startsAt, loaner: false, note: null, channel: 'web', actor: { type: 'customer', customerId: who!.id } }, clock.now()),
    );
    if (!real.ok) throw new Error(`could not book ${date} ${time}: ${real.reason}`);
    return real.appointment;
  }

  describe('understanding what they write', () => {
    it.each([
      ['en', 'I want to book a service', 'What does your car need?'],
      ['zh-TW', '我想預約保養', '請問這次需要什麼服務？'],
      ['ja', 'サービスの予約をしたいです', ''],
      ['th', 'อยากจองเข้ารับบริการครับ', ''],
    ] as const)('starts a booking from a sentence in %s', async (language, sentence, expected) => {
      const c = customer(`sentence-${language}`, { language });
      await c.say({ type: 'start', payload: null });
      const reply = await c.say(sentence);
      expect(ids(reply)).toContain('book:st:inspection');
      if (expected) expect(texts(reply)).toContain(expected);
    });

    it('puts a customer who asks for someone through to a person, in English and in Chinese', async () => {
      const en = customer('someone-en');
      await en.say({ type: 'start', payload: null });
      expect(texts(await en.say('can I speak to someone please'))).toContain("I've asked our team to join this chat");
      expect((await en.position()).flow).toBe('handoff');
      const zh = customer('someone-zh', { language: 'zh-TW' });
      await zh.say({ type: 'start', payload: null });
      await zh.say('可以幫我轉真人客服嗎');
      expect((await zh.position()).flow).toBe('handoff');
    });

    it('answers opening hours from the branch’s own data: today, the week and holidays, in the customer’s language', async () => {
      await db().updateTable('branches').set({ holidays: JSON.stringify(['2026-12-25']) }).execute();
      const en = customer('hours-en');
      await en.say({ type: 'start', payload: null });
      const hours = texts(await en.say('when are you open?'));
      expect(hours).toContain('Opening hours of Test Motors (demo branch)');
      expect(hours).toContain("We're open now, until 18:00.");
      expect(hours).toContain('Mon–Sat  09:00–18:00');
      expect(hours).toContain('Sun  closed');
      expect(hours).toContain('Also closed on: Fri 25 Dec');
      // A Sunday: closed today, open again on Monday.
      clock.set('2026-12-06T02:00:00.000Z');
      const zh = customer('hours-zh', { language: 'zh-TW' });
      await zh.say({ type: 'start', payload: null });
      const sunday = texts(await zh.say('你們幾點開門'));
      expect(sunday).toContain('Test Motors（示範據點） 營業時間');
      expect(sunday).toContain('今天（星期日）公休。');
      expect(sunday).toContain('下次營業：2026年12月7日星期一 09:00。');
    });

    it('gives the address with a map link, the phone number with a call button, and the services', async () => {
      const c = customer('where');
      await c.say({ type: 'start', payload: null });
      const address = await c.say('where are you located?');
      expect(texts(address)).toContain('No. 100, Ruiguang Rd., Neihu Dist., Taipei City');
      expect(urls(address)[0]).toMatch(/^https:\/\/www\.google\.com\/maps\/search\/\?api=1&query=/);
      const phone = await c.say('what is your phone number');
      expect(texts(phone)).toContain('You can call Test Motors (demo branch) on +886 2 2345 6789.');
      expect(urls(phone)).toContain('tel:+886223456789');
      const services = texts(await c.say('what services do you offer?'));
      expect(services).toContain('• Scheduled service');
      expect(services).toContain('• Vehicle check');
      // Telegram buttons cannot dial: the number is in the text only.
      const tg = customer('where-tg', { channel: 'telegram', name: 'Mei' });
      await tg.say({ type: 'start', payload: null });
      const tgPhone = await tg.say('what is your phone number');
      expect(texts(tgPhone)).toContain('+886 2 2345 6789');
      expect(urls(tgPhone)).toEqual([]);
    });

    it('answers a question in the middle of a booking and asks the booking’s question again, without counting it as a wrong answer', async () => {
      const c = customer('aside');
      await c.say(c.tap('i:book'));
      await c.say(c.tap('book:st:inspection'));
      const aside = await c.say('when are you open?');
      expect(texts(aside)).toContain('Opening hours of');
      expect(texts(aside.slice(-1))).toContain("licence plate number");
      expect(await c.position()).toEqual({ flow: 'book', step: 'plate' });
      expect(texts(await c.say('ABC-1234'))).toContain('make and model');
      // At the day question, a question that names "today" is still a question, not the day.
      for (let i = 0; i < 3; i++) await c.say(c.tap('book:skip'));
      const closing = await c.say('what time do you close today?');
      expect(texts(closing)).toContain('Opening hours of');
      expect(await c.position()).toEqual({ flow: 'book', step: 'date' });
    });

    it('leaves a booking for a person when asked in a sentence, but keeps a note that merely mentions "cancel"', async () => {
      const c = customer('note');
      await toTheDay(c);
      await c.say(c.tap('book:d:2026-12-02'));
      await c.say(c.tap('book:t:2026-12-02:1000'));
      const afterNote = await c.say('the brakes make a noise when I cancel cruise control');
      expect(texts(afterNote)).toContain('loaner car');
      await c.say(c.tap('book:no'));
      await c.say('Chen Mei-Ling');
      const card = await c.say('0912345678');
      expect(texts(card)).toContain('the brakes make a noise when I cancel cruise control');
      // A question that takes any words (a car's make and model) does not take a request as its answer.
      const m = customer('model');
      await m.say(m.tap('i:book'));
      await m.say(m.tap('book:st:inspection'));
      await m.say('ABC-1234');
      expect(texts(await m.say('can I speak to someone please'))).toContain("I've asked our team");
      expect(await db().selectFrom('vehicles').select('id').where('customer_id', '=', (await m.record())!.id).execute()).toEqual([]);
      const d = customer('person');
      await toTheDay(d);
      expect(texts(await d.say("I'd like to talk to a person about this"))).toContain("I've asked our team");
      expect((await d.position()).flow).toBe('handoff');
    });
  });

  describe('answers that are not what was asked', () => {
    it('asks again for a plate when "hello" is typed, and nothing shifts by one', async () => {
      const c = customer('plate');
      await c.say(c.tap('i:book'));
      await c.say(c.tap('book:st:inspection'));
      const again = await c.say('hello');
      expect(texts(again)).toContain("doesn't look like a licence plate");
      expect(texts(again)).toContain('ABC-1234');
      expect(await c.position()).toEqual({ flow: 'book', step: 'plate' });
      expect(texts(await c.say('XYZ-9876'))).toContain('make and model');
      await c.say('Toyota Yaris');
      await c.say('2020');
      await c.say('12000');
      expect((await db().selectFrom('vehicles').select(['plate', 'make', 'year', 'mileage_km']).execute())).toEqual([{ plate: 'XYZ-9876', make: 'Toyota', year: 2020, mileage_km: 12000 }]);
    });

    it('reads plates in the formats of the dealership’s countries (DEALER_COUNTRY)', async () => {
      await svc.close();
      svc = await startTestService(dialect, testConfig({ DEALER_COUNTRY: 'JP,TH' }), clock);
      const c = customer('plate-jp', { language: 'ja' });
      await c.say(c.tap('i:book'));
      const ask = await c.say(c.tap('book:st:inspection'));
      expect(texts(ask)).toContain('品川 300 さ 12-34');
      expect(texts(await c.say('ABC-1234'))).toContain('ナンバープレートの形式ではないようです');
      expect(texts(await c.say('品川 300 さ 12-34'))).toContain('メーカー');
      const t = customer('plate-th', { language: 'th' });
      await t.say(t.tap('i:book'));
      await t.say(t.tap('book:st:inspection'));
      expect(await t.say('1กข 1234 กรุงเทพมหานคร').then(texts)).not.toContain('ไม่ใช่หมายเลขทะเบียน');
    });

    it.each([
      ['三萬公里', 30_000],
      ['3萬', 30_000],
      ['約3萬5千公里', 35_000],
      ['45k km', 45_000],
    ])('takes “%s” as a mileage', async (typed, km) => {
      const c = customer(`mileage-${km}-${typed.length}`, { language: 'zh-TW' });
      await c.say(c.tap('i:book'));
      await c.say(c.tap('book:st:inspection'));
      await c.say('ABC-1234');
      await c.say(c.tap('book:skip'));
      await c.say(c.tap('book:skip'));
      expect(ids(await c.say(typed)).some((i) => i.startsWith('book:d:'))).toBe(true);
      expect((await db().selectFrom('vehicles').select('mileage_km').executeTakeFirstOrThrow()).mileage_km).toBe(km);
    });

    it('takes 「不用啦」 as no note for the advisor', async () => {
      const c = customer('no-note', { language: 'zh-TW' });
      await toTheDay(c);
      await c.say(c.tap('book:d:2026-12-02'));
      await c.say(c.tap('book:t:2026-12-02:1000'));
      await c.say('不用啦');
      await c.say(c.tap('book:no'));
      await c.say('陳美玲');
      const card = await c.say('0912-345-678');
      expect(texts(card)).not.toContain('不用');
      await c.say(c.tap('book:ok'));
      expect((await db().selectFrom('appointments').select('note').executeTakeFirstOrThrow()).note).toBeNull();
    });

    it('offers the day buttons and a person after three unreadable dates, and keeps asking for the day', async () => {
      const c = customer('dates');
      await toTheDay(c);
      await c.say('whenever');
      await c.say('soonish');
      const out = await c.say('not sure');
      expect(texts(out)).toContain("I still can't read that");
      expect(ids(out)).toEqual(expect.arrayContaining(['book:d:2026-12-01', 'book:pick', 'i:human', 'i:menu']));
      expect(await c.position()).toEqual({ flow: 'book', step: 'date' });
      expect(ids(await c.say('Wednesday'))).toContain('book:t:2026-12-02:1000');
    });

    it('keeps the Telegram calendar whole in the way out, with a person and the menu on a row of their own', async () => {
      const c = customer('dates-tg', { channel: 'telegram', name: 'Mei' });
      await toTheDay(c);
      for (const nonsense of ['hmm', 'dunno']) await c.say(nonsense);
      const [out] = await c.say('no idea');
      expect(out!.type === 'text' && out!.columns).toBe(7);
      const choices = ids([out!]);
      // Today (Monday the 30th) still has free times, so the calendar is November's.
      expect(choices).toContain('book:d:2026-11-30');
      expect(choices.slice(-2)).toEqual(['i:human', 'i:menu']);
    });

    it('shows the date a customer picked in their own words, not the picker’s label', async () => {
      const c = customer('picker');
      await toTheDay(c);
      await c.say(c.tap('book:pick', { date: '2026-12-03' }));
      const said = await db().selectFrom('messages').select('text').where('direction', '=', 'in').where('kind', '=', 'choice').orderBy('id', 'desc').executeTakeFirstOrThrow();
      expect(said.text).toBe('2026-12-03');
    });
  });

  describe('several bookings and the change cutoff', () => {
    it('manages each of two bookings from its own card, from "my bookings", and by its reference', async () => {
      const c = customer('two');
      await c.say({ type: 'start', payload: null });
      const first = await bookFor(c, '2026-12-02', '10:00');
      const second = await bookFor(c, '2026-12-04', '14:00');
      const list = await c.say('show me my appointments');
      expect(texts(list)).toContain('You have 2 upcoming bookings');
      expect(ids(list)).toEqual(expect.arrayContaining([`mybk:r:${first.id}`, `mybk:c:${first.id}`, `mybk:r:${second.id}`, `mybk:c:${second.id}`]));
      // The first card's cancel, pressed after the second card arrived.
      expect(texts(await c.say(c.tap(`mybk:c:${first.id}`)))).toContain(`Cancel your booking ${first.reference}`);
      await c.say(c.tap(`mybk:cy:${first.id}`));
      const statuses = await db().selectFrom('appointments').select(['id', 'status']).orderBy('starts_at').execute();
      expect(statuses).toEqual([
        { id: first.id, status: 'cancelled' },
        { id: second.id, status: 'booked' },
      ]);
      // The second by its reference, typed loosely.
      const byRef = await c.say(second.reference.toLowerCase().replace('-', ' '));
      expect(texts(byRef)).toContain(second.reference);
      expect(ids(byRef)).toEqual(expect.arrayContaining([`mybk:r:${second.id}`, `mybk:c:${second.id}`]));
      // The first is cancelled, and says so; another customer's reference is not found.
      expect(texts(await c.say(first.reference))).toContain('was cancelled');
      const other = customer('other');
      await other.say({ type: 'start', payload: null });
      expect(texts(await other.say(second.reference))).toContain(`I couldn't find a booking of yours with the reference ${second.reference}`);
    });

    it('says up front that a visit inside the cutoff cannot be changed here, offering the branch’s phone and a person', async () => {
      const c = customer('cutoff');
      await c.say({ type: 'start', payload: null });
      const visit = await bookFor(c, '2026-12-01', '10:00');
      // Monday 12:00: the visit on Tuesday at 10:00 is 22 hours away.
      clock.set('2026-11-30T04:00:00.000Z');
      const list = await c.say(c.tap('i:myBookings'));
      expect(texts(list)).toContain('starts within 24 hours');
      expect(texts(list)).toContain('+886 2 2345 6789');
      expect(ids(list)).not.toContain(`mybk:r:${visit.id}`);
      expect(ids(list)).toEqual(expect.arrayContaining(['tel:+886223456789', 'i:human']));
      // An old reschedule button from before: refused before any question is asked.
      const pressed = await c.say(c.tap(`mybk:r:${visit.id}`));
      expect(texts(pressed)).toContain('can no longer be changed or cancelled in the chat');
      expect(ids(pressed)).not.toContain('book:pick');
      expect((await c.position()).flow).toBeNull();
    });

    it('promises no "day before" reminder for a visit later the same day', async () => {
      const c = customer('today');
      await c.say(c.tap('i:book'));
      await c.say(c.tap('book:st:inspection'));
      await c.say('ABC-1234');
      for (let i = 0; i < 3; i++) await c.say(c.tap('book:skip'));
      await c.say(c.tap('book:d:2026-11-30'));
      await c.say(c.tap('book:t:2026-11-30:1500'));
      await c.say(c.tap('book:skip'));
      await c.say(c.tap('book:no'));
      await c.say('Same Day');
      await c.say('0912345678');
      const booked = texts(await c.say(c.tap('book:ok')));
      expect(booked).toContain('Your booking is confirmed');
      expect(booked).not.toContain('the day before');
      expect(booked).toContain('please call the branch or talk to a person');
    });

    it('says the original booking still stands when moving it is cancelled at the confirmation', async () => {
      const c = customer('move');
      await c.say({ type: 'start', payload: null });
      const visit = await bookFor(c, '2026-12-03', '14:00');
      await c.say(c.tap(`mybk:r:${visit.id}`));
      await c.say(c.tap('book:d:2026-12-04'));
      const confirm = await c.say(c.tap('book:t:2026-12-04:1100'));
      expect(ids(confirm)).toContain('i:cancel');
      const stopped = texts(await c.say(c.tap('i:cancel')));
      expect(stopped).toContain(`your booking ${visit.reference} on Thursday, December 3, 2026 14:00 stands as it was`);
      expect(await db().selectFrom('appointments').select(['local_date', 'status']).executeTakeFirstOrThrow()).toEqual({ local_date: '2026-12-03', status: 'booked' });
    });
  });

  describe('who is coming', () => {
    it('asks a LINE customer only for the mobile number (the profile gives the name), and re-asks a number that is not one', async () => {
      const c = customer('Uline', { channel: 'line', name: '陳小姐', language: 'zh-TW' });
      await toTheDay(c);
      await c.say(c.tap('book:d:2026-12-02'));
      await c.say(c.tap('book:t:2026-12-02:1000'));
      await c.say(c.tap('book:skip'));
      const phone = await c.say(c.tap('book:no'));
      expect(texts(phone)).toContain('手機號碼');
      expect(texts(await c.say('12345'))).toContain('這看起來不像手機號碼');
      const card = await c.say('+886 912 345 678');
      expect(texts(card)).toContain('陳小姐');
      expect((await c.record())!.phone).toBe('+886912345678');
    });

    it('offers Telegram’s own "share my number" button and takes the shared contact', async () => {
      const c = customer('4242', { channel: 'telegram', name: 'Mei' });
      await toTheDay(c);
      await c.say(c.tap('book:d:2026-12-02'));
      await c.say(c.tap('book:t:2026-12-02:1000'));
      await c.say(c.tap('book:skip'));
      const [ask] = await c.say(c.tap('book:no'));
      expect(ask!.type === 'text' && ask!.requestContact).toBe('Share my number');
      const card = await c.say({ type: 'contact', phone: '886912345678' });
      expect(texts(card)).toContain('+886912345678');
    });
  });
});
