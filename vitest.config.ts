import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Test files spawn real plugin processes; run files in parallel, one fork per core.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
