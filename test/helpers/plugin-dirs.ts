/**
 * Build plugin directories for tests: a plugin.json plus the fake plugin,
 * configured by its command-line flags.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './temp.js';

export { tempDir };

export const FAKE_PLUGIN = fileURLToPath(new URL('../fixtures/fake-plugin.mjs', import.meta.url));
export const EXAMPLES = fileURLToPath(new URL('../../examples/plugins/', import.meta.url));

export interface FakePluginSpec {
  name?: string;
  version?: string;
  /** Flags for fake-plugin.mjs, e.g. ['hang-initialize'] or ['reply-version=9.9.9']. */
  flags?: string[];
  steps?: string[];
  /** Extra or replacement manifest fields. */
  manifest?: Record<string, unknown>;
}

export async function makePluginDir(spec: FakePluginSpec = {}, parent?: string): Promise<string> {
  const dir = join(parent ?? (await tempDir('wfr-plugin-')), `${spec.name ?? 'fake'}-${spec.version ?? '1.0.0'}`);
  await mkdir(dir, { recursive: true });
  await copyFile(FAKE_PLUGIN, join(dir, 'plugin.mjs'));
  const manifest = {
    name: spec.name ?? 'fake',
    version: spec.version ?? '1.0.0',
    protocolVersion: 1,
    command: ['node', 'plugin.mjs', ...(spec.flags ?? [])],
    contract: { steps: (spec.steps ?? ['echo']).map((type) => ({ type })) },
    ...spec.manifest,
  };
  await writeFile(join(dir, 'plugin.json'), JSON.stringify(manifest, null, 2));
  return dir;
}
