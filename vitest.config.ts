import { defineConfig } from 'vitest/config';
import { scaled } from './test/helpers/slowdown.js';

/** Files that start several hosts, a browser or a load each: they run at most two at a time. */
const HEAVY = [
  'test/reliability/crash-matrix-*.test.ts',
  'test/reliability/concurrent-reloads.test.ts',
  'test/reliability/hostile-plugins.test.ts',
  'test/reliability/lock-race.test.ts',
  'test/browser/**/*.test.ts',
  'test/bench/**/*.test.ts',
  'test/cli/**/*.test.ts',
  'test/examples/**/*.test.ts',
];

const shared = {
  pool: 'forks' as const,
  setupFiles: ['test/setup.ts'],
  // Bounds only say when a hang is reported: every wait is on an event. WFR_TEST_SLOWDOWN stretches them all.
  testTimeout: scaled(30_000),
  hookTimeout: scaled(30_000),
  teardownTimeout: scaled(10_000),
};

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    // Heavy files first, two at a time; then everything else, four at a time (files mostly wait on
    // the plugin processes they start, so four keep two cores busy without starving them).
    projects: [
      { test: { ...shared, name: 'heavy', include: HEAVY, maxWorkers: 2, sequence: { groupOrder: 0 } } },
      { test: { ...shared, name: 'light', include: ['test/**/*.test.ts'], exclude: HEAVY, maxWorkers: 4, sequence: { groupOrder: 1 } } },
    ],
  },
});
