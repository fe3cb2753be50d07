import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadBranchCapacity } from '../../src/booking/capacity';
import { createBookingService } from '../../src/booking/service';
import { DEFAULT_BOOKING_SETTINGS } from '../../src/domain/booking-rules';
import { manualClock } from '../../src/ops/clock';
import { testConfig } from '../helpers/config';
import { startTestService, type TestService } from '../helpers/service';
import { staffMember, type SignedInStaff } from '../helpers/staff';
import { dialects } from '../helpers/stores';

const START = '2026-03-09T00:00:00.000Z';

/** The settings form as the page sends it, with the demo branch's values; tests change what they are about. */
function settingsForm(over: Record<string, string> = {}): Record<string, string> {
  const s = DEFAULT_BOOKING_SETTINGS;
  return {
    slotIntervalMinutes: String(s.slotIntervalMinutes),
    minNoticeMinutes: String(s.minNoticeMinutes),
    horizonDays: String(s.horizonDays),
    bufferMinutes: String(s.bufferMinutes),
    advisorsPerSlot: String(s.advisorsPerSlot),
    dailyCap: String(s.dailyCap),
    loanerCars: String(s.loanerCars),
    changeCutoffHours: String(s.changeCutoffHours),
    reminderDayBeforeAt: s.reminderDayBeforeAt ?? '',
    reminderHoursBefore: String(s.reminderHoursBefore ?? ''),
    quietHoursStart: s.quietHoursStart ?? '',
    quietHoursEnd: s.quietHoursEnd ?? '',
    ...over,
  };
}

describe.each(dialects)('console capacity on $name', (dialect) => {
  let svc: TestService;
  let manager: SignedInStaff;
  let branchId: string;
  let base: string;
  const clock = manualClock(START);
  const db = () => svc.db.store.db;
  const auditOf = (action: string) => db().selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();
  const capacity = async () => (await loadBranchCapacity(db(), branchId))!;

  beforeEach(async () => {
    clock.set(START);
    svc = await startTestService(dialect, testConfig({ DEFAULT_LOCALE: 'en' }), clock);
    branchId = (await db().selectFrom('branches').select('id').executeTakeFirstOrThrow()).id;
    base = `/console/branches/${branchId}/capacity`;
    manager = await staffMember(svc, 'manager');
  });
  afterEach(async () => {
    await svc.close();
  });

  /** A form post with repeated fields (checkboxes), as a browser sends it. */
  function postForm(who: SignedInStaff, path: string, fields: [string, string][]): Promise<Response> {
    const body = new URLSearchParams([['_csrf', who.csrf], ...fields]).toString();
    return Promise.resolve(svc.app.request(path, { method: 'POST', headers: { cookie: who.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body }));
  }

  it('lets a manager change the booking settings, refuses bad values with the reason, and audits the change', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ slotIntervalMinutes: '7' }, 'Whole minutes from 5 to 240, in steps of 5.'],
      [{ slotIntervalMinutes: '' }, 'Whole minutes from 5 to 240, in steps of 5.'],
      [{ bufferMinutes: '-5' }, 'Whole minutes from 0 to 240, in steps of 5.'],
      [{ dailyCap: '0' }, 'A whole number from 1 to 10000.'],
      [{ reminderDayBeforeAt: '25:00' }, 'A time such as 18:00, or empty for no reminder.'],
      [{ quietHoursEnd: '' }, 'quiet hours need both a start and an end.'],
    ];
    for (const [over, message] of cases) {
      const res = await manager.request(`${base}/settings`, { form: settingsForm(over) });
      expect(res.status, message).toBe(400);
      expect(await res.text(), message).toContain(message);
    }
    expect(await auditOf('capacity.settings')).toHaveLength(0);
    expect((await capacity()).rules.settings).toEqual(DEFAULT_BOOKING_SETTINGS);

    const saved = await manager.request(`${base}/settings`, { form: settingsForm({ slotIntervalMinutes: '15', loanerCars: '0', reminderHoursBefore: '', quietHoursStart: '', quietHoursEnd: '' }) });
    expect(saved.status).toBe(303);
    expect(saved.headers.get('location')).toBe(`${base}?flash=settingsSaved`);
    const settings = (await capacity()).rules.settings;
    expect(settings).toEqual({ ...DEFAULT_BOOKING_SETTINGS, slotIntervalMinutes: 15, loanerCars: 0, reminderHoursBefore: null, quietHoursStart: null, quietHoursEnd: null });
    const [entry] = await auditOf('capacity.settings');
    expect(entry).toMatchObject({ entity: 'branch_settings', entity_id: branchId, actor_id: manager.id });
    expect(JSON.parse(entry!.before!)).toMatchObject({ slotIntervalMinutes: 30, loanerCars: 2 });
    expect(JSON.parse(entry!.after!)).toMatchObject({ slotIntervalMinutes: 15, loanerCars: 0, quietHoursStart: null });

    // The new interval is what availability offers now.
    const booking = createBookingService({ store: svc.db.store, clock });
    const day = await booking.availability(branchId, { serviceTypeCode: 'inspection', date: '2026-03-10', loaner: false });
    expect(day.ok && day.day.slots.slice(0, 3).map((s) => s.localTime)).toEqual(['09:00', '09:15', '09:30']);
  });

  it('lets everyone with appointments read the capacity, but refuses advisors and care staff a change (403)', async () => {
    for (const role of ['advisor', 'care'] as const) {
      const staff = await staffMember(svc, role);
      const page = await staff.request(base);
      expect(page.status, role).toBe(200);
      const html = await page.text();
      expect(html).toContain('Managers change these settings; you can see them here.');
      expect(html).not.toContain(`action="${base}/bays"`);
      expect((await staff.request(`${base}/settings`, { form: settingsForm({ dailyCap: '3' }) })).status, role).toBe(403);
      expect((await staff.request(`${base}/bays`, { form: { name: 'Sneaky bay', sortOrder: '1', active: '1' } })).status, role).toBe(403);
      expect((await staff.request(`${base}/service-types`, { form: { code: 'sneaky', durationMinutes: '30', name_en: 'Sneaky' } })).status, role).toBe(403);
    }
    expect((await capacity()).rules.settings.dailyCap).toBe(DEFAULT_BOOKING_SETTINGS.dailyCap);
    expect((await capacity()).bays.map((b) => b.name)).not.toContain('Sneaky bay');
    expect(await db().selectFrom('audit_log').select('id').where('action', 'like', '%bay%').execute()).toHaveLength(0);
    const admin = await staffMember(svc, 'admin');
    expect((await admin.request(`${base}/settings`, { form: settingsForm({ dailyCap: '30' }) })).status).toBe(303);
  });

  it('adds and edits bays with the services they take, and audits each change', async () => {
    const empty = await postForm(manager, `${base}/bays`, [
      ['name', '  '],
      ['sortOrder', '50'],
      ['active', '1'],
    ]);
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain('The bay needs a name of up to 60 characters.');

    const added = await postForm(manager, `${base}/bays`, [
      ['name', 'Express lane'],
      ['serviceTypes', 'inspection'],
      ['serviceTypes', 'tyres_battery'],
      ['serviceTypes', 'not_a_type'],
      ['sortOrder', '50'],
      ['active', '1'],
    ]);
    expect(added.status).toBe(303);
    const bay = (await capacity()).bays.find((b) => b.name === 'Express lane')!;
    expect(bay).toMatchObject({ serviceTypes: ['inspection', 'tyres_battery'], active: true, sortOrder: 50 });

    // Unticked "in use" switches the bay off: no new bookings go to it.
    const edited = await postForm(manager, `${base}/bays/${bay.id}`, [
      ['name', 'Express lane'],
      ['serviceTypes', 'inspection'],
      ['sortOrder', '50'],
    ]);
    expect(edited.status).toBe(303);
    expect((await capacity()).bays.find((b) => b.id === bay.id)).toMatchObject({ serviceTypes: ['inspection'], active: false });
    expect((await auditOf('bay.create')).map((a) => a.entity_id)).toEqual([bay.id]);
    const [update] = await auditOf('bay.update');
    expect(JSON.parse(update!.before!)).toMatchObject({ active: true, serviceTypes: ['inspection', 'tyres_battery'] });
    expect(JSON.parse(update!.after!)).toMatchObject({ active: false, serviceTypes: ['inspection'] });

    expect((await postForm(manager, `${base}/bays/${crypto.randomUUID()}`, [['name', 'Ghost']])).status).toBe(404);
  });

  it('adds and edits service types with names in five languages; a duplicate code is refused and a new code follows into the bays', async () => {
    const cases: [[string, string][], string][] = [
      [[['code', 'Bad Code'], ['durationMinutes', '30'], ['name_en', 'AC']], 'A code of lower-case letters, digits and _'],
      [[['code', 'ac_service'], ['durationMinutes', '7'], ['name_en', 'AC']], 'Whole minutes from 5 to 1440, in steps of 5.'],
      [[['code', 'ac_service'], ['durationMinutes', '30']], 'Enter the name in at least one language.'],
    ];
    for (const [fields, message] of cases) {
      const res = await postForm(manager, `${base}/service-types`, [...fields, ['sortOrder', '70'], ['active', '1']]);
      expect(res.status, message).toBe(400);
      expect(await res.text(), message).toContain(message);
    }
    const added = await postForm(manager, `${base}/service-types`, [
      ['code', 'ac_service'],
      ['durationMinutes', '45'],
      ['name_zh-TW', '冷氣保養'],
      ['name_zh-CN', '空调保养'],
      ['name_en', 'Air conditioning'],
      ['name_ja', 'エアコン整備'],
      ['name_th', 'ล้างแอร์'],
      ['sortOrder', '70'],
      ['active', '1'],
    ]);
    expect(added.status).toBe(303);
    const type = (await capacity()).serviceTypes.find((t) => t.code === 'ac_service')!;
    expect(type).toMatchObject({ durationMinutes: 45, active: true, names: { 'zh-TW': '冷氣保養', 'zh-CN': '空调保养', en: 'Air conditioning', ja: 'エアコン整備', th: 'ล้างแอร์' } });
    expect((await auditOf('service_type.create')).map((a) => a.entity_id)).toEqual([type.id]);

    const duplicate = await postForm(manager, `${base}/service-types`, [['code', 'recall'], ['durationMinutes', '30'], ['name_en', 'Recall again'], ['active', '1']]);
    expect(duplicate.status).toBe(409);
    expect(await duplicate.text()).toContain('This branch already has a service type with this code.');

    // Renaming the inspection code keeps the three bays that take it taking it.
    const inspection = (await capacity()).serviceTypes.find((t) => t.code === 'inspection')!;
    const renamed = await postForm(manager, `${base}/service-types/${inspection.id}`, [
      ['code', 'safety_inspection'],
      ['durationMinutes', '30'],
      ['name_en', 'Safety inspection'],
      ['sortOrder', '30'],
      ['active', '1'],
    ]);
    expect(renamed.status).toBe(303);
    const after = await capacity();
    expect(after.serviceTypes.find((t) => t.id === inspection.id)).toMatchObject({ code: 'safety_inspection', names: { en: 'Safety inspection' } });
    expect(after.bays.filter((b) => b.serviceTypes.includes('safety_inspection'))).toHaveLength(3);
    expect(after.bays.some((b) => b.serviceTypes.includes('inspection'))).toBe(false);
    const [update] = await auditOf('service_type.update');
    expect(JSON.parse(update!.after!).baysUpdated).toHaveLength(3);
    const booking = createBookingService({ store: svc.db.store, clock });
    const day = await booking.availability(branchId, { serviceTypeCode: 'safety_inspection', date: '2026-03-10', loaner: false });
    expect(day.ok && day.day.slots.length).toBeGreaterThan(0);
  });
});
