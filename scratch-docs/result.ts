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
  console.log(JSON.stringify(host.engineStatus(), null, 2));
  const base = `http://${host.engineStatus()!.address}`;
  for (const [method, path, body] of [['GET', '/hello/Ada'], ['POST', '/count', { text: 'one two three' }], ['GET', '/nope'], ['GET', '/healthz']] as const) {
    const r = await fetch(base + path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    console.log(method, path, r.status, r.headers.get('x-wfreload-generation'), await r.text());
  }
  const r2 = await host.tryActivateConfig('examples/config/hello-v2.yaml');
  console.log(JSON.stringify(r2, null, 2));
  console.log(formatReloadResult(r2));
  const r3 = await host.tryActivateConfig('/tmp/wfdoc/build-fail.yaml');
  console.log(JSON.stringify(r3, null, 2));
  console.log(formatReloadResult(r3));
  const r4 = await host.tryActivateConfig('/tmp/wfdoc/probe-fail.yaml');
  console.log(JSON.stringify(r4, null, 2));
  console.log(formatReloadResult(r4));
  const r5 = await host.tryActivateConfig('/tmp/wfdoc/fail.yaml');
  console.log(formatReloadResult(r5));
  const b = `http://${host.engineStatus()!.address}`;
  for (const path of ['/fail', '/set', '/tpl/x%20y?q=1&q=2', '/boom', '/hello/Ada']) {
    const r = await fetch(b + path, { headers: { 'x-demo': 'hi' } });
    console.log('GET', path, r.status, r.headers.get('x-wfreload-generation'), r.headers.get('x-extra'), await r.text());
  }
  console.log(JSON.stringify(await (await import('node:fs/promises')).readFile(join(stateDir, 'active.json'), 'utf8')));
} finally {
  await host.close();
}
