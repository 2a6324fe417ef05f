/**
 * plugin.json: what a plugin promises before it runs. Validated strictly
 * (unknown keys are errors) so a typo cannot silently disable a check.
 */
import { readTextFile } from '../util/read-text.js';
import { join } from 'node:path';
import { z } from 'zod';
import { ManifestInvalidError, PluginDirUnreadableError } from '../errors.js';
import { PROTOCOL_VERSION } from './cookie.js';
import { findProtoKey } from '../util/find-proto-key.js';
import { requiresSchema } from './limits.js';

export const MANIFEST_FILE = 'plugin.json';

export const pluginNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 lowercase letters, digits or "-", starting with a letter or digit');

// Semantic Versioning 2.0.0, without build metadata normalisation.
const semverSchema = z
  .string()
  .regex(
    /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/,
    'must be a semantic version such as 1.2.3',
  );

const jsonObjectSchema = z.record(z.string(), z.unknown());

/** One step type a plugin offers. */
export const stepContractSchema = z.strictObject({
  /** The name callers use in `invoke {step}` and configs use as `plugin.step`. */
  type: z.string().regex(/^[a-z][a-zA-Z0-9_-]{0,62}$/, 'must start with a lowercase letter, then letters, digits, "_" or "-"'),
  /** JSON Schema of `input`, for documentation and tooling. */
  inputSchema: jsonObjectSchema.optional(),
  /** JSON Schema of `output`. */
  outputSchema: jsonObjectSchema.optional(),
});

export const contractSchema = z.strictObject({
  steps: z
    .array(stepContractSchema)
    .min(1, 'a plugin must offer at least one step')
    .refine((steps) => new Set(steps.map((s) => s.type)).size === steps.length, 'step types must be unique'),
});

/** A call the host makes after `health` passes; the candidate goes live only if every probe answers as expected. */
export const manifestProbeSchema = z.strictObject({
  step: z.string(),
  input: z.unknown().optional(),
  /** The output must contain these keys with these values (a deep subset). */
  expect: jsonObjectSchema.optional(),
});

/** The variable `env` values may name: the plugin's writable data directory, kept across versions. */
export const DATA_DIR_VARIABLE = 'WFRELOAD_DATA_DIR';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const envSchema = z
  .record(
    z.string(),
    z
      .string()
      .refine((value) => value.replaceAll(`\${${DATA_DIR_VARIABLE}}`, '').indexOf('${') < 0, `only \${${DATA_DIR_VARIABLE}} is expanded; write "$" alone for a literal`),
  )
  .superRefine((env, context) => {
    // Checked here rather than as the record's key schema, whose complaint would not say what is wrong.
    for (const name of Object.keys(env)) {
      if (!ENV_NAME.test(name)) context.addIssue({ code: 'custom', path: [name], message: `"${name}" must be a variable name (letters, digits, "_", not starting with a digit)` });
      else if (name.startsWith('WFRELOAD_')) context.addIssue({ code: 'custom', path: [name], message: `"${name}": names starting with WFRELOAD_ are the host's own` });
    }
  })
  .optional();

const protoFileSchema = z
  .string()
  .min(1)
  .refine((path) => !path.startsWith('/') && !path.split(/[\\/]/).includes('..'), 'must be a path inside the plugin directory (relative, no "..")')
  .refine((path) => path.endsWith('.proto'), 'must name a .proto file');

/** go-plugin only, and required there: what go-plugin's HandshakeConfig and the plugin's gRPC service say (docs/plugins.md#go-plugin-plugins). */
export const goPluginSchema = z.strictObject({
  /** The plugin's HandshakeConfig.MagicCookieKey/Value: the host puts KEY=VALUE in its environment. */
  magicCookie: z.strictObject({
    key: z
      .string()
      .regex(ENV_NAME, 'must be a variable name (letters, digits, "_", not starting with a digit)')
      .refine((key) => !/^(WFRELOAD_|PLUGIN_)/.test(key), 'names starting with WFRELOAD_ or PLUGIN_ are the host\'s and go-plugin\'s own'),
    value: z.string().min(1),
  }),
  /** The app protocol versions the host accepts (sent as PLUGIN_PROTOCOL_VERSIONS); the plugin's handshake must name one. */
  appProtocolVersions: z.array(z.int().min(1)).min(1, 'must list at least one version'),
  /** The .proto files (in the plugin directory) that define the service. */
  protoFiles: z.array(protoFileSchema).min(1, 'must name the .proto file that defines the service'),
  /** The fully qualified service name, e.g. kv.KV. */
  service: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'must be a fully qualified gRPC service name such as kv.KV'),
  /** Each contract step → the unary method of the service it calls. */
  steps: z.record(z.string(), z.strictObject({ method: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a method name of the service, such as Get') })),
});

export const manifestSchema = z.strictObject({
  /** Also the slot name; a manifest offered for another slot is rejected. */
  name: pluginNameSchema,
  /** The plugin's own version (for an MCP server wrapped from npm: the package's version). */
  version: semverSchema,
  /** `wfreload` (the default: this project's protocol, docs/protocol.md), `mcp` (a Model Context Protocol server on stdio) or `go-plugin` (a hashicorp/go-plugin gRPC plugin). */
  protocol: z.enum(['wfreload', 'mcp', 'go-plugin']).optional(),
  /** wfreload protocol only: must be the version this host speaks. MCP negotiates its own version in `initialize`. */
  protocolVersion: z.literal(PROTOCOL_VERSION, { error: `must be ${PROTOCOL_VERSION}, the protocol this host speaks` }).optional(),
  /** MCP only, and required there: exactly the `serverInfo` the server must report in `initialize`. */
  serverInfo: z.strictObject({ name: z.string().min(1), version: z.string().min(1) }).optional(),
  /** go-plugin only, and required there. */
  goPlugin: goPluginSchema.optional(),
  /** Environment for the process. `${WFRELOAD_DATA_DIR}` expands to the plugin's writable data directory. */
  env: envSchema,
  /** argv. The first element is a path inside the plugin directory (e.g. `./run.sh`) or a bare program name from PATH (e.g. `python3`; `node` means the host's own node). */
  command: z.array(z.string().min(1)).min(1, 'must name a program to run'),
  description: z.string().optional(),
  contract: contractSchema,
  /** file (relative to the plugin directory) → lowercase hex sha256; verified on the staged copy. */
  sha256: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits')).optional(),
  probe: z.array(manifestProbeSchema).optional(),
  /** What the plugin needs to run; a config whose limits allow less rejects it at stage. */
  requires: requiresSchema.optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type Contract = z.infer<typeof contractSchema>;

/** Parse and validate a manifest's text; `file` is only used in messages. */
export function parseManifest(text: string, file: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ManifestInvalidError(file, `✖ not valid JSON: ${(error as Error).message}`);
  }
  const protoPath = findProtoKey(json);
  if (protoPath !== null) throw new ManifestInvalidError(file, `✖ the key "__proto__" is not allowed\n  → at ${protoPath}`);
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) throw new ManifestInvalidError(file, z.prettifyError(parsed.error));
  const protocolProblem = checkProtocolFields(parsed.data);
  if (protocolProblem) throw new ManifestInvalidError(file, protocolProblem);
  const steps = new Set(parsed.data.contract.steps.map((s) => s.type));
  const unknownProbe = parsed.data.probe?.find((p) => !steps.has(p.step));
  if (unknownProbe) {
    throw new ManifestInvalidError(file, `✖ probe step "${unknownProbe.step}" is not in contract.steps\n  → at probe`);
  }
  return parsed.data;
}

/** The fields each protocol requires or forbids, as a message, or null when they fit. */
function checkProtocolFields(manifest: Manifest): string | null {
  if (manifest.protocol !== 'go-plugin' && manifest.goPlugin !== undefined) return '✖ "goPlugin" is for go-plugin plugins only: add "protocol": "go-plugin", or remove it\n  → at goPlugin';
  if (manifest.protocol === 'go-plugin') {
    if (manifest.goPlugin === undefined) return '✖ a go-plugin plugin must declare "goPlugin": {magicCookie, appProtocolVersions, protoFiles, service, steps}\n  → at goPlugin';
    if (manifest.protocolVersion !== undefined) return '✖ "protocolVersion" is the wfreload protocol\'s version; a go-plugin plugin declares "goPlugin.appProtocolVersions" instead\n  → at protocolVersion';
    if (manifest.serverInfo !== undefined) return '✖ "serverInfo" is for MCP plugins only: remove it\n  → at serverInfo';
    const mapped = Object.keys(manifest.goPlugin.steps);
    const declared = manifest.contract.steps.map((step) => step.type);
    const unmapped = declared.find((step) => !mapped.includes(step));
    if (unmapped !== undefined) return `✖ contract step "${unmapped}" has no method: add "${unmapped}": {"method": "…"} to goPlugin.steps\n  → at goPlugin.steps`;
    const extra = mapped.find((step) => !declared.includes(step));
    if (extra !== undefined) return `✖ goPlugin.steps maps "${extra}", which contract.steps does not declare\n  → at goPlugin.steps.${extra}`;
    return null;
  }
  if (manifest.protocol === 'mcp') {
    if (manifest.serverInfo === undefined) return '✖ an MCP plugin must declare "serverInfo": {"name": …, "version": …}, exactly what its server reports in initialize\n  → at serverInfo';
    if (manifest.protocolVersion !== undefined) return '✖ "protocolVersion" is the wfreload protocol\'s version; an MCP server negotiates its own in initialize, so remove it\n  → at protocolVersion';
    return null;
  }
  if (manifest.protocolVersion === undefined) return `✖ Invalid input: expected ${PROTOCOL_VERSION}, the protocol this host speaks (or "protocol": "mcp" for an MCP server)\n  → at protocolVersion`;
  if (manifest.serverInfo !== undefined) return '✖ "serverInfo" is for MCP plugins only: add "protocol": "mcp", or remove it\n  → at serverInfo';
  return null;
}

/** `env` with `${WFRELOAD_DATA_DIR}` expanded, plus WFRELOAD_DATA_DIR itself: what the plugin's process gets. */
export function pluginEnvironment(manifest: Pick<Manifest, 'env'>, dataDir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(manifest.env ?? {})) env[name] = value.replaceAll(`\${${DATA_DIR_VARIABLE}}`, () => dataDir);
  env[DATA_DIR_VARIABLE] = dataDir;
  return env;
}

export async function readManifest(dir: string): Promise<Manifest> {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readTextFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ManifestInvalidError(file, `✖ ${MANIFEST_FILE} is missing; every plugin directory needs one (docs/protocol.md#manifest)`);
    }
    throw new PluginDirUnreadableError(dir, error);
  }
  return parseManifest(text, file);
}
