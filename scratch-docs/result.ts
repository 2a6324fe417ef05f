import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createOrchestrator, formatReloadResult } from '../src/index.js';

const stateDir = await mkdtemp(join(tmpdir(), 'wfdoc-state-'));
const host = await createOrchestrator({ stateDir, logger: pino({ level: 'silent' }) });
try {
  const result = await host.tryActivateConfig('examples/config/hello.yaml');
  console.log(JSON.stringify(result, null, 2));
  console.log(formatReloadResult(result));
  const r3 = await host.tryActivateConfig('/tmp/wfdoc/build-fail.yaml');
  console.log(formatReloadResult(r3), JSON.stringify(r3.candidate));
  const d = await host.tryActivateConfig('examples/config/hello-v2.yaml', { dryRun: true });
  console.log(formatReloadResult(d), JSON.stringify(d.steps.map((s) => s.work)));
} finally {
  await host.close();
}
