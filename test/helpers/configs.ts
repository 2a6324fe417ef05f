/** Engine configs for tests, written as YAML files beside their plugins. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { makePluginDir, tempDir, type FakePluginSpec } from './plugin-dirs.js';

export interface ConfigSpec {
  listen?: string;
  /** The fake plugin behind the `fake` name. */
  plugin?: FakePluginSpec;
  /** Value echoed back by GET /echo/:word, so answers tell configs apart. */
  tag?: string;
  /** plugins.fake.limits. */
  limits?: Record<string, unknown>;
  /** Extra top-level fields or replacements (pipelines, probes…). */
  extra?: Record<string, unknown>;
}

/** A config serving GET /echo/:word through fake.echo, probed on /echo/probe. */
export async function writeConfig(spec: ConfigSpec = {}, dir?: string): Promise<string> {
  const root = dir ?? (await tempDir('wfr-config-'));
  const pluginDir = await makePluginDir(spec.plugin ?? {}, root);
  const config = {
    http: { listen: spec.listen ?? '127.0.0.1:0' },
    plugins: { fake: { dir: pluginDir, ...(spec.limits ? { limits: spec.limits } : {}) } },
    pipelines: [
      { route: 'GET /echo/:word', steps: [{ use: 'fake.echo', with: { tag: spec.tag ?? 'A' } }] },
      { route: 'GET /slow', steps: [{ use: 'fake.echo', with: { holdUntilFile: '{{ query.file }}', tag: spec.tag ?? 'A' } }] },
    ],
    probes: [{ request: 'GET /echo/probe', expect: { status: 200, body: { step: 'echo' } } }],
    ...spec.extra,
  };
  const file = join(root, `config-${spec.tag ?? 'A'}-${Math.random().toString(36).slice(2, 8)}.yaml`);
  await writeFile(file, stringify(config));
  return file;
}

export async function writeRawConfig(text: string): Promise<string> {
  const file = join(await tempDir('wfr-config-'), 'config.yaml');
  await writeFile(file, text);
  return file;
}
