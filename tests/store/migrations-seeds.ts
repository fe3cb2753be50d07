import type { Kysely } from 'kysely';
import { expect } from 'vitest';

/*
 * Representative rows for each migration, for tests/store/migrations.test.ts: written right after that
 * migration ran, in the schema as it stood then, and checked once every later migration has run.
 *
 * Adding a migration: add an entry under its name that inserts a row or two into what it created or changed
 * (earlier seeds' rows are there to refer to: customer `seed-c1`, branch `seed-b1`, …) and checks them on
 * the latest schema. A migration without an entry still runs in the test, over the earlier seeds' rows; it
 * is listed as a to-do until it has one. When a migration changes what an earlier seed wrote (renames a
 * column, moves data), change that seed's `check` to say what the row looks like now: that is the point.
 *
 * Columns are written by name through Kysely<any>, never through the app's types or repositories, which
 * only know the latest schema. Serial ids are left to the database (a row given one on Postgres would leave
 * its sequence behind); such rows are found by another column.
 */

export interface MigrationSeed {
  /** Writes rows the way the schema stood right after this migration. */
  insert(db: Kysely<any>): Promise<void>;
  /** Checks, on the latest schema, that the rows are there and mean what they meant. */
  check(db: Kysely<any>): Promise<void>;
}

const T0 = '2026-03-02T01:00:00.000Z';
const T1 = '2026-03-02T01:05:00.000Z';

async function one(db: Kysely<any>, table: string, where: Record<string, unknown>): Promise<Record<string, unknown>> {
  let query = db.selectFrom(table).selectAll();
  for (const [column, value] of Object.entries(where)) query = query.where(column, '=', value);
  const rows = await query.execute();
  expect(rows, `${table} where ${JSON.stringify(where)}`).toHaveLength(1);
  return rows[0] as Record<string, unknown>;
}

export const seeds: Record<string, MigrationSeed> = {
  '0001_foundation': {
    async insert(db) {
      await db
        .insertInto('customers')
        .values([
          { id: 'seed-c1', display_name: '王小明', phone: '+886912345678', locale: 'zh-TW', category: 'base', notes: '老客戶', consent_at: T0, opted_out_at: null, erased_at: null, created_at: T0, updated_at: T1 },
          { id: 'seed-c2', display_name: 'Somchai', phone: null, locale: 'th', category: 'prospect', notes: null, consent_at: null, opted_out_at: null, erased_at: null, created_at: T0, updated_at: T0 },
        ])
        .execute();
      await db
        .insertInto('channel_identities')
        .values([
          { id: 'seed-i1', customer_id: 'seed-c1', channel: 'line', external_id: 'Useedline1', display_name: '小明', reachable: 1, unreachable_since: null, created_at: T0, last_seen_at: T1 },
          { id: 'seed-i2', customer_id: 'seed-c2', channel: 'telegram', external_id: '777000', display_name: null, reachable: 0, unreachable_since: T1, created_at: T0, last_seen_at: T0 },
        ])
        .execute();
      await db
        .insertInto('vehicles')
        .values({ id: 'seed-v1', customer_id: 'seed-c1', plate: 'ABC-1234', plate_normalized: 'ABC1234', make: 'Toyota', model: 'Corolla', year: 2019, vin: null, mileage_km: 45210, created_at: T0, updated_at: T0 })
        .execute();
      await db
        .insertInto('conversations')
        .values({ id: 'seed-conv1', customer_id: 'seed-c1', flow: 'booking', step: 'choose_day', state: JSON.stringify({ branchId: 'seed-b1', serviceTypeCode: 'maintenance' }), state_version: 1, version: 3, created_at: T0, updated_at: T1 })
        .execute();
      await db
        .insertInto('inbound_events')
        .values({ channel: 'line', event_id: 'seed-evt-1', external_id: 'Useedline1', payload: JSON.stringify({ type: 'text', text: '預約保養' }), status: 'done', attempts: 1, next_attempt_at: T0, last_error: null, received_at: T0, processed_at: T0 })
        .execute();
      await db.insertInto('processed_events').values({ channel: 'line', event_id: 'seed-evt-1', received_at: T0 }).execute();
      await db
        .insertInto('outbox')
        .values({ key: 'seed-out-1', customer_id: 'seed-c1', channel: 'line', external_id: 'Useedline1', payload: JSON.stringify({ key: 'booking.chooseDay' }), reply_token: null, reply_token_expires_at: null, status: 'sent', attempts: 1, next_attempt_at: T0, lease_until: null, last_error: null, source: 'bot', staff_user_id: null, flow: 'booking', step: 'choose_day', created_at: T0, updated_at: T0, sent_at: T0 })
        .execute();
      await db
        .insertInto('messages')
        .values([
          { customer_id: 'seed-c1', channel: 'line', direction: 'in', sender: 'customer', kind: 'text', text: '預約保養', payload: null, flow: null, step: null, event_id: 'seed-evt-1', outbox_id: null, staff_user_id: null, created_at: T0 },
          { customer_id: 'seed-c1', channel: 'line', direction: 'out', sender: 'bot', kind: 'text', text: '請選擇日期', payload: null, flow: 'booking', step: 'choose_day', event_id: null, outbox_id: null, staff_user_id: null, created_at: T0 },
        ])
        .execute();
      await db.insertInto('settings').values({ key: 'seed.setting', value: JSON.stringify({ kept: true }) }).execute();
      await db
        .insertInto('branches')
        .values({ id: 'seed-b1', name: '台北旗艦店', address: '台北市信義區', phone: '02-2345-6789', map_url: null, time_zone: 'Asia/Taipei', opening_hours: JSON.stringify({ mon: [['09:00', '18:00']] }), holidays: '[]', is_demo: 0, created_at: T0, updated_at: T0 })
        .execute();
    },
    async check(db) {
      expect(await one(db, 'customers', { id: 'seed-c1' })).toMatchObject({ display_name: '王小明', phone: '+886912345678', locale: 'zh-TW', category: 'base', notes: '老客戶', consent_at: T0 });
      expect(await one(db, 'customers', { id: 'seed-c2' })).toMatchObject({ locale: 'th', category: 'prospect' });
      expect(await one(db, 'channel_identities', { channel: 'line', external_id: 'Useedline1' })).toMatchObject({ customer_id: 'seed-c1', reachable: 1 });
      expect(await one(db, 'channel_identities', { channel: 'telegram', external_id: '777000' })).toMatchObject({ customer_id: 'seed-c2', reachable: 0, unreachable_since: T1 });
      expect(await one(db, 'vehicles', { id: 'seed-v1' })).toMatchObject({ plate_normalized: 'ABC1234', year: 2019, mileage_km: 45210 });
      const conversation = await one(db, 'conversations', { customer_id: 'seed-c1' });
      expect(conversation).toMatchObject({ flow: 'booking', step: 'choose_day', version: 3 });
      expect(JSON.parse(conversation.state as string)).toEqual({ branchId: 'seed-b1', serviceTypeCode: 'maintenance' });
      expect(await one(db, 'inbound_events', { event_id: 'seed-evt-1' })).toMatchObject({ status: 'done', processed_at: T0 });
      await one(db, 'processed_events', { channel: 'line', event_id: 'seed-evt-1' });
      expect(await one(db, 'outbox', { key: 'seed-out-1' })).toMatchObject({ status: 'sent', sent_at: T0, customer_id: 'seed-c1' });
      const transcript = await db.selectFrom('messages').select(['direction', 'text']).where('customer_id', '=', 'seed-c1').orderBy('id').execute();
      expect(transcript).toEqual([
        { direction: 'in', text: '預約保養' },
        { direction: 'out', text: '請選擇日期' },
      ]);
      expect(JSON.parse((await one(db, 'settings', { key: 'seed.setting' })).value as string)).toEqual({ kept: true });
      expect(await one(db, 'branches', { id: 'seed-b1' })).toMatchObject({ name: '台北旗艦店', time_zone: 'Asia/Taipei', is_demo: 0 });
    },
  },

  '0002_staff': {
    async insert(db) {
      await db
        .insertInto('staff_users')
        .values({ id: 'seed-s1', email: 'advisor@seed.example', name: '陳顧問', role: 'advisor', locale: 'zh-TW', password_hash: 'pbkdf2$600000$c2VlZA$aGFzaA', active: 1, last_login_at: T1, created_at: T0, updated_at: T0 })
        .execute();
      await db.insertInto('staff_branches').values({ staff_id: 'seed-s1', branch_id: 'seed-b1' }).execute();
      await db
        .insertInto('staff_sessions')
        .values({ id: 'seed-ss1', token_hash: 'seed-session-hash', staff_id: 'seed-s1', created_at: T0, last_seen_at: T1, expires_at: '2026-03-09T01:00:00.000Z', ip: '203.0.113.5', user_agent: 'Mozilla/5.0' })
        .execute();
      await db
        .insertInto('api_tokens')
        .values({ id: 'seed-t1', name: 'DMS', token_hash: 'seed-token-hash', prefix: 'dct_seed', role: 'manager', branch_ids: JSON.stringify(['seed-b1']), created_by: 'seed-s1', created_at: T0, last_used_at: null, revoked_at: null })
        .execute();
      await db
        .insertInto('audit_log')
        .values({ actor_type: 'staff', actor_id: 'seed-s1', actor_label: 'advisor@seed.example', action: 'customer.update', entity: 'customer', entity_id: 'seed-c1', before: '{}', after: JSON.stringify({ notes: '老客戶' }), ip: null, created_at: T1 })
        .execute();
      await db.insertInto('login_attempts').values({ key: 'advisor@seed.example', at: T0 }).execute();
      // A duplicate profile merged into the first (merged_into_id is this migration's).
      await db
        .insertInto('customers')
        .values({ id: 'seed-c3', display_name: '王小明 (LINE)', phone: null, locale: 'zh-TW', category: 'prospect', notes: null, consent_at: null, opted_out_at: null, erased_at: null, merged_into_id: 'seed-c1', created_at: T0, updated_at: T1 })
        .execute();
    },
    async check(db) {
      expect(await one(db, 'staff_users', { id: 'seed-s1' })).toMatchObject({ email: 'advisor@seed.example', role: 'advisor', active: 1 });
      await one(db, 'staff_branches', { staff_id: 'seed-s1', branch_id: 'seed-b1' });
      expect(await one(db, 'staff_sessions', { token_hash: 'seed-session-hash' })).toMatchObject({ staff_id: 'seed-s1' });
      expect(await one(db, 'api_tokens', { id: 'seed-t1' })).toMatchObject({ prefix: 'dct_seed', role: 'manager', branch_ids: '["seed-b1"]', revoked_at: null });
      expect(await one(db, 'audit_log', { entity: 'customer', entity_id: 'seed-c1' })).toMatchObject({ action: 'customer.update', actor_id: 'seed-s1' });
      await one(db, 'login_attempts', { key: 'advisor@seed.example' });
      expect(await one(db, 'customers', { id: 'seed-c3' })).toMatchObject({ merged_into_id: 'seed-c1' });
    },
  },

  '0003_booking': {
    async insert(db) {
      await db
        .insertInto('branch_settings')
        .values({ branch_id: 'seed-b1', slot_interval_minutes: 30, min_notice_minutes: 120, horizon_days: 60, buffer_minutes: 10, advisors_per_slot: 2, daily_cap: 40, loaner_cars: 1, change_cutoff_hours: 24, reminder_day_before_at: '18:00', reminder_hours_before: 2, quiet_hours_start: '21:00', quiet_hours_end: '08:00', updated_at: T0 })
        .execute();
      await db
        .insertInto('service_types')
        .values({ id: 'seed-st1', branch_id: 'seed-b1', code: 'maintenance', duration_minutes: 60, names: JSON.stringify({ 'zh-TW': '定期保養', en: 'Maintenance' }), active: 1, sort_order: 1, created_at: T0, updated_at: T0 })
        .execute();
      await db.insertInto('bays').values({ id: 'seed-bay1', branch_id: 'seed-b1', name: '1號工位', service_types: '["maintenance"]', active: 1, sort_order: 1, created_at: T0, updated_at: T0 }).execute();
      await db
        .insertInto('appointments')
        .values({
          id: 'seed-a1',
          reference: 'BK-SEED01',
          branch_id: 'seed-b1',
          customer_id: 'seed-c1',
          vehicle_id: 'seed-v1',
          service_type_id: 'seed-st1',
          starts_at: '2026-03-05T02:00:00.000Z',
          ends_at: '2026-03-05T03:00:00.000Z',
          busy_until: '2026-03-05T03:10:00.000Z',
          local_date: '2026-03-05',
          bay_id: 'seed-bay1',
          advisor_unit: 0,
          day_unit: 0,
          loaner_unit: 0,
          advisor_id: 'seed-s1',
          status: 'booked',
          note: '請順便檢查冷氣',
          loaner_requested: 1,
          channel: 'line',
          created_by: 'customer',
          created_by_staff_id: null,
          version: 1,
          created_at: T0,
          updated_at: T0,
          cancelled_at: null,
          checked_in_at: null,
        })
        .execute();
      await db
        .insertInto('capacity_claims')
        .values([
          { branch_id: 'seed-b1', resource: 'bay:seed-bay1', block_start: '2026-03-05T02:00:00.000Z', appointment_id: 'seed-a1' },
          { branch_id: 'seed-b1', resource: 'advisor:0', block_start: '2026-03-05T02:00:00.000Z', appointment_id: 'seed-a1' },
        ])
        .execute();
      await db.insertInto('appointment_changes').values({ appointment_id: 'seed-a1', version: 1, action: 'created', actor_type: 'customer', actor_id: 'seed-c1', channel: 'line', details: null, created_at: T0 }).execute();
    },
    async check(db) {
      expect(await one(db, 'branch_settings', { branch_id: 'seed-b1' })).toMatchObject({ slot_interval_minutes: 30, daily_cap: 40, loaner_cars: 1, reminder_hours_before: 2 });
      expect(JSON.parse((await one(db, 'service_types', { id: 'seed-st1' })).names as string)).toEqual({ 'zh-TW': '定期保養', en: 'Maintenance' });
      await one(db, 'bays', { id: 'seed-bay1' });
      expect(await one(db, 'appointments', { reference: 'BK-SEED01' })).toMatchObject({ id: 'seed-a1', customer_id: 'seed-c1', vehicle_id: 'seed-v1', local_date: '2026-03-05', note: '請順便檢查冷氣', loaner_requested: 1 });
      const claims = await db.selectFrom('capacity_claims').select('resource').where('appointment_id', '=', 'seed-a1').orderBy('resource').execute();
      expect(claims.map((c) => c.resource)).toEqual(['advisor:0', 'bay:seed-bay1']);
      await one(db, 'appointment_changes', { appointment_id: 'seed-a1', version: 1 });
    },
  },

  '0004_reminders': {
    async insert(db) {
      await db.insertInto('appointment_reminders').values({ appointment_id: 'seed-a1', kind: 'day_before', starts_at: '2026-03-05T02:00:00.000Z', sent_at: '2026-03-04T10:00:00.000Z' }).execute();
      await db.updateTable('appointments').set({ customer_confirmed_at: '2026-03-04T10:02:00.000Z' }).where('id', '=', 'seed-a1').execute();
    },
    async check(db) {
      await one(db, 'appointment_reminders', { appointment_id: 'seed-a1', kind: 'day_before' });
      expect(await one(db, 'appointments', { id: 'seed-a1' })).toMatchObject({ customer_confirmed_at: '2026-03-04T10:02:00.000Z' });
    },
  },

  '0005_repair_orders': {
    async insert(db) {
      await db
        .insertInto('repair_orders')
        .values({ id: 'seed-ro1', seq: 123, number: 'RO-000123', appointment_id: 'seed-a1', branch_id: 'seed-b1', customer_id: 'seed-c1', vehicle_id: 'seed-v1', advisor_id: 'seed-s1', status: 'checked_in', mileage_in: 45300, version: 1, created_at: T1, updated_at: T1 })
        .execute();
    },
    async check(db) {
      expect(await one(db, 'repair_orders', { number: 'RO-000123' })).toMatchObject({ appointment_id: 'seed-a1', customer_id: 'seed-c1', status: 'checked_in', mileage_in: 45300 });
    },
  },

  '0006_appointment_start_index': {
    // An index only: the visits written before it are found through it by status and start.
    async insert() {},
    async check(db) {
      const due = await db.selectFrom('appointments').select('id').where('status', '=', 'booked').where('starts_at', '>', '2026-03-01T00:00:00.000Z').execute();
      expect(due.map((r) => r.id)).toContain('seed-a1');
    },
  },

  '0007_line_rich_menu_links': {
    async insert(db) {
      await db.updateTable('channel_identities').set({ rich_menu_id: 'richmenu-seed', rich_menu_locale: 'ja', rich_menu_linked_at: T1 }).where('customer_id', '=', 'seed-c1').execute();
    },
    async check(db) {
      const linked = await db.selectFrom('channel_identities').selectAll().where('customer_id', '=', 'seed-c1').execute();
      expect(linked.length).toBeGreaterThan(0);
      for (const row of linked) expect(row).toMatchObject({ rich_menu_id: 'richmenu-seed', rich_menu_locale: 'ja', rich_menu_linked_at: T1 });
    },
  },

  '0008_customer_reach': {
    async insert(db) {
      await db.insertInto('branch_translations').values({ branch_id: 'seed-b1', names: JSON.stringify({ ja: '台北店' }), addresses: JSON.stringify({ ja: '台北市内湖区' }), updated_at: T1 }).execute();
      await db.insertInto('spent_link_codes').values({ code: 'seed-code', spent_at: T1 }).execute();
    },
    async check(db) {
      expect(JSON.parse(String((await one(db, 'branch_translations', { branch_id: 'seed-b1' })).names))).toEqual({ ja: '台北店' });
      await one(db, 'spent_link_codes', { code: 'seed-code' });
    },
  },

  '0010_repair_progress': {
    // New columns on the orders written before it, and the order's timeline, added items and answers.
    async insert(db) {
      await db.updateTable('repair_orders').set({ promised_at: '2026-03-02T09:00:00.000Z', estimated_amount: 4800, status_changed_at: T1 }).where('id', '=', 'seed-ro1').execute();
      await db.insertInto('repair_order_changes').values({ id: 'seed-roc1', repair_order_id: 'seed-ro1', version: 2, action: 'status', from_status: 'checked_in', to_status: 'diagnosing', actor_type: 'staff', actor_id: 'seed-s1', channel: 'console', created_at: T1 }).execute();
      await db.insertInto('repair_order_requests').values({ id: 'seed-rq1', repair_order_id: 'seed-ro1', request_key: 'k1', actor_type: 'staff', sent_at: T1, created_at: T1 }).execute();
      await db.insertInto('repair_order_items').values({ id: 'seed-ri1', repair_order_id: 'seed-ro1', request_id: 'seed-rq1', position: 1, description: 'Front brake pads', price: 3200, urgency: 'red', created_at: T1 }).execute();
      await db.insertInto('repair_order_decisions').values({ item_id: 'seed-ri1', repair_order_id: 'seed-ro1', request_id: 'seed-rq1', decision: 'approved', decided_at: T1, channel: 'line', actor_type: 'customer', shown_text: 'Front brake pads NT$3,200', created_at: T1 }).execute();
    },
    async check(db) {
      expect(await one(db, 'repair_orders', { id: 'seed-ro1' })).toMatchObject({ number: 'RO-000123', promised_at: '2026-03-02T09:00:00.000Z', estimated_amount: 4800, final_amount: null });
      expect(await one(db, 'repair_order_changes', { repair_order_id: 'seed-ro1', version: 2 })).toMatchObject({ to_status: 'diagnosing' });
      expect(await one(db, 'repair_order_items', { id: 'seed-ri1' })).toMatchObject({ price: 3200, urgency: 'red' });
      expect(await one(db, 'repair_order_decisions', { item_id: 'seed-ri1' })).toMatchObject({ decision: 'approved', shown_text: 'Front brake pads NT$3,200' });
    },
  },

  '0011_complaints': {
    async insert(db) {
      await db
        .insertInto('complaints')
        .values({ id: 'seed-cp1', reference: 'C-SEED1', branch_id: 'seed-b1', customer_id: 'seed-c1', source: 'chat', channel: 'line', category: 'waiting_time', repair_order_id: 'seed-ro1', description: 'Waited two hours', priority: 'normal', contact_method: 'chat', status: 'new', first_response_due_at: '2026-03-02T02:00:00.000Z', resolution_due_at: '2026-03-04T02:00:00.000Z', reopened_count: 0, version: 1, created_at: T1, updated_at: T1 })
        .execute();
      await db.insertInto('complaint_events').values({ complaint_id: 'seed-cp1', kind: 'customer_message', actor_type: 'customer', channel: 'line', text: 'Waited two hours', version: 1, created_at: T1 }).execute();
    },
    async check(db) {
      expect(await one(db, 'complaints', { reference: 'C-SEED1' })).toMatchObject({ customer_id: 'seed-c1', repair_order_id: 'seed-ro1', status: 'new', category: 'waiting_time' });
      expect(await one(db, 'complaint_events', { complaint_id: 'seed-cp1', version: 1 })).toMatchObject({ text: 'Waited two hours' });
    },
  },

  '0012_survey': {
    async insert(db) {
      await db
        .insertInto('surveys')
        .values({
          id: 'seed-sv1', repair_order_id: 'seed-ro1', customer_id: 'seed-c1', branch_id: 'seed-b1', advisor_id: 'seed-s1', service_type: 'maintenance', status: 'sent', skip_reason: null,
          collected_at: T0, due_at: T1, sent_at: T1, expires_at: '2026-03-09T01:05:00.000Z', channel: 'line', locale: 'zh-TW', aspect_codes: JSON.stringify(['advisor']),
          satisfaction: 2, repurchase: 1, recommend: null, aspects: JSON.stringify({ advisor: 3 }), comment: '等太久', comment_skipped: 0, first_answer_at: T1, completed_at: null,
          complaint_id: null, comment_flagged_at: null, review_invited_at: null, created_at: T0, updated_at: T1,
        })
        .execute();
      await db.insertInto('survey_settings').values({ id: 'dealer', enabled: 1, delay_minutes: 90, expiry_days: 5, aspects: JSON.stringify(['advisor', 'price']), review_invite: 1, review_url: 'https://g.page/r/seed', updated_at: T1 }).execute();
      await db.insertInto('customer_referrals').values({ id: 'seed-ref1', customer_id: 'seed-c1', note: '介紹同事', recorded_by: 'seed-s1', created_at: T1 }).execute();
      await db.insertInto('customer_category_derivations').values({ customer_id: 'seed-c1', derived: 'at_risk', seen: 'key_influencer', staff_choice: 1, facts: JSON.stringify({ completedVisits: 1 }), derived_at: T1 }).execute();
    },
    async check(db) {
      const survey = await one(db, 'surveys', { repair_order_id: 'seed-ro1' });
      expect(survey).toMatchObject({ status: 'sent', satisfaction: 2, repurchase: 1, recommend: null, comment: '等太久', comment_skipped: 0 });
      expect(JSON.parse(String(survey.aspects))).toEqual({ advisor: 3 });
      expect(await one(db, 'survey_settings', { id: 'dealer' })).toMatchObject({ enabled: 1, delay_minutes: 90, expiry_days: 5, review_url: 'https://g.page/r/seed' });
      await one(db, 'customer_referrals', { customer_id: 'seed-c1' });
      expect(await one(db, 'customer_category_derivations', { customer_id: 'seed-c1' })).toMatchObject({ derived: 'at_risk', seen: 'key_influencer', staff_choice: 1 });
    },
  },
  '0013_outbox_delivery': {
    async insert(db) {
      await db.insertInto('instances').values({ id: 'seed-instance-1', started_at: T0, heartbeat_at: T1 }).execute();
      await db
        .insertInto('outbox')
        .values({ key: 'seed-out-2', customer_id: 'seed-c1', channel: 'telegram', external_id: '4242', payload: JSON.stringify([{ type: 'text', text: { raw: 'long' } }]), reply_token: null, reply_token_expires_at: null, status: 'sending', attempts: 1, next_attempt_at: T1, lease_until: '2026-03-02T01:06:00.000Z', last_error: null, source: 'bot', staff_user_id: null, flow: null, step: null, created_at: T1, updated_at: T1, sent_at: null, claimed_by: 'seed-instance-1', reply_attempted_at: null, parts_sent: 2, sent_via: null, possible_duplicate: 0, rate_limited: 1 })
        .execute();
    },
    async check(db) {
      // Rows written before it start with nothing sent in parts and no duplicate suspected.
      expect(await one(db, 'outbox', { key: 'seed-out-1' })).toMatchObject({ parts_sent: 0, possible_duplicate: 0, rate_limited: 0, claimed_by: null });
      expect(await one(db, 'outbox', { key: 'seed-out-2' })).toMatchObject({ status: 'sending', claimed_by: 'seed-instance-1', parts_sent: 2, rate_limited: 1 });
      expect(await one(db, 'instances', { id: 'seed-instance-1' })).toMatchObject({ heartbeat_at: T1 });
    },
  },
};
