import { createHmac } from 'node:crypto';
import { expect } from 'vitest';
import { manualClock } from '../../src/ops/clock';
import { TEST_LINE_SECRET, testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { apiToken } from '../helpers/staff';
import type { TestDialect } from '../helpers/stores';
import type { FakeLineApi } from '../fakes/line-api';

/*
 * A dealership as the console tests need it: the service on a clock the test moves, LINE customers who
 * write through signed webhooks (the fake LINE API answers their profiles), and the DMS adding their cars
 * and booking them in through the staff API, as it does in production.
 */

// Monday 2026-03-09, 08:00 in Taipei: the branch opens at 09:00.
export const MONDAY_8AM = '2026-03-09T00:00:00.000Z';
export const MON = '2026-03-09';
export const TUE = '2026-03-10';

let seq = 0;
export const lineUser = () => `U${crypto.randomUUID().replace(/-/g, '')}`;

export interface ConsoleWorld {
  svc: TestService;
  clock: ReturnType<typeof manualClock>;
  branchId: string;
  dms: Awaited<ReturnType<typeof apiToken>>;
  /** A LINE customer writes (or taps a button, with `postback`); the background work runs. Returns their customer id. */
  lineSays(userId: string, text: string): Promise<string>;
  linePostback(userId: string, data: string): Promise<string>;
  /** Someone adds the dealership on LINE (their profile name comes with it) and says hello. */
  newLineCustomer(name: string, language?: string): Promise<{ userId: string; customerId: string }>;
  /** The DMS records a car of the customer. */
  addCar(customerId: string, car: { plate: string; make?: string; model?: string; year?: number; mileageKm?: number }): Promise<string>;
  /** The DMS books a visit (local time at the branch). */
  book(customerId: string, date: string, time: string, extra?: { vehicleId?: string; serviceType?: string; loaner?: boolean }): Promise<{ id: string; reference: string }>;
  close(): Promise<void>;
}

export async function openConsoleWorld(dialect: TestDialect, line: FakeLineApi, start = MONDAY_8AM): Promise<ConsoleWorld> {
  const clock = manualClock(start);
  const svc = await startTestService(dialect, testConfig({ DEFAULT_LOCALE: 'en' }, { line: line.url }), clock);
  const db = svc.db.store.db;
  const branchId = (await db.selectFrom('branches').select('id').executeTakeFirstOrThrow()).id;
  const dms = await apiToken(svc, 'manager');

  async function lineEvent(userId: string, event: Record<string, unknown>): Promise<string> {
    seq += 1;
    const body = JSON.stringify({
      destination: 'Ubot',
      events: [
        {
          mode: 'active',
          timestamp: clock.now().getTime(),
          source: { type: 'user', userId },
          webhookEventId: `01K${String(seq).padStart(8, '0')}${crypto.randomUUID().replace(/-/g, '').slice(0, 15).toUpperCase()}`,
          deliveryContext: { isRedelivery: false },
          ...event,
        },
      ],
    });
    const signature = createHmac('sha256', TEST_LINE_SECRET).update(body).digest('base64');
    const res = await svc.app.request('/webhooks/line', { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': signature }, body });
    expect(res.status).toBe(200);
    await svc.flush();
    const row = await db.selectFrom('channel_identities').select('customer_id').where('channel', '=', 'line').where('external_id', '=', userId).executeTakeFirstOrThrow();
    return row.customer_id;
  }

  return {
    svc,
    clock,
    branchId,
    dms,
    lineSays: (userId, text) => lineEvent(userId, { type: 'message', message: { id: String(7000 + seq), type: 'text', text } }),
    linePostback: (userId, data) => lineEvent(userId, { type: 'postback', postback: { data } }),
    async newLineCustomer(name, language = 'en') {
      const userId = lineUser();
      line.setProfile(userId, { displayName: name, language });
      await lineEvent(userId, { type: 'follow', follow: { isUnblocked: false } });
      const customerId = await lineEvent(userId, { type: 'message', message: { id: String(7000 + seq), type: 'text', text: 'hello' } });
      return { userId, customerId };
    },
    async addCar(customerId, car) {
      const res = await dms.request(`/api/customers/${customerId}/vehicles`, { json: car });
      const body = (await res.json()) as { id: string };
      expect(res.status, JSON.stringify(body)).toBe(201);
      return body.id;
    },
    async book(customerId, date, time, extra = {}) {
      const [h, m] = time.split(':').map(Number);
      // Taipei has no daylight saving: local time is UTC+8 all year.
      const startsAt = new Date(Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)), h! - 8, m!)).toISOString();
      const res = await dms.request('/api/appointments', {
        json: { branchId, customerId, serviceType: extra.serviceType ?? 'periodic_maintenance', startsAt, ...(extra.vehicleId ? { vehicleId: extra.vehicleId } : {}), ...(extra.loaner ? { loaner: true } : {}) },
      });
      const body = (await res.json()) as { id: string; reference: string };
      expect(res.status, JSON.stringify(body)).toBe(201);
      return body;
    },
    close: () => svc.close(),
  };
}
