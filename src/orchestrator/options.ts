/**
 * Orchestrator options, normalised once at the edge (execa's normalizeOptions):
 * everything below trusts the result.
 */
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import type { InspectionEvent } from 'xstate';
import { InvalidArgumentError } from '../errors.js';

const ms = (fallback: number) => z.number().int().positive().max(3_600_000).default(fallback);

export const timeoutsSchema = z.strictObject({
  /** Time for the candidate to answer `initialize`. */
  handshakeMs: ms(5_000),
  /** Time for each `health` call. */
  healthMs: ms(2_000),
  /** Time for each manifest probe call. */
  probeMs: ms(5_000),
  /** Time for each `invoke` routed to an active plugin. */
  invokeMs: ms(30_000),
  /** How long a replaced plugin may take to finish its in-flight calls before it is stopped anyway. */
  drainMs: ms(10_000),
  /** Time between `shutdown` and SIGKILL. */
  graceMs: ms(2_000),
  /**
   * Slack every reload step gets on top of its own timeouts before the slot gives up on it (WFR_WORK_TIMEOUT):
   * staging copies, marker writes, kills. No slot waits forever on a step.
   */
  workMs: ms(30_000),
  /** After a swap, how long the new version must stay healthy (periodic health calls, no exit) before it is confirmed and the old one stopped. 0 = one health call. */
  confirmMs: z.number().int().nonnegative().max(3_600_000).default(2_000),
});

export type Timeouts = z.infer<typeof timeoutsSchema>;

const optionsSchema = z.strictObject({
  /** The state directory (created if missing). */
  stateDir: z.string().min(1),
  timeouts: timeoutsSchema.default(timeoutsSchema.parse({})),
  /** Supervision of active plugins that crash. */
  restart: z
    .strictObject({
      /** Restarts allowed per window before the plugin is marked failed. */
      maxRestarts: z.number().int().nonnegative().max(1000).default(5),
      windowMs: ms(60_000),
      /** First backoff delay; doubles per crash in the window. */
      backoffMs: ms(100),
      backoffMaxMs: ms(10_000),
    })
    .default({ maxRestarts: 5, windowMs: 60_000, backoffMs: 100, backoffMaxMs: 10_000 }),
  /** The journal rotates past this size; the history keeps the rotated file and the current one. */
  journalMaxBytes: z.number().int().positive().default(10 * 1024 * 1024),
  /** Staged versions kept per plugin besides the active and the previous one (older ones are pruned after each activation). */
  retention: z.strictObject({ keepVersions: z.number().int().nonnegative().max(1000).default(5) }).default({ keepVersions: 5 }),
  /** Longest stdout line a plugin may write. */
  maxLineBytes: z.number().int().positive().default(1024 * 1024),
  /** stderr lines kept per plugin for error messages. */
  stderrTailLines: z.number().int().positive().max(1000).default(20),
  /** stderr lines kept per plugin name, across its versions, for `wfctl plugin logs`. */
  logLines: z.number().int().positive().max(100_000).default(1000),
  /** Where the cgroup hierarchies are mounted; a path with none (e.g. /nonexistent) forces the polling fallback. */
  cgroupRoot: z.string().min(1).default(process.env.WFR_CGROUP_ROOT ?? '/sys/fs/cgroup'),
  /** Without cgroups: how often a limited plugin's resident memory is measured (pm2's way). */
  limitPollMs: z.number().int().positive().default(250),
  /** How often results the journal refused (a full or read-only disk) are tried again. */
  journalRetryMs: z.number().int().positive().default(1000),
  logger: z.custom<Logger>((value) => typeof value === 'object' && value !== null && 'child' in value).optional(),
  /** Receives every XState inspection event of the root `orchestrator` actor and its children (`engine`, `plugin:NAME`) and their work actors: live views. */
  inspect: z.custom<(event: InspectionEvent) => void>((value) => typeof value === 'function').optional(),
});

export type OrchestratorOptions = z.input<typeof optionsSchema>;

export interface NormalizedOptions extends Omit<z.infer<typeof optionsSchema>, 'logger'> {
  logger: Logger;
}

export function normalizeOrchestratorOptions(raw: unknown): NormalizedOptions {
  const parsed = optionsSchema.safeParse(raw);
  if (!parsed.success) throw new InvalidArgumentError('orchestrator options', z.prettifyError(parsed.error).replace(/\n/g, ' '));
  const { logger, ...rest } = parsed.data;
  return { ...rest, logger: logger ?? pino({ name: 'wfreload' }, pino.destination(2)) };
}
