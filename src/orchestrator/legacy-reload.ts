/**
 * The behaviour wfreload replaces, kept only so the difference can be shown
 * and measured: unload the active version first, then load the new one.
 * There is deliberately no machine for it: its order is the illegal one.
 */
import type { PluginRef } from '../../machines/plugin-slot.js';
import { toErrorInfo, type ErrorInfo } from '../errors.js';
import type { StateStore } from '../store/index.js';
import type { NormalizedOptions } from './options.js';
import type { PluginHost, PointerWriter } from './plugin-host.js';
import type { PluginReloadResult } from './reload-result.js';
import { StepRecorder } from './step-recorder.js';
import { readManifest } from '../plugins/index.js';

const legacyWork: Record<string, string> = {
  unloading: 'unload',
  staging: 'stage',
  starting: 'start',
  handshaking: 'handshake',
  probing: 'probe',
  registering: 'register',
};

export interface LegacyReloadFacts {
  id: string;
  target: string;
  name: string;
  sourceDir: string;
  host: PluginHost;
  /** The legacy path moves the pointer itself (unload, then register): kept for contrast. */
  pointer: PointerWriter;
  store: StateStore;
  options: NormalizedOptions;
}

export async function reloadPluginLegacy({ id, target, name, sourceDir, host, pointer, store, options }: LegacyReloadFacts): Promise<PluginReloadResult> {
  const startedAt = Date.now();
  const recorder = new StepRecorder((state) => legacyWork[state]);
  const previous = host.activeRef(name);
  let candidate: PluginRef | null = null;
  let error: ErrorInfo | null = null;
  let stagedDir: { dir: string; createdByReload: boolean } | null = null;
  try {
    recorder.enter('unloading');
    if (previous) {
      pointer.setActive(name, null);
      // No drain: the old host stopped the plugin with calls in flight.
      await host.process(previous).stop(options.timeouts.graceMs);
      host.processes.delete(previous.instanceId);
      await store.updateActiveMarker((marker) => {
        delete marker.plugins[name];
      });
    }
    recorder.enter('staging');
    const staged = await store.stagePlugin(name, sourceDir, readManifest);
    stagedDir = staged;
    recorder.enter('starting');
    candidate = await host.launch(staged);
    recorder.enter('handshaking');
    await host.handshake(candidate);
    recorder.enter('probing');
    await host.probe(candidate);
    recorder.enter('registering');
    await store.updateActiveMarker((marker) => {
      marker.plugins[name] = {
        version: candidate!.version,
        dir: store.toStatePath(candidate!.dir),
        digest: candidate!.digest,
        activatedAt: new Date().toISOString(),
        reloadId: id,
      };
    });
    pointer.setActive(name, candidate);
    recorder.close();
  } catch (caught) {
    recorder.close();
    error = toErrorInfo(caught);
    recorder.failLast(error);
    if (candidate) await host.kill(candidate);
    if (stagedDir?.createdByReload) await store.removeStagedPlugin(stagedDir.dir).catch(() => {});
  }
  const finished = Date.now();
  const version = (ref: PluginRef | null) => (ref ? { version: ref.version, digest: ref.digest, pid: ref.pid } : null);
  return {
    id,
    kind: 'plugin',
    target,
    name,
    source: sourceDir,
    dryRun: false,
    legacy: true,
    outcome: error ? 'failed' : 'activated',
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    ms: finished - startedAt,
    steps: recorder.steps,
    failedStep: recorder.steps.find((s) => s.error)?.work ?? null,
    error,
    previous: version(previous),
    active: host.versionInfo(host.activeRef(name)),
    candidate: version(candidate),
  };
}
