/**
 * Result assembly: follow one admitted reload on its slot actor until it
 * settles, turning its transitions into steps, log lines and events, and its
 * final state into the reload result that is journaled and returned. A config
 * reload's plugin slots (the engine slot's children) are followed the same
 * way, each into a nested result of its own (`plugins`).
 */
import type { Logger } from 'pino';
import { waitFor, type AnyActorRef } from 'xstate';
import { engineConfigSettledStates, engineConfigWork, type EngineRef } from '../../machines/engine-config.js';
import { pluginSlotSettledStates, pluginSlotWork, type PluginRef, type PluginSlotContext } from '../../machines/plugin-slot.js';
import { InvalidArgumentError, type ErrorInfo } from '../errors.js';
import { faults } from './faults.js';
import type { HostEvents } from './host-events.js';
import type { IntentLog } from './intent-log.js';
import type { EngineInfo, PluginReloadResult, ReloadOutcome, ReloadResult, TargetInfo, VersionInfo } from './reload-result.js';
import { leafState, StepRecorder } from './step-recorder.js';

export interface RunDeps {
  logger: Logger;
  events: HostEvents;
  intents: IntentLog;
  record: (result: ReloadResult) => Promise<void>;
}

const settled = new Set<string>([...pluginSlotSettledStates, ...engineConfigSettledStates]);
const outcomeOf: Record<string, ReloadOutcome> = {
  active: 'activated',
  rolledBack: 'rolledBack',
  rejected: 'rejected',
  dryRunPassed: 'dryRunPassed',
  unchanged: 'unchanged',
};

export const pluginWorkOf = (state: string) => (pluginSlotWork as Record<string, string>)[state];
export const engineWorkOf = (state: string) => (engineConfigWork as Record<string, string>)[state];
export const versionOf = (ref: PluginRef | null): VersionInfo | null => ref && { version: ref.version, digest: ref.digest, pid: ref.pid };
export const engineInfoOf = (ref: EngineRef | null): EngineInfo | null => ref && { generation: ref.generation, digest: ref.digest, listen: ref.listen };
/** What a plugin slot tried, as far as it got: the started process, else the staged copy. */
export const pluginCandidateOf = (context: Record<string, unknown>): VersionInfo | null => {
  const { candidate, staged } = context as unknown as PluginSlotContext;
  return versionOf(candidate) ?? (staged && { version: staged.version, digest: staged.digest, pid: null });
};

/** The plugin slots a config reload runs: how to recognise them among the engine slot's children, and what they replace. */
export interface NestedPlugins {
  /** The plugin name of a child slot id, or null for any other child. */
  nameOf: (childId: string) => string | null;
  /** What is active for `name` now. */
  activeOf: (name: string) => VersionInfo | null;
}

/** What one reload run needs to know about its slot (the result's identity fields, and how to follow the slot). */
export interface ReloadRun<T extends TargetInfo> extends Pick<ReloadResult<T>, 'id' | 'kind' | 'target' | 'name' | 'source' | 'dryRun'> {
  workOf: (state: string) => string | undefined;
  /** Starts the reload (already admitted) and returns the slot actor running it. */
  start: () => AnyActorRef;
  /** What the candidate is, from the slot's context, as far as it got. */
  candidateOf: (context: Record<string, unknown>) => T | null;
  previous: T | null;
  /** What is active once the reload settled. */
  activeNow: () => T | null;
  /** A restart (boot recovery, the supervisor): it ends `restarted` rather than `activated`, and its error says why it was needed. */
  restart?: { reason: ErrorInfo | null };
  /** The caller's idempotency key, echoed in the result. */
  requestId?: string;
  /** A config reload: follow the plugin slots it starts. */
  plugins?: NestedPlugins;
}

type Snapshot = { value: unknown; context: Record<string, unknown>; children?: Record<string, AnyActorRef | undefined> };

/** Follows one slot actor: its steps, what it tried, and the first error and clean-up error it recorded. */
class SlotFollower<T extends TargetInfo> {
  readonly startedAt = Date.now();
  readonly recorder: StepRecorder;
  candidate: T | null = null;
  failure: ErrorInfo | null = null;
  cleanupError: ErrorInfo | null = null;
  last: Snapshot | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly spec: { reloadId: string; target: string; workOf: (state: string) => string | undefined; candidateOf: (context: Record<string, unknown>) => T | null; crashPoints: boolean },
    private readonly deps: RunDeps,
    /** Also told every snapshot (intent records, child discovery). */
    private readonly onSnapshot: (state: string, snapshot: Snapshot) => void,
  ) {
    this.recorder = new StepRecorder(spec.workOf);
  }

  follow(actor: AnyActorRef): void {
    // The slot may already have moved on: record where it is, then follow it.
    this.observe(actor.getSnapshot() as Snapshot);
    const subscription = actor.subscribe({ next: (snapshot: Snapshot) => this.observe(snapshot), error: () => {} });
    this.unsubscribe = () => subscription.unsubscribe();
  }

  stop(): void {
    this.unsubscribe?.();
    this.recorder.close();
  }

  private observe(snapshot: Snapshot): void {
    this.last = snapshot;
    const state = leafState(snapshot.value);
    const stepsBefore = this.recorder.steps.length;
    if (!this.recorder.enter(state)) return;
    // Test-only crash points are reload boundaries; a restart at boot passing the same states must not trip them.
    if (this.spec.crashPoints) faults.reachedState(state);
    this.candidate = this.spec.candidateOf(snapshot.context) ?? this.candidate;
    this.onSnapshot(state, snapshot);
    const error = snapshot.context.error as ErrorInfo | null;
    if (error && !this.failure) {
      this.failure = error;
      this.recorder.failLast(error);
    }
    const cleanup = snapshot.context.cleanupError as ErrorInfo | null;
    if (cleanup && !this.cleanupError) {
      this.cleanupError = cleanup;
      this.recorder.failLast(cleanup);
    }
    const finished = this.recorder.steps.length > stepsBefore ? this.recorder.steps.at(-1)! : null;
    const { reloadId, target } = this.spec;
    this.deps.logger.info({ reloadId, target, state, step: finished }, `${target} → ${state}`);
    this.deps.events.emit({ type: 'transition', reloadId, target, state, at: new Date().toISOString(), finished });
  }

  /** The result fields only the slot knows: outcome, timing, steps, what failed. */
  outcome(finalState: string, finalError: ErrorInfo | null): Pick<ReloadResult<T>, 'outcome' | 'startedAt' | 'finishedAt' | 'ms' | 'steps' | 'failedStep' | 'error' | 'candidate' | 'cleanupError'> {
    const finished = Date.now();
    return {
      outcome: outcomeOf[finalState] ?? 'rolledBack',
      startedAt: new Date(this.startedAt).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      ms: finished - this.startedAt,
      steps: this.recorder.steps,
      // The step that decided the outcome; a failed clean-up step after it is reported in cleanupError.
      failedStep: this.recorder.steps.find((step) => step.error && step.error === this.failure)?.work ?? null,
      error: finalError,
      candidate: this.candidate,
      ...(this.cleanupError ? { cleanupError: this.cleanupError } : {}),
    };
  }
}

/** Drive one reload on a slot actor to a settled state and build its result. */
export async function runReload<T extends TargetInfo>(run: ReloadRun<T>, deps: RunDeps): Promise<ReloadResult<T>> {
  const { intents, record } = deps;
  /** The plugin slots of a config reload, by name, with what was active before each. */
  const nested = new Map<string, { follower: SlotFollower<VersionInfo>; previous: VersionInfo | null; sourceDir: string }>();
  const discover = (snapshot: Snapshot) => {
    for (const [childId, child] of Object.entries(snapshot.children ?? {})) {
      const name = run.plugins?.nameOf(childId);
      if (!name || !child || nested.has(name)) continue;
      const follower = new SlotFollower<VersionInfo>(
        { reloadId: run.id, target: `plugin:${name}`, workOf: pluginWorkOf, candidateOf: pluginCandidateOf, crashPoints: true },
        deps,
        (state, childSnapshot) => intents.update(run.id, state, childSnapshot.context, name),
      );
      const request = (child.getSnapshot() as Snapshot).context.request as { sourceDir?: string } | null;
      nested.set(name, { follower, previous: run.plugins!.activeOf(name), sourceDir: request?.sourceDir ?? '' });
      follower.follow(child);
    }
  };
  const main = new SlotFollower<T>(
    { reloadId: run.id, target: run.target, workOf: run.workOf, candidateOf: run.candidateOf, crashPoints: !run.restart },
    deps,
    (state, snapshot) => {
      intents.update(run.id, state, snapshot.context);
      discover(snapshot);
    },
  );
  const actor = run.start();
  main.follow(actor);
  const final = await waitFor(actor, (s: { value: unknown; context: { request?: { reloadId: string } | null } }) => s.context.request?.reloadId === run.id && settled.has(leafState(s.value))).catch(() => {
    // Only close() stops the actors: say so instead of XState's internal error.
    throw new InvalidArgumentError('orchestrator', `it was closed while reload ${run.id} of ${run.target} was running`);
  });
  main.stop();
  const finalState = leafState(final.value);
  const plugins = [...nested].map(([name, { follower, previous, sourceDir }]): PluginReloadResult => {
    follower.stop();
    const last = follower.last!;
    return {
      id: run.id,
      kind: 'plugin',
      target: `plugin:${name}`,
      name,
      source: sourceDir,
      dryRun: run.dryRun,
      legacy: false,
      ...follower.outcome(leafState(last.value), (last.context.error as ErrorInfo | null) ?? null),
      previous,
      active: run.plugins!.activeOf(name),
    };
  });
  const result: ReloadResult<T> = {
    id: run.id,
    kind: run.kind,
    target: run.target,
    name: run.name,
    source: run.source,
    dryRun: run.dryRun,
    legacy: false,
    ...main.outcome(finalState, (final.context as { error: ErrorInfo | null }).error ?? run.restart?.reason ?? null),
    previous: run.previous,
    active: run.activeNow(),
    ...(run.requestId ? { requestId: run.requestId } : {}),
    ...(run.plugins ? { plugins } : {}),
  };
  if (run.restart && finalState === 'active') result.outcome = 'restarted';
  // Nothing was tried beyond staging: what was offered is what is active.
  if (result.outcome === 'unchanged') result.candidate ??= result.active;
  await record(result);
  // Journaled: the intent is fulfilled. A caller's reload removes it after the answer (close() waits for it);
  // a host that dies before it is gone leaves an intent whose result recovery finds in the journal, and
  // journals nothing more. A restart (at boot, or by the supervisor) has no caller waiting: it removes it first.
  const ended = intents.end(run.id);
  if (run.restart) await ended;
  return result;
}
