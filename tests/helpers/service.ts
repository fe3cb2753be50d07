import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../src/config';
import { diskBlobStore } from '../../src/entry/node-blobs';
import { systemClock, type Clock } from '../../src/ops/clock';
import { silentLogger } from '../../src/ops/logger';
import { buildService, type Service, type ServiceOptions } from '../../src/service';
import { seedFreshDatabase } from '../../src/store/seed';
import type { TestDialect, TestStore } from './stores';

export interface TestService extends Service {
  db: TestStore;
  config: Config;
  /** The directory the disk blob store keeps photos in (removed on close). */
  blobDir: string;
  /** Processes every accepted event and sends what the outbox holds, as the background loops would. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** The whole service as `npm start` builds it, on a test database, with platforms pointed where the config says. */
export async function startTestService(dialect: TestDialect, config: Config, clock: Clock = systemClock, extra: Pick<ServiceOptions, 'subscribers' | 'fetch'> = {}): Promise<TestService> {
  const db = await dialect.open();
  await seedFreshDatabase(db.store, config, clock.now());
  // Few PBKDF2 iterations keep staff tests fast; the hashing code is the production code.
  // Photos go to the real disk store, in a directory of the test's own.
  const blobDir = await mkdtemp(join(tmpdir(), 'dealer-chat-blobs-'));
  const service = await buildService({ config, store: db.store, logger: silentLogger, clock, passwordIterations: 1000, blobs: diskBlobStore(blobDir), ...extra });
  return {
    ...service,
    db,
    config,
    blobDir,
    async flush() {
      await service.engine.drain();
      await service.outbox.drain();
    },
    async close() {
      await service.engine.stop();
      await service.outbox.stop();
      await service.engine.idle();
      await db.drop();
      await rm(blobDir, { recursive: true, force: true });
    },
  };
}
