/**
 * Read, parse and validate an engine config. Pure checks only (no plugin is
 * started here): syntax, schema, and cross-references within the file.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigInvalidError, ConfigUnreadableError } from '../errors.js';
import { BUILTIN_STEPS, engineConfigSchema, type EngineConfig } from './config-schema.js';
import { findProtoKey } from '../util/find-proto-key.js';

export interface LoadedConfig {
  config: EngineConfig;
  /** The file's text, exactly as read (what gets staged). */
  text: string;
  /** sha256 of `text`. */
  digest: string;
  /** Absolute path of the file it came from (plugin dirs resolve against its directory). */
  source: string;
  /** Plugin name → absolute directory. */
  pluginDirs: Record<string, string>;
}

const pathOf = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)), '');

/** Validate config text; `source` is used for messages and to resolve plugin directories. */
export function parseConfig(text: string, source: string): LoadedConfig {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    // The yaml package's message names the line and column, then shows the lines around it with a caret: keep all of it.
    throw new ConfigInvalidError(source, document.errors.map((error) => `✖ ${error.message.trimEnd()}`));
  }
  let json: unknown;
  try {
    // Aliases are expanded here; a copy through JSON refuses self-references (a cycle would recurse forever when serving).
    json = JSON.parse(JSON.stringify(document.toJS({ maxAliasCount: 100 })));
  } catch (error) {
    throw new ConfigInvalidError(source, [`✖ ${(error as Error).message.split('\n')[0]} (YAML anchors and aliases must not refer to themselves or be missing)`]);
  }
  const protoPath = findProtoKey(json);
  if (protoPath !== null) throw new ConfigInvalidError(source, [`✖ ${protoPath || '(top level)'}: the key "__proto__" is not allowed`]);
  const parsed = engineConfigSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigInvalidError(source, parsed.error.issues.map((issue) => `✖ ${pathOf(issue.path) || '(top level)'}: ${issue.message}`));
  }
  const config = parsed.data;
  const problems: string[] = [];
  const routes = new Map<string, number>();
  config.pipelines.forEach((pipeline, p) => {
    const shape = pipeline.route.replace(/:[^/]+/g, ':');
    if (routes.has(shape)) problems.push(`✖ pipelines[${p}].route: "${pipeline.route}" duplicates pipelines[${routes.get(shape)}].route`);
    routes.set(shape, p);
    pipeline.steps.forEach((step, s) => {
      const [plugin] = step.use.split('.');
      if (!(BUILTIN_STEPS as readonly string[]).includes(step.use) && !Object.hasOwn(config.plugins, plugin!)) {
        problems.push(`✖ pipelines[${p}].steps[${s}].use: plugin "${plugin}" is not declared under plugins (declared: ${Object.keys(config.plugins).join(', ') || 'none'})`);
      }
    });
  });
  if (problems.length > 0) throw new ConfigInvalidError(source, problems);
  const base = dirname(source);
  const pluginDirs = Object.fromEntries(Object.entries(config.plugins).map(([name, ref]) => [name, resolve(base, ref.dir)]));
  return { config, text, digest: createHash('sha256').update(text).digest('hex'), source, pluginDirs };
}

export async function loadConfig(file: string): Promise<LoadedConfig> {
  const source = resolve(file);
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (error) {
    throw new ConfigUnreadableError(source, error);
  }
  return parseConfig(text, source);
}
