import type { Config } from '../../src/config';
import { systemClock, type Clock } from '../../src/ops/clock';
import { silentLogger } from '../../src/ops/logger';
import { buildService, type Service } from '../../src/service';
import { seedFreshDatabase } from '../../src/store/seed';
import type { TestDialect, TestStore } from './stores';

export interface TestService extends Service {
  db: TestStore;
  config: Config;
  /** Processes every accepted event and sends what the outbox holds, as the background loops would. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** The whole service as `npm start` builds it, on a test database, with platforms pointed where the config says. */
export async function startTestService(dialect: TestDialect, config: Config, clock: Clock = systemClock): Promise<TestService> {
  const db = await dialect.open();
  await seedFreshDatabase(db.store, config, clock.now());
  // Few PBKDF2 iterations keep staff tests fast; the hashing code is the production code.
  const service = await buildService({ config, store: db.store, logger: silentLogger, clock, passwordIterations: 1000 });
  return {
    ...service,
    db,
    config,
    async flush() {
      await service.engine.drain();
      await service.outbox.drain();
    },
    async close() {
      await service.engine.stop();
      await service.outbox.stop();
      await service.engine.idle();
      await db.drop();
    },
  };
}
