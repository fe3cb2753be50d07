import type { Kysely } from 'kysely';
import type { Database, MessageRow, NewMessageRow } from './schema';

export async function appendMessage(db: Kysely<Database>, row: NewMessageRow): Promise<void> {
  await db.insertInto('messages').values(row).execute();
}

/** Several transcript rows in one statement, in the order given. */
export async function appendMessages(db: Kysely<Database>, rows: readonly NewMessageRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.insertInto('messages').values([...rows]).execute();
}

/** Messages of one customer after `afterId`, oldest first (web chat polling, staff transcript). */
export async function messagesAfter(db: Kysely<Database>, customerId: string, afterId: number, limit = 100): Promise<MessageRow[]> {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where('id', '>', afterId)
    .orderBy('id', 'asc')
    .limit(limit)
    .execute();
}

/**
 * The label of a button the customer pressed, looked up in what we recently sent them, so the staff
 * transcript reads "Book a service" rather than an id.
 */
export async function labelOfChoice(db: Kysely<Database>, customerId: string, choiceId: string): Promise<string | null> {
  const recent = await db
    .selectFrom('messages')
    .select(['payload'])
    .where('customer_id', '=', customerId)
    .where('direction', '=', 'out')
    .orderBy('id', 'desc')
    .limit(10)
    .execute();
  for (const row of recent) {
    if (!row.payload) continue;
    try {
      const payload = JSON.parse(row.payload) as { choices?: { id?: string; label?: string }[] };
      const found = payload.choices?.find((c) => c.id === choiceId);
      if (found?.label) return found.label;
    } catch {
      // A payload we cannot read is just not a source of labels.
    }
  }
  return null;
}
