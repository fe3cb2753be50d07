/*
 * Keyset pagination: a page ends at a (created_at, id) position and the next page starts strictly after
 * it. Unlike page numbers, this neither repeats nor skips a record when others are added while an
 * integration walks the list (new records sort after every existing one). The cursor is opaque to
 * callers, so the position it holds can change shape without breaking them.
 */

export interface KeysetPosition {
  createdAt: string;
  id: string;
}

const VERSION = 'k1';

function toBase64Url(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): string | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
}

export function encodeCursor(position: KeysetPosition): string {
  return toBase64Url(JSON.stringify([VERSION, position.createdAt, position.id]));
}

/** The position a cursor of ours holds, or null for anything else (a cursor from elsewhere, or edited). */
export function decodeCursor(cursor: string): KeysetPosition | null {
  const text = fromBase64Url(cursor);
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as unknown;
    if (!Array.isArray(value) || value.length !== 3 || value[0] !== VERSION) return null;
    const [, createdAt, id] = value as unknown[];
    return typeof createdAt === 'string' && typeof id === 'string' ? { createdAt, id } : null;
  } catch {
    return null;
  }
}
