import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createOrchestrator, formatReloadResult } from '../src/index.js';

const stateDir = await mkdtemp(join(tmpdir(), 'wfdoc-state-'));
const host = await createOrchestrator({ stateDir, logger: pino({ level: 'silent' }) });
const blocker = createServer();
try {
  await host.tryActivateConfig('/tmp/wfdoc/fail.yaml');
  const a1 = host.engineStatus()!.address;
  await host.reloadCurrentConfig();
  console.log('port 0 kept:', a1, host.engineStatus()!.address);
  await new Promise<void>((res) => blocker.listen(8081, '127.0.0.1', () => res()));
  const busy = await host.tryActivateConfig('/tmp/wfdoc/move.yaml');
  console.log(formatReloadResult(busy), busy.failedStep, busy.error?.code);
  await new Promise<void>((res) => blocker.close(() => res()));
  const moved = await host.tryActivateConfig('/tmp/wfdoc/move.yaml');
  console.log(formatReloadResult(moved), JSON.stringify(host.engineStatus()));
  try { await fetch(`http://${a1}/set`); console.log('old still open'); } catch (e: any) { console.log('old address:', e.cause?.code); }
  const r = await fetch('http://127.0.0.1:8081/set');
  console.log(r.status, r.headers.get('x-wfreload-generation'));
} finally {
  await host.close();
}
