/** `npm run bench`: every benchmark, one after the other, each in its own process. */
import { execa } from 'execa';
import { join } from 'node:path';
import { root } from './lib.js';

const benches = ['cli-start', 'availability', 'swap-cost', 'front-door', 'staging', 'scale', 'soak', 'pm2'];
const extra = process.argv.slice(2);
const started = Date.now();
for (const bench of benches) {
  console.log(`\n=== bench/${bench}.ts ===`);
  await execa(process.execPath, ['--expose-gc', '--import', 'tsx', join(root, 'bench', `${bench}.ts`), ...extra], { stdio: 'inherit' });
}
console.log(`\nall benchmarks finished in ${Math.round((Date.now() - started) / 1000)} s; numbers in bench/results.json`);
