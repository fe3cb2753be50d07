import type { Kysely } from 'kysely';
import { newId } from '../ids';
import { isConversationVersionConflict, isUniqueViolation } from './errors';
import type { Conversation, Database } from './schema';

/** Another writer saved this conversation first; the engine retries the whole event. */
export class ConversationConflict extends Error {
  constructor(customerId: string) {
    super(`conversation of customer ${customerId} changed while this event was processed`);
    this.name = 'ConversationConflict';
  }
}

export async function loadConversation(db: Kysely<Database>, customerId: string): Promise<Conversation | null> {
  return (await db.selectFrom('conversations').selectAll().where('customer_id', '=', customerId).executeTakeFirst()) ?? null;
}

/** The conversations of several customers, by customer id (one read). */
export async function loadConversations(db: Kysely<Database>, customerIds: readonly string[]): Promise<Map<string, Conversation>> {
  if (customerIds.length === 0) return new Map();
  const rows = await db.selectFrom('conversations').selectAll().where('customer_id', 'in', [...customerIds]).execute();
  return new Map(rows.map((r) => [r.customer_id, r]));
}

export interface ConversationPosition {
  flow: string | null;
  step: string | null;
  state: unknown;
  stateVersion: number;
}

/**
 * Saves where the conversation stands, as one writer: the new version must be exactly one more than the
 * version `previous` was read at (a trigger enforces it), and a first save must be the only first save.
 * Either way a lost race throws ConversationConflict and the caller's transaction rolls back.
 */
export async function saveConversation(
  db: Kysely<Database>,
  customerId: string,
  previous: Conversation | null,
  position: ConversationPosition,
  now: string,
): Promise<Conversation> {
  const values = {
    flow: position.flow,
    step: position.step,
    state: JSON.stringify(position.state ?? null),
    state_version: position.stateVersion,
    updated_at: now,
  };
  try {
    if (!previous) {
      const row: Conversation = { id: newId(), customer_id: customerId, ...values, version: 1, created_at: now };
      await db.insertInto('conversations').values(row).execute();
      return row;
    }
    await db
      .updateTable('conversations')
      .set({ ...values, version: previous.version + 1 })
      .where('id', '=', previous.id)
      .execute();
    return { ...previous, ...values, version: previous.version + 1 };
  } catch (err) {
    if (isConversationVersionConflict(err) || isUniqueViolation(err, 'conversations')) throw new ConversationConflict(customerId);
    throw err;
  }
}
