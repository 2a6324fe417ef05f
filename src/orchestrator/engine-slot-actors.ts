/** The bodies of the engine slot's named actors (machines/engine-config.ts). */
import { engineConfigMachine, type EngineConfigEvent } from '../../machines/engine-config.js';
import type { EngineRuntime } from './engine-runtime.js';
import { fromWork as fromAnyWork } from './from-work.js';

const fromWork = <TInput>(work: (input: TInput) => Promise<EngineConfigEvent | null>, failureEvent?: string) =>
  fromAnyWork<EngineConfigEvent, TInput>(work, failureEvent);

export function provideEngineConfig(runtime: EngineRuntime) {
  return engineConfigMachine.provide({
    actors: {
      stageConfig: fromWork(async ({ request }) => ({ type: 'STAGED', staged: await runtime.stage(request) })),
      buildCandidate: fromWork(async ({ request }) => ({ type: 'BUILT', candidate: await runtime.build(request) })),
      probeCandidate: fromWork(async ({ request }) => {
        await runtime.probe(request);
        return { type: 'PROBE_PASSED' };
      }),
      commitSwap: fromWork(async ({ request, staged }) => ({ type: 'SWAPPED', previous: await runtime.commit(request, staged) })),
      confirmCandidate: fromWork(async ({ request }) => {
        await runtime.confirm(request);
        return { type: 'CONFIRMED' };
      }, 'CONFIRM_FAILED'),
      swapBack: fromWork(async ({ request, staged }) => {
        await runtime.swapBack(request, staged);
        return { type: 'SWAPPED_BACK' };
      }),
      drainPrevious: fromWork(async () => {
        await runtime.drainRetired();
        return { type: 'DRAINED' };
      }),
      discardCandidate: fromWork(async ({ request, staged }) => {
        await runtime.discard(request, staged);
        return { type: 'CANDIDATE_DISCARDED' };
      }),
    },
  });
}
