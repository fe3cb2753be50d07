import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import pino from 'pino';
import { ConfigError, parseConfig } from '../config';
import { systemClock } from '../ops/clock';
import { maskSensitive, type Logger } from '../ops/logger';
import { buildService } from '../service';
import { pruneProcessedEvents } from '../store/events';
import { pruneInbox } from '../store/inbox';
import { EVENT_IDS_KEPT_MS } from '../webhooks/line';
import { seedFreshDatabase } from '../store/seed';
import { NewerDatabaseError } from '../store/store';
import { serveNode } from './node-http';
import { nodeLineSignature } from './node-line-signature';
import { diskBlobStore } from './node-blobs';
import { backupsFolder, claimSqliteFile, openNodeStore, SqliteFileInUse, type SqliteClaim } from './node-store';
import { createWorkLoop } from '../util/work-loop';

const PRUNE_EVENTS_AFTER_MS = EVENT_IDS_KEPT_MS;

/** Exit codes that tell a supervisor whether a restart can help (the systemd unit does not restart on 65 and 78). */
const EXIT_CONFIG = 78; // EX_CONFIG: a setting is wrong
const EXIT_DATA = 65; // EX_DATAERR: the database belongs to a newer version
const EXIT_IN_USE = 75; // EX_TEMPFAIL: another service (or a restore) has the SQLite file

/** Refusals the operator must act on: said in one clear line, without a stack trace. */
function refuse(code: number, message: string): never {
  console.error(message);
  process.exit(code);
}

async function main(): Promise<void> {
  let config;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      refuse(EXIT_CONFIG, err.message);
    }
    throw err;
  }

  const logger = pino({
    level: config.logLevel,
    base: { service: 'dealer-chat' },
    formatters: { log: (record) => maskSensitive(record) as Record<string, unknown> },
    serializers: { err: pino.stdSerializers.err },
  }) as unknown as Logger;

  // One service per SQLite file: a second one (or a restore) would be refused by the lock this holds while running.
  const database = config.database;
  let claim: SqliteClaim | null = null;
  if (database.kind === 'sqlite' && database.path !== ':memory:') {
    try {
      claim = await claimSqliteFile(database.path);
    } catch (err) {
      if (err instanceof SqliteFileInUse) refuse(EXIT_IN_USE, `Not starting: ${err.message}. One service runs per SQLite file; stop the other one first (or use Postgres for several instances).`);
      throw err;
    }
  }
  let store;
  try {
    store = await openNodeStore(database, {
      report: (event) =>
        event.kind === 'upgrade-copy'
          ? logger.info({ copy: event.path, pending: event.pending }, 'database copied before migrating')
          : logger.info({ migrations: event.migrations }, 'migrations applied'),
    });
  } catch (err) {
    if (err instanceof NewerDatabaseError) {
      const hint = database.kind === 'sqlite' ? ` Copies kept before each upgrade are in ${backupsFolder(database.path)}/ (npm run restore -- <file>).` : '';
      refuse(EXIT_DATA, `Not starting: ${err.message}${hint}`);
    }
    throw err;
  }
  if (await seedFreshDatabase(store, config, systemClock.now())) logger.info({}, 'fresh database: demo branch created');

  // Photos live beside the SQLite file unless BLOB_DIR says otherwise (instances sharing Postgres share a BLOB_DIR).
  const blobDir = config.blobDir ?? (config.database.kind === 'sqlite' && config.database.path !== ':memory:' ? join(dirname(config.database.path), 'blobs') : './data/blobs');
  // A restarted process keeps its name, so it takes back at once what its previous life was sending.
  const instanceId = config.instanceId ?? `${hostname()}:${config.port}`;
  const service = await buildService({ config, store, logger, clock: systemClock, lineSignature: nodeLineSignature, blobs: diskBlobStore(blobDir), instanceId });
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

  const server = serveNode(service.app, { port: config.port, logger: logger.child({ component: 'http' }) }, (info) => {
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
    claim?.release();
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
