/**
 * Result assembly: follow one admitted reload on its slot actor until it
 * settles, turning its transitions into steps, log lines and events, and its
 * final state into the reload result that is journaled and returned.
 */
import type { Logger } from 'pino';
import { waitFor, type AnyActorRef } from 'xstate';
import { engineConfigSettledStates, engineConfigWork, type EngineRef } from '../../machines/engine-config.js';
import { pluginSlotSettledStates, pluginSlotWork, type PluginRef } from '../../machines/plugin-slot.js';
import { InvalidArgumentError, type ErrorInfo } from '../errors.js';
import { faults } from './faults.js';
import type { HostEvents } from './host-events.js';
import type { IntentLog } from './intent-log.js';
import type { EngineInfo, ReloadOutcome, ReloadResult, TargetInfo, VersionInfo } from './reload-result.js';
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
};

export const pluginWorkOf = (state: string) => (pluginSlotWork as Record<string, string>)[state];
export const engineWorkOf = (state: string) => (engineConfigWork as Record<string, string>)[state];
export const versionOf = (ref: PluginRef | null): VersionInfo | null => ref && { version: ref.version, digest: ref.digest, pid: ref.pid };
export const engineInfoOf = (ref: EngineRef | null): EngineInfo | null => ref && { generation: ref.generation, digest: ref.digest, listen: ref.listen };


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
}

/** Drive one reload on a slot actor to a settled state and build its result. */
export async function runReload<T extends TargetInfo>(run: ReloadRun<T>, { logger, events, intents, record }: RunDeps): Promise<ReloadResult<T>> {
  const startedAt = Date.now();
  const recorder = new StepRecorder(run.workOf);
  let candidate: T | null = null;
  let failure: ErrorInfo | null = null;
  let cleanupError: ErrorInfo | null = null;
  const observe = (snapshot: { value: unknown; context: Record<string, unknown> }) => {
    const state = leafState(snapshot.value);
    const stepsBefore = recorder.steps.length;
    if (!recorder.enter(state)) return;
    // Test-only crash points are reload boundaries; a restart at boot passing the same states must not trip them.
    if (!run.restart) faults.reachedState(state);
    candidate = run.candidateOf(snapshot.context) ?? candidate;
    intents.update(run.id, state, snapshot.context);
    const error = snapshot.context.error as ErrorInfo | null;
    if (error && !failure) {
      failure = error;
      recorder.failLast(error);
    }
    const cleanup = snapshot.context.cleanupError as ErrorInfo | null;
    if (cleanup && !cleanupError) {
      cleanupError = cleanup;
      recorder.failLast(cleanup);
    }
    const finished = recorder.steps.length > stepsBefore ? recorder.steps.at(-1)! : null;
    logger.info({ reloadId: run.id, target: run.target, state, step: finished }, `${run.target} → ${state}`);
    events.emit({ type: 'transition', reloadId: run.id, target: run.target, state, at: new Date().toISOString(), finished });
  };
  const actor = run.start();
  // The slot may already have moved on during start(); record where it is, then follow it.
  observe(actor.getSnapshot());
  const subscription = actor.subscribe(observe);
  const final = await waitFor(actor, (s: { value: unknown; context: { request?: { reloadId: string } | null } }) => s.context.request?.reloadId === run.id && settled.has(leafState(s.value))).catch(() => {
    // Only close() stops the actors: say so instead of XState's internal error.
    throw new InvalidArgumentError('orchestrator', `it was closed while reload ${run.id} of ${run.target} was running`);
  });
  subscription.unsubscribe();
  recorder.close();
  const finished = Date.now();
  const result: ReloadResult<T> = {
    id: run.id,
    kind: run.kind,
    target: run.target,
    name: run.name,
    source: run.source,
    dryRun: run.dryRun,
    legacy: false,
    outcome: run.restart && leafState(final.value) === 'active' ? 'restarted' : outcomeOf[leafState(final.value)]!,
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    ms: finished - startedAt,
    steps: recorder.steps,
    // The step that decided the outcome; a failed clean-up step after it is reported in cleanupError.
    failedStep: recorder.steps.find((step) => step.error && step.error === failure)?.work ?? null,
    error: (final.context as { error: ErrorInfo | null }).error ?? run.restart?.reason ?? null,
    previous: run.previous,
    active: run.activeNow(),
    candidate,
    ...(run.requestId ? { requestId: run.requestId } : {}),
    ...(cleanupError ? { cleanupError } : {}),
  };
  await record(result);
  // Journaled: the intent is fulfilled.
  await intents.end(run.id);
  return result;
}
