import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bookAppointment, cancelAppointment, checkInAppointment, rescheduleAppointment } from '../../src/booking/booking';
import { findAppointment } from '../../src/booking/appointments';
import { noticeStaffChange, reachableChannel } from '../../src/booking/notices';
import { renderReplies } from '../../src/channels/render';
import type { Reply } from '../../src/channels/types';
import { newId } from '../../src/ids';
import { manualClock } from '../../src/ops/clock';
import { resolveCustomer } from '../../src/store/customers';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { closeTestD1, flowDialects } from '../helpers/stores';

/*
 * When staff move, cancel, check in or give a booking an advisor, the customer hears it in their chat:
 * through the outbox, in their language, with the new details, and not in the middle of the night.
 */

// Monday 2026-11-30, 10:00 in Taipei.
const START = '2026-11-30T02:00:00.000Z';
const staff = { type: 'staff' as const, staffId: null };

afterAll(closeTestD1);

describe.each(flowDialects)('notices of changes staff make, on $name', (dialect) => {
  let svc: TestService;
  const clock = manualClock(START);

  beforeEach(async () => {
    clock.set(START);
    svc = await startTestService(dialect, testConfig(), clock);
  });
  afterEach(async () => {
    await svc.close();
  });

  const db = () => svc.db.store.db;

  /** A customer on `channels` (the first is where they booked), with a booking on Thursday at 14:00. */
  async function customerWithBooking(locale: string, channels: ('web' | 'line' | 'telegram')[]) {
    const branchId = (await db().selectFrom('branches').select('id').executeTakeFirstOrThrow()).id;
    return svc.db.store.transaction(async (tx) => {
      const { customer } = await resolveCustomer(tx, { channel: channels[0]!, externalId: `${channels[0]}-${newId()}`, displayName: 'Chen', locale, now: clock.now().toISOString() });
      for (const channel of channels.slice(1)) {
        await tx.insertInto('channel_identities').values({ id: newId(), customer_id: customer.id, channel, external_id: `${channel}-${newId()}`, display_name: null, reachable: 1, unreachable_since: null, created_at: clock.now().toISOString(), last_seen_at: clock.now().toISOString() }).execute();
      }
      const booked = await bookAppointment(
        tx,
        { branchId, customerId: customer.id, vehicleId: null, serviceTypeCode: 'periodic_maintenance', startsAt: '2026-12-03T06:00:00.000Z', loaner: false, note: null, channel: channels[0]!, actor: { type: 'customer', customerId: customer.id } },
        clock.now(),
      );
      if (!booked.ok) throw new Error(booked.reason);
      return { customerId: customer.id, appointment: booked.appointment };
    });
  }

  async function notices(customerId: string) {
    const rows = await db().selectFrom('outbox').innerJoin('customers', 'customers.id', 'outbox.customer_id').select(['outbox.channel', 'outbox.payload', 'outbox.next_attempt_at', 'outbox.source', 'customers.locale']).where('outbox.customer_id', '=', customerId).orderBy('outbox.id').execute();
    return rows.map((r) => ({ channel: r.channel, notBefore: r.next_attempt_at, source: r.source, messages: renderReplies(svc.translator, r.locale as 'en', JSON.parse(r.payload) as Reply[]) }));
  }
  const textOf = (n: { messages: ReturnType<typeof renderReplies> }) => n.messages.map((m) => (m.type === 'text' ? m.text : '')).join('\n');

  it('tells the customer where staff moved the booking, in their language, on the channel that reaches them', async () => {
    const { customerId, appointment } = await customerWithBooking('zh-TW', ['web', 'line']);
    const moved = await svc.db.store.transaction((tx) => rescheduleAppointment(tx, { appointmentId: appointment.id, actor: staff, channel: 'console', startsAt: '2026-12-04T03:00:00.000Z' }, clock.now()));
    expect(moved.ok).toBe(true);
    const [notice] = await notices(customerId);
    // Booked in the web chat, but LINE reaches them after the tab is closed.
    expect(notice).toMatchObject({ channel: 'line', source: 'system', notBefore: clock.now().toISOString() });
    expect(textOf(notice!)).toContain('服務人員已將您在Test Motors（示範據點）的定期保養預約');
    expect(textOf(notice!)).toContain('從 2026年12月3日星期四 14:00 改到 2026年12月4日星期五 11:00');
  });

  it('waits for the end of the branch’s quiet hours', async () => {
    const { customerId, appointment } = await customerWithBooking('en', ['web']);
    clock.set('2026-11-30T14:30:00.000Z'); // 22:30 in Taipei, inside 21:00–09:00
    await svc.db.store.transaction((tx) => cancelAppointment(tx, { appointmentId: appointment.id, actor: staff, channel: 'console', reason: 'bay closed' }, clock.now()));
    const [notice] = await notices(customerId);
    expect(notice!.notBefore).toBe('2026-12-01T01:00:00.000Z'); // 09:00 the next morning
    expect(textOf(notice!)).toContain('Our team has cancelled your Scheduled service at Test Motors (demo branch) on Thursday, December 3, 2026 14:00');
    expect(notice!.messages[0]!.type === 'text' && notice!.messages[0]!.choices.map((c) => ('id' in c ? c.id : ''))).toEqual(['i:book', 'i:human']);
  });

  it('tells of the check-in and of the advisor, and says nothing of the customer’s own changes', async () => {
    const { customerId, appointment } = await customerWithBooking('en', ['telegram']);
    const own = await customerWithBooking('en', ['web']);
    const ownMove = await svc.db.store.transaction((tx) => rescheduleAppointment(tx, { appointmentId: own.appointment.id, actor: { type: 'customer', customerId: own.customerId }, channel: 'web', startsAt: '2026-12-05T03:00:00.000Z' }, clock.now()));
    expect(ownMove.ok).toBe(true);
    clock.set('2026-12-03T05:30:00.000Z');
    await svc.db.store.transaction((tx) => checkInAppointment(tx, { appointmentId: appointment.id, actor: staff, channel: 'console' }, clock.now()));
    const advisorId = newId();
    await db()
      .insertInto('staff_users')
      .values({ id: advisorId, email: 'lin@dealer.example', name: 'Lin Wen', role: 'advisor', locale: 'en', password_hash: 'x', active: 1, last_login_at: null, created_at: START, updated_at: START })
      .execute();
    const current = (await findAppointment(db(), appointment.id))!;
    await svc.db.store.transaction((tx) => noticeStaffChange(tx, { kind: 'advisor_assigned', appointment: current, advisorId }, clock.now()));
    expect(await svc.db.store.transaction((tx) => noticeStaffChange(tx, { kind: 'advisor_assigned', appointment: current, advisorId: null }, clock.now()))).toBe(false);
    const all = await notices(customerId);
    expect(all.map(textOf)).toEqual([expect.stringContaining('Your car is checked in at Test Motors (demo branch)'), expect.stringContaining('Lin Wen will be your service advisor')]);

    expect(await notices(own.customerId)).toEqual([]);
  });

  it('reaches nobody who opted out, and picks LINE or Telegram before a web chat tab', async () => {
    const { customerId, appointment } = await customerWithBooking('en', ['web', 'telegram']);
    expect((await reachableChannel(db(), customerId, 'web'))?.channel).toBe('telegram');
    await db().updateTable('customers').set({ opted_out_at: START }).where('id', '=', customerId).execute();
    await svc.db.store.transaction((tx) => cancelAppointment(tx, { appointmentId: appointment.id, actor: staff, channel: 'console' }, clock.now()));
    expect(await notices(customerId)).toEqual([]);
  });
});
