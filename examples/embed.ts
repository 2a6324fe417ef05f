/**
 * A host program that embeds wfreload: activate a plugin, upgrade it, try a
 * bad candidate, and show that the good version kept serving.
 *
 *   npx tsx examples/embed.ts [STATE_DIR]
 */
import { mkdtemp, cp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createOrchestrator, formatReloadResult } from '../src/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
// Without a STATE_DIR argument, a temporary one, removed at the end.
const given = process.argv[2];
const stateDir = given ?? (await mkdtemp(join(tmpdir(), 'wfreload-embed-')));

const host = await createOrchestrator({
  stateDir,
  // Plugin stderr and transitions go to the log; keep the demo output readable.
  logger: pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2)),
});

try {
  const first = await host.tryActivatePlugin('greeter', join(here, 'plugins/greeter-v1'));
  console.log(formatReloadResult(first));
  console.log('  invoke →', JSON.stringify(await host.invoke('greeter', 'greet', { name: 'Ada' })));

  const upgrade = await host.tryActivatePlugin('greeter', join(here, 'plugins/greeter-v2'));
  console.log(formatReloadResult(upgrade));
  console.log('  invoke →', JSON.stringify(await host.invoke('greeter', 'greet', { name: 'Ada' })));

  // A bad candidate: greeter v2's files with a manifest that claims a version the binary does not report.
  const bad = await mkdtemp(join(tmpdir(), 'wfreload-bad-'));
  await cp(join(here, 'plugins/greeter-v2'), bad, { recursive: true });
  const manifest = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(join(bad, 'plugin.json'), 'utf8')));
  await writeFile(join(bad, 'plugin.json'), JSON.stringify({ ...manifest, version: '3.0.0' }));
  const failed = await host.tryActivatePlugin('greeter', bad);
  await rm(bad, { recursive: true, force: true });
  console.log(formatReloadResult(failed));
  console.log('  failed step:', failed.failedStep, '| error code:', failed.error?.code);
  console.log('  invoke →', JSON.stringify(await host.invoke('greeter', 'greet', { name: 'Ada' })));

  console.log('state directory:', given ? stateDir : `${stateDir} (temporary, removed)`);
} finally {
  await host.close();
  if (!given) await rm(stateDir, { recursive: true, force: true });
}
