/**
 * Model-based tests of the engine slot (machines/engine-config.ts).
 *
 * xstate/graph walks every simple path of the pure machine over a fixed set of
 * facts (the events its actors report). Each path is then replayed on a real
 * actor whose work is a fake world provided through `engineConfigMachine.provide`:
 * the fake actors only record what they were asked to do and its effect on the
 * world, and the test, never an actor, sends the facts, so every path is played
 * exactly as enumerated.
 *
 * `createTestModel` refuses machines that invoke actors ("Invocations on test
 * machines are not supported"), so the paths come from `getSimplePaths` and
 * `getShortestPaths`, and `replay` plays the system under test.
 */
import { createActor, fromCallback, transition, type EventObject, type SnapshotFrom, type StateValue } from 'xstate';
import { getShortestPaths, getSimplePaths, getStateNodes, type StatePath } from 'xstate/graph';
import { describe, expect, it } from 'vitest';
import { describeCleanupFailures, describeTransitions } from './shared-walks.js';
import {
  engineConfigMachine,
  type ConfigReloadRequest,
  type EngineConfigContext,
  type EngineConfigEvent,
  type EngineRef,
  type StagedConfig,
} from '../../machines/engine-config.js';
import type { PluginRef, PluginSlotEvent } from '../../machines/plugin-slot.js';

type SlotSnapshot = SnapshotFrom<typeof engineConfigMachine>;
type SlotPath = StatePath<SlotSnapshot, EngineConfigEvent>;
type EventType = EngineConfigEvent['type'];
type TryActivate = Extract<EngineConfigEvent, { type: 'TRY_ACTIVATE' }>;

// ─── The world's fixtures ───────────────────────────────────────────────────

/** The engine serving before any reload. */
const ORIGINAL: EngineRef = { generation: 1, digest: 'a'.repeat(64), listen: '127.0.0.1:8080' };

interface ReloadFixture {
  request: TryActivate;
  staged: StagedConfig;
  candidate: EngineRef;
  /** The plugin processes its plugin slots start beside the running ones (their instance ids). */
  plugins: readonly string[];
}

/** The process plugin `name`'s slot starts for reload `reloadId`, as it reports it when it waits for the engine. */
const pluginCandidate = (name: string, reloadId: string): PluginRef => ({
  name,
  version: '2.0.0',
  dir: `/state/plugins/${name}/2.0.0-${reloadId}`,
  digest: 'd'.repeat(64),
  instanceId: `${name}#${reloadId}`,
  pid: 5000,
});
const pluginStart = (name: string, reloadId: string) => {
  const { instanceId: _id, pid: _pid, ...staged } = pluginCandidate(name, reloadId);
  return { sourceDir: `/offered/${name}`, staged: { ...staged, createdByReload: true } };
};

/**
 * One real and one dry reload, each on a new address with a newly staged copy.
 * `staging` with a given request is a single vertex, so a simple path starts
 * each of them at most once: the only swap on a path is the real reload's, and
 * it always replaces ORIGINAL.
 */
const RELOADS: readonly ReloadFixture[] = [
  {
    request: { type: 'TRY_ACTIVATE', reloadId: 'reload-real', file: '/offered/next.yaml', dryRun: false },
    staged: {
      digest: 'b'.repeat(64),
      file: `/state/configs/${'b'.repeat(64)}.yaml`,
      source: '/offered/next.yaml',
      createdByReload: true,
      plugins: [pluginStart('echo', 'reload-real')],
    },
    candidate: { generation: 2, digest: 'b'.repeat(64), listen: '127.0.0.1:8081' },
    plugins: ['echo#reload-real'],
  },
  {
    request: { type: 'TRY_ACTIVATE', reloadId: 'reload-dry', file: '/offered/other.yaml', dryRun: true },
    staged: {
      digest: 'c'.repeat(64),
      file: `/state/configs/${'c'.repeat(64)}.yaml`,
      source: '/offered/other.yaml',
      createdByReload: true,
      plugins: [pluginStart('upper', 'reload-dry')],
    },
    candidate: { generation: 2, digest: 'c'.repeat(64), listen: '127.0.0.1:8082' },
    plugins: ['upper#reload-dry'],
  },
];
/**
 * A real reload starting two plugins, walked on its own (with the two above, the walk would multiply past what a
 * test can replay): the reload waits for the last of them, and releases each one still running.
 */
const PAIR: ReloadFixture = {
  request: { type: 'TRY_ACTIVATE', reloadId: 'reload-pair', file: '/offered/pair.yaml', dryRun: false },
  staged: {
    digest: 'e'.repeat(64),
    file: `/state/configs/${'e'.repeat(64)}.yaml`,
    source: '/offered/pair.yaml',
    createdByReload: true,
    plugins: [pluginStart('echo', 'reload-pair'), pluginStart('upper', 'reload-pair')],
  },
  candidate: { generation: 2, digest: 'e'.repeat(64), listen: '127.0.0.1:8083' },
  plugins: ['echo#reload-pair', 'upper#reload-pair'],
};
const ALL_RELOADS = [...RELOADS, PAIR];
const fixtureOf = (request: ConfigReloadRequest): ReloadFixture => ALL_RELOADS.find((r) => r.request.reloadId === request.reloadId)!;

/** The plugin processes each engine uses (and nothing shares them). */
const ENGINE_PLUGINS = new Map<EngineRef, readonly string[]>([[ORIGINAL, ['echo#original']], ...ALL_RELOADS.map((r) => [r.candidate, r.plugins] as const)]);
const pluginsOf = (engine: EngineRef): readonly string[] => ENGINE_PLUGINS.get(engine)!;

const PROBE_PASSED: EngineConfigEvent = { type: 'PROBE_PASSED' };
const SWAPPED: EngineConfigEvent = { type: 'SWAPPED', previous: ORIGINAL };
const CONFIRMED: EngineConfigEvent = { type: 'CONFIRMED' };
const CONFIRM_FAILED = {
  type: 'CONFIRM_FAILED',
  error: { code: 'WFR_CONFIRM_FAILED', message: 'a plugin of the new engine failed inside the confirmation window' },
} as const satisfies EngineConfigEvent;
const SWAPPED_BACK: EngineConfigEvent = { type: 'SWAPPED_BACK' };
const DRAINED: EngineConfigEvent = { type: 'DRAINED' };
const CANDIDATE_DISCARDED: EngineConfigEvent = { type: 'CANDIDATE_DISCARDED' };
const CLEANUP_FAILED: EngineConfigEvent = { type: 'CLEANUP_FAILED', error: { code: 'WFR_CLEANUP_FAILED', message: 'the clean-up failed', details: { left: ['pid 4242'] } } };
const STEP_FAILED = { type: 'STEP_FAILED', error: { code: 'WFR_TEST_STEP_FAILED', message: 'the step failed' } } as const satisfies EngineConfigEvent;
const PLUGIN_ERROR = { code: 'WFR_PLUGIN_UNHEALTHY', message: 'its health check failed' };

/** Where a plugin slot of the reload can settle: its own failure or death (before the swap), its release, or the engine's confirmation. */
const SETTLING_STATES = ['startingPlugins', 'staged', 'candidateBuilt', 'probed', 'releasingPlugins', 'draining'];

/** What each plugin slot of the current reload can report in `snapshot`. */
function pluginFacts(snapshot: SlotSnapshot): EngineConfigEvent[] {
  const { request, plugins, error } = snapshot.context;
  if (!request) return [];
  const state = leafOf(snapshot.value);
  return plugins.flatMap((plugin): EngineConfigEvent[] => {
    if (plugin.settled) return [];
    const awaiting: EngineConfigEvent[] = plugin.candidate ? [] : [{ type: 'PLUGIN.AWAITING', reloadId: request.reloadId, name: plugin.name, candidate: pluginCandidate(plugin.name, request.reloadId) }];
    if (!SETTLING_STATES.includes(state)) return awaiting;
    // After CONFIRMED it goes live; released without an error (a passing dry run) it stops; otherwise it rolled back.
    const outcome = state === 'draining' ? 'active' : state === 'releasingPlugins' && !error ? 'dryRunPassed' : 'rolledBack';
    const settledError = outcome === 'rolledBack' ? (state === 'releasingPlugins' ? error : PLUGIN_ERROR) : null;
    return [...awaiting, { type: 'PLUGIN.SETTLED', reloadId: request.reloadId, name: plugin.name, outcome, error: settledError }];
  });
}

/** Every fact the slot can be told in `snapshot`, with the payloads of its current reload. */
function factsFor(snapshot: SlotSnapshot, starts: readonly TryActivate[] = RELOADS.map((r) => r.request)): EngineConfigEvent[] {
  const reload = snapshot.context.request ? fixtureOf(snapshot.context.request) : null;
  const reloadFacts: EngineConfigEvent[] = reload
    ? [
        { type: 'STAGED', staged: reload.staged },
        { type: 'BUILT', candidate: reload.candidate },
        ...pluginFacts(snapshot),
      ]
    : [];
  return [
    ...starts,
    ...reloadFacts,
    PROBE_PASSED,
    SWAPPED,
    CONFIRMED,
    CONFIRM_FAILED,
    SWAPPED_BACK,
    DRAINED,
    CANDIDATE_DISCARDED,
    CLEANUP_FAILED,
    STEP_FAILED,
    { type: 'ALREADY_ACTIVE' },
  ];
}

/** The reload protocol: in each state, the only facts that may move the slot on. */
const accepted: Record<string, readonly EventType[]> = {
  idle: ['TRY_ACTIVATE'],
  // ALREADY_ACTIVE: the active config, starting nothing; the slot settles at once.
  staging: ['STAGED', 'STEP_FAILED', 'ALREADY_ACTIVE'],
  // Each plugin slot reports that it waits for the engine (the last one moves the reload on), or that it failed.
  startingPlugins: ['PLUGIN.AWAITING', 'PLUGIN.SETTLED'],
  // A plugin slot that settles before the swap has failed (its process died): so does the reload.
  staged: ['BUILT', 'STEP_FAILED', 'PLUGIN.SETTLED'],
  candidateBuilt: ['PROBE_PASSED', 'STEP_FAILED', 'PLUGIN.SETTLED'],
  // commitSwap fails only before the pointer moves.
  probed: ['SWAPPED', 'STEP_FAILED'],
  // After the swap the only failure is confirmCandidate's own.
  confirming: ['CONFIRMED', 'CONFIRM_FAILED'],
  // swapBack's pointer change cannot fail; the clean-up after it can (CLEANUP_FAILED).
  swappingBack: ['SWAPPED_BACK', 'CLEANUP_FAILED'],
  // drainPrevious may fail (CLEANUP_FAILED), and the slot still ends active.
  draining: ['DRAINED', 'CLEANUP_FAILED'],
  stoppingCandidate: ['CANDIDATE_DISCARDED', 'CLEANUP_FAILED'],
  rollingBack: ['CANDIDATE_DISCARDED', 'CLEANUP_FAILED'],
  // Every plugin slot waiting was told to roll back (one still starting, when it reports); the last one to settle ends the reload.
  releasingPlugins: ['PLUGIN.SETTLED', 'PLUGIN.AWAITING'],
  active: ['TRY_ACTIVATE'],
  rolledBack: ['TRY_ACTIVATE'],
  rejected: ['TRY_ACTIVATE'],
  dryRunPassed: ['TRY_ACTIVATE'],
  unchanged: ['TRY_ACTIVATE'],
};

/** Facts a state only records (a plugin slot settled meanwhile), without moving on: commitSwap refuses a dead plugin itself, and after CONFIRMED the slots go live. */
const recorded: Record<string, readonly EventType[]> = {
  probed: ['PLUGIN.SETTLED'],
  draining: ['PLUGIN.SETTLED'],
  // A plugin slot still starting when the reload failed reports later that it waits; releasingPlugins releases it.
  rollingBack: ['PLUGIN.AWAITING'],
};

const leafOf = (value: StateValue): string => (typeof value === 'string' ? value : leafOf(Object.values(value)[0]!));

// ─── The fake world ─────────────────────────────────────────────────────────

/** What each named piece of work is given (the inputs in machines/engine-config.ts). */
interface WorkInputs {
  stageConfig: { request: ConfigReloadRequest };
  buildCandidate: { staged: StagedConfig; request: ConfigReloadRequest; plugins: PluginRef[] };
  probeCandidate: { candidate: EngineRef; request: ConfigReloadRequest };
  commitSwap: { candidate: EngineRef; request: ConfigReloadRequest; staged: StagedConfig };
  confirmCandidate: { request: ConfigReloadRequest };
  swapBack: { request: ConfigReloadRequest; staged: StagedConfig | null };
  drainPrevious: { previous: EngineRef | null };
  discardCandidate: { request: ConfigReloadRequest; staged: StagedConfig | null };
}
type Work = keyof WorkInputs;
type Call = { [W in Work]: { work: W; input: WorkInputs[W] } }[Work];
type CallOf<W extends Work> = Extract<Call, { work: W }>;

/** An engine drainPrevious stopped, with the listener it closed (null when the new engine kept the address) and its plugins. */
interface StoppedEngine {
  engine: EngineRef;
  listener: string | null;
  plugins: readonly string[];
}

/** The world's logs: what happened to processes, sockets and files. */
interface Effects {
  /** Candidate plugin processes started (by the reload's plugin slots). */
  launched: Array<{ reloadId: string; plugin: string }>;
  /** What the engine slot told its plugin slots (ENGINE_SWAPPED, ENGINE_CONFIRMED, ENGINE_RELEASED), by plugin process. */
  told: Array<{ plugin: string; type: string }>;
  /** Candidate listeners bound (probeCandidate). */
  bound: Array<{ reloadId: string; listen: string }>;
  /** Swaps confirmed on disk, by reload (confirmCandidate). */
  confirmed: string[];
  /** Engines stopped after draining (drainPrevious). */
  stopped: StoppedEngine[];
  /** Candidate plugins killed (by their own slots, once released). */
  killed: string[];
  /** Candidate sockets closed (discardCandidate, swapBack). */
  closed: string[];
  /** Staged config files removed (discardCandidate, swapBack). */
  removedFiles: string[];
}

interface World extends Effects {
  /** The front door's pointer: the engine requests go to. */
  currentEngine: EngineRef;
  /** The engine a swap replaced, kept alive (with its plugins and listener) until it is drained or swapped back to. */
  retired: EngineRef | null;
  /** Every piece of work the slot started, in order. */
  calls: Call[];
}

const noEffects = (): Effects => ({ launched: [], told: [], bound: [], confirmed: [], stopped: [], killed: [], closed: [], removedFiles: [] });

/** What the world logged after `before` was taken. */
const effectsSince = (world: World, before: Effects): Effects => ({
  launched: world.launched.slice(before.launched.length),
  told: world.told.slice(before.told.length),
  bound: world.bound.slice(before.bound.length),
  confirmed: world.confirmed.slice(before.confirmed.length),
  stopped: world.stopped.slice(before.stopped.length),
  killed: world.killed.slice(before.killed.length),
  closed: world.closed.slice(before.closed.length),
  removedFiles: world.removedFiles.slice(before.removedFiles.length),
});
const logsOf = (world: World): Effects => effectsSince(world, noEffects());

/**
 * The slot with fake work: each actor records its call and its effect on the
 * world, and reports nothing. `failingCommits` names the reloads whose swap the
 * path fails (STEP_FAILED in `probed`): like the real commitSwap, their
 * commitSwap fails before the pointer moves.
 */
function fakeWorld(failingCommits: ReadonlySet<string> = new Set()) {
  const world: World = { currentEngine: ORIGINAL, retired: null, ...noEffects(), calls: [] };
  /** What discardCandidate releases, and swapBack too: this reload's sockets and staged file (its plugins are their slots' to release). */
  const release = (request: ConfigReloadRequest, staged: StagedConfig | null) => {
    world.closed.push(...world.bound.filter((b) => b.reloadId === request.reloadId).map((b) => b.listen));
    if (staged?.createdByReload) world.removedFiles.push(staged.file);
  };
  const fake = <W extends Work>(work: W, effect: (input: WorkInputs[W]) => void = () => {}) =>
    fromCallback<EventObject, WorkInputs[W]>(({ input }) => {
      world.calls.push({ work, input } as Call);
      effect(input);
    });
  const machine = engineConfigMachine.provide({
    actors: {
      stageConfig: fake('stageConfig'),
      // A plugin slot: starts its process when asked, kills it when released; what it reports, the test sends.
      pluginSlot: fromCallback<EventObject, { name: string }>(({ receive }) => {
        let process: string | null = null;
        receive((event) => {
          const told = event as PluginSlotEvent;
          if (told.type === 'START_FOR_CONFIG') {
            process = `${told.staged.name}#${told.reloadId}`;
            world.launched.push({ reloadId: told.reloadId, plugin: process });
            return;
          }
          world.told.push({ plugin: process!, type: told.type });
          if (told.type === 'ENGINE_RELEASED') world.killed.push(process!);
        });
        // A stand-in for the plugin slot machine (walked on its own in plugin-slot.model.test.ts).
      }) as never,
      buildCandidate: fake('buildCandidate'),
      probeCandidate: fake('probeCandidate', ({ candidate, request }) => {
        if (candidate.listen !== world.currentEngine.listen) world.bound.push({ reloadId: request.reloadId, listen: candidate.listen });
      }),
      // One of the two pointer changes: onto the candidate, keeping the replaced engine alive.
      commitSwap: fake('commitSwap', ({ candidate, request }) => {
        if (failingCommits.has(request.reloadId)) return;
        world.retired = world.currentEngine;
        world.currentEngine = candidate;
      }),
      // Records the confirmation; the pointer stays where commitSwap put it.
      confirmCandidate: fake('confirmCandidate', ({ request }) => world.confirmed.push(request.reloadId)),
      // The other pointer change: back onto the engine the swap replaced (the real
      // runtime keeps it, as here, since the machine does not pass it), then release the candidate.
      swapBack: fake('swapBack', ({ request, staged }) => {
        if (world.retired) world.currentEngine = world.retired;
        world.retired = null;
        release(request, staged);
      }),
      drainPrevious: fake('drainPrevious', ({ previous }) => {
        world.retired = null;
        if (!previous) return;
        const listener = previous.listen === world.currentEngine.listen ? null : previous.listen;
        world.stopped.push({ engine: previous, listener, plugins: pluginsOf(previous) });
      }),
      discardCandidate: fake('discardCandidate', ({ request, staged }) => release(request, staged)),
    },
  });
  return { world, machine };
}

// ─── Replay ─────────────────────────────────────────────────────────────────

interface TraceStep {
  event: EngineConfigEvent | { type: 'xstate.init' };
  /** The atomic state reached. */
  state: string;
  context: EngineConfigContext;
  /** The work started by this step. */
  invoked: Call[];
  /** What that work did to the world. */
  effects: Effects;
  /** The world's engine pointer after this step. */
  current: EngineRef;
  /** Everything the world logged since the path began, after this step. */
  logs: Effects;
}

/** The steps from one TRY_ACTIVATE up to (not including) the next. */
interface Reload {
  request: ConfigReloadRequest;
  currentBefore: EngineRef;
  steps: TraceStep[];
}

interface Replayed {
  /** The path's events, for failure messages. */
  path: string;
  steps: TraceStep[];
  reloads: Reload[];
  world: World;
  actor: ReturnType<typeof createActor<ReturnType<typeof fakeWorld>['machine']>>;
}

const describePath = (path: SlotPath) =>
  path.steps
    .slice(1)
    .map(({ event }) => (event.type === 'TRY_ACTIVATE' ? `TRY_ACTIVATE(${event.reloadId})` : event.type))
    .join(' → ') || '(initial)';

function reloadsOf(steps: TraceStep[]): Reload[] {
  const reloads: Reload[] = [];
  steps.forEach((step, i) => {
    if (step.event.type === 'TRY_ACTIVATE') {
      reloads.push({ request: step.context.request!, currentBefore: steps[i - 1]!.current, steps: [] });
    }
    reloads.at(-1)?.steps.push(step);
  });
  return reloads;
}

/** The reloads whose commitSwap the path fails: STEP_FAILED taken in `probed`. */
function failingCommitsOf(path: SlotPath): Set<string> {
  const failing = new Set<string>();
  path.steps.forEach((step, i) => {
    const before = path.steps[i - 1]?.state;
    if (before && step.event.type === 'STEP_FAILED' && leafOf(before.value) === 'probed') failing.add(before.context.request!.reloadId);
  });
  return failing;
}

/** Play `path` on a real actor over a fresh fake world, checking each state it reaches against the path's. */
function replay(path: SlotPath): Replayed {
  const { world, machine } = fakeWorld(failingCommitsOf(path));
  const actor = createActor(machine);
  const description = describePath(path);
  const steps = path.steps.map((step, i): TraceStep => {
    const seen = world.calls.length;
    const before = logsOf(world);
    if (i === 0) actor.start();
    else actor.send(step.event);
    const snapshot = actor.getSnapshot();
    expect(snapshot.value, `${description} (step ${i})`).toEqual(step.state.value);
    expect(snapshot.context, `${description} (step ${i})`).toEqual(step.state.context);
    return {
      event: step.event,
      state: leafOf(snapshot.value),
      context: snapshot.context,
      invoked: world.calls.slice(seen),
      effects: effectsSince(world, before),
      current: world.currentEngine,
      logs: logsOf(world),
    };
  });
  return { path: description, steps, reloads: reloadsOf(steps), world, actor };
}

// ─── Small named assertions ─────────────────────────────────────────────────

const callsOf = <W extends Work>(step: TraceStep, work: W): Array<CallOf<W>> =>
  step.invoked.filter((call): call is CallOf<W> => call.work === work);
const invokes = (steps: TraceStep[], work: Work) => steps.some((step) => callsOf(step, work).length > 0);
/** Whether the step at `i` moved the slot to another state (a plugin slot's report may only be recorded). */
const moved = (steps: TraceStep[], i: number) => i === 0 || steps[i - 1]!.state !== steps[i]!.state;
/** The facts that moved the reload on: a plugin slot's report that was only recorded is left out. */
const typesOf = (steps: TraceStep[]) => steps.filter((step, i) => !step.event.type.startsWith('PLUGIN.') || moved(steps, i)).map((step) => step.event.type);
/** The clean-up states that follow `first` (a clean-up state): through releasingPlugins unless every plugin slot had settled already. */
function cleanupStates(reload: Reload, first: string, settled: string): string[] {
  const released = releaseIndex(reload);
  const running = released >= 0 && reload.steps[released]!.context.plugins.some((p) => p.settled === null);
  return released < 0 || running ? [first, 'releasingPlugins', settled] : [first, settled];
}
/** The states the reload went through from `from` on, each once. */
const statesFrom = (reload: Reload, from: number) => reload.steps.slice(from).filter((_, i, steps) => i === 0 || moved(steps, i)).map((step) => step.state);
const stagedCopy = (reload: Reload) => reload.steps.find((s) => s.event.type === 'STAGED')?.context.staged ?? null;
const builtCandidate = (reload: Reload) => reload.steps.find((s) => s.event.type === 'BUILT')?.context.candidate ?? null;
const launchedBy = (reload: Reload) => reload.steps.flatMap((s) => s.effects.launched.map((l) => l.plugin));
const boundBy = (reload: Reload) => reload.steps.flatMap((s) => s.effects.bound.map((b) => b.listen));

const SWAP_PRECONDITION: EventType[] = ['TRY_ACTIVATE', 'STAGED', 'PLUGIN.AWAITING', 'BUILT', 'PROBE_PASSED'];
const DRAIN_PRECONDITION: EventType[] = [...SWAP_PRECONDITION, 'SWAPPED', 'CONFIRMED'];
const SWAP_BACK_PRECONDITION: EventType[] = [...SWAP_PRECONDITION, 'SWAPPED', 'CONFIRM_FAILED'];
/** Index of the step that took `type` in this reload, or -1. */
const indexOf = (reload: Reload, type: EventType) => reload.steps.findIndex((step) => step.event.type === type);

/** Whether `effects` stop, kill or close anything of `engine`. */
const touches = (effects: Effects, engine: EngineRef) =>
  effects.stopped.length > 0 || effects.killed.some((p) => pluginsOf(engine).includes(p)) || effects.closed.includes(engine.listen);

/** Whether, by `logs`, `engine` still runs: not stopped, none of its plugins killed, its listener open. */
const isAlive = (logs: Effects, engine: EngineRef) =>
  !logs.stopped.some((s) => s.engine === engine) && !logs.killed.some((p) => pluginsOf(engine).includes(p)) && !logs.closed.includes(engine.listen);

/** The reload left the serving engine as it was: pointer, process, plugins, listener. */
function expectCurrentUntouched(reload: Reload, path: string) {
  for (const step of reload.steps) {
    expect(step.current, path).toBe(reload.currentBefore);
    expect(touches(step.effects, reload.currentBefore), path).toBe(false);
  }
  expect(invokes(reload.steps, 'swapBack'), path).toBe(false);
  expect(invokes(reload.steps, 'drainPrevious'), path).toBe(false);
}

/** The step at `index` asked to discard exactly this reload's candidate and staged copy; the world shows them gone, and nothing else. */
function expectCandidateReleased(replayed: Replayed, reload: Reload, index: number) {
  const staged = stagedCopy(reload);
  const [discard, ...more] = callsOf(reload.steps[index]!, 'discardCandidate');
  expect(more, replayed.path).toEqual([]);
  expect(discard?.input.request, replayed.path).toBe(reload.request);
  expect(discard?.input.staged, replayed.path).toBe(staged);
  const { effects } = reload.steps[index]!;
  // Its plugins are not killed here: each is released through its own slot (expectPluginsReleased).
  expect(effects.killed, replayed.path).toEqual([]);
  expect(effects.closed, replayed.path).toEqual(boundBy(reload));
  expect(effects.removedFiles, replayed.path).toEqual(staged?.createdByReload ? [staged.file] : []);
  expect(effects.stopped, replayed.path).toEqual([]);
  // Only once: the steps after it release nothing more.
  for (const step of reload.steps.slice(index + 1)) expect(callsOf(step, 'discardCandidate'), replayed.path).toEqual([]);
}

/** The step that ends the config's own clean-up (rollingBack, swappingBack, stoppingCandidate) and so enters releasingPlugins, or -1. */
const releaseIndex = (reload: Reload) =>
  reload.steps.findIndex((step, i) => i > 0 && ['rollingBack', 'swappingBack', 'stoppingCandidate'].includes(reload.steps[i - 1]!.state) && step.state !== reload.steps[i - 1]!.state);

/**
 * The step at `index` entered releasingPlugins: every plugin slot of the reload that waited for the engine and
 * had not settled is told ENGINE_RELEASED there, once, with the engine pointer already back on the engine
 * current before the reload, and kills its process; one still starting is told when it reports that it waits,
 * and no other. The reload settles only once all of them have.
 */
function expectPluginsReleased(reload: Reload, index: number, path: string) {
  const process = (name: string) => `${name}#${reload.request.reloadId}`;
  const step = reload.steps[index]!;
  const waiting = step.context.plugins.filter((p) => p.settled === null && p.candidate !== null).map((p) => process(p.name));
  expect(step.effects.told, path).toEqual(waiting.map((plugin) => ({ plugin, type: 'ENGINE_RELEASED' })));
  expect(step.effects.killed, path).toEqual(waiting);
  expect(step.current, path).toBe(reload.currentBefore);
  const running = step.context.plugins.some((p) => p.settled === null);
  expect(step.state, path).toBe(running ? 'releasingPlugins' : reload.request.dryRun && !step.context.error ? 'dryRunPassed' : 'rolledBack');
  for (const later of reload.steps.slice(index + 1)) {
    const late = later.event.type === 'PLUGIN.AWAITING' ? [process(later.event.name)] : [];
    expect(later.effects.told, path).toEqual(late.map((plugin) => ({ plugin, type: 'ENGINE_RELEASED' })));
  }
  const last = reload.steps.at(-1)!;
  if (['rolledBack', 'dryRunPassed'].includes(last.state)) expect(last.context.plugins.every((p) => p.settled !== null), path).toBe(true);
}

/** The transitions of the machine that enter state `key`, as `from --EVENT`. */
const entriesOf = (key: string) =>
  getStateNodes(engineConfigMachine).flatMap((node) =>
    [...[...node.transitions.values()].flat(), ...(node.always ?? [])].flatMap((t) => (t.target ?? []).filter((target) => target.key === key).map(() => `${node.key} --${t.eventType || '(always)'}`)),
  );
const invokersOf = (src: string) => getStateNodes(engineConfigMachine).filter((node) => node.invoke.some((i) => i.src === src)).map((node) => node.key);

// ─── The paths ──────────────────────────────────────────────────────────────

const paths = [
  ...getSimplePaths(engineConfigMachine, { events: (snapshot) => factsFor(snapshot) }),
  ...getSimplePaths(engineConfigMachine, { events: (snapshot) => factsFor(snapshot, [PAIR.request]) }),
];

let replays: Replayed[] | undefined;
const replayAll = () => (replays ??= paths.map(replay));

/** Every reachable snapshot, with a path to it: each one ends some simple path. */
const reachable = [...new Map(paths.map((p) => [JSON.stringify([p.state.value, p.state.context]), p])).values()];

describe('engineConfig, walked along every simple path', () => {
  it('replays every simple path from idle on a real actor, reaching the same state at each step', () => {
    expect(paths.length).toBeGreaterThan(0);
    const replayed = replayAll();
    expect(replayed).toHaveLength(paths.length);
    for (const { path, steps } of replayed) expect(steps[0]!.invoked, path).toEqual([]);
  });

  it('reaches every atomic state of the machine, and the protocol table names each of them', () => {
    const atomic = getStateNodes(engineConfigMachine).filter((node) => node.type === 'atomic').map((node) => node.key);
    const reached = getShortestPaths(engineConfigMachine, { events: factsFor }).map((p) => leafOf(p.state.value));
    expect(new Set(reached)).toEqual(new Set(atomic));
    expect(Object.keys(accepted).sort()).toEqual([...atomic].sort());
  });

  it('stops the current engine only through drainPrevious, after BUILT, PROBE_PASSED, SWAPPED and CONFIRMED of the same reload, and only the engine current when that reload began', () => {
    let drains = 0;
    for (const { path, steps, reloads } of replayAll()) {
      const beforeFirstReload = steps.slice(0, steps.length - reloads.reduce((n, r) => n + r.steps.length, 0));
      for (const step of beforeFirstReload) expect(step.invoked, path).toEqual([]);
      for (const reload of reloads) {
        reload.steps.forEach((step, i) => {
          const drain = callsOf(step, 'drainPrevious');
          if (drain.length === 0) {
            expect(touches(step.effects, reload.currentBefore), `${path} (${step.event.type})`).toBe(false);
            return;
          }
          drains += 1;
          expect(typesOf(reload.steps.slice(0, i + 1)), path).toEqual(DRAIN_PRECONDITION);
          expect(reload.request.dryRun, path).toBe(false);
          expect(step.state, path).toBe('draining');
          expect(drain, path).toHaveLength(1);
          expect(drain[0]!.input.previous, path).toBe(reload.currentBefore);
          expect(step.effects.stopped, path).toEqual([
            { engine: reload.currentBefore, listener: reload.currentBefore.listen, plugins: pluginsOf(reload.currentBefore) },
          ]);
          expect(step.effects.killed, path).toEqual([]);
        });
      }
    }
    expect(drains).toBeGreaterThan(0);
  });

  it('starts commitSwap only on entering probed, entered only on PROBE_PASSED from candidateBuilt after BUILT, and moves the pointer onto the built candidate', () => {
    expect(invokersOf('commitSwap')).toEqual(['probed']);
    expect(entriesOf('probed')).toEqual(['candidateBuilt --PROBE_PASSED']);
    expect(entriesOf('candidateBuilt')).toEqual(['staged --BUILT']);
    let commits = 0;
    let moved = 0;
    for (const { path, reloads } of replayAll()) {
      for (const reload of reloads) {
        reload.steps.forEach((step, i) => {
          const previousStep = reload.steps[i - 1];
          const commit = callsOf(step, 'commitSwap');
          const entersProbed = step.state === 'probed' && previousStep?.state !== 'probed';
          if (commit.length === 0 && !entersProbed) return;
          commits += 1;
          expect(commit, path).toHaveLength(1);
          expect(entersProbed, path).toBe(true);
          expect(previousStep?.state, path).toBe('candidateBuilt');
          expect(typesOf(reload.steps.slice(0, i + 1)), path).toEqual(SWAP_PRECONDITION);
          expect(reload.request.dryRun, path).toBe(false);
          expect(commit[0]!.input.candidate, path).toBe(builtCandidate(reload));
          expect(commit[0]!.input.staged, path).toBe(stagedCopy(reload));
          expect(commit[0]!.input.request, path).toBe(reload.request);
          if (step.current === previousStep?.current) return;
          moved += 1;
          expect(step.current, path).toBe(commit[0]!.input.candidate);
        });
      }
    }
    expect(commits).toBeGreaterThan(0);
    expect(moved).toBeGreaterThan(0);
  });

  it('starts one plugin slot per plugin the staged config lists, on STAGED, and builds only once every one of them waits for the engine, on their candidates', () => {
    expect(invokersOf('buildCandidate')).toEqual(['staged']);
    expect(entriesOf('staged')).toEqual(['startingPlugins --(always)']);
    let builds = 0;
    for (const { path, reloads } of replayAll()) {
      for (const reload of reloads) {
        reload.steps.forEach((step) => {
          if (step.event.type === 'STAGED') expect(step.effects.launched.map((l) => l.plugin), path).toEqual(fixtureOf(reload.request).plugins);
          else expect(step.effects.launched, path).toEqual([]);
          for (const build of callsOf(step, 'buildCandidate')) {
            builds += 1;
            expect(step.context.plugins.every((p) => p.candidate !== null && p.settled === null), path).toBe(true);
            expect(build.input.plugins, path).toEqual(step.context.staged!.plugins.map(({ staged }) => pluginCandidate(staged.name, reload.request.reloadId)));
          }
        });
      }
    }
    expect(builds).toBeGreaterThan(0);
  });

  it('tells its plugin slots ENGINE_SWAPPED only on SWAPPED, ENGINE_CONFIRMED only on CONFIRMED, ENGINE_RELEASED only once the pointer is back, and nothing on a dry run but the release', () => {
    const toldOn = new Map<string, string>([['ENGINE_SWAPPED', 'SWAPPED'], ['ENGINE_CONFIRMED', 'CONFIRMED']]);
    const seen = new Set<string>();
    for (const { path, reloads } of replayAll()) {
      for (const reload of reloads) {
        reload.steps.forEach((step) => {
          for (const { plugin, type } of step.effects.told) {
            seen.add(type);
            expect(fixtureOf(reload.request).plugins, path).toContain(plugin);
            if (type === 'ENGINE_RELEASED') {
              expect(step.state, path).toBe('releasingPlugins');
              expect(step.current, path).toBe(reload.currentBefore);
            } else {
              expect(step.event.type, path).toBe(toldOn.get(type));
              expect(reload.request.dryRun, path).toBe(false);
            }
          }
        });
      }
    }
    expect(seen).toEqual(new Set(['ENGINE_SWAPPED', 'ENGINE_CONFIRMED', 'ENGINE_RELEASED']));
  });

  it('changes the engine pointer only through commitSwap on entering probed and swapBack on entering swappingBack, and runs swapBack only after SWAPPED of the same reload', () => {
    expect(invokersOf('swapBack')).toEqual(['swappingBack']);
    expect(entriesOf('swappingBack')).toEqual(['confirming --CONFIRM_FAILED']);
    expect(entriesOf('confirming')).toEqual(['probed --SWAPPED']);
    const changedBy = { commitSwap: 0, swapBack: 0 };
    for (const { path, reloads } of replayAll()) {
      for (const reload of reloads) {
        reload.steps.forEach((step, i) => {
          const previousStep = reload.steps[i - 1];
          const commits = callsOf(step, 'commitSwap');
          const swapBacks = callsOf(step, 'swapBack');
          if (commits.length > 0) expect(step.state, path).toBe('probed');
          if (swapBacks.length > 0) {
            expect(swapBacks, path).toHaveLength(1);
            expect(step.state, path).toBe('swappingBack');
            expect(previousStep?.state, path).toBe('confirming');
            // After SWAPPED of this very reload, and nothing else since: the swap it undoes is this reload's.
            expect(typesOf(reload.steps.slice(0, i + 1)), path).toEqual(SWAP_BACK_PRECONDITION);
            expect(reload.request.dryRun, path).toBe(false);
            expect(swapBacks[0]!.input.request, path).toBe(reload.request);
            expect(swapBacks[0]!.input.staged, path).toBe(stagedCopy(reload));
          }
          if (step.current === (previousStep?.current ?? reload.currentBefore)) return;
          // A pointer change: exactly one of the two, and to where that work points.
          expect(commits.length + swapBacks.length, path).toBe(1);
          if (commits.length > 0) {
            changedBy.commitSwap += 1;
            expect(step.current, path).toBe(commits[0]!.input.candidate);
          } else {
            changedBy.swapBack += 1;
            // Back onto the engine SWAPPED reported it replaced.
            expect(step.current, path).toBe(previousStep!.context.previous);
          }
        });
      }
    }
    expect(changedBy.commitSwap).toBeGreaterThan(0);
    expect(changedBy.swapBack).toBeGreaterThan(0);
  });

  it('never stops the previous engine before CONFIRMED, and keeps it, its plugins and its listener alive throughout confirming and swappingBack', () => {
    const seen = new Set<string>();
    for (const { path, reloads } of replayAll()) {
      for (const reload of reloads) {
        const previous = reload.currentBefore;
        const confirmedAt = indexOf(reload, 'CONFIRMED');
        const beforeConfirmed = confirmedAt < 0 ? reload.steps : reload.steps.slice(0, confirmedAt);
        for (const step of beforeConfirmed) {
          expect(callsOf(step, 'drainPrevious'), `${path} (${step.event.type})`).toEqual([]);
          expect(isAlive(step.logs, previous), `${path} (${step.event.type})`).toBe(true);
        }
        for (const step of reload.steps.filter((s) => s.state === 'confirming' || s.state === 'swappingBack')) {
          seen.add(step.state);
          expect(isAlive(step.logs, previous), `${path} (${step.event.type} into ${step.state})`).toBe(true);
          expect(step.context.previous, path).toBe(previous);
          for (const confirm of callsOf(step, 'confirmCandidate')) expect(confirm.input.request, path).toBe(reload.request);
        }
      }
    }
    expect(seen).toEqual(new Set(['confirming', 'swappingBack']));
  });

  it('ends a CONFIRM_FAILED after SWAPPED in rolledBack, back on exactly the engine current before the reload, with the failed candidate released and drainPrevious never run', () => {
    let rolledBack = 0;
    for (const { path, reloads } of replayAll()) {
      for (const reload of reloads) {
        const failedAt = indexOf(reload, 'CONFIRM_FAILED');
        if (failedAt < 0) continue;
        const staged = stagedCopy(reload)!;
        expect(typesOf(reload.steps.slice(0, failedAt + 1)), path).toEqual(SWAP_BACK_PRECONDITION);
        const outcome = statesFrom(reload, failedAt);
        expect(outcome, path).toEqual(cleanupStates(reload, 'swappingBack', 'rolledBack').slice(0, outcome.length));
        expect(reload.steps[failedAt]!.context.error, path).toEqual(CONFIRM_FAILED.error);
        // No drain on this path, and nothing released twice: swapBack alone releases the candidate.
        expect(invokes(reload.steps, 'drainPrevious'), path).toBe(false);
        expect(invokes(reload.steps, 'confirmCandidate'), path).toBe(true);
        expect(invokes(reload.steps, 'discardCandidate'), path).toBe(false);
        const [swapBack, ...more] = callsOf(reload.steps[failedAt]!, 'swapBack');
        expect(swapBack, path).toBeDefined();
        expect(more, path).toEqual([]);
        // The failed candidate's socket closed, its staged copy removed; the old engine untouched. Its plugins
        // keep running until the pointer is back (their slots release them next).
        const { effects } = reload.steps[failedAt]!;
        expect(effects.killed, path).toEqual([]);
        expect(effects.closed, path).toEqual(boundBy(reload));
        expect(effects.removedFiles, path).toEqual(staged.createdByReload ? [staged.file] : []);
        expect(effects.stopped, path).toEqual([]);
        expect(effects.confirmed, path).toEqual([]);
        for (const step of reload.steps.slice(failedAt)) {
          expect(step.current, path).toBe(reload.currentBefore);
          expect(isAlive(step.logs, reload.currentBefore), path).toBe(true);
        }
        const released = releaseIndex(reload);
        if (released >= 0) expectPluginsReleased(reload, released, path);
        const last = reload.steps.at(-1)!;
        if (last.state !== 'rolledBack') continue;
        rolledBack += 1;
        const swappedBack = reload.steps[released]!;
        expect(['SWAPPED_BACK', 'CLEANUP_FAILED'], path).toContain(swappedBack.event.type);
        expect(last.context.cleanupError, path).toEqual(swappedBack.event.type === 'CLEANUP_FAILED' ? CLEANUP_FAILED.error : null);
        expect(last.invoked, path).toEqual([]);
        expect(last.context, path).toMatchObject({ staged: null, previous: null, error: CONFIRM_FAILED.error });
      }
    }
    expect(rolledBack).toBeGreaterThan(0);
  });

  it('ends every failure before SWAPPED (a step\'s, or a plugin slot\'s) in rolledBack (or rejected while staging), never touching the current engine, after releasing exactly this reload\'s candidate and plugins', () => {
    const failedIn = new Set<string>();
    for (const replayed of replayAll()) {
      for (const reload of replayed.reloads) {
        const failedAt = reload.steps.findIndex((step, i) => step.event.type === 'STEP_FAILED' || (step.event.type === 'PLUGIN.SETTLED' && step.state === 'rollingBack' && moved(reload.steps, i)));
        if (failedAt < 0) continue;
        const { path } = replayed;
        const failure = reload.steps[failedAt]!;
        // A failure never comes after SWAPPED: inside the confirmation window it is CONFIRM_FAILED (see above).
        expect(typesOf(reload.steps.slice(0, failedAt)), path).not.toContain('SWAPPED');
        const state = reload.steps[failedAt - 1]!.state;
        failedIn.add(state);
        const outcome = statesFrom(reload, failedAt);
        const expected = state === 'staging' ? ['rejected'] : cleanupStates(reload, 'rollingBack', 'rolledBack');
        expect(outcome, path).toEqual(expected.slice(0, outcome.length));
        if (failure.event.type === 'PLUGIN.SETTLED') {
          // The plugin's own error, its code kept, naming the plugin.
          expect(failure.context.error, path).toEqual({ ...PLUGIN_ERROR, message: `plugin "${failure.event.name}": ${PLUGIN_ERROR.message}`, details: { plugin: failure.event.name } });
        } else expect(failure.context.error, path).toEqual(STEP_FAILED.error);
        expectCurrentUntouched(reload, path);
        expect(invokes(reload.steps, 'commitSwap'), path).toBe(state === 'probed');
        if (state === 'staging') {
          expect(invokes(reload.steps, 'discardCandidate'), path).toBe(false);
          expect(reload.steps.flatMap((step) => step.invoked.map((call) => call.work)), path).toEqual(['stageConfig']);
          continue;
        }
        expect(launchedBy(reload), path).toEqual(fixtureOf(reload.request).plugins);
        expectCandidateReleased(replayed, reload, failedAt);
        const released = releaseIndex(reload);
        if (released >= 0) expectPluginsReleased(reload, released, path);
        const last = reload.steps.at(-1)!;
        if (last.state === 'rolledBack') expect(last.context.staged, path).toBeNull();
      }
    }
    expect(failedIn).toEqual(new Set(['staging', 'startingPlugins', 'staged', 'candidateBuilt', 'probed']));
  });

  it('never calls commitSwap or drainPrevious on a dry run, and ends a passing one in dryRunPassed after discarding the candidate', () => {
    let passed = 0;
    for (const replayed of replayAll()) {
      for (const reload of replayed.reloads.filter((r) => r.request.dryRun)) {
        const { path } = replayed;
        expectCurrentUntouched(reload, path);
        expect(invokes(reload.steps, 'commitSwap'), path).toBe(false);
        const probedAt = reload.steps.findIndex((step) => step.event.type === 'PROBE_PASSED');
        if (probedAt < 0) continue;
        const outcome = statesFrom(reload, probedAt);
        expect(outcome, path).toEqual(cleanupStates(reload, 'stoppingCandidate', 'dryRunPassed').slice(0, outcome.length));
        expectCandidateReleased(replayed, reload, probedAt);
        const released = releaseIndex(reload);
        if (released >= 0) expectPluginsReleased(reload, released, path);
        const last = reload.steps.at(-1)!;
        if (last.state !== 'dryRunPassed') continue;
        passed += 1;
        expect(last.context.staged, path).toBeNull();
        expect(last.context.error, path).toBeNull();
      }
    }
    expect(passed).toBeGreaterThan(0);
  });
});

describe('engineConfig, offered the active config', () => {
  it('settles unchanged on ALREADY_ACTIVE from staging: no plugin slot, no work after staging, the engine untouched', () => {
    let unchanged = 0;
    for (const { path, reloads } of replayAll()) {
      for (const reload of reloads) {
        const at = indexOf(reload, 'ALREADY_ACTIVE');
        if (at < 0) continue;
        unchanged += 1;
        expect(typesOf(reload.steps.slice(0, at + 1)), path).toEqual(['TRY_ACTIVATE', 'ALREADY_ACTIVE']);
        expect(reload.steps[at]!.state, path).toBe('unchanged');
        expect(reload.steps.flatMap((step) => step.invoked.map((call) => call.work)), path).toEqual(['stageConfig']);
        expect(launchedBy(reload), path).toEqual([]);
        expectCurrentUntouched(reload, path);
      }
    }
    expect(unchanged).toBeGreaterThan(0);
  });
});

describeCleanupFailures('engineConfig', replayAll, CLEANUP_FAILED.error, {
  // The config's own clean-up done, the plugin slots still running are released next (none left: the reload settles).
  swappingBack: ['releasingPlugins', 'rolledBack'],
  draining: ['active'],
  stoppingCandidate: ['releasingPlugins', 'dryRunPassed'],
  rollingBack: ['releasingPlugins', 'rolledBack'],
});

describe('engineConfig, told facts out of order', () => {
  const expected = (snapshot: SlotSnapshot, type: EventType) => [...accepted[leafOf(snapshot.value)]!, ...(recorded[leafOf(snapshot.value)] ?? [])].includes(type);
  const unexpected = (snapshot: SlotSnapshot) => factsFor(snapshot).filter((e) => !expected(snapshot, e.type));

  it('only records a plugin slot that settles while the swap runs or the old engine drains, or that reports late while the reload rolls back: no move, no work, nothing else in its context', () => {
    const seen = new Set<string>();
    for (const { state: snapshot } of reachable) {
      const state = leafOf(snapshot.value);
      for (const event of factsFor(snapshot).filter((e) => recorded[state]?.includes(e.type))) {
        if (event.type !== 'PLUGIN.SETTLED' && event.type !== 'PLUGIN.AWAITING') continue;
        seen.add(state);
        const [next, actions] = transition(engineConfigMachine, snapshot, event);
        expect(next.value, state).toEqual(snapshot.value);
        expect({ ...next.context, plugins: [] }, state).toEqual({ ...snapshot.context, plugins: [] });
        const plugin = next.context.plugins.find((p) => p.name === event.name);
        if (event.type === 'PLUGIN.SETTLED') expect(plugin?.settled, state).toBe(event.outcome);
        else expect(plugin?.candidate, state).toEqual(event.candidate);
        expect(actions, state).toEqual([]);
      }
    }
    expect(seen).toEqual(new Set(Object.keys(recorded)));
  });

  it('ignores every fact the protocol does not expect next, in every reachable state, leaving state and context unchanged and starting no work', () => {
    let ignored = 0;
    for (const { state: snapshot } of reachable) {
      const state = leafOf(snapshot.value);
      for (const event of unexpected(snapshot)) {
        ignored += 1;
        const [next, actions] = transition(engineConfigMachine, snapshot, event);
        const what = `${event.type} in ${state}`;
        expect(next.value, what).toEqual(snapshot.value);
        expect(next.context, what).toEqual(snapshot.context);
        expect(actions, what).toEqual([]);
      }
    }
    expect(ignored).toBeGreaterThan(0);
  });

  it('ignores every unexpected fact on a running actor too, in every reachable state, starting no work and changing nothing in the world', () => {
    let ignored = 0;
    for (const path of reachable) {
      for (const event of unexpected(path.state)) {
        ignored += 1;
        const { actor, world, path: description } = replay(path);
        const before = actor.getSnapshot();
        const calls = world.calls.length;
        const logs = logsOf(world);
        const current = world.currentEngine;
        actor.send(event);
        const what = `${event.type} after ${description}`;
        expect(actor.getSnapshot().value, what).toEqual(before.value);
        expect(actor.getSnapshot().context, what).toEqual(before.context);
        expect(world.calls.slice(calls), what).toEqual([]);
        expect(effectsSince(world, logs), what).toEqual(noEffects());
        expect(world.currentEngine, what).toBe(current);
        actor.stop();
      }
    }
    expect(ignored).toBeGreaterThan(0);
  });

  const outOfOrder: Array<[EventType, string]> = [
    ['CONFIRMED', 'probed'],
    ['CONFIRM_FAILED', 'probed'],
    ['SWAPPED_BACK', 'probed'],
    ['CONFIRMED', 'candidateBuilt'],
    ['DRAINED', 'confirming'],
    ['SWAPPED_BACK', 'confirming'],
    ['SWAPPED', 'confirming'],
    ['STEP_FAILED', 'confirming'],
    ['TRY_ACTIVATE', 'confirming'],
    ['CONFIRMED', 'swappingBack'],
    ['CONFIRM_FAILED', 'swappingBack'],
    ['DRAINED', 'swappingBack'],
    ['STEP_FAILED', 'swappingBack'],
    ['TRY_ACTIVATE', 'swappingBack'],
    ['CONFIRMED', 'draining'],
    ['CONFIRM_FAILED', 'draining'],
    ['SWAPPED_BACK', 'draining'],
    ['STEP_FAILED', 'draining'],
    ['SWAPPED_BACK', 'rollingBack'],
    ['CONFIRMED', 'active'],
    ['SWAPPED_BACK', 'rolledBack'],
  ];

  it.each(outOfOrder)('ignores %s in %s on a running actor, starting no work and changing nothing in the world', (type, state) => {
    const into = reachable.filter((p) => leafOf(p.state.value) === state);
    expect(into.length, state).toBeGreaterThan(0);
    for (const path of into) {
      const event = unexpected(path.state).find((e) => e.type === type);
      expect(event, `${type} in ${state}`).toBeDefined();
      const { actor, world, path: description } = replay(path);
      const before = actor.getSnapshot();
      const calls = world.calls.length;
      const logs = logsOf(world);
      const current = world.currentEngine;
      actor.send(event!);
      expect(actor.getSnapshot().value, description).toEqual(before.value);
      expect(actor.getSnapshot().context, description).toEqual(before.context);
      expect(world.calls.slice(calls), description).toEqual([]);
      expect(effectsSince(world, logs), description).toEqual(noEffects());
      expect(world.currentEngine, description).toBe(current);
      actor.stop();
    }
  });

  it('moves on every fact the protocol expects next, in every reachable state (the last plugin slot to wait or to settle moves the reload on; one before it is recorded)', () => {
    for (const { state: snapshot } of reachable) {
      const state = leafOf(snapshot.value);
      for (const event of factsFor(snapshot).filter((e) => accepted[state]!.includes(e.type))) {
        const [next] = transition(engineConfigMachine, snapshot, event);
        const others = snapshot.context.plugins.filter((p) => 'name' in event && p.name !== event.name);
        // A late report while releasing is released at once; the reload still waits for that slot to settle.
        const stillWaiting =
          (event.type === 'PLUGIN.AWAITING' && (state === 'releasingPlugins' || others.some((p) => p.candidate === null))) ||
          (state === 'releasingPlugins' && others.some((p) => p.settled === null));
        if (stillWaiting) {
          expect(next.value, `${event.type} in ${state}`).toEqual(snapshot.value);
          expect(next.context.plugins, `${event.type} in ${state}`).not.toEqual(snapshot.context.plugins);
        } else expect(next.value, `${event.type} in ${state}`).not.toEqual(snapshot.value);
      }
    }
  });
});

describeTransitions('engine slot', engineConfigMachine, replayAll);
