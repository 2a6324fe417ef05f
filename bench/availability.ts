/**
 * Availability under load, and latency around swaps: a load client in its
 * own process drives the front door while the host performs plugin swaps and
 * config swaps (half with bad candidates) on the safe path, then plugin
 * swaps on the legacy unload/load path, all in one run on one machine.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import { createOrchestrator } from '../src/index.js';
import { fakePluginDir, percentile, printTable, quick, round, saveResults, startLoad, summarize, tempDir } from './lib.js';

const SWAPS = quick ? 2 : 20;
const CONCURRENCY = quick ? 2 : 16;
const STEADY_MS = quick ? 300 : 3_000;

const work = await tempDir('wfr-bench-avail-');
const host = await createOrchestrator({
  stateDir: join(work, 'state'),
  logger: pino({ level: 'silent' }),
  timeouts: { confirmMs: 200, drainMs: 2_000, graceMs: 500 },
});

async function config(tag: string, pluginDir: string, probeStatus = 200): Promise<string> {
  const file = join(work, `config-${tag}.yaml`);
  await writeFile(
    file,
    stringify({
      http: { listen: '127.0.0.1:0' },
      plugins: { fake: { dir: pluginDir } },
      pipelines: [{ route: 'GET /echo/:word', steps: [{ use: 'fake.echo', with: { tag } }] }],
      probes: [{ request: 'GET /echo/probe', expect: { status: probeStatus } }],
    }),
  );
  return file;
}

const good = [await fakePluginDir(work, 'fake', '1.0.0'), await fakePluginDir(work, 'fake', '2.0.0')];
const bad = await fakePluginDir(work, 'fake', '3.0.0', ['unhealthy']);
const configs = [await config('A', good[0]!), await config('B', good[1]!)];
const badConfig = await config('bad', good[0]!, 418);

await host.tryActivateConfig(configs[0]!);
const url = `http://${host.engineStatus()!.address}/echo/x`;
const load = await startLoad(url, CONCURRENCY, 10_000_000);

const phases: Array<{ name: string; start: number; end: number }> = [];
const swaps: Array<{ phase: string; start: number; end: number; outcome: string }> = [];
// Requests are counted in the phase they started in; a quiet gap after each phase keeps
// a request that started during one phase from being hit by the next one's first swap.
const GAP_MS = 500;
const phase = async (name: string, body: () => Promise<void>) => {
  const start = Date.now();
  await body();
  phases.push({ name, start, end: Date.now() });
  await new Promise((resolve) => setTimeout(resolve, GAP_MS));
};
const swap = async (name: string, run: () => Promise<{ outcome: string }>) => {
  const start = Date.now();
  const { outcome } = await run();
  swaps.push({ phase: name, start, end: Date.now(), outcome });
};

// Warm-up (not counted): the load client's and host's JIT settle first.
await new Promise((resolve) => setTimeout(resolve, quick ? 200 : 2_000));
await phase('steady', () => new Promise((resolve) => setTimeout(resolve, STEADY_MS)));
await phase('safe plugin swaps', async () => {
  for (let i = 0; i < SWAPS; i++) await swap('safe plugin swaps', () => host.tryActivatePlugin('fake', i % 2 === 0 ? bad : good[(i / 2 + 1) % 2 | 0]!));
});
await phase('safe config swaps', async () => {
  for (let i = 0; i < SWAPS; i++) await swap('safe config swaps', () => host.tryActivateConfig(i % 2 === 0 ? badConfig : configs[(i + 1) % 2]!));
});
await phase('legacy plugin reloads', async () => {
  for (let i = 0; i < SWAPS; i++) await swap('legacy plugin reloads', () => host.reloadPluginLegacy('fake', i % 2 === 0 ? bad : good[i % 4 === 1 ? 1 : 0]!));
});
const samples = await load.finish();
await host.close();

const rows = phases.map((p) => {
  const inPhase = samples.filter(([at]) => at >= p.start && at < p.end);
  const done = swaps.filter((s) => s.phase === p.name);
  return {
    phase: p.name,
    swaps: done.length ? `${done.length} (${done.filter((s) => s.outcome === 'activated').length} good, ${done.filter((s) => s.outcome !== 'activated').length} bad)` : '-',
    ...summarize(inPhase),
  };
});
printTable(`Availability: ${CONCURRENCY} concurrent clients in a separate process, one run`, rows);

// Latency: requests that started within 0.5 s of a safe swap, against the steady phase.
const steady = phases[0]!;
const near = (at: number) => swaps.some((s) => s.phase.startsWith('safe') && at >= s.start - 500 && at <= s.end + 500);
const steadyLat = samples.filter(([at]) => at >= steady.start && at < steady.end).map(([, ms]) => ms);
const swapLat = samples.filter(([at, , status]) => status !== 0 && near(at)).map(([, ms]) => ms);
const latency = [
  { window: 'steady', requests: steadyLat.length, p50_ms: round(percentile(steadyLat, 50), 2), p99_ms: round(percentile(steadyLat, 99), 2) },
  { window: 'within 0.5 s of a safe swap', requests: swapLat.length, p50_ms: round(percentile(swapLat, 50), 2), p99_ms: round(percentile(swapLat, 99), 2) },
];
printTable('Latency of front-door requests', latency);
const ratio = round(latency[1]!.p99_ms / latency[0]!.p99_ms, 2);
const safeFailed = rows.filter((r) => r.phase.startsWith('safe')).reduce((n, r) => n + r.failed + r.non2xx, 0);
const legacyFailed = rows.filter((r) => r.phase.startsWith('legacy')).reduce((n, r) => n + r.failed + r.non2xx, 0);
console.log(`\nsummary: safe path ${safeFailed} failed or non-2xx of ${rows.filter((r) => r.phase.startsWith('safe')).reduce((n, r) => n + r.sent, 0)}; legacy path ${legacyFailed} of ${rows.find((r) => r.phase.startsWith('legacy'))!.sent}; p99 during swaps / steady p99 = ${ratio} (target ≤ 1.5)`);
await saveResults('availability', { concurrency: CONCURRENCY, swapsPerPhase: SWAPS, phases: rows, latency, p99Ratio: ratio });
