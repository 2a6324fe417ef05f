/**
 * The bodies of the plugin slot's named actors (machines/plugin-slot.ts).
 * Each one does its work and reports a fact event; a thrown error becomes
 * STEP_FAILED with the error's code and message.
 */
import { swapsThroughHandoff, type PluginRef, type PluginSlotEvent, type PluginSlotMachine } from '../../machines/plugin-slot.js';
import { fromWork as fromAnyWork, type WorkOptions } from './from-work.js';
import { CleanupFailedError, ConfirmFailedError, RestartSupersededError, toErrorInfo } from '../errors.js';
import { revertPending, type ActiveMarker, type PreparedMarkerWrite, type StateStore } from '../store/index.js';
import { faults } from './faults.js';
import type { NormalizedOptions } from './options.js';
import { checkRequirements } from '../plugins/limits.js';
import type { PluginHost, PointerWriter } from './plugin-host.js';
import type { EngineRuntime } from './engine-runtime.js';
import { readManifest } from '../plugins/index.js';

const fromWork = <TInput>(work: (input: TInput, signal: AbortSignal) => Promise<PluginSlotEvent | null>, options: WorkOptions<TInput>) =>
  fromAnyWork<PluginSlotEvent, TInput>(work, options);

/** What a failed clean-up may have left: the process, if it still runs, and the staged copy. */
const leftBehind = (host: PluginHost, ref: PluginRef | null, stagedDir: string | null): string[] => [
  ...host.stillRunning([ref]),
  ...(stagedDir ? [`staged copy ${stagedDir}`] : []),
];

/** What a plugin slot's work needs. */
export interface PluginSlotDeps {
  host: PluginHost;
  pointer: PointerWriter;
  engines: EngineRuntime;
  store: StateStore;
  options: NormalizedOptions;
  /** Resolves once the reload's intent record is on the disk (src/orchestrator/intent-log.ts). */
  intentOnDisk: (reloadId: string) => Promise<void>;
}

/**
 * Give `slot` (the plugin slot as the orchestrator composes it, or as the engine slot runs it for a
 * config reload) its work. The same bodies either way: a config's plugin never reaches the pointer work.
 */
export function providePluginSlot(slot: PluginSlotMachine, { host, pointer, engines, store, options, intentOnDisk }: PluginSlotDeps): PluginSlotMachine {
  const log = options.logger;
  const { workMs, handshakeMs, healthMs, probeMs, confirmMs, drainMs, graceMs } = options.timeouts;
  // Every step's bound: its own timeouts, plus workMs of slack for the disk and the processes under it.
  const bound = (ms: number) => () => ms + workMs;
  const manifestProbes = (ref: PluginRef) => host.processes.get(ref.instanceId)?.manifest.probe?.length ?? 0;
  const cleanup = { failureEvent: 'CLEANUP_FAILED' } as const;
  /**
   * The swap's own marker write (disk first, as a pending swap): the new entry, and the pending record
   * that a host dying before the confirmation reverts.
   */
  const pendingSwap = (candidate: PluginRef, request: { reloadId: string }) => (marker: ActiveMarker) => {
    marker.pending[`plugin:${candidate.name}`] = {
      reloadId: request.reloadId,
      startedAt: new Date().toISOString(),
      previousPlugins: { [candidate.name]: marker.plugins[candidate.name] ?? null },
    };
    marker.plugins[candidate.name] = {
      version: candidate.version,
      dir: store.toStatePath(candidate.dir),
      digest: candidate.digest,
      activatedAt: new Date().toISOString(),
      reloadId: request.reloadId,
    };
  };
  /** Pending writes prepared while a candidate is probed, by its instance: its swap commits one, its discard drops it. */
  const preparedSwaps = new Map<string, PreparedMarkerWrite>();
  const takePreparedSwap = (candidate: PluginRef | null) => {
    const prepared = candidate ? preparedSwaps.get(candidate.instanceId) : undefined;
    if (candidate) preparedSwaps.delete(candidate.instanceId);
    return prepared ?? null;
  };
  return slot.provide({
    actors: {
      stageCandidate: fromWork(async ({ name, request }) => {
        const staged = await store.stagePlugin(name, request.sourceDir, readManifest);
        const { manifest, ...plain } = staged;
        try {
          checkRequirements(name, manifest.version, manifest.requires, host.activeLimits(name));
        } catch (error) {
          if (plain.createdByReload) await store.removeStagedPlugin(plain.dir);
          throw error;
        }
        host.rememberManifest(plain.dir, manifest);
        // The active version, byte for byte (the digest covers plugin.json, so name and version too), and serving.
        if (host.isServing(name, plain.digest)) return { type: 'ALREADY_ACTIVE' };
        return { type: 'STAGED', staged: plain };
      }, { name: 'stage', boundMs: bound(0) }),

      startCandidate: fromWork(async ({ staged, request }, signal) => {
        // The intent record was flushed while the candidate was staged: no process starts before it is on the disk.
        await intentOnDisk(request.reloadId);
        // Past the step's bound (or on close) nothing is spawned, and a process spawned meanwhile is killed.
        return { type: 'CANDIDATE_STARTED', candidate: await host.launch(staged, signal) };
      }, { name: 'start', boundMs: bound(0) }),

      watchCandidate: fromWork(async ({ candidate }) => {
        const process = host.process(candidate);
        // Released, not just exited: by then a limit the kernel enforced is known (the OOM kill is not a crash).
        await process.released;
        return { type: 'CANDIDATE_EXITED', error: process.exitError('the reload')!.toJSON() };
        // Lasts as long as its state: no bound.
      }, { name: 'watch' }),

      handshakeCandidate: fromWork(async ({ candidate }) => {
        await host.handshake(candidate);
        return { type: 'HANDSHAKE_PASSED' };
      }, { name: 'handshake', boundMs: bound(handshakeMs) }),

      probeCandidate: fromWork(async ({ candidate, request }) => {
        const probing = host.probe(candidate);
        // A reload that will swap writes and flushes its pending marker while the plugin answers the probe:
        // the swap then only renames it into place.
        if (swapsThroughHandoff(request)) preparedSwaps.set(candidate.instanceId, store.prepareActiveMarker(pendingSwap(candidate, request), { pending: true }));
        await probing;
        return { type: 'PROBE_PASSED' };
      }, { name: 'probe', boundMs: ({ candidate }) => healthMs + probeMs * manifestProbes(candidate) + workMs }),

      checkAgainstEngine: fromWork(async ({ candidate }) => {
        await engines.checkPluginCandidate(candidate);
        return { type: 'ENGINE_CHECK_PASSED' };
      }, { name: 'engine check', boundMs: () => probeMs * engines.activeProbeCount() + workMs }),

      // A restart's pointer change: active.json already names this version, so no marker write and no window.
      reinstate: fromWork(async ({ candidate, replacing }, signal) => {
        const current = host.activeRef(candidate.name);
        const describe = (ref: PluginRef | null) => (ref ? `${ref.version} (pid ${ref.pid})` : 'nothing');
        if ((current?.instanceId ?? null) !== (replacing?.instanceId ?? null)) throw new RestartSupersededError(candidate.name, describe(replacing), describe(current));
        const exit = host.process(candidate).exitError('the restart');
        if (exit) throw exit;
        if (signal.aborted) throw signal.reason;
        pointer.setActive(candidate.name, candidate);
        return { type: 'REINSTATED' };
      }, { name: 'reinstate', boundMs: bound(0) }),

      commitSwap: fromWork(async ({ candidate, request }, signal) => {
        const process = host.process(candidate);
        const exitError = process.exitError('the swap');
        if (exitError) throw exitError;
        const target = `plugin:${candidate.name}`;
        // Disk first, as a pending (unconfirmed) swap: if the marker cannot be written nothing has changed,
        // and a host that dies from here until confirmation comes back on the previous version.
        const prepared = takePreparedSwap(candidate);
        await (prepared ? prepared.commit() : store.updateActiveMarker(pendingSwap(candidate, request), { pending: true }));
        faults.reached('pendingWritten');
        // The candidate may have died while the marker was written, or the write outran the step's bound
        // (the slot has already rolled back): put the marker back and fail before the pointer moves.
        const lateExit = process.exitError('the swap');
        if (lateExit || signal.aborted) {
          await store.updateActiveMarker((marker) => revertPending(marker, target));
          throw lateExit ?? signal.reason;
        }
        // No await between the check above and this line: the swap is one synchronous step.
        const previous = pointer.setActive(candidate.name, candidate);
        host.setFallback(candidate, previous);
        return { type: 'SWAPPED', previous };
      }, { name: 'swap', boundMs: bound(0) }),

      confirmCandidate: fromWork(async ({ current, request }, signal) => {
        const target = `plugin:${current.name}`;
        const confirm = (marker: ActiveMarker) => {
          // Only this reload's record: a newer one for the same target cannot exist (one reload per target).
          if (marker.pending[target]?.reloadId === request.reloadId) delete marker.pending[target];
        };
        // Written and flushed while the window's last health call runs; put in place only once that call passed.
        let prepared = null as PreparedMarkerWrite | null;
        try {
          await host.watchHealth(current, options.timeouts.confirmMs, () => (prepared = store.prepareActiveMarker(confirm)));
        } catch (error) {
          prepared?.discard();
          const cause = toErrorInfo(error);
          throw new ConfirmFailedError(target, cause.message, cause.code);
        }
        // Past the bound the slot is already swapping back: confirming now would undo that.
        if (signal.aborted) {
          prepared?.discard();
          return null;
        }
        host.clearFallback(current);
        await (prepared ? prepared.commit() : store.updateActiveMarker(confirm));
        return { type: 'CONFIRMED' };
      }, { name: 'confirm', failureEvent: 'CONFIRM_FAILED', boundMs: bound(confirmMs + healthMs) }),

      // The pointer goes back first, synchronously: that part cannot fail. What can fail is the clean-up after it.
      swapBack: fromWork(async ({ failed, previous, staged }) => {
        pointer.setActive(failed.name, previous);
        log.warn({ plugin: failed.name, from: failed.version, to: previous?.version ?? null }, 'the new version failed inside its confirmation window: swapped back');
        try {
          await store.updateActiveMarker((marker) => revertPending(marker, `plugin:${failed.name}`));
        } catch (error) {
          log.error({ err: error }, 'could not revert active.json; a restart will revert the pending swap');
        }
        try {
          await host.kill(failed);
          if (staged?.createdByReload) await store.removeStagedPlugin(staged.dir);
        } catch (error) {
          throw new CleanupFailedError('swap back', leftBehind(host, failed, staged?.createdByReload ? staged.dir : null), error);
        }
        return { type: 'SWAPPED_BACK' };
      }, { name: 'swap back', ...cleanup, boundMs: bound(graceMs) }),

      // The swap already happened: a failure here is reported, and the slot still ends `active`. Drained means no
      // call in flight and told to stop; its exit and reaping finish after the answer (drainAndRetire).
      drainPrevious: fromWork(async ({ previous }) => {
        if (!previous) return { type: 'DRAINED' };
        try {
          if (!(await host.drainAndRetire(previous))) {
            log.warn({ plugin: previous.name, pid: previous.pid }, `drain timed out after ${drainMs} ms; stopped with calls still in flight`);
          }
        } catch (error) {
          throw new CleanupFailedError('drain', leftBehind(host, previous, null), error);
        }
        return { type: 'DRAINED' };
      }, { name: 'drain', ...cleanup, boundMs: bound(drainMs + graceMs) }),

      discardCandidate: fromWork(async ({ candidate, staged }) => {
        takePreparedSwap(candidate)?.discard();
        try {
          if (candidate) await host.kill(candidate);
          if (staged?.createdByReload) await store.removeStagedPlugin(staged.dir);
        } catch (error) {
          throw new CleanupFailedError('discard the candidate', leftBehind(host, candidate, staged?.createdByReload ? staged.dir : null), error);
        }
        return { type: 'CANDIDATE_DISCARDED' };
      }, { name: 'discard the candidate', ...cleanup, boundMs: bound(graceMs) }),
    },
  });
}
