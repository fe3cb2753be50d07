import type { ChannelName, Choice, Reply, TextRef } from '../../channels/types';
import { formatDayLong } from '../../i18n/format';
import type { Locale } from '../../i18n/locales';
import type { Vehicle } from '../../store/schema';
import { intentButtons, myBookingsButtons } from '../button-ids';

/** A service type's name in the customer's language, else English, else any name, else its code. */
export function serviceName(names: Record<string, string>, locale: Locale, code: string): string {
  return names[locale] ?? names.en ?? Object.values(names)[0] ?? code;
}

/** "ABC-1234 · Toyota Corolla" — how a customer recognises their car on a button. */
export function vehicleLabel(vehicle: Pick<Vehicle, 'plate' | 'make' | 'model'>): string {
  const name = [vehicle.make, vehicle.model].filter(Boolean).join(' ');
  return name ? `${vehicle.plate} · ${name}` : vehicle.plate;
}

const label = (key: string): TextRef => ({ key: `booking:${key}` });
const raw = (text: string): TextRef => ({ raw: text });

/**
 * The card a booking is confirmed, changed or reminded with: what, where, when, with which car. The date is
 * written out in the customer's language; rows without a value are left out.
 */
export function bookingCard(
  locale: Locale,
  b: {
    title: TextRef;
    branchName: string | null;
    service: string;
    vehicle: string | null;
    date: string;
    time: string;
    loaner: boolean;
    note: string | null;
    reference: string | null;
    /** Who the booking is for, shown when the customer has just given it. */
    customer?: { name: string | null; phone: string | null } | null;
    footer: TextRef | TextRef[] | null;
    choices: Choice[];
  },
): Reply {
  const rows: { label: TextRef; value: TextRef }[] = [];
  if (b.reference) rows.push({ label: label('rowReference'), value: raw(b.reference) });
  if (b.customer?.name) rows.push({ label: label('rowName'), value: raw(b.customer.name) });
  if (b.customer?.phone) rows.push({ label: label('rowPhone'), value: raw(b.customer.phone) });
  if (b.branchName) rows.push({ label: label('rowBranch'), value: raw(b.branchName) });
  rows.push({ label: label('rowService'), value: raw(b.service) });
  if (b.vehicle) rows.push({ label: label('rowVehicle'), value: raw(b.vehicle) });
  rows.push({ label: label('rowWhen'), value: { key: 'booking:when', params: { date: formatDayLong(locale, b.date), time: b.time } } });
  if (b.loaner) rows.push({ label: label('rowLoaner'), value: { key: 'answers.yes' } });
  if (b.note) rows.push({ label: label('rowNote'), value: raw(b.note) });
  return { type: 'card', title: b.title, rows, ...(b.footer ? { footer: b.footer } : {}), choices: b.choices };
}

/** A "call" button where the platform can dial (LINE, the web); Telegram buttons cannot open tel: links. */
export function callChoice(channel: ChannelName, phone: string | null): Choice[] {
  if (!phone || channel === 'telegram') return [];
  return [{ kind: 'url', url: `tel:${phone.replace(/[^\d+]/g, '')}`, label: { key: 'info.call' } }];
}

/**
 * How a booking is managed from a card or a reminder: reschedule and cancel; or, once it starts within the
 * branch's change cutoff (`locked`), calling the branch and a person, since the chat can no longer change it.
 */
export function manageChoices(appointmentId: string, how: { locked: boolean; channel: ChannelName; phone: string | null }): Choice[] {
  if (how.locked) return [...callChoice(how.channel, how.phone), { kind: 'postback', id: intentButtons.id('human'), label: { key: 'menu.human' } }];
  return [
    { kind: 'postback', id: myBookingsButtons.id('reschedule', appointmentId), label: { key: 'booking:reschedule' } },
    { kind: 'postback', id: myBookingsButtons.id('cancel', appointmentId), label: { key: 'booking:cancelBooking' } },
  ];
}

/** Why a booking within the cutoff cannot be changed here, and how to reach the branch instead. */
export function lockedText(how: { hours: number; branch: string; phone: string | null }): TextRef {
  return how.phone ? { key: 'booking:withinCutoff', params: { hours: how.hours, branch: how.branch, phone: how.phone } } : { key: 'booking:withinCutoffNoPhone', params: { hours: how.hours, branch: how.branch } };
}
