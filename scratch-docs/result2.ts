import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createOrchestrator, formatReloadResult } from '../src/index.js';

const stateDir = await mkdtemp(join(tmpdir(), 'wfdoc-state-'));
const host = await createOrchestrator({ stateDir, logger: pino({ level: 'silent' }) });
try {
  const r5 = await host.tryActivateConfig('/tmp/wfdoc/fail.yaml');
  console.log(formatReloadResult(r5));
  console.log(JSON.stringify(host.engineStatus()));
  const b = `http://${host.engineStatus()!.address}`;
  for (const [m, path, body, ct] of [['GET', '/fail'], ['GET', '/set'], ['GET', '/tpl/x%20y/?q=1&q=2'], ['HEAD', '/hello/Ada'], ['GET', '/hello/Ada'], ['POST', '/echo', 'plain text', 'text/plain'], ['POST', '/echo', '{bad', 'application/json'], ['GET', '/slow/a'], ['GET', '/slow/a']] as const) {
    const r = await fetch(b + path, { method: m, headers: { 'x-demo': 'hi', ...(ct ? { 'content-type': ct } : {}) }, body });
    console.log(m, path, r.status, r.headers.get('x-wfreload-generation'), r.headers.get('x-extra'), await r.text());
  }
  // plugin reload while engine active
  const p = await host.tryActivatePlugin('greeter', 'examples/plugins/greeter-v1');
  console.log(formatReloadResult(p));
  let r = await fetch(b + '/hello/Ada');
  console.log('after plugin swap', r.status, r.headers.get('x-wfreload-generation'), await r.text());
  // exclusion
  const running = host.tryActivateConfig('examples/config/hello-v2.yaml', { dryRun: true });
  try { await host.tryActivatePlugin('greeter', 'examples/plugins/greeter-v2'); } catch (e: any) { console.log('plugin during config:', e.code, e.message); }
  const dr = await running;
  console.log(JSON.stringify(dr.steps.map((s) => s.work)), formatReloadResult(dr));
  const running2 = host.tryActivatePlugin('greeter', 'examples/plugins/greeter-v2');
  try { await host.tryActivateConfig('examples/config/hello-v2.yaml'); } catch (e: any) { console.log('config during plugin:', e.code, e.message); }
  await running2;
  try { await host.tryActivateConfig('/tmp/wfdoc/missing.yaml').then((x) => console.log(formatReloadResult(x))); } catch (e: any) { console.log(e.message); }
  console.log(JSON.stringify(host.listPlugins().map((x) => [x.name, x.version, x.pid])));
  // reloadCurrentConfig
  const rc = await host.reloadCurrentConfig();
  console.log('reloadCurrent', formatReloadResult(rc), JSON.stringify(host.listPlugins().map((x) => [x.name, x.version, x.pid])));
} finally {
  await host.close();
}
