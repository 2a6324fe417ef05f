import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createOrchestrator, formatReloadResult } from '../src/index.js';

const stateDir = await mkdtemp(join(tmpdir(), 'wfdoc-state-'));
const host = await createOrchestrator({ stateDir, logger: pino({ level: 'silent' }) });
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
try {
  const p = await host.tryActivatePlugin('greeter', 'examples/plugins/greeter-v1');
  console.log(formatReloadResult(p));
  const pid = p.active!.pid!;
  const r = await host.tryActivateConfig('/tmp/wfdoc/fail.yaml');
  console.log(formatReloadResult(r));
  await new Promise((res) => setTimeout(res, 500));
  console.log('old greeter v1 pid', pid, 'alive?', alive(pid), JSON.stringify(host.listPlugins().map((x) => [x.name, x.version, x.pid])));
} finally {
  await host.close();
}
