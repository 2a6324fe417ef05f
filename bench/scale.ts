/**
 * Scale: many plugins under one host. Host RSS per plugin (the host process
 * only, not its children), time to activate all sequentially and with bounded
 * concurrency, and a campaign of try-activates with 10 % bad candidates, at
 * 10, 50 and 100 plugins to show how the cost grows.
 */
import { join } from 'node:path';
import pino from 'pino';
import { createOrchestrator } from '../src/index.js';
import { fakePluginDir, printTable, quick, round, saveResults, tempDir } from './lib.js';

const SIZES = quick ? [2, 4] : [10, 50, 100];
const CONCURRENCY = 8;
const work = await tempDir('wfr-bench-scale-');
const name = (i: number) => `p${String(i).padStart(3, '0')}`;

async function pool<T>(items: T[], limit: number, run: (item: T) => Promise<unknown>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: limit }, async () => {
    while (queue.length) await run(queue.shift()!);
  }));
}

const rows = [];
for (const n of SIZES) {
  const v1 = await Promise.all(Array.from({ length: n }, (_, i) => fakePluginDir(join(work, `n${n}`), name(i), '1.0.0')));
  const v2 = await Promise.all(Array.from({ length: n }, (_, i) => fakePluginDir(join(work, `n${n}`), name(i), '2.0.0', i % 10 === 9 ? ['unhealthy'] : [])));
  const open = (dir: string) => createOrchestrator({ stateDir: join(work, dir), logger: pino({ level: 'silent' }), timeouts: { confirmMs: 0, graceMs: 500 } });

  global.gc?.();
  const sequentialHost = await open(`seq-${n}`);
  const rssBefore = process.memoryUsage().rss;
  let start = performance.now();
  for (let i = 0; i < n; i++) await sequentialHost.tryActivatePlugin(name(i), v1[i]!);
  const sequentialMs = performance.now() - start;
  global.gc?.();
  const rssPerPlugin = (process.memoryUsage().rss - rssBefore) / n;

  // The campaign: every plugin to 2.0.0, one in ten a bad build that must roll back.
  start = performance.now();
  const outcomes: string[] = [];
  await pool([...Array(n).keys()], CONCURRENCY, async (i) => outcomes.push((await sequentialHost.tryActivatePlugin(name(i), v2[i]!)).outcome));
  const campaignMs = performance.now() - start;
  await sequentialHost.close();

  const concurrentHost = await open(`conc-${n}`);
  start = performance.now();
  await pool([...Array(n).keys()], CONCURRENCY, (i) => concurrentHost.tryActivatePlugin(name(i), v1[i]!));
  const concurrentMs = performance.now() - start;
  await concurrentHost.close();

  rows.push({
    plugins: n,
    host_rss_per_plugin_kib: round(rssPerPlugin / 1024, 0),
    activate_sequential_ms: round(sequentialMs, 0),
    per_plugin_ms: round(sequentialMs / n, 1),
    [`activate_${CONCURRENCY}_at_a_time_ms`]: round(concurrentMs, 0),
    campaign_ms: round(campaignMs, 0),
    campaign_outcomes: `${outcomes.filter((o) => o === 'activated').length} activated, ${outcomes.filter((o) => o === 'rolledBack').length} rolled back`,
  });
}
printTable('Scale: one host, N plugins (fake plugin processes), one run', rows);
const first = rows[0]!;
const last = rows.at(-1)!;
console.log(`\nsummary: per-plugin activation ${first.per_plugin_ms} ms at ${first.plugins} plugins → ${last.per_plugin_ms} ms at ${last.plugins}; host RSS per plugin ${last.host_rss_per_plugin_kib} KiB at ${last.plugins}`);
await saveResults('scale', { sizes: SIZES, concurrency: CONCURRENCY, rows });
