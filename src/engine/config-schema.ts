/**
 * The engine config (YAML), validated with zod. Every error names its path in
 * the file, e.g. `pipelines[2].steps[0].use`. docs/config.md is the reference.
 */
import { z } from 'zod';
import { limitsSchema } from '../plugins/limits.js';
import { pluginNameSchema } from '../plugins/manifest.js';

export const BUILTIN_STEPS = ['set', 'respond', 'fail'] as const;
export type BuiltinStep = (typeof BUILTIN_STEPS)[number];

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

/** `host:port`; port 0 picks a free port at the first bind and keeps it while the address is unchanged. */
export const listenSchema = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/, 'must be host:port, e.g. 127.0.0.1:8080')
  .refine((value) => Number(value.slice(value.lastIndexOf(':') + 1)) <= 65_535, 'port must be at most 65535');

/** `METHOD /path/:param`. */
export const routeSchema = z
  .string()
  .regex(new RegExp(`^(${METHODS.join('|')}) (/[A-Za-z0-9._~:@!$&'()*+,;=%/-]*)$`), `must be "METHOD /path", METHOD one of ${METHODS.join(', ')}; path segments may be :params`);

const timeoutSchema = z.number().int().positive().max(600_000);

export const stepSchema = z.strictObject({
  /** `plugin.step` (a step type of a plugin under `plugins`), or a built-in: set, respond, fail. */
  use: z.string().regex(/^([a-z0-9][a-z0-9-]{0,62}\.[a-z][a-zA-Z0-9_-]{0,62}|set|respond|fail)$/, 'must be "plugin.step" or one of the built-ins set, respond, fail'),
  /** Input for the step; strings may hold {{ templates }} (docs/config.md#templates). */
  with: z.record(z.string(), z.unknown()).optional(),
  /** Name under which later steps find this step's output as `steps.NAME`; defaults to the step's index. */
  as: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an identifier').optional(),
  timeoutMs: timeoutSchema.optional(),
});

export const pipelineSchema = z.strictObject({
  route: routeSchema,
  steps: z.array(stepSchema).min(1, 'a pipeline needs at least one step'),
});

export const probeSchema = z.strictObject({
  /** `METHOD /concrete/path?query`, sent to the candidate before it may go live. */
  request: z.string().regex(/^[A-Z]+ \/\S*$/, 'must be "METHOD /path"'),
  body: z.unknown().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  expect: z.strictObject({
    status: z.number().int().min(100).max(599),
    /** The JSON response body must contain these keys with these values. */
    body: z.unknown().optional(),
  }),
});

export const pluginRefSchema = z.strictObject({
  /** The plugin directory, relative to the config file. */
  dir: z.string().min(1),
  /** Resource limits for its processes, enforced by the kernel (docs/operations.md#resource-limits). */
  limits: limitsSchema.optional(),
});

export const engineConfigSchema = z.strictObject({
  http: z.strictObject({ listen: listenSchema }),
  plugins: z.record(pluginNameSchema, pluginRefSchema).default({}),
  pipelines: z.array(pipelineSchema).min(1, 'the engine needs at least one pipeline'),
  probes: z.array(probeSchema).default([]),
});

export type EngineConfig = z.infer<typeof engineConfigSchema>;
export type PipelineConfig = z.infer<typeof pipelineSchema>;
export type StepConfig = z.infer<typeof stepSchema>;
export type ProbeConfig = z.infer<typeof probeSchema>;
