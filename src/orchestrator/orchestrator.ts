/**
 * The one owner of all reload state: the plugin slots, the processes, the
 * active marker and the journal. Host programs embed it; the admin API (later)
 * talks only to it.
 */
import { join, resolve } from 'node:path';
import { createActor, waitFor, type Actor, type AnyActorRef } from 'xstate';
import { CONFIG_TARGET, ENGINE_SLOT_ID, orchestratorMachine, pluginTarget, type OrchestratorEvent } from '../../machines/orchestrator.js';
import { engineConfigSettledStates, engineConfigWork, type EngineRef } from '../../machines/engine-config.js';
import { pluginSlotSettledStates, pluginSlotWork, type PluginRef, type PluginSlotContext } from '../../machines/plugin-slot.js';
import { InvalidArgumentError, RecoveredUnconfirmedError, ReloadInProgressError, toErrorInfo, type ErrorInfo } from '../errors.js';
import { pluginNameSchema, type Manifest } from '../plugins/index.js';
import { revertPending, StateStore, type ActiveMarker, type PendingSwap } from '../store/index.js';
import { reloadPluginLegacy } from './legacy-reload.js';
import { normalizeOrchestratorOptions, type NormalizedOptions, type OrchestratorOptions } from './options.js';
import { PluginHost } from './plugin-host.js';
import { providePluginSlot } from './plugin-slot-actors.js';
import { provideEngineConfig } from './engine-slot-actors.js';
import { EngineRuntime } from './engine-runtime.js';
import { HostEvents } from './host-events.js';
import { faults } from './faults.js';
import { Supervisor } from './supervisor.js';
import {
  formatReloadResult,
  newReloadId,
  type ConfigReloadResult,
  type EngineInfo,
  type PluginReloadResult,
  type ReloadOutcome,
  type ReloadResult,
  type TargetInfo,
  type VersionInfo,
} from './reload-result.js';
import { leafState, StepRecorder } from './step-recorder.js';

type RootActor = Actor<typeof orchestratorMachine>;

const settled = new Set<string>([...pluginSlotSettledStates, ...engineConfigSettledStates]);
const outcomeOf: Record<string, ReloadOutcome> = {
  active: 'activated',
  rolledBack: 'rolledBack',
  rejected: 'rejected',
  dryRunPassed: 'dryRunPassed',
};
/** The journal entry for a swap a restart found unconfirmed and reverted. */
function recoveredResult(target: string, pending: PendingSwap, before: ActiveMarker, after: ActiveMarker): ReloadResult {
  const now = new Date().toISOString();
  const config = target === CONFIG_TARGET;
  const info = (m: ActiveMarker): TargetInfo | null => {
    if (config) return m.engine && { generation: m.engine.generation, digest: m.engine.digest, listen: m.engine.listen };
    const entry = m.plugins[target.slice('plugin:'.length)];
    return entry ? { version: entry.version, digest: entry.digest, pid: null } : null;
  };
  return {
    id: pending.reloadId,
    kind: config ? 'config' : 'plugin',
    target,
    name: config ? 'engine' : target.slice('plugin:'.length),
    source: 'restart',
    dryRun: false,
    legacy: false,
    outcome: 'recovered',
    startedAt: pending.startedAt,
    finishedAt: now,
    ms: Date.parse(now) - Date.parse(pending.startedAt),
    steps: [],
    failedStep: 'confirm',
    error: new RecoveredUnconfirmedError(target, pending.reloadId).toJSON(),
    previous: info(before),
    active: info(after),
    candidate: info(before),
  };
}

const pluginWorkOf = (state: string) => (pluginSlotWork as Record<string, string>)[state];
const engineWorkOf = (state: string) => (engineConfigWork as Record<string, string>)[state];
const versionOf = (ref: PluginRef | null): VersionInfo | null => ref && { version: ref.version, digest: ref.digest, pid: ref.pid };
const engineInfoOf = (ref: EngineRef | null): EngineInfo | null => ref && { generation: ref.generation, digest: ref.digest, listen: ref.listen };


/** What one reload run needs to know about its slot (the result's identity fields, and how to follow the slot). */
interface ReloadRun<T extends TargetInfo> extends Pick<ReloadResult<T>, 'id' | 'kind' | 'target' | 'name' | 'source' | 'dryRun'> {
  workOf: (state: string) => string | undefined;
  /** Starts the reload (already admitted) and returns the slot actor running it. */
  start: () => AnyActorRef;
  /** What the candidate is, from the slot's context, as far as it got. */
  candidateOf: (context: Record<string, unknown>) => T | null;
  previous: T | null;
  /** What is active once the reload settled. */
  activeNow: () => T | null;
}
/** A config given as text rather than a file. */
export interface InlineConfig {
  yaml: string;
  /** Directory that relative plugin directories resolve against (default: the working directory). */
  baseDir?: string;
}

export interface TryActivateOptions {
  /** Run every check, then stop the candidate without swapping. */
  dryRun?: boolean;
}

/** What `listPlugins` reports per plugin. */
export interface PluginStatus {
  name: string;
  version: string;
  digest: string;
  pid: number;
  alive: boolean;
  /** The slot machine's state, e.g. `active` or `handshaked` while a reload runs. */
  state: string;
  steps: string[];
  callsInFlight: number;
  /** Times the supervisor restarted it after a crash (since this version was activated). */
  restarts: number;
  /** The supervisor gave up on it: its steps answer WFR_PLUGIN_FAILED until a new version is activated. */
  failed: boolean;
}

export class Orchestrator {
  readonly options: NormalizedOptions;
  readonly store: StateStore;
  private readonly host: PluginHost;
  private readonly engines: EngineRuntime;
  private readonly supervisor: Supervisor;
  /** Transitions, results and inspection snapshots, for observers (admin API, live view, metrics). */
  readonly events = new HostEvents();
  /** The root actor: admits reloads and owns the slot actors. */
  private readonly root: RootActor;
  private closed = false;

  private constructor(options: NormalizedOptions) {
    this.options = options;
    this.store = new StateStore(options.stateDir);
    this.host = new PluginHost(options);
    this.engines = new EngineRuntime(this.host, this.store, options);
    this.supervisor = new Supervisor(this.host, options, (result) => this.record(result));
    const machine = orchestratorMachine.provide({
      actors: {
        pluginSlot: providePluginSlot(this.host, this.engines, this.store, options),
        engineConfig: provideEngineConfig(this.engines, options),
      },
    });
    const forward = this.events.inspector();
    this.root = createActor(machine, {
      id: 'orchestrator',
      inspect: (event) => {
        forward(event);
        options.inspect?.(event);
      },
    });
    this.root.start();
  }

  /** Open the state directory and start the plugins active.json names. */
  static async open(raw: OrchestratorOptions): Promise<Orchestrator> {
    const orchestrator = new Orchestrator(normalizeOrchestratorOptions(raw));
    const marker = await orchestrator.store.open();
    try {
      await orchestrator.restore(marker);
    } catch (error) {
      await orchestrator.close();
      throw error;
    }
    return orchestrator;
  }

  /**
   * Crash recovery, then start: unconfirmed swaps in active.json are put back
   * (each journaled as `recovered`), staging debris is removed, and the
   * confirmed set is started.
   */
  private async restore(found: ActiveMarker): Promise<void> {
    let marker = found;
    const pending = Object.entries(found.pending);
    if (pending.length > 0) {
      marker = await this.store.updateActiveMarker((m) => {
        for (const [target] of pending) revertPending(m, target);
      });
      for (const [target, record] of pending) await this.record(recoveredResult(target, record, found, marker));
    }
    await this.store.removeDebris();
    for (const [name, entry] of Object.entries(marker.plugins)) {
      const dir = this.store.fromStatePath(entry.dir);
      try {
        const ref = await this.host.launch({ dir, digest: entry.digest });
        await this.host.handshake(ref);
        await this.host.probe(ref);
        this.host.setActive(name, ref);
      } catch (error) {
        this.options.logger.error({ plugin: name, version: entry.version, err: toErrorInfo(error) }, 'could not restart the active plugin');
      }
    }
    try {
      await this.engines.restore();
    } catch (error) {
      this.options.logger.error({ err: toErrorInfo(error) }, 'could not restart the active engine');
    }
  }

  private child(id: string): AnyActorRef | undefined {
    return (this.root.getSnapshot().children as Record<string, AnyActorRef | undefined>)[id];
  }

  /**
   * Ask the root actor to admit a reload on `target`: it decides, and answers
   * in its context (the send is processed at once). Throws
   * ReloadInProgressError (with the blocking reload's id) when it refused.
   */
  private admit(target: string, event: (id: string) => OrchestratorEvent): string {
    const id = newReloadId();
    this.root.send(event(id));
    const { inFlight, lastRefusal } = this.root.getSnapshot().context;
    if (inFlight[target] === id) return id;
    if (lastRefusal?.reloadId === id) throw new ReloadInProgressError(lastRefusal.blocking.target, lastRefusal.blocking.reloadId);
    throw new Error(`the orchestrator neither admitted nor refused reload ${id} of ${target}`);
  }

  /** Drive one reload on a slot actor to a settled state and build its result. */
  private async runReload<T extends TargetInfo>(run: ReloadRun<T>): Promise<ReloadResult<T>> {
    const startedAt = Date.now();
    const recorder = new StepRecorder(run.workOf);
    let candidate: T | null = null;
    let failure: ErrorInfo | null = null;
    let cleanupError: ErrorInfo | null = null;
    const observe = (snapshot: { value: unknown; context: Record<string, unknown> }) => {
      const state = leafState(snapshot.value);
      const stepsBefore = recorder.steps.length;
      if (!recorder.enter(state)) return;
      faults.reachedState(state);
      candidate = run.candidateOf(snapshot.context) ?? candidate;
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
      this.options.logger.info({ reloadId: run.id, target: run.target, state, step: finished }, `${run.target} → ${state}`);
      this.events.emit({ type: 'transition', reloadId: run.id, target: run.target, state, at: new Date().toISOString(), finished });
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
      outcome: outcomeOf[leafState(final.value)]!,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      ms: finished - startedAt,
      steps: recorder.steps,
      // The step that decided the outcome; a failed clean-up step after it is reported in cleanupError.
      failedStep: recorder.steps.find((step) => step.error && step.error === failure)?.work ?? null,
      error: (final.context as { error: ErrorInfo | null }).error,
      previous: run.previous,
      active: run.activeNow(),
      candidate,
      ...(cleanupError ? { cleanupError } : {}),
    };
    await this.record(result);
    return result;
  }

  /**
   * Stage `dir`, start it, handshake, probe, and only then swap it in for the
   * active version of `name`. Any failure before the swap leaves the active
   * version exactly as it was. Resolves with the result (never rejects for a
   * bad candidate); throws for bad arguments or a reload already running.
   */
  async tryActivatePlugin(name: string, dir: string, options: TryActivateOptions = {}): Promise<PluginReloadResult> {
    this.assertOpen();
    const { name: slotName, dir: sourceDir, dryRun } = validatePluginArgs(name, dir, options);
    const target = pluginTarget(slotName);
    const previous = versionOf(this.host.activeRef(slotName));
    const id = this.admit(target, (reloadId) => ({ type: 'PLUGIN.TRY_ACTIVATE', name: slotName, reloadId, sourceDir, dryRun }));
    return this.runReload<VersionInfo>({
      id,
      kind: 'plugin',
      target,
      name: slotName,
      source: sourceDir,
      dryRun,
      workOf: pluginWorkOf,
      start: () => this.child(target)!,
      candidateOf: (context) => {
        const { candidate, staged } = context as unknown as PluginSlotContext;
        return versionOf(candidate) ?? (staged && { version: staged.version, digest: staged.digest, pid: null });
      },
      previous,
      activeNow: () => this.host.versionInfo(this.host.activeRef(slotName)),
    });
  }

  /**
   * Load `file`, start the plugins it needs beside the running ones, build
   * the engine, bind a new listen address if it changed, send its probes, and
   * only then swap it in; the replaced engine drains. Any failure before the
   * swap leaves the running engine, its plugins, listeners and active.json
   * exactly as they were.
   */
  async tryActivateConfig(config: string | InlineConfig, options: TryActivateOptions = {}): Promise<ConfigReloadResult> {
    this.assertOpen();
    const { file, yaml } = validateConfigSource(config);
    const dryRun = validateDryRun(options);
    const previous = engineInfoOf(this.engines.activeRef());
    const id = this.admit(CONFIG_TARGET, (reloadId) => ({ type: 'CONFIG.TRY_ACTIVATE', reloadId, file, dryRun, ...(yaml === undefined ? {} : { yaml }) }));
    return this.runReload<EngineInfo>({
      id,
      kind: 'config',
      target: CONFIG_TARGET,
      name: 'engine',
      source: file,
      dryRun,
      workOf: engineWorkOf,
      start: () => this.child(ENGINE_SLOT_ID)!,
      candidateOf: (context) => engineInfoOf((context as { candidate: EngineRef | null }).candidate),
      previous,
      activeNow: () => engineInfoOf(this.engines.activeRef()),
    });
  }

  /**
   * Re-read the active engine's config file (what SIGHUP does) through the
   * same try-activate path. Throws InvalidArgumentError when no config is active.
   */
  async reloadCurrentConfig(options: TryActivateOptions = {}): Promise<ConfigReloadResult> {
    const source = this.engines.active?.loaded.source;
    if (!source) throw new InvalidArgumentError('reload', 'no engine config is active, so there is no file to re-read');
    return this.tryActivateConfig(source, options);
  }

  /** The active engine: generation, config digest and the address the front door actually bound. */
  engineStatus(): (EngineInfo & { address: string | null; requestsInFlight: number; source: string }) | null {
    const engine = this.engines.active;
    if (!engine) return null;
    const listen = engine.loaded.config.http.listen;
    return { ...engineInfoOf(this.engines.activeRef())!, address: this.engines.frontDoor.address(listen), requestsInFlight: engine.requestsInFlight, source: engine.loaded.source };
  }

  /**
   * The old host's behaviour, for contrast only: stop the active version
   * first, then load the new one. A bad candidate leaves nothing active.
   */
  async reloadPluginLegacy(name: string, dir: string): Promise<PluginReloadResult> {
    this.assertOpen();
    const { name: slotName, dir: sourceDir } = validatePluginArgs(name, dir, {});
    const target = pluginTarget(slotName);
    const id = this.admit(target, (reloadId) => ({ type: 'LEGACY.BEGIN', name: slotName, reloadId }));
    try {
      const result = await reloadPluginLegacy({ id, target, name: slotName, sourceDir, host: this.host, store: this.store, options: this.options });
      await this.record(result);
      return result;
    } finally {
      // The legacy path runs outside the slots, so it tells the root itself that it is done.
      this.root.send({ type: 'LEGACY.END', name: slotName, reloadId: id });
    }
  }

  /** Call `step` on the active version of plugin `name`. */
  async invoke(name: string, step: string, input: unknown): Promise<unknown> {
    this.assertOpen();
    return this.host.invoke(this.host.requireActive(name), step, input, this.options.timeouts.invokeMs);
  }

  /** The active plugins. */
  listPlugins(): PluginStatus[] {
    return this.host.activeNames().map((name) => {
      const ref = this.host.activeRef(name)!;
      const process = this.host.processes.get(ref.instanceId);
      const slot = this.child(pluginTarget(name));
      return {
        name,
        version: ref.version,
        digest: ref.digest,
        pid: ref.pid,
        alive: process?.alive ?? false,
        state: slot ? leafState(slot.getSnapshot().value) : 'active',
        steps: process?.manifest.contract.steps.map((s) => s.type) ?? [],
        callsInFlight: process?.callsInFlight ?? 0,
        restarts: this.supervisor.restarts.get(name) ?? 0,
        failed: this.host.failed.has(name),
      };
    });
  }

  /** The manifest of the active version of `name`. */
  manifest(name: string): Manifest {
    return this.host.activeProcess(name).manifest;
  }

  /** name → how often an active plugin process exited without being stopped. */
  pluginUnexpectedExits(): Record<string, number> {
    return Object.fromEntries(this.host.unexpectedExits);
  }

  /** active.json as last written. */
  activeMarker(): ActiveMarker {
    return this.store.activeMarker;
  }

  /** Reloads running now, as target → reload id. */
  reloadsInFlight(): Record<string, string> {
    return { ...this.root.getSnapshot().context.inFlight };
  }

  /** Every journaled reload result, oldest first. */
  history(): Promise<ReloadResult[]> {
    return this.store.readJournal<ReloadResult>();
  }

  /** Stop every plugin (gracefully, then by force) and the slot actors. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.supervisor.stop();
    this.root.stop();
    await this.engines.close();
    await this.host.stopAll();
    await this.store.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidArgumentError('orchestrator', 'it was closed');
  }

  private async record(result: ReloadResult): Promise<void> {
    if (result.outcome === 'activated') {
      // A new version (or config) starts with a clean crash history.
      for (const name of result.kind === 'plugin' ? [result.name] : this.host.activeNames()) this.supervisor.reset(name);
    }
    this.events.emit({ type: 'reload', result });
    const level = result.outcome === 'activated' || result.outcome === 'dryRunPassed' ? 'info' : 'warn';
    this.options.logger[level]({ reloadId: result.id, target: result.target, outcome: result.outcome }, formatReloadResult(result));
    try {
      await this.store.appendJournal(result);
    } catch (error) {
      this.options.logger.error({ reloadId: result.id, err: toErrorInfo(error) }, 'could not journal the reload result');
    }
  }
}

function validatePluginArgs(name: unknown, dir: unknown, options: unknown): { name: string; dir: string; dryRun: boolean } {
  const parsedName = pluginNameSchema.safeParse(name);
  if (!parsedName.success) throw new InvalidArgumentError('plugin name', parsedName.error.issues[0]!.message, name);
  if (typeof dir !== 'string' || dir.length === 0) throw new InvalidArgumentError('plugin directory', 'must be a non-empty path', dir);
  return { name: parsedName.data, dir, dryRun: validateDryRun(options) };
}

function validateConfigSource(config: unknown): { file: string; yaml?: string } {
  if (typeof config === 'string' && config.length > 0) return { file: resolve(config) };
  if (typeof config === 'object' && config !== null && typeof (config as InlineConfig).yaml === 'string') {
    const { yaml, baseDir } = config as InlineConfig;
    // Inline text has no file; relative plugin directories resolve against baseDir.
    return { file: join(resolve(baseDir ?? process.cwd()), '<inline config>.yaml'), yaml };
  }
  throw new InvalidArgumentError('config', 'must be a file path or { yaml, baseDir? }', config);
}

function validateDryRun(options: unknown): boolean {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object', options);
  const dryRun = (options as TryActivateOptions).dryRun ?? false;
  if (typeof dryRun !== 'boolean') throw new InvalidArgumentError('dryRun', 'must be true or false', dryRun);
  return dryRun;
}

export type { PluginSlotContext };
