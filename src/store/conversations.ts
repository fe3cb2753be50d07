import type { Kysely } from 'kysely';
import { newId } from '../ids';
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

export interface ConversationPosition {
  flow: string | null;
  step: string | null;
  state: unknown;
  stateVersion: number;
}

/**
 * Saves where the conversation stands. Compare-and-set on `version`: if someone else saved since
 * `previous` was read, nothing is written and ConversationConflict is thrown, rolling back the event.
 */
export async function saveConversation(
  db: Kysely<Database>,
  customerId: string,
  previous: Conversation | null,
  position: ConversationPosition,
  now: string,
): Promise<void> {
  const values = {
    flow: position.flow,
    step: position.step,
    state: JSON.stringify(position.state ?? null),
    state_version: position.stateVersion,
    updated_at: now,
  };
  if (!previous) {
    const inserted = await db
      .insertInto('conversations')
      .values({ id: newId(), customer_id: customerId, ...values, version: 1, created_at: now })
      .onConflict((oc) => oc.column('customer_id').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) throw new ConversationConflict(customerId);
    return;
  }
  const updated = await db
    .updateTable('conversations')
    .set({ ...values, version: previous.version + 1 })
    .where('id', '=', previous.id)
    .where('version', '=', previous.version)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) throw new ConversationConflict(customerId);
}
