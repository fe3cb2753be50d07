import { HTTPFetchError, messagingApi } from '@line/bot-sdk';
import { isLocale, type Locale } from '../../i18n/locales';
import type { Clock } from '../../ops/clock';
import type { Logger } from '../../ops/logger';
import type { OutboxSender } from '../../outbox/sender';
import type { Store } from '../../store/store';
import { createWorkLoop, type WorkLoop } from '../../util/work-loop';
import { localeOfRichMenu } from './rich-menu';

/** LINE takes at most 500 users in one bulk link request. */
export const BULK_LINK_USERS = 500;
/** Customers looked at in one pass; the next pass (at once on Node, the next cron minute on Workers) takes the rest. */
const CANDIDATES_PER_PASS = 1000;
/** Identities recorded per statement: D1 binds at most 100 parameters. */
const RECORD_CHUNK = 80;
/** How long the list of menus is trusted; a new `npm run line:setup` is picked up within this time. */
const MENUS_TTL_MS = 5 * 60_000;
/** How often Node looks again without a kick: other instances, a new setup, a link that failed. */
const IDLE_MS = 5 * 60_000;
/** A pass reads every LINE customer this often (and whenever the menus change); between, only the customers changed since. */
const FULL_PASS_EVERY_MS = 3600_000;
/** Changes written by a transaction that began before the last pass but committed after it are still seen. */
const CHANGE_SLACK_MS = 2 * 60_000;

/** The few LINE calls the job makes; the real one is lineRichMenuApi, tests use it against the fake LINE API. */
export interface LineRichMenuApi {
  /** The channel's rich menus, by id and name. */
  list(): Promise<{ richMenuId: string; name: string }[]>;
  link(userId: string, richMenuId: string): Promise<void>;
  linkMany(richMenuId: string, userIds: string[]): Promise<void>;
}

export function lineRichMenuApi(opts: { channelAccessToken: string; apiBaseUrl: string }): LineRichMenuApi {
  const client = new messagingApi.MessagingApiClient({ channelAccessToken: opts.channelAccessToken, baseURL: opts.apiBaseUrl });
  return {
    list: async () => (await client.getRichMenuList()).richmenus.map((m) => ({ richMenuId: m.richMenuId, name: m.name })),
    link: async (userId, richMenuId) => {
      await client.linkRichMenuIdToUser(userId, richMenuId);
    },
    linkMany: async (richMenuId, userIds) => {
      await client.linkRichMenuIdToUsers({ richMenuId, userIds });
    },
  };
}

export interface RichMenuLinks extends WorkLoop {
  /** Links every LINE customer whose menu is not the one of their language (up to a pass's worth); returns how many. */
  runOnce(): Promise<number>;
}

export interface RichMenuLinksDeps {
  store: Store;
  api: LineRichMenuApi;
  defaultLocale: Locale;
  clock: Clock;
  logger: Logger;
}

interface Candidate {
  id: string;
  external_id: string;
  locale: string;
}

/**
 * Gives each LINE customer the rich menu in their own language: a job beside the outbox sender, not a step
 * of the conversation. It looks for LINE users whose recorded menu is missing, was linked for another
 * language than the customer's now, or is no longer one of the menus `npm run line:setup` made (a new setup
 * replaced them), links the right menu (one user: LINE's per-user link; more: bulk links of up to 500), and
 * records what it linked on the identity. So a new follower is linked on the first pass after their first
 * event, a language change on the first pass after it, and each only once. The menus are found on LINE by
 * the names setup gives them, so nothing has to be copied from the setup to the service.
 */
export function createRichMenuLinks(deps: RichMenuLinksDeps): RichMenuLinks {
  const log = deps.logger.child({ component: 'line-rich-menu-links' });
  let menus: { byLocale: Map<Locale, string>; until: number } | null = null;
  /** When the last complete pass began, and over which menus the last complete full pass ran. */
  let lastPass: string | null = null;
  let lastFull: { at: number; menus: string } | null = null;

  async function currentMenus(): Promise<Map<Locale, string>> {
    const now = deps.clock.now().getTime();
    if (menus && menus.until > now) return menus.byLocale;
    const byLocale = new Map<Locale, string>();
    for (const menu of await deps.api.list()) {
      const locale = localeOfRichMenu(menu.name);
      if (locale) byLocale.set(locale, menu.richMenuId);
    }
    menus = { byLocale, until: now + MENUS_TTL_MS };
    return byLocale;
  }

  async function record(rows: Candidate[], richMenuId: string): Promise<void> {
    const linkedAt = deps.clock.now().toISOString();
    // Each identity records the language it was linked for; a change of language since the read shows as a
    // difference on the next pass, which links again.
    const byLocale = new Map<string, string[]>();
    for (const row of rows) byLocale.set(row.locale, [...(byLocale.get(row.locale) ?? []), row.id]);
    for (const [locale, ids] of byLocale) {
      for (let i = 0; i < ids.length; i += RECORD_CHUNK) {
        await deps.store.db
          .updateTable('channel_identities')
          .set({ rich_menu_id: richMenuId, rich_menu_locale: locale, rich_menu_linked_at: linkedAt })
          .where('id', 'in', ids.slice(i, i + RECORD_CHUNK))
          .execute();
      }
    }
  }

  /** Links one group to one menu; false when LINE asks to stop for now (rate limit, a menu gone). */
  async function link(richMenuId: string, rows: Candidate[]): Promise<{ linked: number; stop: boolean }> {
    try {
      if (rows.length === 1) await deps.api.link(rows[0]!.external_id, richMenuId);
      else await deps.api.linkMany(richMenuId, rows.map((r) => r.external_id));
      await record(rows, richMenuId);
      return { linked: rows.length, stop: false };
    } catch (err) {
      const status = err instanceof HTTPFetchError ? err.status : null;
      if (status === 404) {
        // A new setup deleted this menu a moment ago: read the menus again on the next pass.
        menus = null;
        log.info({ richMenuId }, 'rich menu gone; the menus are read again on the next pass');
        return { linked: 0, stop: true };
      }
      if (status === 400 && rows.length > 1) {
        // LINE refused the batch for one of its users; link them one by one so the others still get theirs.
        let linked = 0;
        for (const row of rows) {
          const one = await link(richMenuId, [row]);
          linked += one.linked;
          if (one.stop) return { linked, stop: true };
        }
        return { linked, stop: false };
      }
      if (status === 400) {
        log.warn({ identityId: rows[0]!.id, richMenuId, err: err instanceof Error ? err.message : String(err) }, 'LINE refused to link the rich menu for this user');
        return { linked: 0, stop: false };
      }
      // 429, 5xx, no answer: nothing was recorded, so the next pass tries again.
      log.warn({ status, richMenuId, users: rows.length, err: err instanceof Error ? err.message : String(err) }, 'linking rich menus failed; the next pass tries again');
      return { linked: 0, stop: true };
    }
  }

  async function runOnce(): Promise<number> {
    const menuIds = await currentMenus();
    const fallback = menuIds.get(deps.defaultLocale);
    if (menuIds.size === 0) return 0;
    const started = deps.clock.now();
    const menusKey = [...menuIds.values()].sort().join(' ');
    const full = lastPass === null || !lastFull || lastFull.menus !== menusKey || started.getTime() - lastFull.at >= FULL_PASS_EVERY_MS;
    const since = full ? null : new Date(Date.parse(lastPass!) - CHANGE_SLACK_MS).toISOString();
    let query = deps.store.db
      .selectFrom('customers as c')
      .innerJoin('channel_identities as ci', 'ci.customer_id', 'c.id')
      .select(['ci.id', 'ci.external_id', 'c.locale']);
    if (since) query = query.where('c.updated_at', '>=', since);
    const candidates = await query
      .where('ci.channel', '=', 'line')
      .where('ci.reachable', '=', 1)
      // LINE users only: groups and rooms have no menu of their own.
      .where('ci.external_id', 'like', 'U%')
      .where('c.erased_at', 'is', null)
      .where((eb) =>
        eb.or([
          eb('ci.rich_menu_id', 'is', null),
          eb('ci.rich_menu_locale', 'is', null),
          eb('ci.rich_menu_locale', '<>', eb.ref('c.locale')),
          eb('ci.rich_menu_id', 'not in', [...menuIds.values()]),
        ]),
      )
      .limit(CANDIDATES_PER_PASS)
      .execute();

    const groups = new Map<string, Candidate[]>();
    for (const row of candidates) {
      const menuId = (isLocale(row.locale) ? menuIds.get(row.locale) : undefined) ?? fallback;
      if (!menuId) continue;
      groups.set(menuId, [...(groups.get(menuId) ?? []), row]);
    }
    let linked = 0;
    for (const [menuId, rows] of groups) {
      for (let i = 0; i < rows.length; i += BULK_LINK_USERS) {
        const result = await link(menuId, rows.slice(i, i + BULK_LINK_USERS));
        linked += result.linked;
        // Stopped early: the next pass starts from the same point.
        if (result.stop) return linked;
      }
    }
    if (candidates.length < CANDIDATES_PER_PASS) {
      // Everyone changed up to `started` has been looked at; the next pass needs only what changes after.
      lastPass = started.toISOString();
      if (full) lastFull = { at: started.getTime(), menus: menusKey };
    }
    if (linked > 0) log.info({ linked, full }, 'rich menus linked in the customers’ languages');
    return linked;
  }

  const loop = createWorkLoop(
    async () => {
      const linked = await runOnce();
      return { didWork: linked > 0, nextDueInMs: null };
    },
    { idleMs: IDLE_MS, logger: deps.logger, name: 'line-rich-menu-links' },
  );
  return { runOnce, start: loop.start, kick: loop.kick, stop: loop.stop };
}

/**
 * The outbox sender with the menu links riding along on Node: started, woken and stopped with it, so the
 * entry that runs the sender runs the links too. Sends and drains are the sender's own; Workers run the
 * links from their drain and cron instead.
 */
export function withRichMenuLinks(outbox: OutboxSender, links: RichMenuLinks | null): OutboxSender {
  if (!links) return outbox;
  return {
    ...outbox,
    start() {
      outbox.start();
      links.start();
    },
    kick() {
      outbox.kick();
      links.kick();
    },
    async stop() {
      await Promise.all([outbox.stop(), links.stop()]);
    },
  };
}
