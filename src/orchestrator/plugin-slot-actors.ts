/**
 * The bodies of the plugin slot's named actors (machines/plugin-slot.ts).
 * Each one does its work and reports a fact event; a thrown error becomes
 * STEP_FAILED with the error's code and message.
 */
import { pluginSlotMachine, type PluginSlotEvent } from '../../machines/plugin-slot.js';
import { fromWork as fromAnyWork } from './from-work.js';
import { ConfirmFailedError, toErrorInfo } from '../errors.js';
import { revertPending, type StateStore } from '../store/index.js';
import { faults } from './faults.js';
import type { NormalizedOptions } from './options.js';
import type { PluginHost } from './plugin-host.js';
import type { EngineRuntime } from './engine-runtime.js';

const fromWork = <TInput>(work: (input: TInput) => Promise<PluginSlotEvent | null>, failureEvent?: string) =>
  fromAnyWork<PluginSlotEvent, TInput>(work, failureEvent);

export function providePluginSlot(host: PluginHost, engines: EngineRuntime, store: StateStore, options: NormalizedOptions) {
  const log = options.logger;
  return pluginSlotMachine.provide({
    actors: {
      stageCandidate: fromWork(async ({ name, request }) => {
        const staged = await store.stagePlugin(name, request.sourceDir);
        const { manifest: _manifest, ...plain } = staged;
        return { type: 'STAGED', staged: plain };
      }),

      startCandidate: fromWork(async ({ staged }) => ({ type: 'CANDIDATE_STARTED', candidate: await host.launch(staged) })),

      watchCandidate: fromWork(async ({ candidate }) => {
        const process = host.process(candidate);
        await process.exited;
        return { type: 'CANDIDATE_EXITED', error: process.exitError('the reload')!.toJSON() };
      }),

      handshakeCandidate: fromWork(async ({ candidate }) => {
        await host.handshake(candidate);
        return { type: 'HANDSHAKE_PASSED' };
      }),

      probeCandidate: fromWork(async ({ candidate }) => {
        await host.probe(candidate);
        return { type: 'PROBE_PASSED' };
      }),

      checkAgainstEngine: fromWork(async ({ candidate }) => {
        await engines.checkPluginCandidate(candidate);
        return { type: 'ENGINE_CHECK_PASSED' };
      }),

      commitSwap: fromWork(async ({ candidate, request }) => {
        const process = host.process(candidate);
        const exitError = process.exitError('the swap');
        if (exitError) throw exitError;
        const target = `plugin:${candidate.name}`;
        // Disk first, as a pending (unconfirmed) swap: if the marker cannot be written nothing has changed,
        // and a host that dies from here until confirmation comes back on the previous version.
        await store.updateActiveMarker((marker) => {
          marker.pending[target] = {
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
        });
        faults.reached('pendingWritten');
        // The candidate may have died while the marker was written: put the marker back and fail before the pointer moves.
        const lateExit = process.exitError('the swap');
        if (lateExit) {
          await store.updateActiveMarker((marker) => revertPending(marker, target));
          throw lateExit;
        }
        // No await between the check above and this line: the swap is one synchronous step.
        const previous = host.setActive(candidate.name, candidate);
        host.setFallback(candidate, previous);
        return { type: 'SWAPPED', previous };
      }),

      confirmCandidate: fromWork(async ({ current, request }) => {
        try {
          await host.watchHealth(current, options.timeouts.confirmMs);
        } catch (error) {
          throw new ConfirmFailedError(`plugin:${current.name}`, toErrorInfo(error).message);
        }
        host.clearFallback(current);
        await store.updateActiveMarker((marker) => {
          // Only this reload's record: a newer one for the same target cannot exist (one reload per target).
          if (marker.pending[`plugin:${current.name}`]?.reloadId === request.reloadId) delete marker.pending[`plugin:${current.name}`];
        });
        return { type: 'CONFIRMED' };
      }, 'CONFIRM_FAILED'),

      // Never fails: the old plugin is alive, so pointing back at it always works.
      swapBack: fromWork(async ({ failed, previous, staged }) => {
        host.setActive(failed.name, previous);
        log.warn({ plugin: failed.name, from: failed.version, to: previous?.version ?? null }, 'the new version failed inside its confirmation window: swapped back');
        try {
          await store.updateActiveMarker((marker) => revertPending(marker, `plugin:${failed.name}`));
        } catch (error) {
          log.error({ err: error }, 'could not revert active.json; a restart will revert the pending swap');
        }
        await host.kill(failed);
        if (staged?.createdByReload) await store.removeStagedPlugin(staged.dir).catch(() => {});
        return { type: 'SWAPPED_BACK' };
      }),

      // Never fails: the swap already happened, so there is nothing to roll back to.
      drainPrevious: fromWork(async ({ previous }) => {
        try {
          if (previous && !(await host.drainAndStop(previous))) {
            log.warn({ plugin: previous.name, pid: previous.pid }, `drain timed out after ${options.timeouts.drainMs} ms; stopped with calls still in flight`);
          }
        } catch (error) {
          log.error({ err: error, plugin: previous?.name }, 'stopping the replaced plugin failed');
        }
        return { type: 'DRAINED' };
      }),

      // Never fails: a rollback that could fail would leave the candidate behind.
      discardCandidate: fromWork(async ({ candidate, staged }) => {
        try {
          if (candidate) await host.kill(candidate);
          if (staged?.createdByReload) await store.removeStagedPlugin(staged.dir);
        } catch (error) {
          log.error({ err: error }, 'cleaning up a candidate failed');
        }
        return { type: 'CANDIDATE_DISCARDED' };
      }),
    },
  });
}
