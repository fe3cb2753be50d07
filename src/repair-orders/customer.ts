import type { Kysely } from 'kysely';
import type { RenderedCard, RenderedMessage } from '../channels/types';
import { progressButtons } from '../conversation/button-ids';
import type { Database } from '../store/schema';
import { findRepairOrder, toRepairOrder, type RepairOrder } from './repair-orders';
import { OPEN_STATUSES } from './statuses';
import type { ItemView } from './subject';

/*
 * What the progress flow reads for one customer: their orders, the order behind a button, and the text of
 * the message they answered. Everything runs on the engine's transaction.
 */

/** A customer's orders in the workshop, and those collected or cancelled within the last two days, newest first. */
export async function customerOrders(db: Kysely<Database>, customerId: string, now: Date): Promise<RepairOrder[]> {
  const since = new Date(now.getTime() - 2 * 86_400_000).toISOString();
  const rows = await db
    .selectFrom('repair_orders')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where((eb) => eb.or([eb('status', 'in', OPEN_STATUSES), eb('status_changed_at', '>=', since)]))
    .orderBy('created_at', 'desc')
    .limit(10)
    .execute();
  return rows.map(toRepairOrder);
}

/** The order of a customer's button: its own order, or null when it is someone else's or gone. */
export async function ownOrder(db: Kysely<Database>, customerId: string, orderId: string): Promise<RepairOrder | null> {
  const order = await findRepairOrder(db, orderId);
  return order && order.customerId === customerId ? order : null;
}

/** The order an item or a request belongs to, when it is the customer's. */
export async function orderOfItem(db: Kysely<Database>, customerId: string, itemId: string): Promise<RepairOrder | null> {
  const item = await db.selectFrom('repair_order_items').select('repair_order_id').where('id', '=', itemId).executeTakeFirst();
  return item ? ownOrder(db, customerId, item.repair_order_id) : null;
}

export async function orderOfRequest(db: Kysely<Database>, customerId: string, requestId: string): Promise<RepairOrder | null> {
  const request = await db.selectFrom('repair_order_requests').select('repair_order_id').where('id', '=', requestId).executeTakeFirst();
  return request ? ownOrder(db, customerId, request.repair_order_id) : null;
}

function cardText(card: RenderedCard): string {
  return card.altText;
}

function hasChoice(choices: readonly { kind: string; id?: string }[], id: string): boolean {
  return choices.some((c) => 'id' in c && c.id === id);
}

/**
 * The text the customer was shown for each item, from the message that carried the button they pressed
 * (the transcript keeps what was really sent, in the language it was sent in): on a carousel the item's
 * own card under the request's summary, otherwise the whole message. Null when the message is not found.
 */
export async function shownTexts(db: Kysely<Database>, customerId: string, pressedId: string): Promise<(item: ItemView) => string | null> {
  const row = await db
    .selectFrom('messages')
    .select('payload')
    .where('customer_id', '=', customerId)
    .where('direction', '=', 'out')
    .where('payload', 'like', `%"${pressedId}"%`)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  let message: RenderedMessage | null = null;
  try {
    message = row?.payload ? ((JSON.parse(row.payload) as { message?: RenderedMessage }).message ?? null) : null;
  } catch {
    message = null;
  }
  return (item) => {
    if (!message) return null;
    switch (message.type) {
      case 'carousel': {
        const ids = [progressButtons.id('approve', item.id), progressButtons.id('decline', item.id)];
        const own = message.cards.find((card) => ids.some((id) => hasChoice(card.choices, id)));
        const summary = message.cards[0]!;
        return own && own !== summary ? `${cardText(summary)}\n\n${cardText(own)}` : message.cards.map(cardText).join('\n\n');
      }
      case 'card':
        return message.altText;
      case 'text':
        return message.text;
      case 'image':
        return null;
    }
  };
}
