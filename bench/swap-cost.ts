/**
 * Swap overhead and rollback speed. The floor is what no reload can avoid:
 * spawning the same plugin, completing the handshake and one health call,
 * measured with a bare script that uses no wfreload code, alternating with
 * wfreload's try-activate in the same run.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import pino from 'pino';
import { createOrchestrator } from '../src/index.js';
import { fakePluginDir, percentile, printTable, quick, round, saveResults, tempDir, timingRow } from './lib.js';

const ROUNDS = quick ? 3 : 40;
const work = await tempDir('wfr-bench-cost-');
const dirs = [await fakePluginDir(work, 'fake', '1.0.0'), await fakePluginDir(work, 'fake', '2.0.0')];
const bad = await fakePluginDir(work, 'fake', '9.0.0', ['unhealthy']);

/** The floor: spawn, initialize, health, then kill; no wfreload code. */
function bare(dir: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['plugin.mjs'], { cwd: dir, env: { ...process.env, WFRELOAD_PLUGIN_MAGIC_COOKIE: 'f3c1a4b0-wfreload-plugin-protocol-1' }, stdio: ['pipe', 'pipe', 'ignore'] });
    const lines = createInterface({ input: child.stdout });
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: 1, name: 'fake' } })}\n`);
    lines.on('line', (line) => {
      const { id } = JSON.parse(line);
      if (id === 1) child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'health', params: {} })}\n`);
      else {
        const ms = performance.now() - start;
        child.once('exit', () => resolve(ms));
        child.kill('SIGKILL');
      }
    });
    child.once('error', reject);
  });
}

// confirmMs 0: one health call after the swap, the same work the floor does once.
const host = await createOrchestrator({ stateDir: join(work, 'state'), logger: pino({ level: 'silent' }), timeouts: { confirmMs: 0, graceMs: 500 } });
await host.tryActivatePlugin('fake', dirs[0]!);
const floor: number[] = [];
const safe: number[] = [];
const rollback: number[] = [];
/** Where a try-activate spends its time: from each slot state entered to the next (and from the call, to the return). */
const legs = new Map<string, number[]>();
for (let i = 0; i < ROUNDS; i++) {
  floor.push(await bare(dirs[(i + 1) % 2]!));
  const entered: Array<[string, number]> = [];
  const follow = host.events.subscribe((event) => {
    if (event.type === 'transition') entered.push([event.state, performance.now()]);
  });
  const start = performance.now();
  const result = await host.tryActivatePlugin('fake', dirs[(i + 1) % 2]!);
  const end = performance.now();
  safe.push(end - start);
  follow();
  [['call', start] as [string, number], ...entered, ['return', end] as [string, number]].forEach(([state, at], k, all) => {
    if (k === 0) return;
    const leg = `${all[k - 1]![0]} → ${state}`;
    legs.set(leg, [...(legs.get(leg) ?? []), at - all[k - 1]![1]]);
  });
  if (result.outcome !== 'activated') throw new Error(`swap ${i} was ${result.outcome}`);
  // Rollback speed: from entering rollingBack (the probe has failed) to the result being returned.
  let failedAt = 0;
  const off = host.events.subscribe((event) => {
    if (event.type === 'transition' && event.state === 'rollingBack') failedAt = performance.now();
  });
  const rolled = await host.tryActivatePlugin('fake', bad);
  rollback.push(performance.now() - failedAt);
  off();
  if (rolled.outcome !== 'rolledBack') throw new Error('the bad candidate was not rolled back');
}
await host.close();

const rows = [timingRow('floor: spawn + initialize + health (bare script)', floor), timingRow('wfreload try-activate (stage → drain, real swap)', safe), timingRow('rollback: probe failed → candidate reaped, result back', rollback)];
printTable('Swap overhead and rollback speed, measured alternately in one run', rows);
// What each leg does (the slot's work for the state it leaves): see docs/benchmarks.md.
printTable(
  'Where a try-activate spends its time (p50 of each leg, same runs)',
  [...legs].map(([leg, values]) => ({ leg, p50_ms: round(percentile(values, 50), 2) })),
);
const ratio50 = round(rows[1]!.p50_ms / rows[0]!.p50_ms, 2);
const ratio99 = round(rows[1]!.p99_ms / rows[0]!.p99_ms, 2);
console.log(`\nsummary: try-activate / floor = ${ratio50} at p50 (target ≤ 1.15: ${ratio50 <= 1.15 ? 'met' : 'NOT met'}), ${ratio99} at p99; rollback p50 ${rows[2]!.p50_ms} ms`);
await saveResults('swapCost', {
  rounds: ROUNDS,
  rows,
  ratioP50: ratio50,
  ratioP99: ratio99,
  legsP50: Object.fromEntries([...legs].map(([leg, values]) => [leg, round(percentile(values, 50), 2)])),
});
