/**
 * Staging a real plugin: examples/plugins/memory-mcp-2026.8.31, the published
 * MCP server-memory with its node_modules (about 29 MB on disk in 3,691
 * files). Side by side, alternated in one run:
 *  - floor: `cp -r` of the directory into the state directory's file system
 *    (what any copy-based staging pays before it has verified anything);
 *  - floor: `sha256sum` of every file (what knowing the bytes costs at least);
 *  - wfreload staging into a fresh state directory (first time);
 *  - wfreload staging of the same bytes again (content-addressed: reused);
 *  - wfreload staging of the other published version (2025.11.25) beside it
 *    (its files mostly already stored: hard links).
 * Targets: again ≤ 0.25× the first time; the first time ≤ 2× `cp -r`.
 */
import { rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { readManifest } from '../src/plugins/manifest.js';
import { stagePlugin } from '../src/store/stage-plugin.js';
import { printTable, quick, root, round, saveResults, tempDir, timingRowMin } from './lib.js';

const ROUNDS = quick ? 1 : 7;
const PLUGIN = join(root, 'examples/plugins/memory-mcp-2026.8.31');
const OTHER = join(root, 'examples/plugins/memory-mcp-2025.11.25');

await execa(process.execPath, [join(root, 'examples/plugins/install.mjs')], { stdio: 'inherit' });
const { stdout: files } = await execa('sh', ['-c', `find "${PLUGIN}" -type f | wc -l`]);
const { stdout: du } = await execa('du', ['-sh', PLUGIN]);
const scratch = await tempDir('wfr-bench-staging-');

const time = async (work: () => Promise<unknown>): Promise<number> => {
  const start = performance.now();
  await work();
  return performance.now() - start;
};

const samples = { cp: [] as number[], sha256sum: [] as number[], first: [] as number[], again: [] as number[], other: [] as number[] };
const legs = {
  cp: async (i: number) => time(() => execa('cp', ['-r', PLUGIN, join(scratch, `cp-${i}`)])),
  sha256sum: async () => time(() => execa('sh', ['-c', `find "${PLUGIN}" -type f -print0 | xargs -0 sha256sum > /dev/null`])),
  // First, again and other run in this order on one state directory: that is what they measure.
  wfreload: async (i: number) => {
    const state = join(scratch, `state-${i}`);
    samples.first.push(await time(() => stagePlugin(state, 'memory', PLUGIN, readManifest)));
    samples.again.push(await time(() => stagePlugin(state, 'memory', PLUGIN, readManifest)));
    samples.other.push(await time(() => stagePlugin(state, 'memory', OTHER, readManifest)));
  },
};
for (let i = 0; i < ROUNDS; i++) {
  // Alternate the order every round so neither side always runs on a warmer page cache.
  const order = i % 2 === 0 ? (['cp', 'sha256sum', 'wfreload'] as const) : (['wfreload', 'sha256sum', 'cp'] as const);
  for (const leg of order) {
    if (leg === 'wfreload') await legs.wfreload(i);
    else samples[leg].push(await legs[leg](i));
  }
  await Promise.all([rm(join(scratch, `cp-${i}`), { recursive: true, force: true }), rm(join(scratch, `state-${i}`), { recursive: true, force: true })]);
}

const rows = [
  timingRowMin('floor: cp -r (copy only)', samples.cp),
  timingRowMin('floor: sha256sum of every file', samples.sha256sum),
  timingRowMin('wfreload stage, first time', samples.first),
  timingRowMin('wfreload stage, same bytes again', samples.again),
  timingRowMin('wfreload stage, the other version beside it', samples.other),
];
printTable(`Staging ${relative(root, PLUGIN)} (${du.split('\t')[0]} on disk, ${files.trim()} files), alternated in one run`, rows);
const p50 = (i: number) => rows[i]!.p50_ms;
const againRatio = round(p50(3) / p50(2), 2);
const firstRatio = round(p50(2) / p50(0), 2);
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
console.log(
  `\nsummary: again / first = ${againRatio} at p50 (target ≤ 0.25: ${verdict(againRatio <= 0.25)}); ` +
    `first / cp -r = ${firstRatio} (target ≤ 2: ${verdict(firstRatio <= 2)}); ` +
    `again / sha256sum = ${round(p50(3) / p50(1), 2)}; other version / first = ${round(p50(4) / p50(2), 2)}`,
);
await saveResults('staging', { rounds: ROUNDS, files: Number(files.trim()), size: du.split('\t')[0], rows, againOverFirstP50: againRatio, firstOverCpP50: firstRatio });
