import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { manualClock } from '../../src/ops/clock';
import { startFakeLineApi, type FakeLineApi } from '../fakes/line-api';
import { startFakeTelegramApi, type FakeTelegramApi } from '../fakes/telegram-api';
import { testConfig } from './config';
import { startTestService, type TestService } from './service';
import type { TestDialect } from './stores';

/** The fake LINE and Telegram servers of a suite, and a fresh service on them for each test. */
export interface ChannelWorld {
  line: FakeLineApi;
  telegram: FakeTelegramApi;
  svc: TestService;
  /** The service's clock, set back to the start before each test. */
  clock: ReturnType<typeof manualClock>;
}

/**
 * Registers the hooks of a channel suite (call it inside its describe): the fakes start once for the suite,
 * and each test gets the whole service on `dialect`, pointed at them, with `env` on top of the test config
 * and its clock at `start`. Read the world's fields inside tests or hooks, never at the describe's top level.
 */
export function channelWorld(dialect: TestDialect, opts: { start: string; env?: Record<string, string> }): ChannelWorld {
  const world = { clock: manualClock(opts.start) } as ChannelWorld;
  beforeAll(async () => {
    world.line = await startFakeLineApi();
    world.telegram = await startFakeTelegramApi();
  });
  afterAll(async () => {
    await world.line?.close();
    await world.telegram?.close();
  });
  beforeEach(async () => {
    world.clock.set(opts.start);
    world.svc = await startTestService(dialect, testConfig(opts.env ?? {}, { line: world.line.url, telegram: world.telegram.url }), world.clock);
  });
  afterEach(async () => {
    await world.svc?.close();
  });
  return world;
}
