/**
 * plugin.json: what a plugin promises before it runs. Validated strictly
 * (unknown keys are errors) so a typo cannot silently disable a check.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ManifestInvalidError, PluginDirUnreadableError } from '../errors.js';
import { PROTOCOL_VERSION } from './cookie.js';
import { findProtoKey } from '../util/find-proto-key.js';

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

export const manifestSchema = z.strictObject({
  /** Also the slot name; a manifest offered for another slot is rejected. */
  name: pluginNameSchema,
  version: semverSchema,
  protocolVersion: z.literal(PROTOCOL_VERSION, { error: `must be ${PROTOCOL_VERSION}, the protocol this host speaks` }),
  /** argv. The first element is a path inside the plugin directory (e.g. `./run.sh`) or a bare program name from PATH (e.g. `python3`; `node` means the host's own node). */
  command: z.array(z.string().min(1)).min(1, 'must name a program to run'),
  description: z.string().optional(),
  contract: contractSchema,
  /** file (relative to the plugin directory) → lowercase hex sha256; verified on the staged copy. */
  sha256: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits')).optional(),
  probe: z.array(manifestProbeSchema).optional(),
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
  const steps = new Set(parsed.data.contract.steps.map((s) => s.type));
  const unknownProbe = parsed.data.probe?.find((p) => !steps.has(p.step));
  if (unknownProbe) {
    throw new ManifestInvalidError(file, `✖ probe step "${unknownProbe.step}" is not in contract.steps\n  → at probe`);
  }
  return parsed.data;
}

export async function readManifest(dir: string): Promise<Manifest> {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ManifestInvalidError(file, `✖ ${MANIFEST_FILE} is missing; every plugin directory needs one (docs/protocol.md#manifest)`);
    }
    throw new PluginDirUnreadableError(dir, error);
  }
  return parseManifest(text, file);
}
