/**
 * The orchestrator: the root actor that composes the engine slot and one
 * plugin slot per plugin name, and admits reloads. Pure like the slots: the
 * slot machines' work is supplied from src/ through `.provide(...)`.
 *
 * Admission is the composition rule, decided here and only here: a reload
 * starts only if nothing blocks its target (`blockingReload`), so two reloads
 * of one plugin, or a config reload beside any plugin reload, can never be in
 * flight together. A refused request is recorded (`lastRefusal`) with the
 * reload that blocked it. The root observes its children: each slot tells it
 * when its reload settles (RELOAD.SETTLED), which releases the target. The
 * slots themselves make the order of each reload's steps unrepresentable
 * otherwise (see plugin-slot.ts and engine-config.ts).
 */
import { assign, enqueueActions, sendParent, setup } from 'xstate';
import { engineConfigMachine } from './engine-config.js';
import { pluginSlotMachine, type RestartRequest } from './plugin-slot.js';

/** The target a config reload claims. */
export const CONFIG_TARGET = 'config';
/** The target (and slot actor id) of plugin `name`. */
export const pluginTarget = (name: string): string => `plugin:${name}`;
/** The engine slot's actor id. */
export const ENGINE_SLOT_ID = 'engine';

/**
 * The reload in flight that forbids starting one on `target`, or null.
 * A config reload touches every plugin, so it runs alone.
 */
export function blockingReload(inFlight: Readonly<Record<string, string>>, target: string): { target: string; reloadId: string } | null {
  const blocker = target === CONFIG_TARGET ? Object.keys(inFlight)[0] : [target, CONFIG_TARGET].find((t) => t in inFlight);
  return blocker === undefined ? null : { target: blocker, reloadId: inFlight[blocker]! };
}

export interface OrchestratorContext {
  /** target → id of the reload running on it. */
  inFlight: Record<string, string>;
  /** Plugin names that have a slot actor. */
  slots: string[];
  /** The last request refused, and the reload in flight that blocked it. */
  lastRefusal: { reloadId: string; blocking: { target: string; reloadId: string } } | null;
}

/** A plugin slot as the orchestrator composes it: it reports each settled reload to its parent. */
export const composedPluginSlot = pluginSlotMachine.provide({
  actions: {
    reportSettled: sendParent(({ context }) => ({ type: 'RELOAD.SETTLED', target: pluginTarget(context.name), reloadId: context.request?.reloadId ?? '' })),
  },
});

/** The engine slot as the orchestrator composes it: it reports each settled reload to its parent. */
export const composedEngineSlot = engineConfigMachine.provide({
  actions: {
    reportSettled: sendParent(({ context }) => ({ type: 'RELOAD.SETTLED', target: CONFIG_TARGET, reloadId: context.request?.reloadId ?? '' })),
  },
});

export type OrchestratorEvent =
  | { type: 'PLUGIN.TRY_ACTIVATE'; name: string; reloadId: string; sourceDir: string; dryRun: boolean }
  /** Boot recovery or the supervisor: start an active version again, through its slot. */
  | ({ type: 'PLUGIN.RESTART'; name: string } & RestartRequest)
  | { type: 'CONFIG.TRY_ACTIVATE'; reloadId: string; file: string; yaml?: string; dryRun: boolean }
  /** The legacy path runs outside the slots; it only needs admission, and says itself when it is done. */
  | { type: 'LEGACY.BEGIN'; name: string; reloadId: string }
  | { type: 'LEGACY.END'; name: string; reloadId: string }
  /** From a slot child: its reload settled. */
  | { type: 'RELOAD.SETTLED'; target: string; reloadId: string };

const targetOf = (event: OrchestratorEvent): string =>
  event.type === 'CONFIG.TRY_ACTIVATE' ? CONFIG_TARGET : event.type === 'RELOAD.SETTLED' ? event.target : pluginTarget(event.name);

export const orchestratorMachine = setup({
  types: {
    context: {} as OrchestratorContext,
    events: {} as OrchestratorEvent,
  },
  actors: {
    pluginSlot: composedPluginSlot,
    engineConfig: composedEngineSlot,
  },
  guards: {
    isTargetFree: ({ context, event }) => blockingReload(context.inFlight, targetOf(event)) === null,
  },
  actions: {
    admit: assign({
      inFlight: ({ context, event }) => ('reloadId' in event ? { ...context.inFlight, [targetOf(event)]: event.reloadId } : context.inFlight),
    }),
    /** Spawn plugin NAME's slot on its first use, then hand it the request. */
    forwardToPluginSlot: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'PLUGIN.TRY_ACTIVATE' && event.type !== 'PLUGIN.RESTART') return;
      const id = pluginTarget(event.name);
      if (!context.slots.includes(event.name)) {
        enqueue.spawnChild('pluginSlot', { id, input: { name: event.name } });
        enqueue.assign({ slots: [...context.slots, event.name] });
      }
      if (event.type === 'PLUGIN.TRY_ACTIVATE') enqueue.sendTo(id, { type: 'TRY_ACTIVATE', reloadId: event.reloadId, sourceDir: event.sourceDir, dryRun: event.dryRun });
      else enqueue.sendTo(id, { type: 'RESTART', reloadId: event.reloadId, staged: event.staged, replacing: event.replacing });
    }),
    refuse: assign({
      lastRefusal: ({ context, event }) => ('reloadId' in event ? { reloadId: event.reloadId, blocking: blockingReload(context.inFlight, targetOf(event))! } : context.lastRefusal),
    }),
    release: assign({
      inFlight: ({ context, event }) => {
        const target = targetOf(event);
        if ((event.type !== 'RELOAD.SETTLED' && event.type !== 'LEGACY.END') || context.inFlight[target] !== event.reloadId) return context.inFlight;
        const { [target]: _done, ...rest } = context.inFlight;
        return rest;
      },
    }),
  },
}).createMachine({
  id: 'orchestrator',
  context: { inFlight: {}, slots: [], lastRefusal: null },
  entry: enqueueActions(({ enqueue }) => enqueue.spawnChild('engineConfig', { id: ENGINE_SLOT_ID })),
  on: {
    'PLUGIN.TRY_ACTIVATE': [{ guard: 'isTargetFree', actions: ['admit', 'forwardToPluginSlot'] }, { actions: 'refuse' }],
    'PLUGIN.RESTART': [{ guard: 'isTargetFree', actions: ['admit', 'forwardToPluginSlot'] }, { actions: 'refuse' }],
    'CONFIG.TRY_ACTIVATE': [
      {
        guard: 'isTargetFree',
        actions: [
          'admit',
          enqueueActions(({ event, enqueue }) => {
            const { type: _type, ...request } = event;
            enqueue.sendTo(ENGINE_SLOT_ID, { type: 'TRY_ACTIVATE', ...request });
          }),
        ],
      },
      { actions: 'refuse' },
    ],
    'LEGACY.BEGIN': [{ guard: 'isTargetFree', actions: 'admit' }, { actions: 'refuse' }],
    'LEGACY.END': { actions: 'release' },
    'RELOAD.SETTLED': { actions: 'release' },
  },
});

export type OrchestratorMachine = typeof orchestratorMachine;
