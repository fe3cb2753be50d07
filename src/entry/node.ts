import { dirname, join } from 'node:path';
import pino from 'pino';
import { ConfigError, parseConfig } from '../config';
import { systemClock } from '../ops/clock';
import { maskSensitive, type Logger } from '../ops/logger';
import { buildService } from '../service';
import { pruneProcessedEvents } from '../store/events';
import { pruneInbox } from '../store/inbox';
import { seedFreshDatabase } from '../store/seed';
import { serveNode } from './node-http';
import { nodeLineSignature } from './node-line-signature';
import { diskBlobStore } from './node-blobs';
import { openNodeStore } from './node-store';
import { createWorkLoop } from '../util/work-loop';

const PRUNE_EVENTS_AFTER_MS = 7 * 24 * 3600_000;

async function main(): Promise<void> {
  let config;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }

  const logger = pino({
    level: config.logLevel,
    base: { service: 'dealer-chat' },
    formatters: { log: (record) => maskSensitive(record) as Record<string, unknown> },
    serializers: { err: pino.stdSerializers.err },
  }) as unknown as Logger;

  const store = await openNodeStore(config.database);
  if (await seedFreshDatabase(store, config, systemClock.now())) logger.info({}, 'fresh database: demo branch created');

  // Photos live beside the SQLite file unless BLOB_DIR says otherwise (instances sharing Postgres share a BLOB_DIR).
  const blobDir = config.blobDir ?? (config.database.kind === 'sqlite' && config.database.path !== ':memory:' ? join(dirname(config.database.path), 'blobs') : './data/blobs');
  const service = await buildService({ config, store, logger, clock: systemClock, lineSignature: nodeLineSignature, blobs: diskBlobStore(blobDir) });
  service.engine.start();
  service.outbox.start();
  // Scheduled work is due on the minute at the finest; one pass a minute (and one at start) is enough.
  const reminderLoop = createWorkLoop(
    async () => {
      for (const job of service.scheduledJobs) {
        try {
          await job.runOnce();
        } catch (err) {
          logger.error({ err, job: job.name }, 'scheduled job failed; the next pass tries again');
        }
      }
      return { didWork: false, nextDueInMs: null };
    },
    { idleMs: 60_000, logger, name: 'scheduled' },
  );
  reminderLoop.start();

  const server = serveNode(service.app, { port: config.port }, (info) => {
    logger.info(
      {
        port: info.port,
        database: config.database.kind === 'sqlite' ? `sqlite:${config.database.path}` : 'postgres',
        line: config.line ? 'on' : config.disabledChannels.line,
        telegram: config.telegram ? 'on' : config.disabledChannels.telegram,
      },
      `listening on http://localhost:${info.port} — web chat at /chat`,
    );
  });

  const housekeeping = setInterval(() => {
    const before = new Date(Date.now() - PRUNE_EVENTS_AFTER_MS).toISOString();
    Promise.all([pruneProcessedEvents(store.db, before), pruneInbox(store.db, before)]).catch((err) => logger.warn({ err }, 'pruning old events failed'));
  }, 3600_000);
  housekeeping.unref();

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new requests, finishing what is in flight');
    clearInterval(housekeeping);
    // Stop accepting; requests already inside finish their steps before close() calls back.
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await reminderLoop.stop();
    await service.engine.stop();
    await service.engine.idle();
    await service.outbox.stop();
    await store.close();
    logger.info({}, 'stopped; waiting events and unsent messages stay queued for the next start');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
