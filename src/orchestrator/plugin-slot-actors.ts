/**
 * The bodies of the plugin slot's named actors (machines/plugin-slot.ts).
 * Each one does its work and reports a fact event; a thrown error becomes
 * STEP_FAILED with the error's code and message.
 */
import { pluginSlotMachine, type PluginSlotEvent } from '../../machines/plugin-slot.js';
import { fromWork as fromAnyWork } from './from-work.js';
import type { StateStore } from '../store/index.js';
import type { NormalizedOptions } from './options.js';
import type { PluginHost } from './plugin-host.js';

const fromWork = <TInput>(work: (input: TInput) => Promise<PluginSlotEvent | null>) => fromAnyWork<PluginSlotEvent, TInput>(work);

export function providePluginSlot(host: PluginHost, store: StateStore, options: NormalizedOptions) {
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

      commitSwap: fromWork(async ({ candidate, request }) => {
        const process = host.process(candidate);
        const exitError = process.exitError('the swap');
        if (exitError) throw exitError;
        const previousEntry = store.activeMarker.plugins[candidate.name];
        // Disk first: if the marker cannot be written, nothing has changed yet.
        await store.updateActiveMarker((marker) => {
          marker.plugins[candidate.name] = {
            version: candidate.version,
            dir: store.toStatePath(candidate.dir),
            digest: candidate.digest,
            activatedAt: new Date().toISOString(),
            reloadId: request.reloadId,
          };
        });
        // The candidate may have died while the marker was written: put the marker back and fail before the pointer moves.
        const lateExit = process.exitError('the swap');
        if (lateExit) {
          await store.updateActiveMarker((marker) => {
            if (previousEntry) marker.plugins[candidate.name] = previousEntry;
            else delete marker.plugins[candidate.name];
          });
          throw lateExit;
        }
        // No await between the check above and this line: the swap is one synchronous step.
        const previous = host.setActive(candidate.name, candidate);
        return { type: 'SWAPPED', previous };
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
