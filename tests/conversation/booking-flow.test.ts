import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InboundEvent, Input, RenderedMessage } from '../../src/channels/types';
import type { Locale } from '../../src/i18n/locales';
import { manualClock } from '../../src/ops/clock';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { closeTestD1, flowDialects } from '../helpers/stores';

/*
 * Booking as customers do it in the web chat: buttons, typed answers, free-text dates in four languages,
 * wrong answers, changing and cancelling. The dealership is the demo branch: Mon–Sat 09:00–18:00 in
 * Asia/Taipei, 30-minute slots, two hours' notice.
 */

// Monday 2026-11-30, 09:00 in Taipei.
const START = '2026-11-30T01:00:00.000Z';

afterAll(closeTestD1);

describe.each(flowDialects)('booking by chat on $name', (dialect) => {
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

  /** A customer in the web chat; `say` sends and returns what came back, rendered. */
  function customer(visitor: string, language: Locale = 'en') {
    let cursor = 0;
    return {
      async say(input: Input | string): Promise<RenderedMessage[]> {
        const event: InboundEvent = {
          channel: 'web',
          eventId: `bk-${++seq}`,
          externalId: visitor,
          occurredAt: clock.now().toISOString(),
          replyToken: null,
          profile: { displayName: null, languageHint: language },
          input: typeof input === 'string' ? { type: 'text', text: input } : input,
        };
        await svc.engine.handle(event);
        await svc.flush();
        return this.heard();
      },
      /** What came back since the last look (a reply another caller's flush was still sending arrives here). */
      async heard(): Promise<RenderedMessage[]> {
        const rows = await svc.db.store.db
          .selectFrom('messages')
          .innerJoin('channel_identities', 'channel_identities.customer_id', 'messages.customer_id')
          .select(['messages.id', 'messages.payload'])
          .where('channel_identities.external_id', '=', visitor)
          .where('messages.direction', '=', 'out')
          .where('messages.id', '>', cursor)
          .orderBy('messages.id')
          .execute();
        cursor = rows.at(-1)?.id ?? cursor;
        return rows.map((r) => (JSON.parse(r.payload!) as { message: RenderedMessage }).message);
      },
      tap: (id: string, params: { date?: string } | null = null): Input => ({ type: 'choice', id, params }),
    };
  }

  const texts = (messages: RenderedMessage[]) => messages.map((m) => (m.type === 'card' || m.type === 'carousel' ? m.altText : m.type === 'text' ? m.text : m.url)).join('\n');
  const ids = (messages: RenderedMessage[]) => messages.flatMap((m) => (m.type === 'image' ? [] : m.choices.map((c) => ('id' in c ? c.id : c.url))));

  async function appointments() {
    return svc.db.store.db.selectFrom('appointments').selectAll().orderBy('created_at').execute();
  }

  it('books with buttons from the menu to the confirmation, registering the car on the way', async () => {
    const mei = customer('mei');
    expect(ids(await mei.say(mei.tap('i:book')))).toContain('book:st:periodic_maintenance');
    expect(texts(await mei.say(mei.tap('book:st:periodic_maintenance')))).toContain('licence plate');
    expect(texts(await mei.say('abc 1234'))).toContain('make and model');
    expect(texts(await mei.say('Toyota Corolla'))).toContain('year');
    expect(texts(await mei.say(mei.tap('book:skip')))).toContain('kilometres');
    const days = await mei.say('45,000 km');
    expect(texts(days)).toContain('Which day suits you?');
    const dayIds = ids(days).filter((i) => i.startsWith('book:d:'));
    expect(dayIds.length).toBeGreaterThanOrEqual(5);
    // Sunday is closed: it is never offered.
    expect(dayIds).not.toContain('book:d:2026-12-06');
    const times = await mei.say(mei.tap('book:d:2026-12-01'));
    expect(texts(times)).toContain('Free times on Tuesday, December 1, 2026');
    expect(ids(times)).toContain('book:t:2026-12-01:0930');
    expect(texts(await mei.say(mei.tap('book:t:2026-12-01:0930')))).toContain('service advisor should know');
    expect(texts(await mei.say('Squeaking brakes'))).toContain('loaner car while yours is in for Scheduled service');
    // A web chat visitor is asked who they are, once.
    expect(texts(await mei.say(mei.tap('book:yes')))).toContain('What name should the booking be under?');
    expect(texts(await mei.say('Chen Mei-Ling'))).toContain('mobile number');
    const card = await mei.say('0912-345-678');
    expect(card[0]!.type).toBe('card');
    expect(texts(card)).toContain('ABC 1234');
    expect(texts(card)).toContain('Squeaking brakes');
    expect(texts(card)).toContain('Chen Mei-Ling');
    expect(texts(card)).toContain('+886912345678');
    const booked = await mei.say(mei.tap('book:ok'));
    expect(texts(booked)).toContain('Your booking is confirmed');
    const [appointment] = await appointments();
    expect(appointment).toMatchObject({ local_date: '2026-12-01', status: 'booked', note: 'Squeaking brakes', loaner_requested: 1, channel: 'web' });
    expect(texts(booked)).toContain(appointment!.reference);
    expect(await svc.db.store.db.selectFrom('customers').select(['display_name', 'phone']).executeTakeFirstOrThrow()).toEqual({ display_name: 'Chen Mei-Ling', phone: '+886912345678' });
    const vehicle = await svc.db.store.db.selectFrom('vehicles').selectAll().executeTakeFirstOrThrow();
    expect(vehicle).toMatchObject({ plate: 'ABC 1234', plate_normalized: 'ABC1234', make: 'Toyota', model: 'Corolla', year: null, mileage_km: 45000 });
    // The web chat gets an "add to calendar" link that really serves the booking.
    const link = booked.flatMap((m) => (m.type === 'card' ? m.choices : [])).find((c) => c.kind === 'url');
    expect(link && 'url' in link ? link.url : '').toMatch(/^\/calendar\/.+\.ics\?s=/);
    const ics = await svc.app.request(link && 'url' in link ? link.url : '/');
    expect(ics.status).toBe(200);
    expect(await ics.text()).toContain('DTSTART:20261201T013000Z');
  });

  it.each([
    ['zh-TW', '下週二下午3點', '2026-12-08', '15:00'],
    ['zh-CN', '明天上午10点', '2026-12-01', '10:00'],
    ['en', 'next Tuesday 3pm', '2026-12-08', '15:00'],
    ['ja', '水曜日 11時', '2026-12-02', '11:00'],
  ] as const)('understands a typed day and time in %s (“%s”)', async (language, typed, date, time) => {
    const c = customer(`free-${language}`, language);
    await c.say(c.tap('i:book'));
    await c.say(c.tap('book:st:inspection'));
    await c.say('XYZ-9876');
    await c.say(c.tap('book:skip'));
    await c.say(c.tap('book:skip'));
    await c.say(c.tap('book:skip'));
    const next = await c.say(typed);
    // The time was free, so the next question is the note, not the list of times.
    expect(ids(next)).toContain('book:skip');
    await c.say(c.tap('book:skip'));
    await c.say(c.tap('book:no'));
    await c.say('Wang Da-Wei');
    await c.say('0987654321');
    await c.say(c.tap('book:ok'));
    const [appointment] = await appointments();
    expect(appointment).toMatchObject({ local_date: date, status: 'booked' });
    expect(new Date(appointment!.starts_at).toISOString()).toBe(new Date(`${date}T${time}:00+08:00`).toISOString());
  });

  it("takes a car's year in the customer's own calendar: the Thai Buddhist era, 民國 and 令和", async () => {
    const asYear = async (visitor: string, language: Locale, year: string) => {
      const c = customer(visitor, language);
      await c.say(c.tap('i:book'));
      await c.say(c.tap('book:st:periodic_maintenance'));
      await c.say(`AB ${1000 + ++seq}`);
      await c.say('Toyota Yaris');
      const after = texts(await c.say(year));
      // The car is registered when the booking is confirmed; until then its year is in the conversation.
      const conversation = await svc.db.store.db
        .selectFrom('conversations')
        .innerJoin('channel_identities', 'channel_identities.customer_id', 'conversations.customer_id')
        .select('conversations.state')
        .where('channel_identities.external_id', '=', visitor)
        .executeTakeFirstOrThrow();
      return { after, year: (JSON.parse(conversation.state) as { v: { newVehicle?: { year?: number } } }).v.newVehicle?.year ?? null };
    };
    // พ.ศ. 2563 is 2020; the next question (mileage) follows, in Thai.
    const thai = await asYear('somchai', 'th', 'พ.ศ. 2563');
    expect(thai).toEqual({ after: expect.stringContaining('กิโลเมตร'), year: 2020 });
    expect(await asYear('ah-ming', 'zh-TW', '民國109年')).toEqual({ after: expect.stringContaining('公里'), year: 2020 });
    expect(await asYear('haruto', 'ja', '令和2年式です')).toEqual({ after: expect.stringContaining('キロ'), year: 2020 });
    // A year no car can have is asked again, saying which calendars are understood.
    const c = customer('nid', 'th');
    await c.say(c.tap('i:book'));
    await c.say(c.tap('book:st:periodic_maintenance'));
    await c.say('AB 9999');
    await c.say('Honda City');
    expect(texts(await c.say('2600'))).toContain('พ.ศ. 2563');
  });

  it('offers the times of a day named with a part of the day, and re-asks what it cannot read', async () => {
    const c = customer('parts', 'zh-TW');
    await c.say(c.tap('i:book'));
    await c.say(c.tap('book:st:repair_diagnosis'));
    await c.say('ABC-1234');
    for (let i = 0; i < 3; i++) await c.say(c.tap('book:skip'));
    const notADate = await c.say('我不確定');
    expect(texts(notADate)).toContain('看不出是哪一天');
    const morning = await c.say('明天上午');
    const offered = ids(morning).filter((i) => i.startsWith('book:t:'));
    expect(offered.length).toBeGreaterThan(0);
    expect(offered.every((i) => i.endsWith(':0900') || i.endsWith(':0930') || i.endsWith(':1000') || i.endsWith(':1030') || i.endsWith(':1100') || i.endsWith(':1130'))).toBe(true);
    expect(texts(await c.say('banana'))).toContain('請從下方選擇時段');
  });

  it('says politely when a day is closed, past or beyond the horizon', async () => {
    const c = customer('closed');
    await c.say(c.tap('i:book'));
    await c.say(c.tap('book:st:inspection'));
    await c.say('ABC-1234');
    for (let i = 0; i < 3; i++) await c.say(c.tap('book:skip'));
    expect(texts(await c.say('Sunday'))).toContain('We are closed on Sunday, December 6, 2026');
    expect(texts(await c.say(c.tap('book:pick', { date: '2026-11-02' })))).toContain('That day has passed');
    expect(texts(await c.say(c.tap('book:pick', { date: '2027-06-01' })))).toContain('up to 60 days ahead');
  });

  it('leaves the flow cleanly on "cancel" at any step, and after three unreadable answers offers a way out without dropping the question', async () => {
    const c = customer('quitter', 'ja');
    await c.say(c.tap('i:book'));
    const left = await c.say('キャンセル');
    expect(texts(left)).toContain('中止しました');
    expect((await svc.db.store.db.selectFrom('conversations').select('flow').executeTakeFirstOrThrow()).flow).toBeNull();
    await c.say(c.tap('i:book'));
    for (const nonsense of ['??', '???']) {
      const again = await c.say(nonsense);
      expect(ids(again)).not.toContain('i:human');
      expect(ids(again)).toContain('book:st:inspection');
    }
    const out = await c.say('????');
    // The question's own buttons stay, with a person and the menu beside them.
    expect(texts(out)).toContain('担当者');
    expect(ids(out)).toEqual(expect.arrayContaining(['book:st:inspection', 'i:human', 'i:menu']));
    const position = await svc.db.store.db.selectFrom('conversations').select(['flow', 'step']).executeTakeFirstOrThrow();
    expect(position).toEqual({ flow: 'book', step: 'service' });
    // An answer still works after the way out was offered.
    const next = await c.say(c.tap('book:st:inspection'));
    expect(texts(next)).toContain('ナンバー');
  });

  it('lists, reschedules and cancels bookings from "my bookings", freeing the place', async () => {
    const c = customer('manager');
    await c.say(c.tap('i:book'));
    await c.say(c.tap('book:st:inspection'));
    await c.say('QQ-1234');
    for (let i = 0; i < 3; i++) await c.say(c.tap('book:skip'));
    await c.say(c.tap('book:d:2026-12-03'));
    await c.say(c.tap('book:t:2026-12-03:1400'));
    await c.say(c.tap('book:skip'));
    await c.say(c.tap('book:no'));
    await c.say('Lin Yu-Ting');
    await c.say('0911222333');
    await c.say(c.tap('book:ok'));
    const [booked] = await appointments();

    const list = await c.say('my bookings');
    expect(texts(list)).toContain('You have 1 upcoming booking');
    expect(ids(list)).toEqual(expect.arrayContaining([`mybk:r:${booked!.id}`, `mybk:c:${booked!.id}`]));

    await c.say(c.tap(`mybk:r:${booked!.id}`));
    await c.say(c.tap('book:d:2026-12-04'));
    const confirm = await c.say(c.tap('book:t:2026-12-04:1100'));
    expect(texts(confirm)).toContain(booked!.reference);
    const moved = await c.say(c.tap('book:ok'));
    expect(texts(moved)).toContain('Your booking has moved');
    const [after] = await appointments();
    expect(after).toMatchObject({ id: booked!.id, reference: booked!.reference, local_date: '2026-12-04' });

    const ask = await c.say(c.tap(`mybk:c:${booked!.id}`));
    expect(texts(ask)).toContain(`Cancel your booking ${booked!.reference}`);
    expect(texts(await c.say(c.tap(`mybk:cy:${booked!.id}`)))).toContain('Your booking is cancelled');
    const [cancelled] = await appointments();
    expect(cancelled!.status).toBe('cancelled');
    expect(await svc.db.store.db.selectFrom('capacity_claims').selectAll().where('appointment_id', '=', booked!.id).execute()).toHaveLength(0);
    expect(texts(await c.say('my bookings'))).toContain('You have no upcoming bookings');
  });

  it('offers the nearest free times to the customer who lost the last place in a slot', async () => {
    // Two customers reach the confirmation for the same time; only as many as the slot holds get it.
    const racers = ['r1', 'r2', 'r3'].map((v) => customer(v));
    for (const c of racers) {
      await c.say(c.tap('i:book'));
      await c.say(c.tap('book:st:bodywork_claim'));
      await c.say(`BDY-${1000 + racers.indexOf(c)}`);
      for (let i = 0; i < 3; i++) await c.say(c.tap('book:skip'));
      await c.say(c.tap('book:d:2026-12-02'));
      await c.say(c.tap('book:t:2026-12-02:1000'));
      await c.say(c.tap('book:skip'));
      await c.say(c.tap('book:no'));
      await c.say(`Racer ${racers.indexOf(c)}`);
      await c.say(`091200000${racers.indexOf(c)}`);
    }
    // The body shop has one bay: one of them can have 10:00.
    const said = await Promise.all(racers.map((c) => c.say(c.tap('book:ok'))));
    // Concurrent flushes share the outbox: a reply one racer's flush was still sending is read after all are done.
    await svc.flush();
    const answers = await Promise.all(racers.map(async (c, i) => [...said[i]!, ...(await c.heard())]));
    const won = answers.filter((a) => texts(a).includes('Your booking is confirmed'));
    const lost = answers.filter((a) => texts(a).includes('was just taken'));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(2);
    for (const l of lost) expect(ids(l).some((i) => i.startsWith('book:t:2026-12-02:'))).toBe(true);
    expect((await appointments()).filter((a) => a.status === 'booked')).toHaveLength(1);
  });
});
