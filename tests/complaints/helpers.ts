import type { InboundEvent, Input, RenderedMessage } from '../../src/channels/types';
import { signVisitor, VISITOR_COOKIE } from '../../src/channels/web/visitor-cookie';
import { mediaLinks } from '../../src/complaints/media-links';
import { setOnDuty } from '../../src/complaints/staffing';
import type { Clock } from '../../src/ops/clock';
import type { Principal } from '../../src/staff/permissions';
import { createStaffServices } from '../../src/staff/services';
import type { ActionContext } from '../../src/staff/result';
import { createStaffUser } from '../../src/staff/staff-users';
import type { StaffRole } from '../../src/store/staff-schema';
import type { TestService } from '../helpers/service';

/* What the complaint suites share: staff who answer, customers in the web chat, and a photo to send. */

/** A real 16×16 JPEG (543 bytes; CPython's test data, Lib/test/test_email/data/python.jpg), as a phone would send a photo. */
export const JPEG = Uint8Array.from(
  Buffer.from(
    '/9j/4AAQSkZJRgABAQEAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQEw8QEBD/2wBDAQMDAwQDBAgEBAgQCwkLEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBD/wAARCAAQABADASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAABwQF/8QAJBAAAQQBBAICAwAAAAAAAAAAAQIDBAYFBwgSExEiABQJMTL/xAAVAQEBAAAAAAAAAAAAAAAAAAAABv/EACMRAAECBQMFAAAAAAAAAAAAAAECEQMEBQYhABIxFRZhgeH/2gAMAwEAAhEDEQA/ABSm0mobc8HmExLUlRzzEWPkJWW+ulrsaUVAseUgslSlH9LKuPryIKuWPZdskzXmm3fX5m2nF4GlVxx/HOpx4ks51+MiU/Iaad7UcUo4tILoS4kqcWkezS0hO/HvuRp0rO6hWnWO1UisZVuFi4GFeyEpmGepa5S5SWVPuciFKRFLgSrwetnyPIB+Vb4N9mKhQMzo5po9XLdDs9d6ZVix2VEhiL9kuNPxw2gEKcDQ/rs8AuA8VAe0vdl7VOYn+27flGAUgmITjbhSmCg3BYlyeWDkMolvw4KOp1KM6iCNvngZHwetf//Z',
    'base64',
  ),
);
/** A real 1×1 PNG, written with zlib: a picture of the other common kind. */
export const PNG = Uint8Array.from(Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC', 'base64'));

export interface TestStaff {
  id: string;
  name: string;
  principal: Principal & { kind: 'staff' };
  /** Acting now, from the console, as this staff member. */
  ctx(clock: Clock): ActionContext;
}

/** A staff account of `role` in the given branches (default: every branch), on duty when asked. */
export async function staffFor(svc: TestService, role: StaffRole, opts: { name?: string; branchIds?: string[]; onDuty?: boolean; clock?: Clock } = {}): Promise<TestStaff> {
  const db = svc.db.store.db;
  const branchIds = opts.branchIds ?? (await db.selectFrom('branches').select('id').execute()).map((b) => b.id);
  const name = opts.name ?? `${role} ${crypto.randomUUID().slice(0, 4)}`;
  const user = await createStaffUser(db, { email: `${crypto.randomUUID().slice(0, 8)}@dealer.example`, name, role, locale: 'en', password: 'correct horse battery staple', branchIds }, new Date(), 1000);
  if (opts.onDuty) await setOnDuty(db, user.id, true, (opts.clock?.now() ?? new Date()).toISOString());
  const principal: Principal & { kind: 'staff' } = { kind: 'staff', id: user.id, email: user.email, name, role, locale: 'en', branchIds: role === 'admin' ? 'all' : branchIds, sessionId: 'test' };
  return { id: user.id, name, principal, ctx: (clock) => ({ actor: principal, ip: '127.0.0.1', now: clock.now() }) };
}

/** A customer in the web chat: `say` sends and returns what came back, rendered; `upload` sends a photo through the upload page. */
export function webCustomer(svc: TestService, clock: Clock, visitor: string = crypto.randomUUID(), language = 'en') {
  let cursor = 0;
  let seq = 0;
  const self = {
    visitor,
    async say(input: Input | string): Promise<RenderedMessage[]> {
      const event: InboundEvent = {
        channel: 'web',
        eventId: `${visitor}-${++seq}`,
        externalId: visitor,
        occurredAt: clock.now().toISOString(),
        replyToken: null,
        profile: { displayName: null, languageHint: language },
        input: typeof input === 'string' ? { type: 'text', text: input } : input,
      };
      await svc.engine.handle(event);
      await svc.flush();
      return self.heard();
    },
    tap: (id: string): Input => ({ type: 'choice', id, params: null }),
    /** Sends a photo as the upload page does: the picture itself as the body, under the chat's cookie. */
    async upload(bytes: Uint8Array, contentType = 'image/jpeg'): Promise<Response> {
      const cookie = `${VISITOR_COOKIE}=${await signVisitor(svc.config.webChatSecret!, visitor)}`;
      const res = await svc.app.request(`/chat/photos?id=up${crypto.randomUUID().replace(/-/g, '')}`, { method: 'POST', headers: { cookie, 'content-type': contentType }, body: bytes as Uint8Array<ArrayBuffer> });
      await svc.flush();
      return res;
    },
    /** What came back since the last look. */
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
    async customerId(): Promise<string> {
      const row = await svc.db.store.db.selectFrom('channel_identities').select('customer_id').where('channel', '=', 'web').where('external_id', '=', visitor).executeTakeFirstOrThrow();
      return row.customer_id;
    },
  };
  return self;
}

export const texts = (messages: RenderedMessage[]) => messages.map((m) => (m.type === 'card' || m.type === 'carousel' ? m.altText : m.type === 'text' ? m.text : m.url)).join('\n');
export const ids = (messages: RenderedMessage[]) => messages.flatMap((m) => (m.type === 'image' ? [] : m.choices.map((c) => ('id' in c ? c.id : c.url))));

/** Runs one scheduled job of the service by name, as the Node scheduler and the Workers cron do each minute. */
export async function runJob(svc: TestService, name: string): Promise<number> {
  const job = svc.scheduledJobs.find((j) => j.name === name);
  if (!job) throw new Error(`no scheduled job ${name}`);
  const done = await job.runOnce();
  await svc.flush();
  return done;
}

/** The staff services as the console and the API build them, on the service's store, blob store and photo links. */
export async function staffServicesOf(svc: TestService, clock: Clock) {
  const secret = (await svc.db.store.db.selectFrom('settings').select('value').where('key', '=', 'media_link_secret').executeTakeFirstOrThrow()).value;
  return createStaffServices({ store: svc.db.store, clock, defaultLocale: 'en', menuChoices: () => svc.engine.menuChoices(), blobs: svc.blobs, mediaLinks: mediaLinks(secret, svc.config.publicBaseUrl) });
}
