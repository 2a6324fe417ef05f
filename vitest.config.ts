import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Test files spawn real plugin processes and mostly wait on them (handshakes,
    // confirmation windows, restarts): four files at a time keep two cores busy
    // without starving them. Every wait is on an event, so load does not make tests flaky.
    pool: 'forks',
    maxWorkers: 4,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
