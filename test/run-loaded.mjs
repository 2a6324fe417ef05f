#!/usr/bin/env node
// `npm run test:loaded`: the whole suite (`npm test`) while two busy loops compete for the
// cores, as on a shared CI machine. The loops are stopped however the run ends.
// WFR_TEST_SLOWDOWN (default 3 here) stretches every bound the tests set; see test/helpers/slowdown.ts.
import { spawn } from 'node:child_process';

const LOOPS = Number(process.env.WFR_BUSY_LOOPS ?? 2);
const loops = Array.from({ length: LOOPS }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
const stopLoops = () => {
  for (const loop of loops) loop.kill('SIGKILL');
};
process.on('exit', stopLoops);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

console.log(`test:loaded: ${LOOPS} busy loops (pids ${loops.map((l) => l.pid).join(', ')}) compete for the cores during \`npm test\``);
const started = Date.now();
const test = spawn('npm', ['test'], { stdio: 'inherit', env: { ...process.env, WFR_TEST_SLOWDOWN: process.env.WFR_TEST_SLOWDOWN ?? '3' } });
test.on('exit', (code, signal) => {
  console.log(`test:loaded: npm test ${code === 0 ? 'passed' : `failed (${signal ?? `exit ${code}`})`} in ${Math.round((Date.now() - started) / 1000)} s under load; busy loops stopped`);
  process.exit(code ?? 1);
});
