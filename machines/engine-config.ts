/**
 * The engine slot: one per host, long-lived, pure.
 *
 * A config reload walks `staging → startingPlugins → staged → candidateBuilt →
 * probed → confirming → draining → active`. As in the plugin slot, each state
 * names the condition reached and invokes the work that leads to the next; the
 * bodies come from src/ through `.provide(...)`.
 *
 * The plugins a candidate config needs that do not run yet (new, or changed
 * bytes) are started through plugin slots: one child slot per plugin
 * (`config/plugin:NAME`), each taking its own start, handshake and probe, then
 * waiting in `awaitingEngine`. The candidate engine is built only once every
 * one of them waits there; any one failing rolls the config back, and every
 * started plugin is rolled back through its own slot (`releasingPlugins`).
 *
 * What the shape guarantees (test/machines/engine-config.model.test.ts):
 * - `commitSwap` (the engine pointer change) runs only in `probed`, entered
 *   only on PROBE_PASSED from `candidateBuilt`, entered only on BUILT.
 * - `drainPrevious`, the only work that stops the current engine, its
 *   listener or its plugins, runs only in `draining`, entered only on
 *   CONFIRMED after SWAPPED; a candidate that fails inside the confirmation
 *   window is swapped back (`swappingBack`) onto the engine still running.
 * - `buildCandidate` runs only in `staged`, entered only when every plugin slot
 *   of the reload reported that it waits for the engine.
 * - Any failure before the swap ends in `rolledBack` (or `rejected` while
 *   staging), after `discardCandidate` released the config's own resources and
 *   every plugin slot of the reload settled (`releasingPlugins`).
 */
import { and, assign, enqueueActions, sendParent, setup } from 'xstate';
import { pluginSlotMachine, type PluginRef, type SlotOutcome, type StagedPlugin } from './plugin-slot.js';
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
  /** The plugins the config needs that do not run yet, staged: each is started through its own plugin slot. */
  plugins: ConfigPluginStart[];
}

/** A plugin a config reload starts: the directory the config names, and its staged copy. */
export interface ConfigPluginStart {
  sourceDir: string;
  staged: StagedPlugin;
}

/** A plugin slot of the reload in progress, as the engine slot follows it. */
export interface ConfigPlugin {
  name: string;
  /** Reported when the slot waits for the engine (its own checks passed). */
  candidate: PluginRef | null;
  /** How the slot settled, once it has. */
  settled: SlotOutcome | null;
}

/** The id of the child slot that starts plugin `name` for a config reload. */
export const configPluginSlotId = (name: string): string => `config/plugin:${name}`;

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
  /** The plugin slots this reload started (empty when the config needs no new plugin process). */
  plugins: ConfigPlugin[];
}

export type EngineConfigEvent =
  | ({ type: 'TRY_ACTIVATE' } & ConfigReloadRequest)
  | { type: 'STAGED'; staged: StagedConfig }
  | { type: 'BUILT'; candidate: EngineRef }
  | { type: 'SWAPPED'; previous: EngineRef | null }
  /** From a child plugin slot: its own checks passed; it waits for the engine. */
  | { type: 'PLUGIN.AWAITING'; reloadId: string; name: string; candidate: PluginRef }
  /** From a child plugin slot: its reload settled (a failure before AWAITING, its death after, or its release). */
  | { type: 'PLUGIN.SETTLED'; reloadId: string; name: string; outcome: SlotOutcome; error: SlotError | null }
  | SwapLifecycleEvent;

/** What each state is doing, for reload results. */
export const engineConfigWork = { ...SWAP_LIFECYCLE_WORK, startingPlugins: 'start plugins', staged: 'build', candidateBuilt: 'probe', releasingPlugins: 'release plugins' } as const;

export const engineConfigSettledStates = SETTLED_STATES;

const startReload = { target: '#engineConfig.staging', actions: 'beginReload' } as const;
const fail = { target: '#engineConfig.rollingBack', actions: 'recordError' } as const;
/** Before the swap, a plugin slot that settles has failed (its own check, or its process died): the config rolls back. */
const pluginFailed = { target: '#engineConfig.rollingBack', actions: ['recordPlugin', 'recordPluginFailure'] } as const;
const releasePlugins = '#engineConfig.releasingPlugins';

/** A plugin slot as the engine slot runs it: it tells the engine when it waits for it and when it settled. */
export const configPluginSlot = pluginSlotMachine.provide({
  actions: {
    reportAwaiting: sendParent(({ context }) => ({ type: 'PLUGIN.AWAITING', reloadId: context.request!.reloadId, name: context.name, candidate: context.candidate! })),
    reportSettled: sendParent(({ context }, params: { outcome: SlotOutcome }) => ({
      type: 'PLUGIN.SETTLED',
      reloadId: context.request?.reloadId ?? '',
      name: context.name,
      outcome: params.outcome,
      error: context.error,
    })),
  },
});

const ofThisReload = (context: EngineConfigContext, event: EngineConfigEvent): event is Extract<EngineConfigEvent, { type: 'PLUGIN.AWAITING' | 'PLUGIN.SETTLED' }> =>
  (event.type === 'PLUGIN.AWAITING' || event.type === 'PLUGIN.SETTLED') && event.reloadId === context.request?.reloadId && context.plugins.some((p) => p.name === event.name);

export const engineConfigMachine = setup({
  types: {
    context: {} as EngineConfigContext,
    events: {} as EngineConfigEvent,
  },
  actors: {
    /** Read, parse and validate the file; copy it to `configs/DIGEST.yaml`; stage every plugin it names, and say which of them must start (not already running with the same bytes). ALREADY_ACTIVE when the config is the active one and starts nothing. */
    stageConfig: work<{ request: ConfigReloadRequest }>(),
    /** One per plugin the config starts: the plugin slot, composed to answer to this one. */
    pluginSlot: configPluginSlot,
    /** Check every pipeline step against the contracts of the plugins it will use (the running ones it shares, and `plugins`); build the engine. */
    buildCandidate: work<{ staged: StagedConfig; request: ConfigReloadRequest; plugins: PluginRef[] }>(),
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
    /** Close candidate sockets, remove the files this reload created (its plugins are released through their slots); a failure is CLEANUP_FAILED naming what was left. */
    discardCandidate: work<{ request: ConfigReloadRequest; staged: StagedConfig | null }>(),
  },
  guards: {
    isDryRun: ({ context }) => context.request?.dryRun === true,
    everyPluginAwaits: ({ context }) => context.plugins.every((p) => p.candidate !== null && p.settled === null),
    everyPluginSettled: ({ context }) => context.plugins.every((p) => p.settled !== null),
    hasFailed: ({ context }) => context.error !== null,
  },
  actions: {
    beginReload: assign(({ event }) => {
      if (event.type !== 'TRY_ACTIVATE') return {};
      const request: ConfigReloadRequest = { reloadId: event.reloadId, file: event.file, dryRun: event.dryRun };
      if (event.yaml !== undefined) request.yaml = event.yaml;
      return { request, staged: null, candidate: null, previous: null, error: null, cleanupError: null, plugins: [] };
    }),
    recordError: assign({ error: ({ event }) => ('error' in event ? event.error : null) }),
    /** Start one plugin slot per plugin the staged config needs started. */
    startPlugins: enqueueActions(({ context, enqueue }) => {
      for (const { sourceDir, staged } of context.staged!.plugins) {
        const id = configPluginSlotId(staged.name);
        enqueue.spawnChild('pluginSlot', { id, input: { name: staged.name } });
        enqueue.sendTo(id, { type: 'START_FOR_CONFIG', reloadId: context.request!.reloadId, sourceDir, staged, dryRun: context.request!.dryRun });
      }
    }),
    recordPlugin: assign({
      plugins: ({ context, event }) => {
        if (!ofThisReload(context, event)) return context.plugins;
        return context.plugins.map((p) =>
          p.name !== event.name ? p : event.type === 'PLUGIN.AWAITING' ? { ...p, candidate: event.candidate } : { ...p, settled: event.outcome },
        );
      },
    }),
    /** The config fails with the plugin's own error (its code kept), naming the plugin. */
    recordPluginFailure: assign({
      error: ({ context, event }) => {
        if (!ofThisReload(context, event) || event.type !== 'PLUGIN.SETTLED') return context.error;
        // A slot settles before the engine releases it only on a failure, which it always records; the fallback keeps the outcome a failure regardless.
        const cause = event.error ?? { code: 'WFR_PLUGIN_EXITED', message: `its slot settled (${event.outcome}) before the engine used it` };
        return { ...cause, message: `plugin "${event.name}": ${cause.message}`, details: { ...cause.details, plugin: event.name } };
      },
    }),
    adoptPlugins: enqueueActions(({ context, enqueue }) => {
      for (const p of context.plugins) if (p.settled === null) enqueue.sendTo(configPluginSlotId(p.name), { type: 'ENGINE_SWAPPED' });
    }),
    confirmPlugins: enqueueActions(({ context, enqueue }) => {
      for (const p of context.plugins) if (p.settled === null) enqueue.sendTo(configPluginSlotId(p.name), { type: 'ENGINE_CONFIRMED' });
    }),
    /**
     * Every plugin slot waiting for the engine is told it will not be used: it rolls back (or, after a passing
     * dry run, stops) its candidate. One still starting its candidate is told when it reports (PLUGIN.AWAITING),
     * or settles on its own: a start in flight is never cut off with its process unknown.
     */
    releasePlugins: enqueueActions(({ context, enqueue }) => {
      for (const p of context.plugins) if (p.candidate !== null && p.settled === null) enqueue.sendTo(configPluginSlotId(p.name), { type: 'ENGINE_RELEASED', error: context.error });
    }),
    releaseReporter: enqueueActions(({ context, event, enqueue }) => {
      if (ofThisReload(context, event) && event.type === 'PLUGIN.AWAITING') enqueue.sendTo(configPluginSlotId(event.name), { type: 'ENGINE_RELEASED', error: context.error });
    }),
    /** The reload settled: its plugin slots have too, or run on as nothing (their processes are the engine's now). */
    stopPlugins: enqueueActions(({ context, enqueue }) => {
      for (const p of context.plugins) enqueue.stopChild(configPluginSlotId(p.name));
    }),
    recordCleanupError: assign({ cleanupError: ({ event }) => ('error' in event ? event.error : null) }),
    /** A reload has settled. Does nothing here; the orchestrator composing this slot tells itself (machines/orchestrator.ts). */
    reportSettled: () => {},
  },
}).createMachine({
  id: 'engineConfig',
  context: { request: null, staged: null, candidate: null, previous: null, error: null, cleanupError: null, plugins: [] },
  initial: 'idle',
  // A plugin slot may settle at any point of a reload (its process died), and one still starting when the reload
  // failed reports later that it waits: both are recorded wherever they arrive; the states before the swap fail
  // on a settled one, and releasingPlugins releases a late one.
  on: { 'PLUGIN.SETTLED': { actions: 'recordPlugin' }, 'PLUGIN.AWAITING': { actions: 'recordPlugin' } },
  states: {
    idle: { on: { TRY_ACTIVATE: startReload } },

    staging: {
      invoke: { id: 'stageConfig', src: 'stageConfig', input: ({ context }) => ({ request: context.request! }) },
      on: {
        STAGED: {
          target: 'startingPlugins',
          actions: assign({
            staged: ({ event }) => event.staged,
            plugins: ({ event }) => event.staged.plugins.map(({ staged }) => ({ name: staged.name, candidate: null, settled: null })),
          }),
        },
        STEP_FAILED: { target: 'rejected', actions: 'recordError' },
        // The active config, byte for byte, on the plugins that run now: nothing to build, start or swap.
        ALREADY_ACTIVE: 'unchanged',
      },
    },

    // Each plugin to start runs its own slot, up to its own probe; the engine waits for all of them.
    startingPlugins: {
      entry: 'startPlugins',
      always: { guard: 'everyPluginAwaits', target: 'staged' },
      on: { 'PLUGIN.SETTLED': pluginFailed },
    },

    staged: {
      invoke: {
        id: 'buildCandidate',
        src: 'buildCandidate',
        input: ({ context }) => ({ staged: context.staged!, request: context.request!, plugins: context.plugins.map((p) => p.candidate!) }),
      },
      on: {
        BUILT: { target: 'candidateBuilt', actions: assign({ candidate: ({ event }) => event.candidate }) },
        STEP_FAILED: fail,
        'PLUGIN.SETTLED': pluginFailed,
      },
    },

    candidateBuilt: {
      invoke: { id: 'probeCandidate', src: 'probeCandidate', input: ({ context }) => ({ candidate: context.candidate!, request: context.request! }) },
      on: {
        PROBE_PASSED: [{ guard: 'isDryRun', target: 'stoppingCandidate' }, { target: 'probed' }],
        STEP_FAILED: fail,
        'PLUGIN.SETTLED': pluginFailed,
      },
    },

    probed: {
      invoke: { id: 'commitSwap', src: 'commitSwap', input: ({ context }) => ({ candidate: context.candidate!, request: context.request!, staged: context.staged! }) },
      on: {
        SWAPPED: { target: 'confirming', actions: [assign({ previous: ({ event }) => event.previous }), 'adoptPlugins'] },
        // commitSwap fails only before the pointer moves (it refuses a plugin that died, recorded meanwhile).
        STEP_FAILED: fail,
      },
    },

    // Swapped, not yet confirmed: the replaced engine and its plugins are alive, ready to take over again.
    confirming: {
      invoke: { id: 'confirmCandidate', src: 'confirmCandidate', input: ({ context }) => ({ request: context.request! }) },
      on: {
        CONFIRMED: { target: 'draining', actions: [assign({ staged: null }), 'confirmPlugins'] },
        CONFIRM_FAILED: { target: 'swappingBack', actions: 'recordError' },
      },
    },

    swappingBack: {
      invoke: { id: 'swapBack', src: 'swapBack', input: ({ context }) => ({ request: context.request!, staged: context.staged }) },
      on: {
        SWAPPED_BACK: { target: releasePlugins, actions: assign({ staged: null, previous: null }) },
        CLEANUP_FAILED: { target: releasePlugins, actions: ['recordCleanupError', assign({ staged: null, previous: null })] },
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
        CANDIDATE_DISCARDED: { target: releasePlugins, actions: assign({ staged: null }) },
        CLEANUP_FAILED: { target: releasePlugins, actions: ['recordCleanupError', assign({ staged: null })] },
      },
    },

    rollingBack: {
      invoke: { id: 'discardCandidate', src: 'discardCandidate', input: ({ context }) => ({ request: context.request!, staged: context.staged }) },
      on: {
        CANDIDATE_DISCARDED: { target: releasePlugins, actions: assign({ staged: null }) },
        CLEANUP_FAILED: { target: releasePlugins, actions: ['recordCleanupError', assign({ staged: null })] },
      },
    },

    // The config's own resources are released (and the pointer is back, after a swap back): now every plugin
    // slot still running rolls its candidate back, and the reload settles once all of them have.
    releasingPlugins: {
      entry: 'releasePlugins',
      on: { 'PLUGIN.AWAITING': { actions: ['recordPlugin', 'releaseReporter'] } },
      always: [
        { guard: and(['everyPluginSettled', 'hasFailed']), target: 'rolledBack' },
        { guard: 'everyPluginSettled', target: 'dryRunPassed' },
      ],
    },

    active: { entry: ['stopPlugins', 'reportSettled'], on: { TRY_ACTIVATE: startReload } },
    rolledBack: { entry: ['stopPlugins', 'reportSettled'], on: { TRY_ACTIVATE: startReload } },
    rejected: { entry: ['stopPlugins', 'reportSettled'], on: { TRY_ACTIVATE: startReload } },
    dryRunPassed: { entry: ['stopPlugins', 'reportSettled'], on: { TRY_ACTIVATE: startReload } },
    unchanged: { entry: 'reportSettled', on: { TRY_ACTIVATE: startReload } },
  },
});

export type EngineConfigMachine = typeof engineConfigMachine;
