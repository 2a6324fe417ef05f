import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createOrchestrator, formatReloadResult } from '../src/index.js';
const stateDir = await mkdtemp(join(tmpdir(), 'wfdoc-state-'));
const host = await createOrchestrator({ stateDir, logger: pino({ level: 'silent' }) });
try {
  console.log(formatReloadResult(await host.tryActivateConfig('/tmp/wfdoc/edge.yaml')));
  const b = `http://${host.engineStatus()!.address}`;
  for (const p of ['/nan', '/empty', '/items?x=1']) { const r = await fetch(b + p); console.log(p, r.status, await r.text()); }
  try { await host.reloadCurrentConfig(); } catch (e: any) { console.log(e.message); }
} finally { await host.close(); }
const h2 = await createOrchestrator({ stateDir: await mkdtemp(join(tmpdir(), 'wfdoc-state-')), logger: pino({ level: 'silent' }) });
try { await h2.reloadCurrentConfig(); } catch (e: any) { console.log(e.code, e.message); } finally { await h2.close(); }
