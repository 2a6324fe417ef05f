/**
 * Per-plugin resource limits: the operator's word, in the engine config
 * (`plugins.NAME.limits`), against what a manifest says its plugin needs
 * (`requires`). Enforced by the kernel (cgroup.ts, and RLIMIT_NOFILE at
 * spawn); see docs/operations.md#resource-limits.
 */
import { z } from 'zod';
import { PluginRequiresMoreError } from '../errors.js';

export const limitsSchema = z.strictObject({
  /** The most memory its processes may use together, in MiB (cgroup memory.max / memory.limit_in_bytes). */
  memoryMiB: z.int().min(8, 'must be at least 8 (MiB): a process needs some memory to start').max(1024 * 1024).optional(),
  /** CPU time as a percentage of one core (200 = two cores), over 100 ms periods (cgroup cpu.max / cfs_quota_us). */
  cpuPercent: z.int().min(1).max(100 * 1024).optional(),
  /** Open file descriptors per process (RLIMIT_NOFILE, soft and hard). */
  openFiles: z.int().min(16, 'must be at least 16: node and go need a few descriptors to start').max(1024 * 1024).optional(),
  /** Processes and threads together (cgroup pids.max). */
  processes: z.int().min(1).max(1_000_000).optional(),
});

export type PluginLimits = z.infer<typeof limitsSchema>;

/** What a manifest says its plugin needs to run. */
export const requiresSchema = z.strictObject({
  memoryMiB: z.int().positive().optional(),
});

/** Throws PluginRequiresMoreError when `limits` allow less than `requires` asks for. */
export function checkRequirements(plugin: string, version: string, requires: z.infer<typeof requiresSchema> | undefined, limits: PluginLimits | undefined): void {
  if (requires?.memoryMiB !== undefined && limits?.memoryMiB !== undefined && requires.memoryMiB > limits.memoryMiB) {
    throw new PluginRequiresMoreError(plugin, version, 'memoryMiB', requires.memoryMiB, limits.memoryMiB);
  }
}

/** True when no limit is set. */
export const noLimits = (limits: PluginLimits | undefined): boolean => !limits || Object.values(limits).every((value) => value === undefined);
