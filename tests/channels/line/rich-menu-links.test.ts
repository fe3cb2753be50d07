import type { ExecutionContext, ScheduledController } from '@cloudflare/workers-types';
import { HTTPFetchError, messagingApi } from '@line/bot-sdk';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setupLineRichMenus, type RichMenuSetupResult } from '../../../src/channels/line/rich-menu';
import { BULK_LINK_USERS, createRichMenuLinks, lineRichMenuApi } from '../../../src/channels/line/rich-menu-links';
import { worker, type WorkerEnv } from '../../../src/entry/worker';
import { createTranslator } from '../../../src/i18n';
import { SUPPORTED_LOCALES, type Locale } from '../../../src/i18n/locales';
import { CompiledQuery } from 'kysely';
import { newId } from '../../../src/ids';
import { manualClock } from '../../../src/ops/clock';
import { silentLogger } from '../../../src/ops/logger';
import { resolveCustomer, updateCustomer } from '../../../src/store/customers';
import { createD1Store } from '../../../src/store/d1-driver';
import { startFakeLineApi, type FakeLineApi } from '../../fakes/line-api';
import { TEST_LINE_SECRET, TEST_LINE_TOKEN, testConfig } from '../../helpers/config';
import { startTestD1, type TestD1 } from '../../helpers/d1';
import { queryPlan, recordingStore } from '../../helpers/query-plan';
import { startTestService, type TestService } from '../../helpers/service';
import { dialects } from '../../helpers/stores';

/*
 * Each LINE customer sees the rich menu in their own language: one menu per language from `npm run
 * line:setup`, linked by the job beside the outbox sender when the customer first writes or follows and
 * whenever their language changes. The fake LINE API refuses what LINE refuses (a bulk link over 500 users,
 * a menu without its picture, a malformed user ID, too many requests a second), so a request the platform
 * would turn down fails here.
 */

const ASSETS = new URL('../../../assets/rich-menu/', import.meta.url);
const translator = createTranslator('en');
const images = Object.fromEntries(SUPPORTED_LOCALES.map((l) => [l, new Uint8Array(readFileSync(new URL(`${l}.png`, ASSETS)))])) as Record<Locale, Uint8Array>;
const userId = () => `U${crypto.randomUUID().replace(/-/g, '')}`;
const sign = (body: string) => createHmac('sha256', TEST_LINE_SECRET).update(body).digest('base64');
let seq = 0;

function lineEvent(user: string, what: { follow?: true; text?: string; postback?: string }, replyToken?: string) {
  seq += 1;
  const base = { mode: 'active', timestamp: Date.now(), source: { type: 'user', userId: user }, webhookEventId: `01JMENU${String(seq).padStart(19, '0')}`, deliveryContext: { isRedelivery: false }, ...(replyToken ? { replyToken } : {}) };
  if (what.follow) return { ...base, type: 'follow', follow: { isUnblocked: false } };
  if (what.postback) return { ...base, type: 'postback', postback: { data: what.postback } };
  return { ...base, type: 'message', message: { id: String(seq), type: 'text', quoteToken: 'q', text: what.text } };
}

async function linkFailure(call: Promise<unknown>): Promise<{ status: number; body: string }> {
  const err = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HTTPFetchError);
  return { status: (err as HTTPFetchError).status, body: (err as HTTPFetchError).body };
}

describe('the fake LINE API links rich menus only as LINE would', () => {
  let fake: FakeLineApi;
  let client: messagingApi.MessagingApiClient;
  let menus: RichMenuSetupResult;
  beforeEach(async () => {
    fake = await startFakeLineApi({ now: () => 1_700_000_000_000, linkRequestsPerSecond: 4 });
    client = new messagingApi.MessagingApiClient({ channelAccessToken: TEST_LINE_TOKEN, baseURL: fake.url });
    menus = await setupLineRichMenus(testConfig({}, { line: fake.url }), { translator, images });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('links one user, and refuses a malformed user ID, an unknown menu and a menu without its picture', async () => {
    const u = userId();
    const en = menus.menus.find((m) => m.locale === 'en')!.richMenuId;
    await client.linkRichMenuIdToUser(u, en);
    expect(fake.linkedRichMenu(u)).toBe(en);
    expect(await client.getRichMenuIdOfUser(u)).toEqual({ richMenuId: en });
    expect((await linkFailure(client.linkRichMenuIdToUser('not-a-user', en))).status).toBe(400);
    expect(await linkFailure(client.linkRichMenuIdToUser(u, 'richmenu-00000000000000000000000000000000'))).toMatchObject({ status: 404, body: expect.stringContaining('richmenu not found') });
    const bare = await client.createRichMenu({ size: { width: 2500, height: 1686 }, selected: false, name: 'no picture', chatBarText: 'Menu', areas: [] });
    expect(await linkFailure(client.linkRichMenuIdToUser(u, bare.richMenuId))).toMatchObject({ status: 400, body: expect.stringContaining('must upload richmenu image') });
    expect(fake.linkedRichMenu(u)).toBe(en);
  });

  it(`links at most ${BULK_LINK_USERS} users in one bulk request, and answers 202`, async () => {
    const ja = menus.menus.find((m) => m.locale === 'ja')!.richMenuId;
    const users = Array.from({ length: BULK_LINK_USERS + 1 }, userId);
    const over = await linkFailure(client.linkRichMenuIdToUsers({ richMenuId: ja, userIds: users }));
    expect(over).toMatchObject({ status: 400, body: expect.stringContaining(`Size must be between 1 and ${BULK_LINK_USERS}`) });
    expect((await linkFailure(client.linkRichMenuIdToUsers({ richMenuId: ja, userIds: [] }))).status).toBe(400);
    expect((await linkFailure(client.linkRichMenuIdToUsers({ richMenuId: ja, userIds: [users[0]!, 'Cgroup'] }))).status).toBe(400);
    expect(users.some((u) => fake.linkedRichMenu(u) !== null)).toBe(false);
    const accepted = await client.linkRichMenuIdToUsersWithHttpInfo({ richMenuId: ja, userIds: users.slice(0, BULK_LINK_USERS) });
    expect(accepted.httpResponse.status).toBe(202);
    expect(users.slice(0, BULK_LINK_USERS).every((u) => fake.linkedRichMenu(u) === ja)).toBe(true);
    // Rate limited: four link requests a second here (LINE: 2,000), and the clock stands still.
    expect((await linkFailure(client.linkRichMenuIdToUser(users[BULK_LINK_USERS]!, ja))).status).toBe(429);
  });
});

describe.each(dialects)('LINE customers get the rich menu of their language on $name', (dialect) => {
  let fake: FakeLineApi;
  let svc: TestService;
  let menus: RichMenuSetupResult;
  const clock = manualClock('2026-05-04T02:00:00.000Z');
  const menuOf = (locale: Locale) => menus.menus.find((m) => m.locale === locale)!.richMenuId;

  beforeAll(async () => {
    fake = await startFakeLineApi();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(async () => {
    const config = testConfig({ DEFAULT_LOCALE: 'zh-TW' }, { line: fake.url });
    menus = await setupLineRichMenus(config, { translator, images });
    svc = await startTestService(dialect, config, clock);
  });
  afterEach(async () => {
    await svc.close();
  });

  async function says(user: string, what: { follow?: true; text?: string; postback?: string }) {
    const body = JSON.stringify({ destination: 'Ubot', events: [lineEvent(user, what, fake.issueReplyToken({ userId: user }))] });
    const res = await svc.app.request('/webhooks/line', { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': sign(body) }, body });
    expect(res.status).toBe(200);
    await svc.flush();
    return fake.accepted.messagesTo(user).at(-1) as { quickReply?: { items: { action: { label: string; data: string } }[] } };
  }

  const linkRequestsFor = (user: string) => fake.requests.filter((r) => (r.kind === 'richmenu.link' && r.path.includes(user)) || (r.kind === 'richmenu.bulkLink' && (r.body as { userIds: string[] }).userIds.includes(user)));
  const identity = (user: string) => svc.db.store.db.selectFrom('channel_identities').select(['rich_menu_id', 'rich_menu_locale']).where('external_id', '=', user).executeTakeFirstOrThrow();

  it('links a new follower to the menu of their language, then the other menu once when they switch language', async () => {
    const u = userId();
    fake.setProfile(u, { displayName: 'Sato', language: 'ja' });
    await says(u, { follow: true });
    expect(await svc.richMenuLinks!.runOnce()).toBe(1);
    expect(fake.linkedRichMenu(u)).toBe(menuOf('ja'));
    expect(await identity(u)).toEqual({ rich_menu_id: menuOf('ja'), rich_menu_locale: 'ja' });
    // Nothing changed: nothing is linked again.
    expect(await svc.richMenuLinks!.runOnce()).toBe(0);
    await says(u, { text: 'こんにちは' });
    expect(await svc.richMenuLinks!.runOnce()).toBe(0);
    expect(linkRequestsFor(u).map((r) => [r.kind, r.status])).toEqual([['richmenu.link', 200]]);

    // The customer picks English from the language menu.
    const prompt = await says(u, { postback: 'i:language' });
    const english = prompt.quickReply!.items.find((i) => i.action.label === 'English')!;
    await says(u, { postback: english.action.data });
    expect(await svc.db.store.db.selectFrom('customers').select('locale').executeTakeFirstOrThrow()).toEqual({ locale: 'en' });
    expect(await svc.richMenuLinks!.runOnce()).toBe(1);
    expect(fake.linkedRichMenu(u)).toBe(menuOf('en'));
    expect(await identity(u)).toEqual({ rich_menu_id: menuOf('en'), rich_menu_locale: 'en' });
    expect(await svc.richMenuLinks!.runOnce()).toBe(0);
    expect(linkRequestsFor(u).map((r) => r.path)).toEqual([`/v2/bot/user/${u}/richmenu/${menuOf('ja')}`, `/v2/bot/user/${u}/richmenu/${menuOf('en')}`]);
    expect(fake.requests.filter((r) => r.status >= 400)).toEqual([]);
  });

  it(`links many customers in bulk, ${BULK_LINK_USERS} at most a request, each once`, async () => {
    const users = Array.from({ length: BULK_LINK_USERS + 120 }, userId);
    await svc.db.store.transaction(async (tx) => {
      for (const [i, u] of users.entries()) {
        await resolveCustomer(tx, { channel: 'line', externalId: u, displayName: null, locale: i < 20 ? 'en' : 'th', now: clock.now().toISOString() });
      }
      // A LINE group the bot is in: it has no menu of its own.
      await resolveCustomer(tx, { channel: 'line', externalId: `C${'1'.repeat(32)}`, displayName: null, locale: 'th', now: clock.now().toISOString() });
    });
    const before = fake.requests.length;
    expect(await svc.richMenuLinks!.runOnce()).toBe(users.length);
    const sent = fake.requests.slice(before).filter((r) => r.kind === 'richmenu.bulkLink' || r.kind === 'richmenu.link');
    const requests = sent.map((r) => [r.kind, r.status, (r.body as { richMenuId: string }).richMenuId, (r.body as { userIds: string[] }).userIds.length]);
    expect(requests).toHaveLength(3);
    expect(requests).toEqual(
      expect.arrayContaining([
        ['richmenu.bulkLink', 202, menuOf('en'), 20],
        ['richmenu.bulkLink', 202, menuOf('th'), BULK_LINK_USERS],
        ['richmenu.bulkLink', 202, menuOf('th'), 100],
      ]),
    );
    expect(users.every((u, i) => fake.linkedRichMenu(u) === menuOf(i < 20 ? 'en' : 'th'))).toBe(true);
    expect(await svc.richMenuLinks!.runOnce()).toBe(0);
  });

  it('tries again on the next pass when LINE answers 429, and links the new menus after a new setup', async () => {
    const u = userId();
    fake.setProfile(u, { displayName: 'Somchai', language: 'th' });
    await says(u, { follow: true });
    fake.failNext('richmenu.link', { status: 429, body: { message: 'The API rate limit has been exceeded. Try again later.' } });
    expect(await svc.richMenuLinks!.runOnce()).toBe(0);
    expect(await identity(u)).toEqual({ rich_menu_id: null, rich_menu_locale: null });
    expect(await svc.richMenuLinks!.runOnce()).toBe(1);
    expect(fake.linkedRichMenu(u)).toBe(menuOf('th'));

    // A new setup replaces every menu; LINE drops the links to the deleted ones.
    menus = await setupLineRichMenus(testConfig({ DEFAULT_LOCALE: 'zh-TW' }, { line: fake.url }), { translator, images });
    expect(fake.linkedRichMenu(u)).toBeNull();
    clock.advance(6 * 60_000);
    expect(await svc.richMenuLinks!.runOnce()).toBe(1);
    expect(fake.linkedRichMenu(u)).toBe(menuOf('th'));
    expect(await identity(u)).toEqual({ rich_menu_id: menuOf('th'), rich_menu_locale: 'th' });
  });

  it('between full passes reads only the customers changed since the last pass, through customers_updated_idx', async () => {
    const store = svc.db.store;
    const longAgo = new Date(clock.now().getTime() - 30 * 24 * 3600_000).toISOString();
    const users = Array.from({ length: 3000 }, userId);
    for (let i = 0; i < users.length; i += 10) {
      const batch = users.slice(i, i + 10).map((external) => ({ customer: newId(), identity: newId(), external }));
      await store.db
        .insertInto('customers')
        .values(batch.map((b) => ({ id: b.customer, display_name: null, phone: null, locale: 'en', category: 'prospect' as const, notes: null, consent_at: null, opted_out_at: null, erased_at: null, merged_into_id: null, created_at: longAgo, updated_at: longAgo })))
        .execute();
      await store.db
        .insertInto('channel_identities')
        .values(batch.map((b) => ({ id: b.identity, customer_id: b.customer, channel: 'line' as const, external_id: b.external, display_name: null, reachable: 1, unreachable_since: null, created_at: longAgo, last_seen_at: longAgo })))
        .execute();
    }
    const recorded = recordingStore(store);
    const links = createRichMenuLinks({ store: recorded.store, api: lineRichMenuApi({ channelAccessToken: TEST_LINE_TOKEN, apiBaseUrl: fake.url }), defaultLocale: 'zh-TW', clock, logger: silentLogger });
    // The first passes read everyone (a thousand a pass, linked in bulk) until all are linked; later ones only what changed.
    let linked = 0;
    for (let n = await links.runOnce(); n > 0; n = await links.runOnce()) linked += n;
    expect(linked).toBe(users.length);
    expect(users.every((u) => fake.linkedRichMenu(u) === menuOf('en'))).toBe(true);
    clock.advance(10 * 60_000);
    const changed = await store.db.selectFrom('channel_identities').select('customer_id').where('external_id', '=', users[1234]!).executeTakeFirstOrThrow();
    await updateCustomer(store.db, changed.customer_id, { locale: 'ja' }, clock.now().toISOString());
    await store.db.executeQuery(CompiledQuery.raw(dialect.name === 'postgres' ? 'analyze' : 'ANALYZE'));
    const before = recorded.queries().length;
    const linkRequests = fake.requests.length;
    expect(await links.runOnce()).toBe(1);
    expect(fake.requests.slice(linkRequests).filter((r) => r.kind === 'richmenu.link' || r.kind === 'richmenu.bulkLink').map((r) => r.path)).toEqual([`/v2/bot/user/${users[1234]}/richmenu/${menuOf('ja')}`]);
    const [pass] = recorded.queries().slice(before).filter((q) => q.sql.includes('from "customers" as "c"'));
    const plan = await queryPlan(store, pass!);
    if (dialect.name === 'sqlite') expect(plan[0]).toMatch(/^SEARCH c USING INDEX customers_updated_idx \(updated_at>\?\)/);
    else expect(plan.join('\n')).toMatch(/(Index Scan using customers_updated_idx on customers c|Bitmap Index Scan on customers_updated_idx)/);
  }, 60_000);

  it('runs beside the outbox sender on Node: a follower is linked without anyone calling it', async () => {
    const u = userId();
    fake.setProfile(u, { displayName: 'Lin', language: 'zh-CN' });
    svc.outbox.start();
    const body = JSON.stringify({ destination: 'Ubot', events: [lineEvent(u, { follow: true })] });
    expect((await svc.app.request('/webhooks/line', { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': sign(body) }, body })).status).toBe(200);
    await svc.engine.drain();
    const until = Date.now() + 5000;
    while (fake.linkedRichMenu(u) === null && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(fake.linkedRichMenu(u)).toBe(menuOf('zh-CN'));
    await svc.outbox.stop();
  });
});

describe('LINE customers get the rich menu of their language on Workers (D1)', () => {
  let fake: FakeLineApi;
  let mf: TestD1;
  beforeAll(async () => {
    fake = await startFakeLineApi();
    mf = startTestD1(['MENUS']);
  });
  afterAll(async () => {
    await mf.dispose();
    await fake.close();
  });

  it('links a new follower from the drain after the webhook, and a language change from the cron', async () => {
    const menus = await setupLineRichMenus(testConfig({}, { line: fake.url }), { translator, images });
    const menuOf = (locale: Locale) => menus.menus.find((m) => m.locale === locale)!.richMenuId;
    const env: WorkerEnv = {
      DB: mf.database('MENUS'),
      LOG_LEVEL: 'silent',
      DEFAULT_LOCALE: 'zh-TW',
      LINE_CHANNEL_SECRET: TEST_LINE_SECRET,
      LINE_CHANNEL_ACCESS_TOKEN: TEST_LINE_TOKEN,
      LINE_API_BASE_URL: fake.url,
      LINE_DATA_API_BASE_URL: fake.url,
      WEB_CHAT_SECRET: 'web-chat-secret-for-tests-0123456789abcdef',
    };
    const waited: Promise<unknown>[] = [];
    const ctx = { waitUntil: (p: Promise<unknown>) => void waited.push(p), passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    const u = userId();
    fake.setProfile(u, { displayName: 'Kim', language: 'en' });
    const body = JSON.stringify({ destination: 'Ubot', events: [lineEvent(u, { follow: true })] });
    const res = await worker.fetch(new Request('http://dealer.test/webhooks/line', { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': sign(body) }, body }), env, ctx);
    expect(res.status).toBe(200);
    await Promise.all(waited);
    expect(fake.linkedRichMenu(u)).toBe(menuOf('en'));

    // Staff change the customer's language elsewhere; the per-minute cron links the other menu.
    const store = createD1Store(env.DB);
    await store.db.updateTable('customers').set({ locale: 'th', updated_at: new Date().toISOString() }).execute();
    await worker.scheduled({ scheduledTime: Date.now(), cron: '* * * * *', noRetry() {} } as unknown as ScheduledController, env, ctx);
    expect(fake.linkedRichMenu(u)).toBe(menuOf('th'));
    expect(fake.requests.filter((r) => r.kind === 'richmenu.link').map((r) => r.path)).toEqual([`/v2/bot/user/${u}/richmenu/${menuOf('en')}`, `/v2/bot/user/${u}/richmenu/${menuOf('th')}`]);
  }, 30_000);
});
