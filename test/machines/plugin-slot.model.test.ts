/**
 * Model-based tests of the plugin slot (machines/plugin-slot.ts).
 *
 * xstate/graph walks every simple path of the pure machine over a fixed set of
 * facts (the events its actors report). Each path is then replayed on a real
 * actor whose work is a fake world provided through `pluginSlotMachine.provide`:
 * the fake actors only record what they were asked to do, and the test, never
 * an actor, sends the facts, so every path is played exactly as enumerated.
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
  pluginSlotMachine,
  swapsThroughHandoff,
  type PluginRef,
  type PluginSlotContext,
  type PluginSlotEvent,
  type ReloadRequest,
  type RestartRequest,
  type StagedPlugin,
} from '../../machines/plugin-slot.js';

type SlotSnapshot = SnapshotFrom<typeof pluginSlotMachine>;
type SlotPath = StatePath<SlotSnapshot, PluginSlotEvent>;
type EventType = PluginSlotEvent['type'];
type TryActivate = Extract<PluginSlotEvent, { type: 'TRY_ACTIVATE' }>;

const input = { name: 'echo' };

// ─── The world's fixtures ───────────────────────────────────────────────────

/** The plugin serving before any reload. */
const ORIGINAL: PluginRef = {
  name: 'echo',
  version: '1.0.0',
  dir: '/state/plugins/echo/1.0.0',
  digest: 'a'.repeat(64),
  instanceId: 'echo#original',
  pid: 1001,
};

interface ReloadFixture {
  request: TryActivate;
  staged: StagedPlugin;
  candidate: PluginRef;
}

function reloadFixture(reloadId: string, dryRun: boolean, pid: number): ReloadFixture {
  const dir = `/state/plugins/echo/2.0.0-${reloadId}`;
  const digest = 'b'.repeat(64);
  return {
    request: { type: 'TRY_ACTIVATE', reloadId, sourceDir: '/offered/echo-2.0.0', dryRun },
    staged: { name: 'echo', version: '2.0.0', dir, digest, createdByReload: true },
    candidate: { name: 'echo', version: '2.0.0', dir, digest, instanceId: `echo#${reloadId}`, pid },
  };
}

/**
 * One real and one dry reload. `staging` with a given request is a single
 * vertex, so a simple path starts each of them at most once: the only swap on
 * a path is the real reload's, and it always replaces ORIGINAL.
 */
const RELOADS = [reloadFixture('reload-real', false, 2001), reloadFixture('reload-dry', true, 2002)] as const;

/** A restart of ORIGINAL's version after ORIGINAL crashed (the supervisor's case; boot is the same with nothing replaced). */
const RESTART = {
  request: {
    type: 'RESTART',
    reloadId: 'restart',
    staged: { name: 'echo', version: '1.0.0', dir: ORIGINAL.dir, digest: ORIGINAL.digest, createdByReload: false },
    replacing: ORIGINAL,
  } as Extract<PluginSlotEvent, { type: 'RESTART' }> & RestartRequest,
  candidate: { ...ORIGINAL, instanceId: 'echo#restart', pid: 3001 } as PluginRef,
};

/** A plugin a config reload starts (the engine slot staged it), for a real and for a dry config reload. */
function configFixture(reloadId: string, dryRun: boolean, pid: number) {
  const dir = `/state/plugins/echo/3.0.0-${reloadId}`;
  const digest = 'c'.repeat(64);
  return {
    request: { type: 'START_FOR_CONFIG', reloadId, sourceDir: '/offered/echo-3.0.0', staged: { name: 'echo', version: '3.0.0', dir, digest, createdByReload: true }, dryRun } as Extract<PluginSlotEvent, { type: 'START_FOR_CONFIG' }>,
    candidate: { name: 'echo', version: '3.0.0', dir, digest, instanceId: `echo#${reloadId}`, pid } as PluginRef,
  };
}
const CONFIG_STARTS = [configFixture('config-real', false, 4001), configFixture('config-dry', true, 4002)] as const;

const fixtureOf = (request: ReloadRequest): { candidate: PluginRef; staged: StagedPlugin } => {
  if (request.reloadId === RESTART.request.reloadId) return { candidate: RESTART.candidate, staged: RESTART.request.staged };
  const config = CONFIG_STARTS.find((c) => c.request.reloadId === request.reloadId);
  if (config) return { candidate: config.candidate, staged: config.request.staged };
  return RELOADS.find((r) => r.request.reloadId === request.reloadId)!;
};

const HANDSHAKE_PASSED: PluginSlotEvent = { type: 'HANDSHAKE_PASSED' };
const PROBE_PASSED: PluginSlotEvent = { type: 'PROBE_PASSED' };
const ENGINE_CHECK_PASSED: PluginSlotEvent = { type: 'ENGINE_CHECK_PASSED' };
const REINSTATED: PluginSlotEvent = { type: 'REINSTATED' };
const SWAPPED: PluginSlotEvent = { type: 'SWAPPED', previous: ORIGINAL };
const CONFIRMED: PluginSlotEvent = { type: 'CONFIRMED' };
const CONFIRM_FAILED = {
  type: 'CONFIRM_FAILED',
  error: { code: 'WFR_CONFIRM_FAILED', message: 'the candidate failed inside its confirmation window' },
} as const satisfies PluginSlotEvent;
const SWAPPED_BACK: PluginSlotEvent = { type: 'SWAPPED_BACK' };
const DRAINED: PluginSlotEvent = { type: 'DRAINED' };
const CANDIDATE_DISCARDED: PluginSlotEvent = { type: 'CANDIDATE_DISCARDED' };
const CLEANUP_FAILED: PluginSlotEvent = { type: 'CLEANUP_FAILED', error: { code: 'WFR_CLEANUP_FAILED', message: 'the clean-up failed', details: { left: ['pid 4242'] } } };
const STEP_FAILED: PluginSlotEvent = { type: 'STEP_FAILED', error: { code: 'WFR_TEST_STEP_FAILED', message: 'the step failed' } };
const CANDIDATE_EXITED: PluginSlotEvent = { type: 'CANDIDATE_EXITED', error: { code: 'WFR_PLUGIN_EXITED', message: 'the candidate exited' } };
/** What the engine slot running a config's plugin tells it. */
const ENGINE_SWAPPED: PluginSlotEvent = { type: 'ENGINE_SWAPPED' };
const ENGINE_CONFIRMED: PluginSlotEvent = { type: 'ENGINE_CONFIRMED' };
const ENGINE_RELEASED = { type: 'ENGINE_RELEASED', error: { code: 'WFR_CONFIG_PROBE_FAILED', message: 'the candidate engine failed a probe' } } as const satisfies PluginSlotEvent;
const ENGINE_RELEASED_AFTER_DRY_RUN: PluginSlotEvent = { type: 'ENGINE_RELEASED', error: null };

/** Every fact the slot can be told in `snapshot`, with the payloads of its current reload. */
type StartFact = (typeof RELOADS)[number]['request'] | typeof RESTART.request | (typeof CONFIG_STARTS)[number]['request'];
const ALL_STARTS: readonly StartFact[] = [...RELOADS.map((r) => r.request), RESTART.request, ...CONFIG_STARTS.map((c) => c.request)];

function factsFor(snapshot: SlotSnapshot, starts: readonly StartFact[] = ALL_STARTS): PluginSlotEvent[] {
  const request = snapshot.context.request;
  const reload = request ? fixtureOf(request) : null;
  const reloadFacts: PluginSlotEvent[] = reload
    ? [
        { type: 'STAGED', staged: reload.staged },
        { type: 'CANDIDATE_STARTED', candidate: reload.candidate },
      ]
    : [];
  // The engine slot swaps and confirms only on a real config reload, and releases without an error only after a passing dry run.
  const engineFacts: PluginSlotEvent[] = request?.forConfig
    ? [...(request.dryRun ? [ENGINE_RELEASED_AFTER_DRY_RUN] : [ENGINE_SWAPPED, ENGINE_CONFIRMED]), ENGINE_RELEASED]
    : [];
  return [
    ...starts,
    ...reloadFacts,
    HANDSHAKE_PASSED,
    PROBE_PASSED,
    ENGINE_CHECK_PASSED,
    REINSTATED,
    SWAPPED,
    CONFIRMED,
    CONFIRM_FAILED,
    SWAPPED_BACK,
    DRAINED,
    CANDIDATE_DISCARDED,
    CLEANUP_FAILED,
    STEP_FAILED,
    CANDIDATE_EXITED,
    { type: 'ALREADY_ACTIVE' },
    ...engineFacts,
  ];
}

const FAILURES: readonly EventType[] = ['STEP_FAILED', 'CANDIDATE_EXITED'];

/** The reload protocol: in each state, the only facts that may move the slot on. */
const STARTS: readonly EventType[] = ['TRY_ACTIVATE', 'RESTART'];
const accepted: Record<string, readonly EventType[]> = {
  idle: [...STARTS, 'START_FOR_CONFIG'],
  // ALREADY_ACTIVE: the active version, byte for byte; the slot settles at once.
  staging: ['STAGED', 'STEP_FAILED', 'ALREADY_ACTIVE'],
  staged: ['CANDIDATE_STARTED', 'STEP_FAILED'],
  candidateStarted: ['HANDSHAKE_PASSED', ...FAILURES],
  handshaked: ['PROBE_PASSED', ...FAILURES],
  healthy: ['ENGINE_CHECK_PASSED', ...FAILURES],
  // A config's plugin, checked on its own, waits for the engine slot: its verdict, or its own death.
  awaitingEngine: ['ENGINE_SWAPPED', 'ENGINE_RELEASED', ...FAILURES],
  // Serving in the swapped engine: only the engine slot decides (its window watches this process).
  inEngineWindow: ['ENGINE_CONFIRMED', 'ENGINE_RELEASED'],
  // commitSwap cannot be called off once started: only its own failure (before the pointer moves) aborts it.
  probed: ['SWAPPED', 'STEP_FAILED'],
  // Like commitSwap, reinstate is not called off once started: only its own failure aborts it.
  reinstating: ['REINSTATED', 'STEP_FAILED'],
  // After the swap a candidate exit is confirmCandidate's to report (as CONFIRM_FAILED), not the watcher's.
  confirming: ['CONFIRMED', 'CONFIRM_FAILED'],
  // swapBack's pointer change cannot fail; the clean-up after it can (CLEANUP_FAILED).
  swappingBack: ['SWAPPED_BACK', 'CLEANUP_FAILED'],
  // drainPrevious may fail (CLEANUP_FAILED), and the slot still ends active.
  draining: ['DRAINED', 'CLEANUP_FAILED'],
  stoppingCandidate: ['CANDIDATE_DISCARDED', 'CLEANUP_FAILED'],
  rollingBack: ['CANDIDATE_DISCARDED', 'CLEANUP_FAILED'],
  active: STARTS,
  rolledBack: STARTS,
  rejected: STARTS,
  dryRunPassed: STARTS,
  unchanged: STARTS,
};

const leafOf = (value: StateValue): string => (typeof value === 'string' ? value : leafOf(Object.values(value)[0]!));

// ─── The fake world ─────────────────────────────────────────────────────────

/** What each named piece of work is given (the inputs in machines/plugin-slot.ts). */
interface WorkInputs {
  stageCandidate: { name: string; request: ReloadRequest };
  startCandidate: { staged: StagedPlugin; request: ReloadRequest };
  watchCandidate: { candidate: PluginRef };
  handshakeCandidate: { candidate: PluginRef };
  probeCandidate: { candidate: PluginRef; request: ReloadRequest };
  checkAgainstEngine: { candidate: PluginRef };
  reinstate: { candidate: PluginRef; replacing: PluginRef | null; request: ReloadRequest };
  commitSwap: { candidate: PluginRef; request: ReloadRequest };
  confirmCandidate: { current: PluginRef; previous: PluginRef | null; request: ReloadRequest };
  swapBack: { failed: PluginRef; previous: PluginRef | null; staged: StagedPlugin | null; request: ReloadRequest };
  drainPrevious: { previous: PluginRef | null };
  discardCandidate: { candidate: PluginRef | null; staged: StagedPlugin | null };
}
type Work = keyof WorkInputs;
type Call = { [W in Work]: { work: W; input: WorkInputs[W] } }[Work];
type CallOf<W extends Work> = Extract<Call, { work: W }>;

interface World {
  /** The registry's pointer: the plugin calls go to (null: no plugin of that name). */
  current: PluginRef | null;
  /** Candidate processes started (startCandidate). */
  launched: StagedPlugin[];
  /** Swapped-in plugins confirmed on disk (confirmCandidate). */
  confirmed: PluginRef[];
  /** Plugins stopped after draining (drainPrevious). */
  stopped: PluginRef[];
  /** Candidates killed (discardCandidate, swapBack). */
  killed: PluginRef[];
  /** Staged directories removed (discardCandidate, swapBack). */
  removedDirs: string[];
  /** Every piece of work the slot started, in order. */
  calls: Call[];
}

/**
 * The slot with fake work: each actor records its call and its effect on the
 * world, and reports nothing. `failingCommits` names the reloads whose swap the
 * path fails (STEP_FAILED in `probed`): like the real commitSwap, their
 * commitSwap fails before the pointer moves.
 */
function fakeWorld(failingCommits: ReadonlySet<string> = new Set()) {
  const world: World = { current: ORIGINAL, launched: [], confirmed: [], stopped: [], killed: [], removedDirs: [], calls: [] };
  const fake = <W extends Work>(work: W, effect: (input: WorkInputs[W]) => void = () => {}) =>
    fromCallback<EventObject, WorkInputs[W]>(({ input }) => {
      world.calls.push({ work, input } as Call);
      effect(input);
    });
  const machine = pluginSlotMachine.provide({
    actors: {
      stageCandidate: fake('stageCandidate'),
      startCandidate: fake('startCandidate', ({ staged }) => world.launched.push(staged)),
      watchCandidate: fake('watchCandidate'),
      handshakeCandidate: fake('handshakeCandidate'),
      probeCandidate: fake('probeCandidate'),
      checkAgainstEngine: fake('checkAgainstEngine'),
      // The third pointer change: a restart goes live (unless the path fails it, like a failing commit).
      reinstate: fake('reinstate', ({ candidate, request }) => {
        if (!failingCommits.has(request.reloadId)) world.current = candidate;
      }),
      // One of the two pointer changes: onto the candidate.
      commitSwap: fake('commitSwap', ({ candidate, request }) => {
        if (!failingCommits.has(request.reloadId)) world.current = candidate;
      }),
      // Records the confirmation; the pointer stays where commitSwap put it.
      confirmCandidate: fake('confirmCandidate', ({ current }) => world.confirmed.push(current)),
      // The other pointer change: back onto the replaced plugin, still alive; the failed one is killed.
      swapBack: fake('swapBack', ({ failed, previous, staged }) => {
        world.current = previous;
        world.killed.push(failed);
        if (staged?.createdByReload) world.removedDirs.push(staged.dir);
      }),
      drainPrevious: fake('drainPrevious', ({ previous }) => {
        if (previous) world.stopped.push(previous);
      }),
      discardCandidate: fake('discardCandidate', ({ candidate, staged }) => {
        if (candidate) world.killed.push(candidate);
        if (staged?.createdByReload) world.removedDirs.push(staged.dir);
      }),
    },
  });
  return { world, machine };
}

// ─── Replay ─────────────────────────────────────────────────────────────────

interface TraceStep {
  event: PluginSlotEvent | { type: 'xstate.init' };
  /** The atomic state reached. */
  state: string;
  context: PluginSlotContext;
  /** The work started by this step. */
  invoked: Call[];
  /** The world's pointer after this step. */
  current: PluginRef | null;
  /** The plugins stopped (drained) or killed so far, after this step. */
  dead: PluginRef[];
}

/** The steps from one TRY_ACTIVATE up to (not including) the next. */
interface Reload {
  request: ReloadRequest;
  currentBefore: PluginRef | null;
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
    .map(({ event }) => (event.type === 'TRY_ACTIVATE' ? `TRY_ACTIVATE(${event.dryRun ? 'dry' : 'real'})` : event.type))
    .join(' → ') || '(initial)';

function reloadsOf(steps: TraceStep[]): Reload[] {
  const reloads: Reload[] = [];
  steps.forEach((step, i) => {
    if (step.event.type === 'TRY_ACTIVATE' || step.event.type === 'RESTART' || step.event.type === 'START_FOR_CONFIG') {
      reloads.push({ request: step.context.request!, currentBefore: steps[i - 1]!.current, steps: [] });
    }
    reloads.at(-1)?.steps.push(step);
  });
  return reloads;
}

/** The reloads whose commitSwap (or reinstate) the path fails: STEP_FAILED taken in `probed` (or `reinstating`). */
function failingCommitsOf(path: SlotPath): Set<string> {
  const failing = new Set<string>();
  path.steps.forEach((step, i) => {
    const before = path.steps[i - 1]?.state;
    if (before && step.event.type === 'STEP_FAILED' && ['probed', 'reinstating'].includes(leafOf(before.value))) failing.add(before.context.request!.reloadId);
  });
  return failing;
}

/** Play `path` on a real actor over a fresh fake world, checking each state it reaches against the path's. */
function replay(path: SlotPath): Replayed {
  const { world, machine } = fakeWorld(failingCommitsOf(path));
  const actor = createActor(machine, { input });
  const description = describePath(path);
  const steps = path.steps.map((step, i): TraceStep => {
    const seen = world.calls.length;
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
      current: world.current,
      dead: [...world.stopped, ...world.killed],
    };
  });
  return { path: description, steps, reloads: reloadsOf(steps), world, actor };
}

// ─── Small named assertions ─────────────────────────────────────────────────

const callsOf = <W extends Work>(step: TraceStep, work: W): Array<CallOf<W>> =>
  step.invoked.filter((call): call is CallOf<W> => call.work === work);
const invokes = (steps: TraceStep[], work: Work) => steps.some((step) => callsOf(step, work).length > 0);
const typesOf = (steps: TraceStep[]) => steps.map((step) => step.event.type);
const isFailure = (step: TraceStep) => FAILURES.includes(step.event.type as EventType);
const startedCandidate = (reload: Reload) => reload.steps.find((s) => s.event.type === 'CANDIDATE_STARTED')?.context.candidate ?? null;
/** What this reload staged (STAGED), or the version directory a restart starts from (RESTART). */
const stagedCopy = (reload: Reload) => reload.steps.find((s) => ['STAGED', 'RESTART', 'START_FOR_CONFIG'].includes(s.event.type))?.context.staged ?? null;
/** Index of the step that entered `probed` (commitSwap started), or -1. */
const commitIndex = (reload: Reload) => reload.steps.findIndex((step) => callsOf(step, 'commitSwap').length > 0);

const SWAP_PRECONDITION: EventType[] = ['TRY_ACTIVATE', 'STAGED', 'CANDIDATE_STARTED', 'HANDSHAKE_PASSED', 'PROBE_PASSED', 'ENGINE_CHECK_PASSED'];
const RESTART_PRECONDITION: EventType[] = ['RESTART', 'CANDIDATE_STARTED', 'HANDSHAKE_PASSED', 'PROBE_PASSED', 'ENGINE_CHECK_PASSED'];
const DRAIN_PRECONDITION: EventType[] = [...SWAP_PRECONDITION, 'SWAPPED', 'CONFIRMED'];
const SWAP_BACK_PRECONDITION: EventType[] = [...SWAP_PRECONDITION, 'SWAPPED', 'CONFIRM_FAILED'];
/** Index of the step that took `type` in this reload, or -1. */
const indexOf = (reload: Reload, type: EventType) => reload.steps.findIndex((step) => step.event.type === type);

function expectCurrentUntouched(reload: Reload, path: string) {
  for (const step of reload.steps) expect(step.current, path).toBe(reload.currentBefore);
  expect(invokes(reload.steps, 'commitSwap'), path).toBe(false);
  expect(invokes(reload.steps, 'swapBack'), path).toBe(false);
  expect(invokes(reload.steps, 'drainPrevious'), path).toBe(false);
  for (const step of reload.steps) {
    for (const discard of callsOf(step, 'discardCandidate')) expect(discard.input.candidate, path).not.toBe(reload.currentBefore);
  }
}

/** The step at `index` asked to discard exactly what this reload started and staged; the world shows it gone. */
function expectCandidateDiscarded(replayed: Replayed, reload: Reload, index: number) {
  const candidate = startedCandidate(reload);
  const staged = stagedCopy(reload);
  const [discard, ...more] = callsOf(reload.steps[index]!, 'discardCandidate');
  expect(more, replayed.path).toEqual([]);
  expect(discard?.input.candidate, replayed.path).toBe(candidate);
  expect(discard?.input.staged, replayed.path).toBe(staged);
  if (candidate) expect(replayed.world.killed, replayed.path).toContain(candidate);
  // Removed only if this reload created it: a restart's version directory is the active version's.
  if (staged?.createdByReload) expect(replayed.world.removedDirs, replayed.path).toContain(staged.dir);
  else if (staged) expect(replayed.world.removedDirs, replayed.path).not.toContain(staged.dir);
}

// ─── The paths ──────────────────────────────────────────────────────────────

// Every simple path with one real and one dry reload, and every one with a restart and a real reload (all
// three at once multiply past what a test can replay; each pair walks every state of its kinds).
const paths = [
  ...getSimplePaths(pluginSlotMachine, { events: (snapshot) => factsFor(snapshot, RELOADS.map((r) => r.request)), input }),
  // A restart, and a real or a dry reload before it (after a restart, the fixtures' SWAPPED would name the wrong previous plugin).
  ...[RELOADS[0], RELOADS[1]].flatMap((before) =>
    getSimplePaths(pluginSlotMachine, {
      events: (snapshot) => factsFor(snapshot, snapshot.context.request?.reloadId === RESTART.request.reloadId ? [RESTART.request] : [RESTART.request, before.request]),
      input,
    }),
  ),
  // A config reload's plugin slot (a fresh child of the engine slot for each config reload, so walked apart from idle), real and dry.
  ...CONFIG_STARTS.flatMap((start) => getSimplePaths(pluginSlotMachine, { events: (snapshot) => factsFor(snapshot, [start.request]), input })),
];

let replays: Replayed[] | undefined;
const replayAll = () => (replays ??= paths.map(replay));

/** Every reachable snapshot: each one ends some simple path. */
const reachable = [...new Map(paths.map((p) => [JSON.stringify([p.state.value, p.state.context]), p.state])).values()];

describe('pluginSlot, walked along every simple path', () => {
  it('replays every simple path from idle on a real actor, reaching the same state at each step', () => {
    expect(paths.length).toBeGreaterThan(0);
    const replayed = replayAll();
    expect(replayed).toHaveLength(paths.length);
  });

  it('reaches every atomic state of the machine, and the protocol table names each of them', () => {
    const atomic = getStateNodes(pluginSlotMachine).filter((node) => node.type === 'atomic').map((node) => node.key);
    const reached = getShortestPaths(pluginSlotMachine, { events: factsFor, input }).map((p) => leafOf(p.state.value));
    expect(new Set(reached)).toEqual(new Set(atomic));
    expect(Object.keys(accepted).sort()).toEqual([...atomic].sort());
  });

  it('starts commitSwap and takes SWAPPED only after CANDIDATE_STARTED, HANDSHAKE_PASSED, PROBE_PASSED and ENGINE_CHECK_PASSED, in that order', () => {
    let swaps = 0;
    for (const { path, reloads } of replayAll()) {
      for (const reload of reloads) {
        reload.steps.forEach((step, i) => {
          const commits = callsOf(step, 'commitSwap');
          if (commits.length === 0 && step.event.type !== 'SWAPPED') return;
          swaps += 1;
          const facts = typesOf(reload.steps.slice(0, i + 1));
          expect(facts, path).toEqual(step.event.type === 'SWAPPED' ? [...SWAP_PRECONDITION, 'SWAPPED'] : SWAP_PRECONDITION);
          expect(reload.request.dryRun, path).toBe(false);
          if (step.event.type === 'SWAPPED') expect(step.state, path).toBe('confirming');
          for (const commit of commits) {
            expect(step.state, path).toBe('probed');
            expect(commit.input.candidate, path).toBe(startedCandidate(reload));
          }
        });
      }
    }
    expect(swaps).toBeGreaterThan(0);
  });

  it('swapsThroughHandoff is true exactly for the reloads that commit a swap once their checks passed, false for a dry run or a restart', () => {
    const judged = { swaps: 0, others: 0 };
    for (const { path, reloads } of replayAll()) {
      for (const reload of reloads) {
        if (!reload.steps.some((step) => step.event.type === 'ENGINE_CHECK_PASSED')) continue;
        const commits = reload.steps.some((step) => callsOf(step, 'commitSwap').length > 0);
        expect(swapsThroughHandoff(reload.request), path).toBe(commits);
        judged[commits ? 'swaps' : 'others'] += 1;
      }
    }
    expect(judged.swaps).toBeGreaterThan(0);
    expect(judged.others).toBeGreaterThan(0);
  });

  it('changes the current pointer only through commitSwap on entering probed, swapBack on entering swappingBack (only after SWAPPED) and reinstate on entering reinstating (only on a restart)', () => {
    const changedBy = { commitSwap: 0, swapBack: 0, reinstate: 0 };
    for (const { path, reloads } of replayAll()) {
      for (const reload of reloads) {
        reload.steps.forEach((step, i) => {
          const previousStep = reload.steps[i - 1];
          const commits = callsOf(step, 'commitSwap');
          const swapBacks = callsOf(step, 'swapBack');
          const reinstates = callsOf(step, 'reinstate');
          if (commits.length > 0) {
            expect(commits, path).toHaveLength(1);
            expect(step.state, path).toBe('probed');
            expect(previousStep?.state, path).not.toBe('probed');
            expect(reload.request.restart, path).toBeUndefined();
          }
          if (reinstates.length > 0) {
            expect(reinstates, path).toHaveLength(1);
            expect(step.state, path).toBe('reinstating');
            expect(reload.request.restart, path).toBe(true);
            // Every check of a reload, without staging: the version directory is already there.
            expect(typesOf(reload.steps.slice(0, i + 1)), path).toEqual(RESTART_PRECONDITION);
            expect(reinstates[0]!.input.candidate, path).toBe(startedCandidate(reload));
            expect(reinstates[0]!.input.replacing, path).toBe(RESTART.request.replacing);
          }
          if (swapBacks.length > 0) {
            expect(swapBacks, path).toHaveLength(1);
            expect(step.state, path).toBe('swappingBack');
            expect(previousStep?.state, path).toBe('confirming');
            // After SWAPPED of this very reload, and nothing else since: the swap it undoes is this reload's.
            expect(typesOf(reload.steps.slice(0, i + 1)), path).toEqual(SWAP_BACK_PRECONDITION);
            expect(reload.request.dryRun, path).toBe(false);
            expect(swapBacks[0]!.input.failed, path).toBe(startedCandidate(reload));
            expect(swapBacks[0]!.input.previous, path).toBe(reload.currentBefore);
            expect(swapBacks[0]!.input.staged, path).toBe(stagedCopy(reload));
            expect(swapBacks[0]!.input.request, path).toBe(reload.request);
          }
          if (step.current === (previousStep?.current ?? reload.currentBefore)) return;
          // A pointer change: exactly one of the three, and to where that work points.
          expect(commits.length + swapBacks.length + reinstates.length, path).toBe(1);
          if (commits.length > 0) {
            changedBy.commitSwap += 1;
            expect(step.current, path).toBe(commits[0]!.input.candidate);
          } else if (reinstates.length > 0) {
            changedBy.reinstate += 1;
            expect(step.current, path).toBe(reinstates[0]!.input.candidate);
          } else {
            changedBy.swapBack += 1;
            expect(step.current, path).toBe(swapBacks[0]!.input.previous);
          }
        });
      }
    }
    expect(changedBy.commitSwap).toBeGreaterThan(0);
    expect(changedBy.swapBack).toBeGreaterThan(0);
    expect(changedBy.reinstate).toBeGreaterThan(0);
  });

  it('restarts without staging, a swap, a confirmation window or a drain, and keeps the version directory when one fails', () => {
    let restarts = 0;
    for (const { path, reloads, world } of replayAll()) {
      for (const reload of reloads.filter((r) => r.request.restart)) {
        restarts += 1;
        for (const work of ['stageCandidate', 'commitSwap', 'confirmCandidate', 'swapBack', 'drainPrevious'] as const) expect(invokes(reload.steps, work), path).toBe(false);
        expect(world.removedDirs, path).not.toContain(RESTART.request.staged.dir);
        const last = reload.steps.at(-1)!;
        if (last.state === 'rolledBack') expect(last.context, path).toMatchObject({ candidate: null, previous: null });
      }
    }
    expect(restarts).toBeGreaterThan(0);
  });

  it('rolls back (or rejects, while staging) on any failure before commitSwap, keeping the current plugin and discarding the candidate', () => {
    let failures = 0;
    for (const replayed of replayAll()) {
      for (const reload of replayed.reloads) {
        const failedAt = reload.steps.findIndex(isFailure);
        const committedAt = commitIndex(reload);
        if (failedAt < 0 || (committedAt >= 0 && committedAt < failedAt)) continue;
        failures += 1;
        const failedIn = reload.steps[failedAt - 1]!.state;
        const outcome = reload.steps.slice(failedAt).map((step) => step.state);
        const expected = failedIn === 'staging' ? ['rejected'] : ['rollingBack', 'rolledBack'];
        expect(outcome, replayed.path).toEqual(expected.slice(0, outcome.length));
        expectCurrentUntouched(reload, replayed.path);
        if (failedIn === 'staging') expect(invokes(reload.steps, 'discardCandidate'), replayed.path).toBe(false);
        else expectCandidateDiscarded(replayed, reload, failedAt);
      }
    }
    expect(failures).toBeGreaterThan(0);
  });

  // A candidate exit reported while commitSwap runs must not start a rollback
  // that races the swap (the real commitSwap cannot be called off, and it
  // refuses a dead candidate itself before the pointer moves).
  it('lets a swap in progress finish when the candidate exits during it', () => {
    const inProbed = replayAll().filter(({ actor }) => leafOf(actor.getSnapshot().value) === 'probed');
    expect(inProbed.length).toBeGreaterThan(0);
    for (const { path, actor, world, reloads } of inProbed) {
      const callsBefore = world.calls.length;
      const candidate = actor.getSnapshot().context.candidate!;
      actor.send({ type: 'CANDIDATE_EXITED', error: { code: 'WFR_PLUGIN_EXITED', message: 'exited' } });
      expect(leafOf(actor.getSnapshot().value), path).toBe('probed');
      expect(world.calls.slice(callsBefore), path).toEqual([]);
      actor.send({ type: 'SWAPPED', previous: reloads.at(-1)!.currentBefore });
      expect(leafOf(actor.getSnapshot().value), path).toBe('confirming');
      expect(world.current, path).toBe(candidate);
      expect(world.killed, path).not.toContain(candidate);
    }
  });

  it('stops the current plugin only by draining it after SWAPPED and CONFIRMED', () => {
    let drains = 0;
    for (const { path, reloads } of replayAll()) {
      for (const reload of reloads) {
        reload.steps.forEach((step, i) => {
          for (const discard of callsOf(step, 'discardCandidate')) expect(discard.input.candidate, path).not.toBe(reload.currentBefore);
          for (const swapBack of callsOf(step, 'swapBack')) expect(swapBack.input.failed, path).not.toBe(reload.currentBefore);
          const drain = callsOf(step, 'drainPrevious');
          if (step.event.type !== 'CONFIRMED') {
            expect(drain, path).toEqual([]);
            return;
          }
          drains += 1;
          expect(typesOf(reload.steps.slice(0, i + 1)), path).toEqual(DRAIN_PRECONDITION);
          expect(step.state, path).toBe('draining');
          expect(drain, path).toHaveLength(1);
          expect(drain[0]!.input.previous, path).toBe(reload.currentBefore);
        });
      }
    }
    expect(drains).toBeGreaterThan(0);
  });

  it('never stops the previous plugin before CONFIRMED, and keeps it alive throughout confirming and swappingBack', () => {
    const seen = new Set<string>();
    for (const { path, reloads } of replayAll()) {
      for (const reload of reloads) {
        const previous = reload.currentBefore!;
        const confirmedAt = indexOf(reload, 'CONFIRMED');
        const beforeConfirmed = confirmedAt < 0 ? reload.steps : reload.steps.slice(0, confirmedAt);
        for (const step of beforeConfirmed) {
          expect(callsOf(step, 'drainPrevious'), `${path} (${step.event.type})`).toEqual([]);
          expect(step.dead, `${path} (${step.event.type})`).not.toContain(previous);
        }
        for (const step of reload.steps.filter((s) => s.state === 'confirming' || s.state === 'swappingBack')) {
          seen.add(step.state);
          expect(step.dead, `${path} (${step.event.type} into ${step.state})`).not.toContain(previous);
          expect(step.context.previous, path).toBe(previous);
          // Confirmation watches the new plugin, and is told which one it replaced: the one kept alive.
          for (const confirm of callsOf(step, 'confirmCandidate')) {
            expect(confirm.input.current, path).toBe(startedCandidate(reload));
            expect(confirm.input.previous, path).toBe(previous);
          }
        }
      }
    }
    expect(seen).toEqual(new Set(['confirming', 'swappingBack']));
  });

  it('ends a CONFIRM_FAILED after SWAPPED in rolledBack, back on exactly the plugin current before the reload, with the failed candidate killed and drainPrevious never run', () => {
    let rolledBack = 0;
    for (const { path, reloads, world } of replayAll()) {
      for (const reload of reloads) {
        const failedAt = indexOf(reload, 'CONFIRM_FAILED');
        if (failedAt < 0) continue;
        const candidate = startedCandidate(reload)!;
        const staged = stagedCopy(reload)!;
        expect(typesOf(reload.steps.slice(0, failedAt + 1)), path).toEqual(SWAP_BACK_PRECONDITION);
        const outcome = reload.steps.slice(failedAt).map((step) => step.state);
        expect(outcome, path).toEqual(['swappingBack', 'rolledBack'].slice(0, outcome.length));
        expect(reload.steps[failedAt]!.context.error, path).toEqual(CONFIRM_FAILED.error);
        // No drain on this path, and nothing discarded twice: swapBack alone releases the candidate.
        expect(invokes(reload.steps, 'drainPrevious'), path).toBe(false);
        expect(invokes(reload.steps, 'confirmCandidate'), path).toBe(true);
        expect(invokes(reload.steps, 'discardCandidate'), path).toBe(false);
        expect(callsOf(reload.steps[failedAt]!, 'swapBack'), path).toHaveLength(1);
        for (const step of reload.steps.slice(failedAt)) {
          expect(step.current, path).toBe(reload.currentBefore);
          expect(step.dead, path).toContain(candidate);
          expect(step.dead, path).not.toContain(reload.currentBefore);
        }
        expect(world.killed.filter((p) => p === candidate), path).toHaveLength(1);
        expect(world.removedDirs, path).toContain(staged.dir);
        const last = reload.steps.at(-1)!;
        if (last.state !== 'rolledBack') continue;
        rolledBack += 1;
        expect(['SWAPPED_BACK', 'CLEANUP_FAILED'], path).toContain(last.event.type);
        expect(last.context.cleanupError, path).toEqual(last.event.type === 'CLEANUP_FAILED' ? CLEANUP_FAILED.error : null);
        expect(last.invoked, path).toEqual([]);
        expect(last.context, path).toMatchObject({ candidate: null, staged: null, previous: null, error: CONFIRM_FAILED.error });
      }
    }
    expect(rolledBack).toBeGreaterThan(0);
  });

  it('never swaps or drains on a dry run, runs the engine check in it, and ends a passing one in dryRunPassed with the candidate discarded', () => {
    let passed = 0;
    for (const replayed of replayAll()) {
      for (const reload of replayed.reloads.filter((r) => r.request.dryRun)) {
        expectCurrentUntouched(reload, replayed.path);
        const probedAt = reload.steps.findIndex((step) => step.event.type === 'ENGINE_CHECK_PASSED');
        if (probedAt < 0) continue;
        // The engine check ran on this dry run's candidate before it could pass.
        const checks = reload.steps.slice(0, probedAt).flatMap((step) => callsOf(step, 'checkAgainstEngine'));
        expect(checks.map((call) => call.input.candidate), replayed.path).toEqual([startedCandidate(reload)]);
        const outcome = reload.steps.slice(probedAt).map((step) => step.state);
        expect(outcome, replayed.path).toEqual(['stoppingCandidate', 'dryRunPassed'].slice(0, outcome.length));
        expectCandidateDiscarded(replayed, reload, probedAt);
        const last = reload.steps.at(-1)!;
        if (last.state !== 'dryRunPassed') continue;
        passed += 1;
        expect(last.context.candidate, replayed.path).toBeNull();
        expect(last.context.staged, replayed.path).toBeNull();
      }
    }
    expect(passed).toBeGreaterThan(0);
  });
});

describe('pluginSlot, offered the active version', () => {
  it('settles unchanged on ALREADY_ACTIVE from staging: no work after staging, the pointer and every process untouched', () => {
    let unchanged = 0;
    for (const { path, reloads } of replayAll()) {
      for (const reload of reloads) {
        const at = indexOf(reload, 'ALREADY_ACTIVE');
        if (at < 0) continue;
        unchanged += 1;
        expect(typesOf(reload.steps.slice(0, at + 1)), path).toEqual(['TRY_ACTIVATE', 'ALREADY_ACTIVE']);
        expect(reload.steps[at]!.state, path).toBe('unchanged');
        expect(reload.steps.flatMap((step) => step.invoked.map((call) => call.work)), path).toEqual(['stageCandidate']);
        expectCurrentUntouched(reload, path);
        expect(reload.steps[at]!.dead, path).toEqual(reload.steps[at - 1]!.dead);
      }
    }
    expect(unchanged).toBeGreaterThan(0);
  });
});

describe('pluginSlot, starting a plugin for a config reload', () => {
  const configReloads = () => replayAll().flatMap((replayed) => replayed.reloads.filter((r) => r.request.forConfig).map((reload) => ({ replayed, reload })));
  const CHECKS: EventType[] = ['START_FOR_CONFIG', 'CANDIDATE_STARTED', 'HANDSHAKE_PASSED', 'PROBE_PASSED'];

  it('never stages, never judges against the running engine, and never changes the pointer or stops the running plugin: the engine slot does', () => {
    let walked = 0;
    for (const { replayed, reload } of configReloads()) {
      walked += 1;
      expectCurrentUntouched(reload, replayed.path);
      for (const work of ['stageCandidate', 'checkAgainstEngine', 'reinstate', 'confirmCandidate'] as const) expect(invokes(reload.steps, work), replayed.path).toBe(false);
    }
    expect(walked).toBeGreaterThan(0);
  });

  it('waits for the engine only after its own start, handshake and probe, and goes live only on ENGINE_SWAPPED then ENGINE_CONFIRMED of a real reload', () => {
    let live = 0;
    for (const { replayed, reload } of configReloads()) {
      reload.steps.forEach((step, i) => {
        if (step.state === 'awaitingEngine' && reload.steps[i - 1]?.state !== 'awaitingEngine') expect(typesOf(reload.steps.slice(0, i + 1)), replayed.path).toEqual(CHECKS);
        if (step.state !== 'active') return;
        live += 1;
        expect(reload.request.dryRun, replayed.path).toBe(false);
        expect(typesOf(reload.steps.slice(0, i + 1)), replayed.path).toEqual([...CHECKS, 'ENGINE_SWAPPED', 'ENGINE_CONFIRMED']);
        // Its process is the engine's now: nothing was killed, and its staged copy stays.
        expect(step.dead, replayed.path).not.toContain(startedCandidate(reload));
        expect(replayed.world.removedDirs, replayed.path).not.toContain(stagedCopy(reload)!.dir);
        expect(step.context, replayed.path).toMatchObject({ candidate: null, staged: null, error: null });
      });
    }
    expect(live).toBeGreaterThan(0);
  });

  it('released by the engine (before or after its swap), discards its own candidate and staged copy and ends rolledBack with the engine\'s error, or dryRunPassed after a passing dry run', () => {
    const endings = new Set<string>();
    for (const { replayed, reload } of configReloads()) {
      const releasedAt = indexOf(reload, 'ENGINE_RELEASED');
      if (releasedAt < 0) continue;
      const released = reload.steps[releasedAt]!;
      const error = (released.event as Extract<PluginSlotEvent, { type: 'ENGINE_RELEASED' }>).error;
      const outcome = reload.steps.slice(releasedAt).map((step) => step.state);
      const expected = error ? ['rollingBack', 'rolledBack'] : ['stoppingCandidate', 'dryRunPassed'];
      expect(outcome, replayed.path).toEqual(expected.slice(0, outcome.length));
      expect(released.context.error, replayed.path).toEqual(error);
      if (!error) expect(reload.request.dryRun, replayed.path).toBe(true);
      expectCandidateDiscarded(replayed, reload, releasedAt);
      endings.add(`${reload.steps[releasedAt - 1]!.state} → ${outcome.at(-1)}`);
    }
    expect(endings).toEqual(new Set(['awaitingEngine → rolledBack', 'awaitingEngine → dryRunPassed', 'inEngineWindow → rolledBack', 'awaitingEngine → rollingBack', 'awaitingEngine → stoppingCandidate', 'inEngineWindow → rollingBack']));
  });
});

describeCleanupFailures('pluginSlot', replayAll, CLEANUP_FAILED.error);

describe('pluginSlot, told facts out of order', () => {
  it('ignores every fact the protocol does not expect next, in every reachable state', () => {
    let ignored = 0;
    for (const snapshot of reachable) {
      const state = leafOf(snapshot.value);
      for (const event of factsFor(snapshot).filter((e) => !accepted[state]!.includes(e.type))) {
        ignored += 1;
        const [next, actions] = transition(pluginSlotMachine, snapshot, event);
        const what = `${event.type} in ${state}`;
        expect(next.value, what).toEqual(snapshot.value);
        expect(next.context, what).toEqual(snapshot.context);
        expect(actions, what).toEqual([]);
      }
    }
    expect(ignored).toBeGreaterThan(0);
  });

  it('moves on every fact the protocol expects next, in every reachable state', () => {
    for (const snapshot of reachable) {
      const state = leafOf(snapshot.value);
      for (const event of factsFor(snapshot).filter((e) => accepted[state]!.includes(e.type))) {
        const [next] = transition(pluginSlotMachine, snapshot, event);
        expect(next.value, `${event.type} in ${state}`).not.toEqual(snapshot.value);
      }
    }
  });

  const shortest = getShortestPaths(pluginSlotMachine, { events: factsFor, input });
  const pathTo = (state: string) => shortest.find((p) => leafOf(p.state.value) === state)!;
  const outOfOrder: Array<[EventType, string]> = [
    ['PROBE_PASSED', 'candidateStarted'],
    ['ENGINE_CHECK_PASSED', 'handshaked'],
    ['SWAPPED', 'healthy'],
    ['SWAPPED', 'handshaked'],
    ['SWAPPED', 'candidateStarted'],
    ['DRAINED', 'probed'],
    ['DRAINED', 'handshaked'],
    ['HANDSHAKE_PASSED', 'staged'],
    ['CANDIDATE_STARTED', 'staging'],
    ['PROBE_PASSED', 'probed'],
    ['TRY_ACTIVATE', 'probed'],
    ['CANDIDATE_EXITED', 'draining'],
    ['CONFIRMED', 'probed'],
    ['CONFIRM_FAILED', 'probed'],
    ['SWAPPED_BACK', 'probed'],
    ['CONFIRMED', 'handshaked'],
    ['DRAINED', 'confirming'],
    ['SWAPPED_BACK', 'confirming'],
    ['SWAPPED', 'confirming'],
    ['STEP_FAILED', 'confirming'],
    ['CANDIDATE_EXITED', 'confirming'],
    ['TRY_ACTIVATE', 'confirming'],
    ['CONFIRMED', 'swappingBack'],
    ['CONFIRM_FAILED', 'swappingBack'],
    ['DRAINED', 'swappingBack'],
    ['CANDIDATE_EXITED', 'swappingBack'],
    ['TRY_ACTIVATE', 'swappingBack'],
    ['CONFIRMED', 'draining'],
    ['CONFIRM_FAILED', 'draining'],
    ['SWAPPED_BACK', 'draining'],
    ['SWAPPED_BACK', 'rollingBack'],
    ['CONFIRMED', 'active'],
    ['SWAPPED_BACK', 'rolledBack'],
    // A config's plugin: the engine's verdicts only where the engine can give them, and never a swap of its own.
    ['ENGINE_SWAPPED', 'handshaked'],
    ['ENGINE_CONFIRMED', 'awaitingEngine'],
    ['SWAPPED', 'awaitingEngine'],
    ['ENGINE_CHECK_PASSED', 'awaitingEngine'],
    ['CANDIDATE_EXITED', 'inEngineWindow'],
    ['STEP_FAILED', 'inEngineWindow'],
    ['ENGINE_SWAPPED', 'inEngineWindow'],
  ];

  it.each(outOfOrder)('ignores %s in %s on a running actor, starting no work', (type, state) => {
    const { actor, world, path } = replay(pathTo(state));
    const before = actor.getSnapshot();
    const calls = world.calls.length;
    const current = world.current;
    const dead = [...world.stopped, ...world.killed];
    actor.send([...factsFor(before), ENGINE_SWAPPED, ENGINE_CONFIRMED].find((e) => e.type === type)!);
    expect(actor.getSnapshot().value, path).toEqual(before.value);
    expect(actor.getSnapshot().context, path).toEqual(before.context);
    expect(world.calls).toHaveLength(calls);
    expect(world.current, path).toBe(current);
    expect([...world.stopped, ...world.killed], path).toEqual(dead);
  });
});

describeTransitions('plugin slot', pluginSlotMachine, replayAll);
