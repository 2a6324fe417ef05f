/** Status queries: what runs, as the admin API and `wfctl status` show it. */
import { noLimits, type PluginLimits } from '../plugins/limits.js';
import { processUsage, type ProcessUsage } from '../plugins/process-usage.js';
import type { Enforcement } from '../plugins/plugin-process.js';
import type { AnyActorRef } from 'xstate';
import type { PluginHost } from './plugin-host.js';
import { leafState } from './step-recorder.js';
import type { Supervisor } from './supervisor.js';

/**
 * Whether a plugin serves, apart from how its last reload attempt ended: a rolled-back attempt leaves the
 * running version `serving`. `restarting`: its process died and the supervisor is starting it again;
 * `failed`: the supervisor gave up (its steps answer WFR_PLUGIN_FAILED until a new version is activated).
 */
export type PluginHealth = 'serving' | 'restarting' | 'failed';

/** What `listPlugins` reports per plugin. */
export interface PluginStatus {
  name: string;
  version: string;
  digest: string;
  pid: number;
  alive: boolean;
  health: PluginHealth;
  /** When its process started (null when it is not running); its uptime is now minus this. */
  startedAt: string | null;
  /** The slot machine's state, e.g. `active` or `handshaked` while a reload runs; after one, how it ended (see `health` for whether it serves). */
  state: string;
  steps: string[];
  callsInFlight: number;
  /** Times the supervisor restarted it after a crash (since this version was activated). */
  restarts: number;
  /** The supervisor gave up on it: its steps answer WFR_PLUGIN_FAILED until a new version is activated. */
  failed: boolean;
  /** What its process uses now (resident memory, CPU time so far), from /proc; null when it is not running. */
  usage: ProcessUsage | null;
  /** The engine config's limits it runs under, and how the kernel enforces them; null when it has none. */
  limits: { set: PluginLimits; enforcement: Enforcement } | null;
}

/** One entry per active plugin, with its slot's state (`active` when it has no slot, e.g. restored at boot). */
export function pluginStatuses(host: PluginHost, supervisor: Supervisor, slotOf: (name: string) => AnyActorRef | undefined): PluginStatus[] {
  return host.activeNames().map((name) => {
    const ref = host.activeRef(name)!;
    const process = host.processes.get(ref.instanceId);
    const slot = slotOf(name);
    const alive = process?.alive ?? false;
    return {
      name,
      version: ref.version,
      digest: ref.digest,
      pid: ref.pid,
      alive,
      health: host.failed.has(name) ? 'failed' : alive ? 'serving' : 'restarting',
      startedAt: alive ? new Date(process!.startedAt).toISOString() : null,
      state: slot ? leafState(slot.getSnapshot().value) : 'active',
      steps: process?.manifest.contract.steps.map((s) => s.type) ?? [],
      callsInFlight: process?.callsInFlight ?? 0,
      restarts: supervisor.restarts.get(name) ?? 0,
      failed: host.failed.has(name),
      usage: alive ? processUsage(ref.pid) : null,
      limits: process?.limits && !noLimits(process.limits) ? { set: process.limits, enforcement: process.enforcement } : null,
    };
  });
}
