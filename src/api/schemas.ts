/**
 * The admin API's bodies, as zod schemas. The server validates requests with
 * them, tests validate responses (and `wfctl --json` output) with them, and
 * docs/api.md is generated from them (`npm run docs:api`), so the three
 * cannot drift apart.
 */
import { z } from 'zod';

export const errorInfoSchema = z.object({
  code: z.string().regex(/^WFR_[A-Z_]+$/),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

/** Every non-2xx answer. */
export const errorBodySchema = z.object({ error: errorInfoSchema });

export const versionInfoSchema = z.object({
  version: z.string(),
  digest: z.string(),
  pid: z.number().int().nullable(),
});

export const engineInfoSchema = z.object({
  generation: z.number().int().positive(),
  digest: z.string(),
  listen: z.string(),
});

export const reloadStepSchema = z.object({
  state: z.string(),
  work: z.string(),
  startedAt: z.iso.datetime(),
  ms: z.number().int().nonnegative(),
  error: errorInfoSchema.optional(),
});

export const reloadOutcomeSchema = z.enum(['activated', 'rolledBack', 'rejected', 'dryRunPassed', 'unchanged', 'failed', 'recovered', 'restarted', 'crashed', 'interrupted']);

const targetInfoSchema = z.union([versionInfoSchema, engineInfoSchema]);

/** The result of every reload: the answer to try-activate and reload, and each history entry. */
const reloadResultFields = {
  id: z.string(),
  kind: z.enum(['plugin', 'config']),
  target: z.string(),
  name: z.string(),
  source: z.string(),
  dryRun: z.boolean(),
  legacy: z.boolean(),
  outcome: reloadOutcomeSchema,
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  ms: z.number().int().nonnegative(),
  steps: z.array(reloadStepSchema),
  failedStep: z.string().nullable(),
  error: errorInfoSchema.nullable(),
  previous: targetInfoSchema.nullable(),
  active: targetInfoSchema.nullable(),
  candidate: targetInfoSchema.nullable(),
  requestId: z.string().optional(),
  cleanupError: errorInfoSchema.optional(),
};

/** A config reload's nested result for one plugin it started (same fields as a plugin reload's result). */
const nestedPluginResultSchema = z.object(reloadResultFields).meta({
  id: 'PluginResult',
  description: 'The result of one plugin a config reload started through its own plugin slot: the same fields as a plugin reload result, with the config reload id.',
});

export const reloadResultSchema = z.object({
  ...reloadResultFields,
  /** Config reloads: one result per plugin the candidate config started, each through its own plugin slot. */
  plugins: z.array(nestedPluginResultSchema).optional(),
});

export const pluginStatusSchema = z.object({
  name: z.string(),
  version: z.string(),
  digest: z.string(),
  pid: z.number().int(),
  alive: z.boolean(),
  /** serving; restarting (it died, the supervisor is starting it again); failed (the supervisor gave up). Apart from the last attempt's outcome. */
  health: z.enum(['serving', 'restarting', 'failed']),
  /** When its process started; its uptime is now minus this. */
  startedAt: z.iso.datetime().nullable(),
  state: z.string(),
  steps: z.array(z.string()),
  callsInFlight: z.number().int().nonnegative(),
  restarts: z.number().int().nonnegative(),
  failed: z.boolean(),
  /** Resident memory and CPU time of its process now (null when it is not running). */
  usage: z.object({ memoryBytes: z.number().nonnegative(), cpuSeconds: z.number().nonnegative() }).nullable(),
  /** plugins.NAME.limits of the engine config it runs under, and how the kernel enforces them (null: none set). */
  limits: z
    .object({
      set: z.object({ memoryMiB: z.number().optional(), cpuPercent: z.number().optional(), openFiles: z.number().optional(), processes: z.number().optional() }),
      enforcement: z.object({ cgroup: z.string().nullable(), openFiles: z.number().nullable() }),
    })
    .nullable(),
});

export const lastAttemptSchema = z.object({
  id: z.string(),
  outcome: reloadOutcomeSchema,
  finishedAt: z.iso.datetime(),
  failedStep: z.string().nullable(),
  error: errorInfoSchema.nullable(),
});

export const statusSchema = z.object({
  engine: engineInfoSchema
    .extend({ address: z.string().nullable(), source: z.string(), requestsInFlight: z.number().int().nonnegative() })
    .nullable(),
  plugins: z.array(pluginStatusSchema),
  /** target → id of the reload running on it. */
  inFlight: z.record(z.string(), z.string()),
  /** target → its most recent reload, so a failed one that left the previous version running is visible. */
  lastAttempts: z.record(z.string(), lastAttemptSchema),
  /** active.json's generation (bumped at every swap of anything). */
  markerGeneration: z.number().int().nonnegative(),
});

// ---------------------------------------------------------------- requests

const dryRun = z.boolean().default(false);
/** An idempotency key you choose (e.g. a campaign's id): echoed in the result; asked again, it answers with that reload instead of starting one. */
const requestId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'requestId: 1 to 128 letters, digits or . _ : - starting with a letter or digit').optional();

export const tryActivatePluginBodySchema = z.strictObject({
  /** The plugin directory, as an absolute path on the host (wfctl resolves relative paths for you). */
  dir: z.string().min(1).max(4096),
  dryRun,
  requestId,
});

export const rollbackBodySchema = z.strictObject({
  /** A staged version (or digest prefix) to go back to; without it, the version active before the current one. */
  to: z.string().min(1).max(256).optional(),
  dryRun,
  requestId,
});

export const stagedVersionSchema = z.object({
  version: z.string(),
  /** The first 12 hex digits of the digest. */
  digest: z.string(),
  dir: z.string(),
  stagedAt: z.iso.datetime(),
  active: z.boolean(),
  /** Active before the current version: what a rollback without `to` activates. */
  previous: z.boolean(),
});

export const livezSchema = z.object({ live: z.literal(true) });
export const readyzSchema = z.union([
  z.object({ ready: z.literal(true) }),
  z.object({ ready: z.literal(false), reason: z.enum(['no-engine', 'plugin-failed', 'plugin-restarting', 'confirming']) }),
]);

export const pruneBodySchema = z.strictObject({
  /** One plugin; without it, every plugin with staged versions. */
  name: z.string().min(1).max(63).optional(),
  /** Staged versions kept besides the active and the previous one (default: the host's retention.keepVersions). */
  keep: z.number().int().nonnegative().max(1000).optional(),
});

const versionBriefSchema = z.object({ version: z.string(), digest: z.string(), dir: z.string() });
export const pruneResultSchema = z.object({
  plugins: z.array(z.object({ name: z.string(), removed: z.array(versionBriefSchema), kept: z.array(versionBriefSchema) })),
  /** Without `name`: the staged configs (STATE/configs/DIGEST.yaml) removed and kept. */
  configs: z.object({ removed: z.array(z.string()), kept: z.array(z.string()) }).optional(),
});

export const pluginLogsSchema = z.object({
  name: z.string(),
  /** Oldest first: each stderr line with when it came, and the process (pid, version) that wrote it. */
  lines: z.array(z.object({ at: z.iso.datetime(), pid: z.number().int(), version: z.string(), line: z.string() })),
});

export const pluginVersionsSchema = z.object({ name: z.string(), versions: z.array(stagedVersionSchema) });

export const legacyReloadBodySchema = z.strictObject({
  dir: z.string().min(1).max(4096),
});

export const tryActivateConfigBodySchema = z
  .strictObject({
    /** A config file on the host (absolute path). */
    file: z.string().min(1).max(4096).optional(),
    /** Or the config text itself; its plugin directories must then be absolute paths or relative to the host's working directory. */
    yaml: z.string().min(1).max(1024 * 1024).optional(),
    dryRun,
    requestId,
  })
  .refine((body) => (body.file === undefined) !== (body.yaml === undefined), 'give exactly one of "file" or "yaml"');

export const reloadListSchema = z.object({ reloads: z.array(reloadResultSchema) });
export const pluginListSchema = z.object({ plugins: z.array(pluginStatusSchema.extend({ lastAttempt: lastAttemptSchema.nullable() })) });
