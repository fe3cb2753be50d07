import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Suites start fake platform servers and databases; a little headroom keeps CI machines honest without hiding hangs.
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Drops the Postgres schemas a file kept for reuse between its tests (tests/helpers/stores.ts).
    setupFiles: ['tests/helpers/setup.ts'],
  },
});
