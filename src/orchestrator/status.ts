/** Status queries: what runs, as the admin API and `wfctl status` show it. */
import type { AnyActorRef } from 'xstate';
import type { PluginHost } from './plugin-host.js';
import { leafState } from './step-recorder.js';
import type { Supervisor } from './supervisor.js';

/** What `listPlugins` reports per plugin. */
export interface PluginStatus {
  name: string;
  version: string;
  digest: string;
  pid: number;
  alive: boolean;
  /** The slot machine's state, e.g. `active` or `handshaked` while a reload runs. */
  state: string;
  steps: string[];
  callsInFlight: number;
  /** Times the supervisor restarted it after a crash (since this version was activated). */
  restarts: number;
  /** The supervisor gave up on it: its steps answer WFR_PLUGIN_FAILED until a new version is activated. */
  failed: boolean;
}

/** One entry per active plugin, with its slot's state (`active` when it has no slot, e.g. restored at boot). */
export function pluginStatuses(host: PluginHost, supervisor: Supervisor, slotOf: (name: string) => AnyActorRef | undefined): PluginStatus[] {
  return host.activeNames().map((name) => {
    const ref = host.activeRef(name)!;
    const process = host.processes.get(ref.instanceId);
    const slot = slotOf(name);
    return {
      name,
      version: ref.version,
      digest: ref.digest,
      pid: ref.pid,
      alive: process?.alive ?? false,
      state: slot ? leafState(slot.getSnapshot().value) : 'active',
      steps: process?.manifest.contract.steps.map((s) => s.type) ?? [],
      callsInFlight: process?.callsInFlight ?? 0,
      restarts: supervisor.restarts.get(name) ?? 0,
      failed: host.failed.has(name),
    };
  });
}
