import type { Appointment } from './appointments';

/** RFC 5545 text escaping for SUMMARY/LOCATION/DESCRIPTION values. */
function escapeIcs(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r?\n/g, '\\n');
}

/** 20261201T070000Z from an ISO instant. */
function icsInstant(iso: string): string {
  return iso.replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** Lines longer than 75 octets are folded with CRLF + space, as calendar apps expect. */
function fold(line: string): string {
  const bytes = new TextEncoder().encode(line);
  if (bytes.length <= 75) return line;
  const parts: string[] = [];
  let current = '';
  for (const ch of line) {
    if (new TextEncoder().encode(current + ch).length > (parts.length === 0 ? 75 : 74)) {
      parts.push(current);
      current = ch;
    } else current += ch;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

/**
 * A calendar file for one booking, so the customer can add it to their phone's calendar from the chat.
 * Times are UTC instants, so every calendar app shows them in its own zone correctly.
 */
export function appointmentIcs(a: Appointment, opts: { summary: string; location: string; dealerName: string; now: Date }): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    `PRODID:-//${escapeIcs(opts.dealerName)}//Service booking//EN`,
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    'BEGIN:VEVENT',
    `UID:${a.id}@dealer-chat`,
    `DTSTAMP:${icsInstant(opts.now.toISOString())}`,
    `DTSTART:${icsInstant(a.startsAt)}`,
    `DTEND:${icsInstant(a.endsAt)}`,
    `SUMMARY:${escapeIcs(opts.summary)}`,
    `LOCATION:${escapeIcs(opts.location)}`,
    `DESCRIPTION:${escapeIcs(`${opts.dealerName} ${a.reference}`)}`,
    `STATUS:${a.status === 'cancelled' ? 'CANCELLED' : 'CONFIRMED'}`,
    'BEGIN:VALARM',
    'TRIGGER:-PT2H',
    'ACTION:DISPLAY',
    `DESCRIPTION:${escapeIcs(opts.summary)}`,
    'END:VALARM',
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return `${lines.map(fold).join('\r\n')}\r\n`;
}
