/** The bodies of the engine slot's named actors (machines/engine-config.ts). */
import { configPluginSlot, type EngineConfigEvent } from '../../machines/engine-config.js';
import { composedEngineSlot } from '../../machines/orchestrator.js';
import type { EngineRuntime } from './engine-runtime.js';
import { fromWork as fromAnyWork, type WorkOptions } from './from-work.js';
import type { NormalizedOptions } from './options.js';
import { providePluginSlot, type PluginSlotDeps } from './plugin-slot-actors.js';

const fromWork = <TInput>(work: (input: TInput, signal: AbortSignal) => Promise<EngineConfigEvent | null>, options: WorkOptions<TInput>) =>
  fromAnyWork<EngineConfigEvent, TInput>(work, options);

export function provideEngineConfig(runtime: EngineRuntime, deps: PluginSlotDeps) {
  const { options } = deps;
  const { workMs, probeMs, confirmMs, healthMs, drainMs, graceMs } = options.timeouts;
  // Every step's bound: its own timeouts, plus workMs of slack for the disk and the processes under it.
  const bound = (ms: number) => () => ms + workMs;
  const cleanup = { failureEvent: 'CLEANUP_FAILED' } as const;
  return composedEngineSlot.provide({
    actors: {
      // Disk work: the config and a copy of each plugin directory it names.
      stageConfig: fromWork(
        async ({ request }) => {
          const staged = await runtime.stage(request);
          return runtime.isUnchanged(request, staged) ? { type: 'ALREADY_ACTIVE' } : { type: 'STAGED', staged };
        },
        { name: 'stage', boundMs: () => 2 * workMs },
      ),
      // Each plugin the config starts runs its own slot, with its own bounds.
      pluginSlot: providePluginSlot(configPluginSlot, deps),
      buildCandidate: fromWork(async ({ request, plugins }) => ({ type: 'BUILT', candidate: await runtime.build(request, plugins) }), { name: 'build', boundMs: bound(0) }),
      probeCandidate: fromWork(
        async ({ request }) => {
          await runtime.probe(request);
          return { type: 'PROBE_PASSED' };
        },
        { name: 'probe', boundMs: ({ request }) => probeMs * runtime.candidateProbeCount(request) + workMs },
      ),
      commitSwap: fromWork(async ({ request, staged }, signal) => ({ type: 'SWAPPED', previous: await runtime.commit(request, staged, signal) }), { name: 'swap', boundMs: bound(0) }),
      confirmCandidate: fromWork(
        async ({ request }, signal) => {
          // Past the bound the slot is already swapping back: a confirmation now would undo that.
          if (!(await runtime.confirm(request, signal))) return null;
          return { type: 'CONFIRMED' };
        },
        { name: 'confirm', failureEvent: 'CONFIRM_FAILED', boundMs: bound(confirmMs + healthMs) },
      ),
      swapBack: fromWork(
        async ({ request, staged }) => {
          await runtime.swapBack(request, staged);
          return { type: 'SWAPPED_BACK' };
        },
        { name: 'swap back', ...cleanup, boundMs: bound(graceMs) },
      ),
      drainPrevious: fromWork(
        async () => {
          await runtime.drainRetired();
          return { type: 'DRAINED' };
        },
        { name: 'drain', ...cleanup, boundMs: bound(drainMs + graceMs) },
      ),
      discardCandidate: fromWork(
        async ({ request, staged }) => {
          await runtime.discard(request, staged);
          return { type: 'CANDIDATE_DISCARDED' };
        },
        { name: 'discard the candidate', ...cleanup, boundMs: bound(graceMs) },
      ),
    },
  });
}
