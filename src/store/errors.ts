/*
 * Recognising the constraint errors the store relies on, across better-sqlite3, node-postgres and D1.
 * The engine's guarantees (an event handled once, a conversation saved by one writer at a time) are
 * enforced by the database itself, so they also hold where writes are applied as one batch (D1).
 */

function describe(err: unknown): { message: string; code: string; constraint: string } {
  if (!err || typeof err !== 'object') return { message: String(err), code: '', constraint: '' };
  const e = err as { message?: unknown; code?: unknown; constraint?: unknown; cause?: unknown };
  const own = { message: String(e.message ?? ''), code: String(e.code ?? ''), constraint: String(e.constraint ?? '') };
  if (e.cause && !own.message.includes('constraint')) {
    const inner = describe(e.cause);
    return { message: `${own.message} ${inner.message}`, code: own.code || inner.code, constraint: own.constraint || inner.constraint };
  }
  return own;
}

/** True for a unique or primary-key violation on `table`. */
export function isUniqueViolation(err: unknown, table: string): boolean {
  const { message, code, constraint } = describe(err);
  if (code === '23505') return constraint.startsWith(table) || message.includes(table);
  return /UNIQUE constraint failed|PRIMARY KEY constraint failed|SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)/i.test(`${code} ${message}`) && message.includes(`${table}.`);
}

/** The conversations table's guard trigger refused a save made from a stale version. */
export function isConversationVersionConflict(err: unknown): boolean {
  return describe(err).message.includes('conversation version conflict');
}
