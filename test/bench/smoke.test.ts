/**
 * Each benchmark script runs with tiny counts (--quick) so none can rot.
 * No timing is asserted: only that it completes and prints its table and summary.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { scaled } from '../helpers/slowdown.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

it.each(['cli-start', 'availability', 'swap-cost', 'front-door', 'staging', 'scale', 'soak', 'pm2'])('bench/%s.ts runs to the end with --quick', async (bench) => {
  // Stopped (SIGTERM: the script then removes what it started) before the test's own bound, so a hang is reported, not leaked.
  const run = await execa(process.execPath, ['--expose-gc', '--import', 'tsx', join(root, 'bench', `${bench}.ts`), '--quick'], { cwd: root, reject: false, timeout: scaled(110_000), forceKillAfterDelay: 5_000 });
  expect(run.timedOut, `bench/${bench}.ts --quick did not finish within ${scaled(110_000)} ms:\n${run.stdout}\n${run.stderr}`).toBe(false);
  expect(run.exitCode, run.stderr).toBe(0);
  expect(run.stdout).toMatch(/^\| /m);
  expect(run.stdout).toMatch(/^summary: /m);
}, scaled(120_000));
