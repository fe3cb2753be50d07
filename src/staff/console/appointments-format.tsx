import type { FC } from 'hono/jsx';
import type { BookRefusal, ChangeRefusal } from '../../booking/booking';
import type { AppointmentStatus } from '../../store/schema';
import type { AssignResult } from '../appointments';
import { textsOf, type Page } from './kit';

/*
 * Small pieces the appointment, new-booking and capacity pages share: their texts, status badges,
 * service type names in the staff member's language, dates, and the words for a refused change.
 */

export const BOOKING_NS = 'console-booking';

/** A text of the booking pages, in the staff member's language. */
export const bt = textsOf(BOOKING_NS);

export { APPOINTMENT_STATUSES } from '../appointments';

const STATUS_CLASS: Record<AppointmentStatus, string> = { booked: 'badge', checked_in: 'badge ok', completed: 'badge ok', no_show: 'badge bad', cancelled: 'badge warn' };

export const StatusBadge: FC<{ page: Page; status: AppointmentStatus }> = ({ page, status }) => <span class={STATUS_CLASS[status]}>{bt(page, `status.${status}`)}</span>;

/** A service type's name as the manager entered it for the staff member's language, else English, else any. */
export function serviceTypeName(page: Page, names: Record<string, string>, code: string): string {
  return names[page.locale] ?? names['en'] ?? Object.values(names)[0] ?? code;
}

/** A local date ('YYYY-MM-DD') written the staff member's way, with its weekday. */
export function formatLocalDate(page: Page, date: string, weekday: 'long' | 'short' = 'short'): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Intl.DateTimeFormat(page.locale, { timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric', weekday }).format(new Date(Date.UTC(y!, m! - 1, d!)));
}

type Refusal = BookRefusal | ChangeRefusal | Extract<AssignResult, { ok: false }>;

/** Why a booking or change was not made, in the staff member's language, and the status to answer with. */
export function refusalMessage(page: Page, refusal: Refusal, action: 'book' | 'checkIn' | 'noShow' | 'cancel' | 'reschedule' | 'assign'): { text: string; status: 400 | 404 | 409 } {
  switch (refusal.reason) {
    case 'not_found':
      return { text: bt(page, 'refused.notFound'), status: 404 };
    case 'not_changeable':
      return { text: bt(page, 'refused.notChangeable', { status: bt(page, `status.${refusal.status}`) }), status: 409 };
    case 'too_early':
      return { text: bt(page, action === 'noShow' ? 'refused.noShowTooEarly' : 'refused.checkInTooEarly'), status: 409 };
    case 'unknown_service_type':
    case 'unknown_advisor':
      return { text: bt(page, `refused.${refusal.reason}`), status: 400 };
    default:
      return { text: bt(page, `refused.${refusal.reason}`), status: 409 };
  }
}

/** A local path under `prefix` to return to after a post, or `fallback`: never another site. */
export function safeBack(value: string | undefined, prefix: string, fallback: string): string {
  return value && value.startsWith(prefix) && value.length <= 500 && /^[A-Za-z0-9/?&=%._~:+-]*$/.test(value) ? value : fallback;
}

export const Check: FC<{ on: boolean; title?: string }> = ({ on, title }) => (on ? <span title={title} style="color:var(--ok);font-weight:700">✓</span> : <span class="muted">–</span>);

/** Free starts as radio buttons: one tap on a tablet, nothing to type. */
export const SlotChoices: FC<{ slots: { startsAt: string; localTime: string; localDate: string }[]; selected?: string; showDate?: boolean; page?: Page }> = ({ slots, selected, showDate, page }) => (
  <div style="display:flex;flex-wrap:wrap;gap:6px;margin:8px 0">
    {slots.map((s, i) => (
      <label style="display:inline-flex;align-items:center;gap:4px;margin:0;padding:4px 10px;border:1px solid var(--line);border-radius:6px;background:#fff;color:var(--ink);cursor:pointer">
        <input type="radio" name="startsAt" value={s.startsAt} required={i === 0} checked={s.startsAt === selected} />
        {showDate && page ? `${formatLocalDate(page, s.localDate)} ` : ''}
        {s.localTime}
      </label>
    ))}
  </div>
);
