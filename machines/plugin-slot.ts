/**
 * The plugin slot: one per plugin name, long-lived, pure.
 *
 * A reload walks `staging → staged → candidateStarted → handshaked → healthy →
 * probed → confirming → draining → active`. Each state names the condition reached so far and runs
 * (as an invoked actor) the work that leads to the next one. Every piece of
 * work is a named actor whose body is supplied from src/ with `.provide(...)`;
 * this file never touches a process, a file or a socket.
 *
 * What the shape guarantees (test/machines/plugin-slot.model.test.ts walks
 * every simple path to check it):
 * - `commitSwap`, the only actor that changes the active pointer, is invoked
 *   only in `probed`, which is reachable only through HANDSHAKE_PASSED, then
 *   PROBE_PASSED (the candidate's own health and manifest probes), then
 *   ENGINE_CHECK_PASSED (the running engine's routes and probes, answered by
 *   the candidate).
 * - The current plugin is never stopped before the swap: `drainPrevious`, the
 *   only actor that stops it, runs only in `draining`, entered only on
 *   CONFIRMED, after SWAPPED. Until then the replaced plugin stays alive, so a
 *   candidate that fails inside the confirmation window is swapped back
 *   (`swappingBack`, the only other pointer change) and the reload ends
 *   `rolledBack` on the old process.
 * - Every failure before the swap leads to `rollingBack` (or `rejected` when
 *   nothing was staged), which discards the candidate and nothing else.
 * - Restarts (RESTART: boot recovery, the supervisor) take the same checks from
 *   `staged` on, then `reinstate` in `reinstating` instead of the swap: the
 *   third and last pointer change. It goes live only if what is active is still
 *   what the restart replaces.
 * - A plugin a config reload starts (START_FOR_CONFIG, on a slot the engine slot
 *   runs as its child) takes the same checks from `staged` up to PROBE_PASSED,
 *   then waits in `awaitingEngine`: the engine slot, not this one, swaps, so
 *   this slot changes no pointer at all. It goes `inEngineWindow` when the
 *   engine swapped (ENGINE_SWAPPED), `active` when the engine confirmed, and is
 *   rolled back through its own `rollingBack` when the engine releases it.
 */
import { assign, setup } from 'xstate';
import { SETTLED_STATES, SWAP_LIFECYCLE_WORK, work, type SlotError, type SwapLifecycleEvent } from './slot-common.js';

/** A started plugin process, as the machine sees it: plain data, no handles. */
export interface PluginRef {
  name: string;
  version: string;
  /** The immutable version directory the process runs in. */
  dir: string;
  /** sha256 of the staged directory contents. */
  digest: string;
  /** Key of the live process in the host's process table. */
  instanceId: string;
  pid: number;
}

/** A candidate copied into the state directory but not started yet. */
export interface StagedPlugin {
  name: string;
  version: string;
  dir: string;
  digest: string;
  /** True when this reload created `dir`; a rollback then removes it. */
  createdByReload: boolean;
}

export type { SlotError };

export interface ReloadRequest {
  reloadId: string;
  /** The directory the operator offered; staging copies it. */
  sourceDir: string;
  /** Probe the candidate, then stop it without swapping. */
  dryRun: boolean;
  /**
   * A restart of a version already active on disk (boot recovery, or the supervisor after a crash):
   * no staging, and after the checks it is reinstated, not swapped through the two-phase handoff.
   */
  restart?: boolean;
  /** A plugin a config reload starts: after its own checks it waits for the engine slot (its parent), which swaps. */
  forConfig?: boolean;
}

/** Start a plugin for a config reload: the engine slot staged it; this slot starts, handshakes and probes it. */
export interface ConfigPluginRequest {
  /** The config reload's id. */
  reloadId: string;
  /** The plugin directory the config names. */
  sourceDir: string;
  staged: StagedPlugin;
  dryRun: boolean;
}

/** How a slot's reload settled, as it tells its parent. */
export type SlotOutcome = 'active' | 'rolledBack' | 'rejected' | 'dryRunPassed' | 'unchanged';

/** Start `staged` again as the active version: what boot recovery and the supervisor ask. */
export interface RestartRequest {
  reloadId: string;
  /** The version directory active.json names (already staged, never removed by this reload). */
  staged: StagedPlugin;
  /** The process it replaces: the crashed one, or null at boot. The restart only goes live if that is still what is active. */
  replacing: PluginRef | null;
}

export interface PluginSlotContext {
  name: string;
  request: ReloadRequest | null;
  staged: StagedPlugin | null;
  candidate: PluginRef | null;
  /** The plugin the swap replaced, kept until it has drained. */
  previous: PluginRef | null;
  error: SlotError | null;
  /** Clean-up work that failed after the outcome was decided (see CLEANUP_FAILED). */
  cleanupError: SlotError | null;
}

export type PluginSlotEvent =
  | ({ type: 'TRY_ACTIVATE' } & ReloadRequest)
  | ({ type: 'RESTART' } & RestartRequest)
  | ({ type: 'START_FOR_CONFIG' } & ConfigPluginRequest)
  | { type: 'REINSTATED' }
  /** From the engine slot running this one: it swapped onto an engine that uses this candidate. */
  | { type: 'ENGINE_SWAPPED' }
  /** From the engine slot: the swap is confirmed; this candidate is the active version. */
  | { type: 'ENGINE_CONFIRMED' }
  /** From the engine slot: it will not use this candidate (its error says why; null after a passing dry run). */
  | { type: 'ENGINE_RELEASED'; error: SlotError | null }
  | { type: 'STAGED'; staged: StagedPlugin }
  | { type: 'CANDIDATE_STARTED'; candidate: PluginRef }
  | { type: 'HANDSHAKE_PASSED' }
  | { type: 'ENGINE_CHECK_PASSED' }
  | { type: 'SWAPPED'; previous: PluginRef | null }
  | { type: 'CANDIDATE_EXITED'; error: SlotError }
  | SwapLifecycleEvent;

/** What each state is doing, used by reload results to name the failing step. */
export const pluginSlotWork = {
  ...SWAP_LIFECYCLE_WORK,
  staged: 'start',
  candidateStarted: 'handshake',
  handshaked: 'probe',
  healthy: 'engine check',
  reinstating: 'reinstate',
  awaitingEngine: 'await engine',
  inEngineWindow: 'engine window',
} as const;

/** States in which no reload is running and TRY_ACTIVATE is accepted. */
export const pluginSlotSettledStates = SETTLED_STATES;

/**
 * Whether a reload that passes its checks swaps through `probed`, the two-phase handoff: not a dry run
 * (stopped), a restart (reinstated) or a config's plugin (the engine slot swaps). The work may prepare
 * the swap's write ahead for such a reload only (src/orchestrator/plugin-slot-actors.ts).
 */
export const swapsThroughHandoff = (request: ReloadRequest): boolean => !request.dryRun && !request.restart && !request.forConfig;

const startReload = { target: '#pluginSlot.staging', actions: 'beginReload' } as const;
/** A restart skips staging: the version directory is already there. */
const startRestart = { target: '#pluginSlot.staged', actions: 'beginRestart' } as const;
/** A config reload's plugin skips staging too: the engine slot staged every plugin of the config. */
const startForConfig = { target: '#pluginSlot.staged', actions: 'beginForConfig' } as const;
const settledOn = { TRY_ACTIVATE: startReload, RESTART: startRestart } as const;

export const pluginSlotMachine = setup({
  types: {
    context: {} as PluginSlotContext,
    events: {} as PluginSlotEvent,
    input: {} as { name: string },
  },
  actors: {
    /** Copy the offered directory into an immutable version directory; verify manifest, paths and digests. ALREADY_ACTIVE when it is the active version, byte for byte. */
    stageCandidate: work<{ name: string; request: ReloadRequest }>(),
    /** Launch the staged command. */
    startCandidate: work<{ staged: StagedPlugin; request: ReloadRequest }>(),
    /** Report CANDIDATE_EXITED if the candidate process dies before the swap. */
    watchCandidate: work<{ candidate: PluginRef }>(),
    /** `initialize`, and compare the reply with the manifest. */
    handshakeCandidate: work<{ candidate: PluginRef }>(),
    /** `health`, then the manifest's probe calls. */
    probeCandidate: work<{ candidate: PluginRef; request: ReloadRequest }>(),
    /**
     * Judge the candidate against the engine config that routes to this plugin: it must offer every step
     * type the active config's pipelines use, and pass the config's probes that reach it, served by a
     * private view of the engine in which this plugin's steps go to the candidate. No engine, nothing to judge.
     */
    checkAgainstEngine: work<{ candidate: PluginRef }>(),
    /**
     * A restart's pointer change: point the registry at the restarted process, if what is active is
     * still what it replaces (nothing at boot, the crashed process after a crash); else fail (superseded).
     * No marker write: active.json already names this version.
     */
    reinstate: work<{ candidate: PluginRef; replacing: PluginRef | null; request: ReloadRequest }>(),
    /** Write the active marker, then point the registry at the candidate. */
    commitSwap: work<{ candidate: PluginRef; request: ReloadRequest }>(),
    /** Watch the new plugin for the confirmation window (health calls, exits); on success mark it confirmed on disk (CONFIRMED), else CONFIRM_FAILED. */
    confirmCandidate: work<{ current: PluginRef; previous: PluginRef | null; request: ReloadRequest }>(),
    /** Point the registry and the marker back at the replaced plugin (first, synchronously), then kill the failed one; a failed kill is CLEANUP_FAILED. */
    swapBack: work<{ failed: PluginRef; previous: PluginRef | null; staged: StagedPlugin | null; request: ReloadRequest }>(),
    /** Let in-flight calls on the replaced plugin finish, then stop it. The swap already happened: a failure is CLEANUP_FAILED, and the slot still ends `active`. */
    drainPrevious: work<{ previous: PluginRef | null }>(),
    /** Kill the candidate (if started) and remove its staged directory (if this reload created it); a failure is CLEANUP_FAILED naming what was left. */
    discardCandidate: work<{ candidate: PluginRef | null; staged: StagedPlugin | null }>(),
  },
  guards: {
    isDryRun: ({ context }) => context.request?.dryRun === true,
    isRestart: ({ context }) => context.request?.restart === true,
    isForConfig: ({ context }) => context.request?.forConfig === true,
    isReleasedWithError: ({ event }) => event.type === 'ENGINE_RELEASED' && event.error !== null,
  },
  actions: {
    beginReload: assign(({ event }) => {
      if (event.type !== 'TRY_ACTIVATE') return {};
      const request: ReloadRequest = { reloadId: event.reloadId, sourceDir: event.sourceDir, dryRun: event.dryRun };
      return { request, staged: null, candidate: null, previous: null, error: null, cleanupError: null };
    }),
    beginRestart: assign(({ event }) => {
      if (event.type !== 'RESTART') return {};
      const request: ReloadRequest = { reloadId: event.reloadId, sourceDir: event.staged.dir, dryRun: false, restart: true };
      // `previous` holds what the restart replaces; a restart never drains or swaps back, so nothing stops it.
      return { request, staged: event.staged, candidate: null, previous: event.replacing, error: null, cleanupError: null };
    }),
    beginForConfig: assign(({ event }) => {
      if (event.type !== 'START_FOR_CONFIG') return {};
      const request: ReloadRequest = { reloadId: event.reloadId, sourceDir: event.sourceDir, dryRun: event.dryRun, forConfig: true };
      return { request, staged: event.staged, candidate: null, previous: null, error: null, cleanupError: null };
    }),
    recordError: assign({
      error: ({ event }) => ('error' in event ? event.error : null),
    }),
    recordCleanupError: assign({
      cleanupError: ({ event }) => ('error' in event ? event.error : null),
    }),
    /**
     * A reload has settled (`params.outcome` says how). Does nothing here; whoever composes this slot tells
     * itself: the orchestrator (machines/orchestrator.ts), or the engine slot running a config's plugins.
     */
    reportSettled: (_, _params: { outcome: SlotOutcome }) => {},
    /** A config's plugin passed its own checks and waits for the engine. Does nothing here; the engine slot composing it hears of it. */
    reportAwaiting: () => {},
  },
}).createMachine({
  id: 'pluginSlot',
  context: ({ input }) => ({
    name: input.name,
    request: null,
    staged: null,
    candidate: null,
    previous: null,
    error: null,
    cleanupError: null,
  }),
  initial: 'idle',
  states: {
    // A config reload's plugin slot is a fresh child of the engine slot: it starts from idle, once.
    idle: { on: { ...settledOn, START_FOR_CONFIG: startForConfig } },

    staging: {
      invoke: {
        id: 'stageCandidate',
        src: 'stageCandidate',
        input: ({ context }) => ({ name: context.name, request: context.request! }),
      },
      on: {
        STAGED: { target: 'staged', actions: assign({ staged: ({ event }) => event.staged }) },
        // The same name, version and bytes as the active version: nothing is started, restarted or swapped.
        ALREADY_ACTIVE: 'unchanged',
        // Nothing was started and nothing kept: the candidate is rejected outright.
        STEP_FAILED: { target: 'rejected', actions: 'recordError' },
      },
    },

    staged: {
      invoke: {
        id: 'startCandidate',
        src: 'startCandidate',
        input: ({ context }) => ({ staged: context.staged!, request: context.request! }),
      },
      on: {
        CANDIDATE_STARTED: {
          target: 'candidate.candidateStarted',
          actions: assign({ candidate: ({ event }) => event.candidate }),
        },
        STEP_FAILED: { target: 'rollingBack', actions: 'recordError' },
      },
    },

    // While the candidate runs before the swap, its death is a failure like any other.
    candidate: {
      initial: 'candidateStarted',
      invoke: {
        id: 'watchCandidate',
        src: 'watchCandidate',
        input: ({ context }) => ({ candidate: context.candidate! }),
      },
      on: {
        CANDIDATE_EXITED: { target: 'rollingBack', actions: 'recordError' },
        STEP_FAILED: { target: 'rollingBack', actions: 'recordError' },
      },
      states: {
        candidateStarted: {
          invoke: {
            id: 'handshakeCandidate',
            src: 'handshakeCandidate',
            input: ({ context }) => ({ candidate: context.candidate! }),
          },
          on: { HANDSHAKE_PASSED: 'handshaked' },
        },
        handshaked: {
          invoke: {
            id: 'probeCandidate',
            src: 'probeCandidate',
            input: ({ context }) => ({ candidate: context.candidate!, request: context.request! }),
          },
          // A config's plugin is judged against the candidate engine by the engine slot, not against the running one.
          on: { PROBE_PASSED: [{ guard: 'isForConfig', target: 'awaitingEngine' }, { target: 'healthy' }] },
        },
        // Healthy on its own, started for a config reload: the engine slot builds and probes the candidate
        // engine on it, and swaps. Still inside `candidate`: its death now is a failure like any other.
        awaitingEngine: {
          entry: 'reportAwaiting',
          on: {
            ENGINE_SWAPPED: '#pluginSlot.inEngineWindow',
            ENGINE_RELEASED: [
              { guard: 'isReleasedWithError', target: '#pluginSlot.rollingBack', actions: 'recordError' },
              { target: '#pluginSlot.stoppingCandidate' },
            ],
          },
        },
        // Healthy on its own; now it must serve what the running engine routes to it.
        healthy: {
          invoke: {
            id: 'checkAgainstEngine',
            src: 'checkAgainstEngine',
            input: ({ context }) => ({ candidate: context.candidate! }),
          },
          on: {
            ENGINE_CHECK_PASSED: [
              { guard: 'isDryRun', target: '#pluginSlot.stoppingCandidate' },
              { guard: 'isRestart', target: '#pluginSlot.reinstating' },
              { target: '#pluginSlot.probed' },
            ],
          },
        },
      },
    },

    // Outside `candidate` on purpose: once commitSwap has started it cannot be
    // called off, so a candidate exit must not start a rollback that would race
    // it. commitSwap itself refuses a dead candidate before anything changes
    // and fails (STEP_FAILED) only before the pointer moves.
    probed: {
      invoke: {
        id: 'commitSwap',
        src: 'commitSwap',
        input: ({ context }) => ({ candidate: context.candidate!, request: context.request! }),
      },
      on: {
        // The candidate stays in context: it is what `confirming` watches and what a swap-back removes.
        SWAPPED: { target: 'confirming', actions: assign({ previous: ({ event }) => event.previous }) },
        STEP_FAILED: { target: 'rollingBack', actions: 'recordError' },
      },
    },

    // A restart that passed every check goes live, if it is still wanted. Outside `candidate` like `probed`:
    // a pointer change is not called off halfway.
    reinstating: {
      invoke: {
        id: 'reinstate',
        src: 'reinstate',
        input: ({ context }) => ({ candidate: context.candidate!, replacing: context.previous, request: context.request! }),
      },
      on: {
        REINSTATED: { target: 'active', actions: assign({ candidate: null, staged: null, previous: null }) },
        STEP_FAILED: { target: 'rollingBack', actions: 'recordError' },
      },
    },

    // A config's plugin serving in the swapped-in engine, inside the engine's confirmation window. The
    // engine slot watches it and decides: confirmed, or released (after it swapped back).
    inEngineWindow: {
      on: {
        ENGINE_CONFIRMED: { target: 'active', actions: assign({ candidate: null, staged: null }) },
        ENGINE_RELEASED: { target: 'rollingBack', actions: 'recordError' },
      },
    },

    // Swapped, not yet confirmed: the replaced plugin is alive and idle, ready to take over again.
    confirming: {
      invoke: {
        id: 'confirmCandidate',
        src: 'confirmCandidate',
        input: ({ context }) => ({ current: context.candidate!, previous: context.previous, request: context.request! }),
      },
      on: {
        CONFIRMED: { target: 'draining', actions: assign({ candidate: null, staged: null }) },
        CONFIRM_FAILED: { target: 'swappingBack', actions: 'recordError' },
      },
    },

    swappingBack: {
      invoke: {
        id: 'swapBack',
        src: 'swapBack',
        input: ({ context }) => ({ failed: context.candidate!, previous: context.previous, staged: context.staged, request: context.request! }),
      },
      on: {
        SWAPPED_BACK: { target: 'rolledBack', actions: assign({ candidate: null, staged: null, previous: null }) },
        CLEANUP_FAILED: { target: 'rolledBack', actions: ['recordCleanupError', assign({ candidate: null, staged: null, previous: null })] },
      },
    },

    draining: {
      invoke: {
        id: 'drainPrevious',
        src: 'drainPrevious',
        input: ({ context }) => ({ previous: context.previous }),
      },
      on: {
        DRAINED: { target: 'active', actions: assign({ previous: null }) },
        CLEANUP_FAILED: { target: 'active', actions: ['recordCleanupError', assign({ previous: null })] },
      },
    },

    stoppingCandidate: {
      invoke: {
        id: 'discardCandidate',
        src: 'discardCandidate',
        // A dry run leaves nothing behind, not even a staged copy it created.
        input: ({ context }) => ({ candidate: context.candidate, staged: context.staged }),
      },
      on: {
        CANDIDATE_DISCARDED: { target: 'dryRunPassed', actions: assign({ candidate: null, staged: null }) },
        CLEANUP_FAILED: { target: 'dryRunPassed', actions: ['recordCleanupError', assign({ candidate: null, staged: null })] },
      },
    },

    rollingBack: {
      invoke: {
        id: 'discardCandidate',
        src: 'discardCandidate',
        input: ({ context }) => ({ candidate: context.candidate, staged: context.staged }),
      },
      on: {
        // `previous` is only set here by a restart (what it would have replaced): nothing was replaced.
        CANDIDATE_DISCARDED: { target: 'rolledBack', actions: assign({ candidate: null, staged: null, previous: null }) },
        CLEANUP_FAILED: { target: 'rolledBack', actions: ['recordCleanupError', assign({ candidate: null, staged: null, previous: null })] },
      },
    },

    active: { entry: { type: 'reportSettled', params: { outcome: 'active' } }, on: settledOn },
    rolledBack: { entry: { type: 'reportSettled', params: { outcome: 'rolledBack' } }, on: settledOn },
    rejected: { entry: { type: 'reportSettled', params: { outcome: 'rejected' } }, on: settledOn },
    dryRunPassed: { entry: { type: 'reportSettled', params: { outcome: 'dryRunPassed' } }, on: settledOn },
    unchanged: { entry: { type: 'reportSettled', params: { outcome: 'unchanged' } }, on: settledOn },
  },
});

export type PluginSlotMachine = typeof pluginSlotMachine;
