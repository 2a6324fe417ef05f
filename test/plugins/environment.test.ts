/**
 * Every plugin gets a writable data directory, STATE/data/NAME, in
 * WFRELOAD_DATA_DIR, kept across versions (staged directories stay read-only);
 * the manifest's `env` reaches the process, with ${WFRELOAD_DATA_DIR} expanded.
 */
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openTestHost, type TestHost } from '../helpers/host.js';
import { makePluginDir } from '../helpers/plugin-dirs.js';

let t: TestHost;
beforeEach(async () => {
  t = await openTestHost();
});
afterEach(async () => {
  await t.close();
});

const readEnv = () => t.host.invoke('fake', 'echo', { readEnv: ['WFRELOAD_DATA_DIR', 'CACHE_FILE', 'PLAIN'] }) as Promise<{ env: Record<string, string | null> }>;

it('gives every plugin its data directory and its manifest env, the same across versions', async () => {
  const env = { CACHE_FILE: '${WFRELOAD_DATA_DIR}/cache.db', PLAIN: 'costs $5' };
  expect((await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0', manifest: { env } }))).outcome).toBe('activated');
  const dataDir = join(t.stateDir, 'data', 'fake');
  expect((await readEnv()).env).toEqual({ WFRELOAD_DATA_DIR: dataDir, CACHE_FILE: `${dataDir}/cache.db`, PLAIN: 'costs $5' });
  const info = await stat(dataDir);
  expect(info.isDirectory()).toBe(true);
  expect(info.mode & 0o777).toBe(0o700);

  // What version 1 wrote there, version 2 finds.
  await writeFile(join(dataDir, 'cache.db'), 'kept');
  expect((await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.0' }))).outcome).toBe('activated');
  expect((await readEnv()).env).toEqual({ WFRELOAD_DATA_DIR: dataDir, CACHE_FILE: null, PLAIN: null });
  expect((await stat(join(dataDir, 'cache.db'))).size).toBe(4);
});
