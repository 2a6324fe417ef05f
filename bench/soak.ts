/**
 * Soak: hundreds of plugin swaps, a third of them bad, under steady load, in
 * one host. Reports, before and after: the host's RSS, its open file
 * descriptors, live plugin processes, staged versions on disk and the state
 * directory's size; and the load's failed requests. Targets (docs/benchmarks.md):
 * 0 failed requests, RSS growth ≤ 30 MiB, fds back to baseline ±5, exactly one
 * process per plugin, staged versions within the retention bound.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import { createOrchestrator } from '../src/index.js';
import { fakePluginDir, printTable, quick, round, saveResults, startLoad, summarize, tempDir } from './lib.js';

const SWAPS = quick ? 12 : 300;
const KEEP = 5;
const work = await tempDir('wfr-bench-soak-');
const state = join(work, 'state');

/** Bytes under `dir`. */
const sizeOf = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((sum, entry) => {
    const path = join(dir, entry.name);
    return sum + (entry.isDirectory() ? sizeOf(path) : statSync(path).size);
  }, 0);
const fds = () => readdirSync('/proc/self/fd').length;
/** Live processes whose parent is this one and that run a plugin. */
const pluginProcesses = () =>
  readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSyncSafe(`/proc/${pid}/stat`);
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return fields[0] !== 'Z' && Number(fields[1]) === process.pid && readFileSyncSafe(`/proc/${pid}/cmdline`).includes('plugin.mjs');
      } catch {
        return false;
      }
    }).length;
const readFileSyncSafe = (path: string) => readFileSync(path, 'utf8');

const host = await createOrchestrator({ stateDir: state, logger: pino({ level: 'silent' }), timeouts: { confirmMs: 0, graceMs: 500 }, retention: { keepVersions: KEEP } });
const measure = () => {
  (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  return { rssMiB: round(memory.rss / 2 ** 20), heapMiB: round(memory.heapUsed / 2 ** 20), fds: fds(), plugins: pluginProcesses(), staged: readdirSync(join(state, 'plugins', 'fake')).length, stateKiB: round(sizeOf(state) / 1024) };
};
let rows: Array<Record<string, string | number>> = [];
let failed = 0;
let sent = 0;
try {
  const versions = await Promise.all(Array.from({ length: 20 }, (_, i) => fakePluginDir(work, 'fake', `1.${i}.0`)));
  const bad = [await fakePluginDir(work, 'fake', '9.0.0', ['unhealthy']), await fakePluginDir(work, 'fake', '9.1.0', ['exit-early'])];
  const config = join(work, 'soak.yaml');
  await writeFile(config, stringify({ http: { listen: '127.0.0.1:0' }, plugins: { fake: { dir: versions[0] } }, pipelines: [{ route: 'GET /', steps: [{ use: 'fake.echo' }] }] }));
  await host.tryActivateConfig(config);
  // Warm up: a few swaps before the baseline, so start-up allocations are not counted as growth.
  for (let i = 1; i <= 3; i++) await host.tryActivatePlugin('fake', versions[i]!);
  // Both measurements are taken with the load running (its connections and pipes are open in both).
  const load = await startLoad(`http://${host.engineStatus()!.address}/`, 4, 100_000_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const before = measure();
  const outcomes: Record<string, number> = {};
  /** RSS and heap after every tenth of the swaps: growth that levels off is the heap finding its size; a leak keeps climbing. */
  const trend: string[] = [];
  for (let i = 0; i < SWAPS; i++) {
    if (i > 0 && i % Math.max(1, Math.floor(SWAPS / 10)) === 0) {
      const m = measure();
      trend.push(`${i}: ${m.rssMiB}/${m.heapMiB}`);
    }
    // Every third swap a bad candidate (alternating two kinds); the others cycle through the 20 good versions.
    const dir = i % 3 === 2 ? bad[i % 2]! : versions[(i % 20 + 4) % 20]!;
    const result = await host.tryActivatePlugin('fake', dir);
    outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
  }
  // Let the last prune finish, then measure while the load still runs: its samples, parsed below, are the benchmark's memory, not the host's.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const after = measure();
  const summary = summarize(await load.finish());
  failed = summary.failed + summary.non2xx;
  sent = summary.sent;
  rows = [
    { what: 'host RSS (MiB)', before: before.rssMiB, after: after.rssMiB, change: round(after.rssMiB - before.rssMiB) },
    { what: 'host JS heap in use, after GC (MiB)', before: before.heapMiB, after: after.heapMiB, change: round(after.heapMiB - before.heapMiB) },
    { what: 'host open file descriptors', before: before.fds, after: after.fds, change: after.fds - before.fds },
    { what: 'live plugin processes', before: before.plugins, after: after.plugins, change: after.plugins - before.plugins },
    { what: 'staged versions of the plugin', before: before.staged, after: after.staged, change: after.staged - before.staged },
    { what: 'state directory (KiB)', before: before.stateKiB, after: after.stateKiB, change: round(after.stateKiB - before.stateKiB) },
  ];
  printTable(`Soak: ${SWAPS} swaps (${outcomes.activated ?? 0} activated, ${outcomes.rolledBack ?? 0} rolled back) under 4 concurrent clients`, rows);
  const rss = after.rssMiB - before.rssMiB;
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  console.log(
    `\nsummary: ${failed} failed of ${sent} requests (target 0: ${met(failed === 0)}); RSS growth ${round(rss)} MiB (target ≤ 30: ${met(rss <= 30)}); fds ${after.fds - before.fds >= 0 ? '+' : ''}${after.fds - before.fds} (target ±5: ${met(Math.abs(after.fds - before.fds) <= 5)}); ${after.plugins} plugin process (target 1: ${met(after.plugins === 1)}); ${after.staged} staged versions (target ≤ ${KEEP + 2}: ${met(after.staged <= KEEP + 2)})`,
  );
  console.log(`trend (swaps: RSS/heap MiB): ${trend.join(', ')}`);
  await saveResults('soak', { swaps: SWAPS, outcomes, sent, failed, rows, trend });
} finally {
  await host.close();
}
