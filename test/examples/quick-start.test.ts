/**
 * The README's quick start, through a real `wfctl serve` on the bundled
 * config (moved to a free port): greeter 2.0.0 is a good upgrade under the
 * config that routes to it, a manifest that lies about its version rolls
 * back, and a greeter that drops the routed step is refused.
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tempDir } from '../helpers/plugin-dirs.js';
import { startServe, wfctl, type RunningHost } from '../helpers/serve.js';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
let host: RunningHost;
let stateDir: string;
let work: string;
const hello = async () => (await fetch(`http://${host.front}/hello/Ada`)).json();
const run = (...args: string[]) => wfctl(host, stateDir, ...args);

beforeAll(async () => {
  work = await tempDir('wfr-quick-');
  stateDir = join(work, 'state');
  const config = (await readFile(join(examples, 'config/hello.yaml'), 'utf8')).replace('listen: 127.0.0.1:8080', 'listen: 127.0.0.1:0').replaceAll('../plugins/', join(examples, 'plugins/'));
  await writeFile(join(work, 'hello.yaml'), config);
  host = await startServe(stateDir, join(work, 'hello.yaml'));
});
afterAll(() => host?.stop());

it('a good upgrade activates, a lying manifest and a greeter without the routed step roll back; the good version keeps answering', async () => {
  expect(await hello()).toEqual({ message: 'Hello, Ada', version: '1.0.0' });

  const good = await run('plugin', 'try-activate', 'greeter', join(examples, 'plugins/greeter-v2'));
  expect(good.exitCode, good.stdout).toBe(0);
  expect(good.stdout).toMatch(/✓ plugin:greeter: activated 2\.0\.0/);
  expect(good.stdout).toMatch(/✓ engine check/);
  expect(await hello()).toEqual({ message: 'Hello, Ada!', version: '2.0.0' });

  const lying = join(work, 'greeter-bad');
  await cp(join(examples, 'plugins/greeter-v2'), lying, { recursive: true });
  await writeFile(join(lying, 'plugin.json'), (await readFile(join(lying, 'plugin.json'), 'utf8')).replace('"2.0.0"', '"2.1.0"'));
  const bad = await run('plugin', 'try-activate', 'greeter', lying);
  expect(bad.exitCode).toBe(1);
  expect(bad.stdout).toMatch(/✗ plugin:greeter: rolledBack at handshake/);

  // greeter 3.0.0 offers only `farewell`: healthy on its own, but GET /hello/:name routes to greeter.greet.
  const farewell = join(work, 'greeter-farewell');
  await cp(join(examples, 'plugins/greeter-v2'), farewell, { recursive: true });
  const manifest = JSON.parse(await readFile(join(farewell, 'plugin.json'), 'utf8'));
  await writeFile(join(farewell, 'plugin.json'), JSON.stringify({ ...manifest, version: '3.0.0', contract: { steps: [{ type: 'farewell' }] }, probe: [], sha256: {} }));
  const script = join(farewell, 'greeter.mjs');
  await writeFile(script, (await readFile(script, 'utf8')).replace("version: '2.0.0'", "version: '3.0.0'").replace("contract: { steps: [{ type: 'greet' }, { type: 'farewell' }] }", "contract: { steps: [{ type: 'farewell' }] }"));
  const dropped = await run('plugin', 'try-activate', 'greeter', farewell, '--json');
  const result = JSON.parse(dropped.stdout);
  expect(dropped.exitCode, dropped.stdout).toBe(1);
  expect(result).toMatchObject({ outcome: 'rolledBack', failedStep: 'engine check', error: { code: 'WFR_PLUGIN_BREAKS_ROUTES' } });
  expect(result.error.message).toContain('GET /hello/:name → greeter.greet at pipelines[0].steps[0].use');

  expect(await hello()).toEqual({ message: 'Hello, Ada!', version: '2.0.0' });
});
