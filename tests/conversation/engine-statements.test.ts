import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/ops/clock';
import { silentLogger } from '../../src/ops/logger';
import { buildService, type Service } from '../../src/service';
import { seedFreshDatabase } from '../../src/store/seed';
import { startFakeTelegramApi, type FakeTelegramApi } from '../fakes/telegram-api';
import { testConfig, TEST_TELEGRAM_SECRET } from '../helpers/config';
import { openCountingStore, type CountingStore } from '../helpers/counting-dialect';

/*
 * What processing costs the database, counted at the driver: the Telegram booking dialogue of the
 * throughput benchmark (`/book`, tap the first service, send a plate), played by new customers over 16
 * connections at once, each connection waiting for its acknowledgement before the next update. Counted
 * from the first webhook to the last event processed: keeping the events (the inbox) and processing them.
 * Sending (the outbox) is counted apart.
 */

const CONNECTIONS = 16;
const CUSTOMERS_PER_CONNECTION = 6;

function update(updateId: number, chat: number, step: number): unknown {
  const from = { id: chat, is_bot: false, first_name: 'Load', language_code: 'en' };
  const c = { id: chat, first_name: 'Load', type: 'private' };
  const date = Math.floor(Date.now() / 1000);
  if (step === 0) return { update_id: updateId, message: { message_id: updateId, from, chat: c, date, text: '/book', entities: [{ offset: 0, length: 5, type: 'bot_command' }] } };
  if (step === 1)
    return {
      update_id: updateId,
      callback_query: { id: String(updateId), from, chat_instance: String(chat), data: 'book:st:periodic_maintenance', message: { message_id: 1, from: { id: 1, is_bot: true, first_name: 'Bot' }, chat: c, date, text: 'What does your car need?' } },
    };
  return { update_id: updateId, message: { message_id: updateId, from, chat: c, date, text: `ABC-${chat % 10000}` } };
}

const dialects = ['sqlite', ...(process.env.TEST_DATABASE_URL ? ['postgres' as const] : [])] as const;

describe.each(dialects)('statements per processed event on %s', (dialect) => {
  let db: CountingStore | null = null;
  let fake: FakeTelegramApi | null = null;
  let service: Service | null = null;

  afterEach(async () => {
    await service?.engine.stop();
    await service?.outbox.stop();
    await service?.engine.idle();
    await db?.drop();
    await fake?.close();
    db = null;
    fake = null;
    service = null;
  });

  it('keeps and processes the booking dialogue in few statements and fewer write transactions', async () => {
    fake = await startFakeTelegramApi();
    const config = testConfig({ TELEGRAM_RATE_LIMIT_PER_SECOND: '1000000', TELEGRAM_PER_CHAT_PER_SECOND: '1000' }, { telegram: fake.url });
    db = await openCountingStore(dialect);
    await seedFreshDatabase(db.store, config, new Date());
    service = await buildService({ config, store: db.store, logger: silentLogger, clock: systemClock });
    const app = service.app;
    db.counter.reset();
    // The engine runs as on a server; the sender does not, so its statements are counted apart below.
    service.engine.start();

    let updateId = 7_000_000;
    let chat = 900_000;
    const connection = async () => {
      for (let n = 0; n < CUSTOMERS_PER_CONNECTION; n++) {
        const customer = chat++;
        for (let step = 0; step < 3; step++) {
          const res = await app.fetch(
            new Request('http://local/webhooks/telegram', {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TEST_TELEGRAM_SECRET },
              body: JSON.stringify(update(updateId++, customer, step)),
            }),
          );
          expect(res.status).toBe(200);
        }
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, connection));
    const events = CONNECTIONS * CUSTOMERS_PER_CONNECTION * 3;
    // Whatever the background loop has not reached yet is processed here, counted all the same.
    for (let i = 0; i < 20 && (await service.engine.drain()) > 0; i++);
    await service.engine.stop();
    const processed = Number((await db.store.db.selectFrom('processed_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    expect(processed).toBe(events);
    const engine = { statements: (db.counter.statements - 1) / events, writeTransactions: db.counter.writeTransactions / events, top: `${db.counter.transactions} transactions, ${db.counter.autocommitWrites} writes outside one\n${db.counter.top()}` };

    db.counter.reset();
    await service.outbox.drain();
    const outbox = { statements: db.counter.statements / events, writeTransactions: db.counter.writeTransactions / events };
    expect(fake.sent().length).toBeGreaterThanOrEqual(events);

    console.log(
      `${dialect}: ${events} events over ${CONNECTIONS} connections — keeping and processing ${engine.statements.toFixed(2)} statements and ${engine.writeTransactions.toFixed(3)} write transactions per event (${engine.top.split('\n')[0]}); ` +
        `sending ${outbox.statements.toFixed(2)} statements and ${outbox.writeTransactions.toFixed(3)} write transactions per event`,
    );
    expect(engine.statements, engine.top).toBeLessThanOrEqual(6);
    expect(engine.writeTransactions, engine.top).toBeLessThanOrEqual(0.25);
  }, 60_000);
});
