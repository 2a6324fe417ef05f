/**
 * The engine slot: one per host, long-lived, pure.
 *
 * A config reload walks `staging → staged → candidateBuilt → probed →
 * confirming → draining → active`. As in the plugin slot, each state names the condition
 * reached and invokes the work that leads to the next; the bodies come from
 * src/ through `.provide(...)`.
 *
 * What the shape guarantees (test/machines/engine-config.model.test.ts):
 * - `commitSwap` (the engine pointer change) runs only in `probed`, entered
 *   only on PROBE_PASSED from `candidateBuilt`, entered only on BUILT.
 * - `drainPrevious`, the only work that stops the current engine, its
 *   listener or its plugins, runs only in `draining`, entered only on
 *   CONFIRMED after SWAPPED; a candidate that fails inside the confirmation
 *   window is swapped back (`swappingBack`) onto the engine still running.
 * - Any failure before the swap ends in `rolledBack` (or `rejected` while
 *   staging), after `discardCandidate` released every candidate resource.
 */
import { assign, setup } from 'xstate';
import { SETTLED_STATES, SWAP_LIFECYCLE_WORK, work, type SlotError, type SwapLifecycleEvent } from './slot-common.js';

/** A config copied into the state directory. */
export interface StagedConfig {
  /** sha256 of the config text. */
  digest: string;
  /** The immutable staged copy, `configs/DIGEST.yaml`. */
  file: string;
  /** The file the operator offered. */
  source: string;
  /** True when this reload created `file`; a rollback or dry run removes it. */
  createdByReload: boolean;
}

/** A built (not yet live) or live engine, as the machine sees it. */
export interface EngineRef {
  generation: number;
  digest: string;
  listen: string;
}

export interface ConfigReloadRequest {
  reloadId: string;
  /** The config file offered (for inline text, a name under the directory its relative paths resolve against). */
  file: string;
  /** The config text itself, when it was offered inline rather than as a file. */
  yaml?: string;
  dryRun: boolean;
}

export type EngineSlotError = SlotError;

export interface EngineConfigContext {
  request: ConfigReloadRequest | null;
  staged: StagedConfig | null;
  candidate: EngineRef | null;
  /** The engine the swap replaced, kept until it has drained. */
  previous: EngineRef | null;
  error: EngineSlotError | null;
  /** Clean-up work that failed after the outcome was decided (see CLEANUP_FAILED). */
  cleanupError: EngineSlotError | null;
}

export type EngineConfigEvent =
  | ({ type: 'TRY_ACTIVATE' } & ConfigReloadRequest)
  | { type: 'STAGED'; staged: StagedConfig }
  | { type: 'BUILT'; candidate: EngineRef }
  | { type: 'SWAPPED'; previous: EngineRef | null }
  | SwapLifecycleEvent;

/** What each state is doing, for reload results. */
export const engineConfigWork = { ...SWAP_LIFECYCLE_WORK, staged: 'build', candidateBuilt: 'probe' } as const;

export const engineConfigSettledStates = SETTLED_STATES;

const startReload = { target: '#engineConfig.staging', actions: 'beginReload' } as const;
const fail = { target: '#engineConfig.rollingBack', actions: 'recordError' } as const;

export const engineConfigMachine = setup({
  types: {
    context: {} as EngineConfigContext,
    events: {} as EngineConfigEvent,
  },
  actors: {
    /** Read, parse and validate the file; copy it to `configs/DIGEST.yaml`. */
    stageConfig: work<{ request: ConfigReloadRequest }>(),
    /** Stage, start, handshake and probe the plugins the config needs (reusing identical running ones); check every step against their contracts; build the engine. */
    buildCandidate: work<{ staged: StagedConfig; request: ConfigReloadRequest }>(),
    /** Bind the new listen address if it changed; send the config's probe requests to the candidate. */
    probeCandidate: work<{ candidate: EngineRef; request: ConfigReloadRequest }>(),
    /** Write the active marker (engine and plugins in one write), then point the front door at the candidate. */
    commitSwap: work<{ candidate: EngineRef; request: ConfigReloadRequest; staged: StagedConfig }>(),
    /** Watch the new engine's own plugins through the confirmation window; then mark the swap confirmed on disk (CONFIRMED), else CONFIRM_FAILED. */
    confirmCandidate: work<{ request: ConfigReloadRequest }>(),
    /** Point the front door and registry back at the replaced engine, revert the marker, release the candidate; a failed release is CLEANUP_FAILED. */
    swapBack: work<{ request: ConfigReloadRequest; staged: StagedConfig | null }>(),
    /** Drain the replaced engine, close a listener it no longer needs, stop plugins nothing uses; a failure is CLEANUP_FAILED (the slot still ends `active`). */
    drainPrevious: work<{ previous: EngineRef | null }>(),
    /** Stop candidate-only plugins, close candidate sockets, remove files this reload created; a failure is CLEANUP_FAILED naming what was left. */
    discardCandidate: work<{ request: ConfigReloadRequest; staged: StagedConfig | null }>(),
  },
  guards: {
    isDryRun: ({ context }) => context.request?.dryRun === true,
  },
  actions: {
    beginReload: assign(({ event }) => {
      if (event.type !== 'TRY_ACTIVATE') return {};
      const request: ConfigReloadRequest = { reloadId: event.reloadId, file: event.file, dryRun: event.dryRun };
      if (event.yaml !== undefined) request.yaml = event.yaml;
      return { request, staged: null, candidate: null, previous: null, error: null, cleanupError: null };
    }),
    recordError: assign({ error: ({ event }) => ('error' in event ? event.error : null) }),
    recordCleanupError: assign({ cleanupError: ({ event }) => ('error' in event ? event.error : null) }),
    /** A reload has settled. Does nothing here; the orchestrator composing this slot tells itself (machines/orchestrator.ts). */
    reportSettled: () => {},
  },
}).createMachine({
  id: 'engineConfig',
  context: { request: null, staged: null, candidate: null, previous: null, error: null, cleanupError: null },
  initial: 'idle',
  states: {
    idle: { on: { TRY_ACTIVATE: startReload } },

    staging: {
      invoke: { id: 'stageConfig', src: 'stageConfig', input: ({ context }) => ({ request: context.request! }) },
      on: {
        STAGED: { target: 'staged', actions: assign({ staged: ({ event }) => event.staged }) },
        STEP_FAILED: { target: 'rejected', actions: 'recordError' },
      },
    },

    staged: {
      invoke: { id: 'buildCandidate', src: 'buildCandidate', input: ({ context }) => ({ staged: context.staged!, request: context.request! }) },
      on: {
        BUILT: { target: 'candidateBuilt', actions: assign({ candidate: ({ event }) => event.candidate }) },
        STEP_FAILED: fail,
      },
    },

    candidateBuilt: {
      invoke: { id: 'probeCandidate', src: 'probeCandidate', input: ({ context }) => ({ candidate: context.candidate!, request: context.request! }) },
      on: {
        PROBE_PASSED: [{ guard: 'isDryRun', target: 'stoppingCandidate' }, { target: 'probed' }],
        STEP_FAILED: fail,
      },
    },

    probed: {
      invoke: { id: 'commitSwap', src: 'commitSwap', input: ({ context }) => ({ candidate: context.candidate!, request: context.request!, staged: context.staged! }) },
      on: {
        SWAPPED: { target: 'confirming', actions: assign({ previous: ({ event }) => event.previous }) },
        // commitSwap fails only before the pointer moves.
        STEP_FAILED: fail,
      },
    },

    // Swapped, not yet confirmed: the replaced engine and its plugins are alive, ready to take over again.
    confirming: {
      invoke: { id: 'confirmCandidate', src: 'confirmCandidate', input: ({ context }) => ({ request: context.request! }) },
      on: {
        CONFIRMED: { target: 'draining', actions: assign({ staged: null }) },
        CONFIRM_FAILED: { target: 'swappingBack', actions: 'recordError' },
      },
    },

    swappingBack: {
      invoke: { id: 'swapBack', src: 'swapBack', input: ({ context }) => ({ request: context.request!, staged: context.staged }) },
      on: {
        SWAPPED_BACK: { target: 'rolledBack', actions: assign({ staged: null, previous: null }) },
        CLEANUP_FAILED: { target: 'rolledBack', actions: ['recordCleanupError', assign({ staged: null, previous: null })] },
      },
    },

    draining: {
      invoke: { id: 'drainPrevious', src: 'drainPrevious', input: ({ context }) => ({ previous: context.previous }) },
      on: {
        DRAINED: { target: 'active', actions: assign({ previous: null }) },
        CLEANUP_FAILED: { target: 'active', actions: ['recordCleanupError', assign({ previous: null })] },
      },
    },

    stoppingCandidate: {
      invoke: { id: 'discardCandidate', src: 'discardCandidate', input: ({ context }) => ({ request: context.request!, staged: context.staged }) },
      on: {
        CANDIDATE_DISCARDED: { target: 'dryRunPassed', actions: assign({ staged: null }) },
        CLEANUP_FAILED: { target: 'dryRunPassed', actions: ['recordCleanupError', assign({ staged: null })] },
      },
    },

    rollingBack: {
      invoke: { id: 'discardCandidate', src: 'discardCandidate', input: ({ context }) => ({ request: context.request!, staged: context.staged }) },
      on: {
        CANDIDATE_DISCARDED: { target: 'rolledBack', actions: assign({ staged: null }) },
        CLEANUP_FAILED: { target: 'rolledBack', actions: ['recordCleanupError', assign({ staged: null })] },
      },
    },

    active: { entry: 'reportSettled', on: { TRY_ACTIVATE: startReload } },
    rolledBack: { entry: 'reportSettled', on: { TRY_ACTIVATE: startReload } },
    rejected: { entry: 'reportSettled', on: { TRY_ACTIVATE: startReload } },
    dryRunPassed: { entry: 'reportSettled', on: { TRY_ACTIVATE: startReload } },
  },
});

export type EngineConfigMachine = typeof engineConfigMachine;
