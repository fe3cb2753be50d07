import { Hono } from 'hono';
import { hmacBase64Url } from '../staff/auth/crypto';
import type { Store } from '../store/store';
import type { Config } from '../config';
import { findAppointmentByReference } from './appointments';
import { loadBranchCapacity } from './capacity';
import { appointmentIcs } from './ics';

/*
 * "Add to calendar" links: /calendar/<reference>.ics?s=<signature>. The signature (HMAC of the reference)
 * lets the link work without signing in, while nobody can fetch bookings by guessing references.
 */

async function signature(secret: string, reference: string): Promise<string> {
  return (await hmacBase64Url(secret, `ics:${reference}`)).slice(0, 22);
}

/**
 * The link for one booking, or null when it could not be opened from the customer's channel: LINE and
 * Telegram buttons need an absolute https address (PUBLIC_BASE_URL); the web chat can use a relative one.
 */
export function calendarLinks(config: Config, secret: string) {
  return async (reference: string, channel: string): Promise<string | null> => {
    const path = `/calendar/${encodeURIComponent(reference)}.ics?s=${await signature(secret, reference)}`;
    if (config.publicBaseUrl) return `${config.publicBaseUrl.replace(/\/$/, '')}${path}`;
    return channel === 'web' ? path : null;
  };
}

export function calendarRoutes(deps: { store: Store; config: Config; secret: string; now: () => Date }): Hono {
  const app = new Hono();
  app.get('/calendar/:file', async (c) => {
    const file = c.req.param('file');
    const reference = file.endsWith('.ics') ? file.slice(0, -4) : '';
    const expected = reference ? await signature(deps.secret, reference) : '';
    if (!reference || c.req.query('s') !== expected) return c.json({ error: 'unknown or unsigned calendar link' }, 404);
    const appointment = await findAppointmentByReference(deps.store.db, reference);
    if (!appointment) return c.json({ error: 'unknown or unsigned calendar link' }, 404);
    const capacity = await loadBranchCapacity(deps.store.db, appointment.branchId);
    const branch = await deps.store.db.selectFrom('branches').select(['name', 'address']).where('id', '=', appointment.branchId).executeTakeFirst();
    const service = appointment.serviceTypeNames.en ?? Object.values(appointment.serviceTypeNames)[0] ?? appointment.serviceTypeCode;
    const body = appointmentIcs(appointment, {
      summary: `${service} · ${capacity?.branchName ?? branch?.name ?? deps.config.dealer.name}`,
      location: [branch?.name, branch?.address].filter(Boolean).join(', '),
      dealerName: deps.config.dealer.name,
      now: deps.now(),
    });
    return c.body(body, 200, { 'content-type': 'text/calendar; charset=utf-8', 'content-disposition': `attachment; filename="${reference}.ics"` });
  });
  return app;
}
