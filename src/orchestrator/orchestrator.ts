/**
 * The facade: the one owner of all reload state (the root actor with its
 * slots, the processes, the active marker and the journal), and the API host
 * programs embed and the admin API talks to. Its jobs live beside it:
 * arguments.ts (argument checks), recovery.ts (opening a state directory),
 * run-reload.ts (following a reload to its result), status.ts (queries);
 * admission is the root machine's (machines/orchestrator.ts).
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createActor, type Actor, type AnyActorRef } from 'xstate';
import { composedPluginSlot, CONFIG_TARGET, ENGINE_SLOT_ID, orchestratorMachine, pluginTarget, type OrchestratorEvent } from '../../machines/orchestrator.js';
import { configPluginSlotId, type EngineRef } from '../../machines/engine-config.js';
import type { PluginSlotContext } from '../../machines/plugin-slot.js';
import { InvalidArgumentError, ReloadInProgressError, RequestInProgressError, toErrorInfo, type ErrorInfo } from '../errors.js';
import type { Manifest } from '../plugins/index.js';
import { StateStore, type ActiveMarker } from '../store/index.js';
import { validateConfigSource, validateDryRun, validatePluginArgs, validatePluginName, validateRequestId, type InlineConfig, type TryActivateOptions } from './arguments.js';
import { reloadPluginLegacy } from './legacy-reload.js';
import { normalizeOrchestratorOptions, type NormalizedOptions, type OrchestratorOptions } from './options.js';
import { PluginHost, type PluginLogLine, type PointerWriter } from './plugin-host.js';
import { providePluginSlot } from './plugin-slot-actors.js';
import { provideEngineConfig } from './engine-slot-actors.js';
import { EngineRuntime } from './engine-runtime.js';
import { HostEvents } from './host-events.js';
import { IntentLog } from './intent-log.js';
import { recoverAndStart } from './recovery.js';
import { ResultJournal } from './result-journal.js';
import { engineInfoOf, engineWorkOf, pluginCandidateOf, pluginWorkOf, runReload, versionOf, type RunDeps } from './run-reload.js';
import { pluginStatuses, type PluginStatus } from './status.js';
import { pruneSelection, rollbackTarget, stagedVersions, type PruneResult, type StagedVersion } from './versions.js';
import { Supervisor, type RestartAttempt } from './supervisor.js';
import { formatReloadResult, isSuccess, newReloadId, type ConfigReloadResult, type EngineInfo, type PluginReloadResult, type ReloadResult, type VersionInfo } from './reload-result.js';

export type { InlineConfig, PluginLogLine, PluginStatus, PruneResult, StagedVersion, TryActivateOptions };

type RootActor = Actor<typeof orchestratorMachine>;
/** The engine slot's children that run a config reload's plugins are named `config/plugin:NAME`. */
const CONFIG_PLUGIN_PREFIX = configPluginSlotId('');

export class Orchestrator {
  readonly options: NormalizedOptions;
  readonly store: StateStore;
  private readonly host: PluginHost;
  private readonly pointer: PointerWriter;
  private readonly engines: EngineRuntime;
  private readonly supervisor: Supervisor;
  /** Transitions, results and inspection snapshots, for observers (admin API, live view, metrics). */
  readonly events = new HostEvents();
  /** The root actor: admits reloads and owns the slot actors. */
  private readonly root: RootActor;
  private closed = false;
  /** The intent record of each reload in progress (what a restart after a crash must release). */
  private readonly intents: IntentLog;
  /** The history's writer, with the results a failing disk has not taken yet. */
  private readonly journal: ResultJournal;
  /** requestId → the reload it started, while it runs (null until admitted). */
  private readonly requests = new Map<string, { target: string; reloadId: string | null }>();

  private constructor(options: NormalizedOptions) {
    this.options = options;
    this.store = new StateStore(options.stateDir);
    this.store.journalMaxBytes = options.journalMaxBytes;
    this.host = new PluginHost(options);
    this.intents = new IntentLog(this.store.root, (path) => this.store.toStatePath(path), options.logger);
    this.journal = new ResultJournal(this.store, options.logger, options.journalRetryMs);
    // The one writer of the registry's pointer, claimed here so that no one else can: handed to the slot work only.
    this.pointer = this.host.claimPointer();
    this.engines = new EngineRuntime(this.host, this.pointer, this.store, options);
    this.supervisor = new Supervisor(this.host, options, (result) => this.record(result), (attempt, why) => this.restartPlugin(attempt, why));
    const slotDeps = { host: this.host, pointer: this.pointer, engines: this.engines, store: this.store, options, intentOnDisk: (reloadId: string) => this.intents.onDisk(reloadId) };
    const machine = orchestratorMachine.provide({
      actors: {
        pluginSlot: providePluginSlot(composedPluginSlot, slotDeps),
        engineConfig: provideEngineConfig(this.engines, slotDeps),
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
    this.host.onLogLine((plugin, line) => this.events.emit({ type: 'log', plugin, ...line }));
  }

  /** Open the state directory and start the plugins active.json names. */
  static async open(raw: OrchestratorOptions): Promise<Orchestrator> {
    const orchestrator = new Orchestrator(normalizeOrchestratorOptions(raw));
    const marker = await orchestrator.store.open();
    try {
      await recoverAndStart(marker, {
        store: orchestrator.store,
        engines: orchestrator.engines,
        logger: orchestrator.options.logger,
        record: (result) => orchestrator.record(result),
        journaled: async () => new Set((await orchestrator.history()).map((result) => result.id)),
        restart: (staged) => orchestrator.restartPlugin({ staged, replacing: null }, null),
        retryLater: (staged, why) => orchestrator.supervisor.restoreFailed(staged, why),
      });
    } catch (error) {
      await orchestrator.close();
      throw error;
    }
    return orchestrator;
  }

  /**
   * Run a reload at most once per `requestId`: a second ask while it runs throws
   * RequestInProgressError; one after it finished gets the journaled result.
   * Without a requestId, just runs it.
   */
  private async once(requestId: string | undefined, target: string, start: (admitted: (reloadId: string) => string) => Promise<ReloadResult>): Promise<ReloadResult> {
    if (requestId === undefined) return start((reloadId) => reloadId);
    const running = this.requests.get(requestId);
    if (running) throw new RequestInProgressError(requestId, running.target, running.reloadId);
    const entry: { target: string; reloadId: string | null } = { target, reloadId: null };
    this.requests.set(requestId, entry);
    try {
      const done = (await this.history()).findLast((result) => result.requestId === requestId);
      if (done) {
        if (done.target !== target) throw new InvalidArgumentError('requestId', `it was already used for ${done.target} (reload ${done.id}); use a new one for ${target}`, requestId);
        return done;
      }
      return await start((reloadId) => (entry.reloadId = reloadId));
    } finally {
      this.requests.delete(requestId);
    }
  }

  private get runDeps(): RunDeps {
    return { logger: this.options.logger, events: this.events, intents: this.intents, record: (result) => this.record(result) };
  }

  private child(id: string): AnyActorRef | undefined {
    return (this.root.getSnapshot().children as Record<string, AnyActorRef | undefined>)[id];
  }

  /**
   * Ask the root actor to admit a reload on `target`: it decides, and answers
   * in its context (the send is processed at once). The reload's intent
   * record exists before the root hears of it, so no work starts without
   * one, and it is flushed to the disk before any candidate process starts
   * (IntentLog.onDisk). Throws ReloadInProgressError (with the blocking
   * reload's id) when it refused.
   */
  private async admit(target: string, event: (id: string) => OrchestratorEvent, intent: { source: string; requestId?: string | undefined }): Promise<string> {
    const id = newReloadId();
    this.intents.begin({ id, target, source: intent.source, startedAt: new Date().toISOString(), ...(intent.requestId ? { requestId: intent.requestId } : {}) });
    this.root.send(event(id));
    const { inFlight, lastRefusal } = this.root.getSnapshot().context;
    if (inFlight[target] === id) return id;
    await this.intents.end(id);
    if (lastRefusal?.reloadId === id) throw new ReloadInProgressError(lastRefusal.blocking.target, lastRefusal.blocking.reloadId);
    throw new Error(`the orchestrator neither admitted nor refused reload ${id} of ${target}`);
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
    const requestId = validateRequestId(options);
    const target = pluginTarget(slotName);
    return this.once(requestId, target, async (admitted) => {
      const previous = versionOf(this.host.activeRef(slotName));
      const id = admitted(await this.admit(target, (reloadId) => ({ type: 'PLUGIN.TRY_ACTIVATE', name: slotName, reloadId, sourceDir, dryRun }), { source: sourceDir, requestId }));
      return runReload<VersionInfo>({
        ...(requestId ? { requestId } : {}),
        id,
        kind: 'plugin',
        target,
        name: slotName,
        source: sourceDir,
        dryRun,
        workOf: pluginWorkOf,
        start: () => this.child(target)!,
        candidateOf: pluginCandidateOf,
        previous,
        activeNow: () => this.host.versionInfo(this.host.activeRef(slotName)),
      }, this.runDeps);
    }) as Promise<PluginReloadResult>;
  }

  /** The staged versions of plugin `name`, newest staged first, with the active and the previous one marked. */
  async pluginVersions(name: string, history?: ReloadResult[]): Promise<StagedVersion[]> {
    this.assertOpen();
    return stagedVersions(this.store.root, validatePluginName(name), this.store.activeMarker, history ?? (await this.history()));
  }

  /**
   * Remove staged versions of `name` (every plugin without it) beyond the active one, the previous one, and
   * the `keep` newest staged others (default: the `retention.keepVersions` option). A version a process runs
   * from, or that active.json or a pending swap names, is never removed. Skips a plugin with a reload in flight.
   */
  async prunePlugins(name?: string, keep = this.options.retention.keepVersions): Promise<PruneResult[]> {
    this.assertOpen();
    return this.prunePluginsNow(name, keep);
  }

  /** prunePlugins, also while close() waits for the prune an activation asked for. */
  private async prunePluginsNow(name: string | undefined, keep: number): Promise<PruneResult[]> {
    if (!Number.isInteger(keep) || keep < 0) throw new InvalidArgumentError('keep', 'must be a whole number, 0 or more', keep);
    const names = name === undefined ? await this.store.stagedPluginNames() : [validatePluginName(name)];
    const marker = this.store.activeMarker;
    const inUse = new Set([
      ...[...this.host.processes.values()].filter((p) => p.alive).map((p) => p.dir),
      ...Object.values(marker.plugins).map((e) => this.store.fromStatePath(e.dir)),
      ...Object.values(marker.pending).flatMap((p) => Object.values(p.previousPlugins).flatMap((e) => (e ? [this.store.fromStatePath(e.dir)] : []))),
    ]);
    const results: PruneResult[] = [];
    for (const plugin of names) {
      if (`plugin:${plugin}` in this.reloadsInFlight() || 'config' in this.reloadsInFlight()) continue;
      // Its previous version is the `previous` of its newest activation (kept by the journal's writer: no journal scan per prune).
      const last = await this.journal.lastActivation(plugin);
      const { removed, kept } = pruneSelection(await stagedVersions(this.store.root, validatePluginName(plugin), this.store.activeMarker, last ? [last] : []), keep, inUse);
      for (const version of removed) await this.store.removeStagedPlugin(version.dir);
      const brief = ({ version, digest, dir }: StagedVersion) => ({ version, digest, dir });
      results.push({ name: plugin, removed: removed.map(brief), kept: kept.map(brief) });
      if (removed.length > 0) this.options.logger.info({ plugin, removed: removed.map((v) => v.dir) }, `pruned ${removed.length} staged version(s) of ${plugin}`);
    }
    return results;
  }

  /**
   * Remove staged configs (STATE/configs/DIGEST.yaml) beyond the active one, the one a pending swap would
   * put back, and the `keep` newest others. Skipped while a config reload runs.
   */
  async pruneConfigs(keep = this.options.retention.keepVersions): Promise<{ removed: string[]; kept: string[] }> {
    this.assertOpen();
    return this.pruneConfigsNow(keep);
  }

  private async pruneConfigsNow(keep: number): Promise<{ removed: string[]; kept: string[] }> {
    if ('config' in this.reloadsInFlight()) return { removed: [], kept: [] };
    const marker = this.store.activeMarker;
    const pinned = new Set(
      [marker.engine?.file, ...Object.values(marker.pending).map((p) => p.previousEngine?.file)].flatMap((file) => (file ? [this.store.fromStatePath(file)] : [])),
    );
    const dir = join(this.store.root, 'configs');
    const files = await readdir(dir).catch(() => [] as string[]);
    const staged = await Promise.all(files.filter((f) => f.endsWith('.yaml')).map(async (f) => ({ file: join(dir, f), mtime: (await stat(join(dir, f))).mtimeMs })));
    staged.sort((a, b) => b.mtime - a.mtime);
    const removed: string[] = [];
    const kept: string[] = [];
    let spare = keep;
    for (const { file } of staged) {
      if (pinned.has(file) || spare-- > 0) kept.push(file);
      else removed.push(file);
    }
    for (const file of removed) await rm(file, { force: true });
    return { removed, kept };
  }

  /**
   * Go back to the previous version of `name` (or to the staged version `to`, by version or digest prefix)
   * through the same safe path as any try-activate: same checks, same result. Throws InvalidArgumentError
   * when there is no such staged version.
   */
  async rollbackPlugin(name: string, options: TryActivateOptions & { to?: string } = {}): Promise<PluginReloadResult> {
    const { to, ...tryOptions } = options;
    if (to !== undefined && (typeof to !== 'string' || to.length === 0)) throw new InvalidArgumentError('to', 'must be a version or a digest prefix', to);
    const target = rollbackTarget(name, await this.pluginVersions(name), to);
    return this.tryActivatePlugin(name, target.dir, tryOptions);
  }

  /**
   * Start a version active.json names again, through its slot: at boot
   * (replacing nothing) or after a crash (replacing the dead process). The
   * same checks as a reload, then `reinstate`; journaled as `restarted`, or
   * `rolledBack` when a check failed. Throws ReloadInProgressError when a
   * reload of that plugin (or a config reload) is running.
   */
  private async restartPlugin({ staged, replacing }: RestartAttempt, reason: ErrorInfo | null): Promise<PluginReloadResult> {
    const target = pluginTarget(staged.name);
    const id = await this.admit(target, (reloadId) => ({ type: 'PLUGIN.RESTART', name: staged.name, reloadId, staged, replacing }), { source: replacing ? 'supervisor' : 'restart' });
    return runReload<VersionInfo>(
      {
        id,
        kind: 'plugin',
        target,
        name: staged.name,
        source: replacing ? 'supervisor' : 'restart',
        dryRun: false,
        workOf: pluginWorkOf,
        start: () => this.child(target)!,
        candidateOf: (context) => versionOf((context as unknown as PluginSlotContext).candidate),
        previous: versionOf(replacing),
        activeNow: () => this.host.versionInfo(this.host.activeRef(staged.name)),
        restart: { reason },
      },
      this.runDeps,
    );
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
    const requestId = validateRequestId(options);
    return this.once(requestId, CONFIG_TARGET, async (admitted) => {
      const previous = engineInfoOf(this.engines.activeRef());
      const id = admitted(await this.admit(CONFIG_TARGET, (reloadId) => ({ type: 'CONFIG.TRY_ACTIVATE', reloadId, file, dryRun, ...(yaml === undefined ? {} : { yaml }) }), { source: file, requestId }));
      return runReload<EngineInfo>({
        ...(requestId ? { requestId } : {}),
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
        plugins: {
          nameOf: (childId) => (childId.startsWith(CONFIG_PLUGIN_PREFIX) ? childId.slice(CONFIG_PLUGIN_PREFIX.length) : null),
          activeOf: (name) => this.host.versionInfo(this.host.activeRef(name)),
        },
      }, this.runDeps);
    }) as Promise<ConfigReloadResult>;
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

  /**
   * Whether this host is ready for traffic, for readiness probes (Kubernetes, Nomad checks, fleet campaigns):
   * an engine is serving, no plugin is failed (the supervisor gave up) or restarting, and no swap is inside
   * its confirmation window. `reason` names the first thing that is not so.
   */
  readiness(): { ready: true } | { ready: false; reason: 'no-engine' | 'plugin-failed' | 'plugin-restarting' | 'confirming' } {
    if (!this.engines.active) return { ready: false, reason: 'no-engine' };
    const plugins = this.listPlugins();
    if (plugins.some((p) => p.health === 'failed')) return { ready: false, reason: 'plugin-failed' };
    if (plugins.some((p) => p.health === 'restarting')) return { ready: false, reason: 'plugin-restarting' };
    if (Object.keys(this.store.activeMarker.pending).length > 0) return { ready: false, reason: 'confirming' };
    return { ready: true };
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
    const id = await this.admit(target, (reloadId) => ({ type: 'LEGACY.BEGIN', name: slotName, reloadId }), { source: sourceDir });
    try {
      const result = await reloadPluginLegacy({ id, target, name: slotName, sourceDir, host: this.host, pointer: this.pointer, store: this.store, options: this.options });
      await this.record(result);
      return result;
    } finally {
      // The legacy path runs outside the slots, so it tells the root itself that it is done.
      this.root.send({ type: 'LEGACY.END', name: slotName, reloadId: id });
      await this.intents.end(id);
    }
  }

  /** Call `step` on the active version of plugin `name`. */
  async invoke(name: string, step: string, input: unknown): Promise<unknown> {
    this.assertOpen();
    return this.host.invoke(this.host.requireActive(name), step, input, this.options.timeouts.invokeMs);
  }

  /** The active plugins. */
  listPlugins(): PluginStatus[] {
    return pluginStatuses(this.host, this.supervisor, (name) => this.child(pluginTarget(name)));
  }

  /** The last `count` stderr lines of plugin `name`'s processes (every version, candidates too), oldest first. */
  pluginLogs(name: string, count = 100): PluginLogLine[] {
    this.assertOpen();
    const slotName = validatePluginName(name);
    if (!Number.isInteger(count) || count < 1) throw new InvalidArgumentError('lines', 'must be a whole number of at least 1', count);
    return this.host.pluginLogs(slotName, count);
  }

  /** The manifest of the active version of `name`. */
  manifest(name: string): Manifest {
    return this.host.activeProcess(name).manifest;
  }

  /** name → how often an active plugin process exited without being stopped. */
  /** Times the kernel stopped a plugin's process at a limit: [plugin, limit, count]. */
  pluginLimitsExceeded(): Array<[string, string, number]> {
    return [...this.host.limitsExceeded].flatMap(([plugin, byLimit]) => [...byLimit].map(([limit, count]): [string, string, number] => [plugin, limit, count]));
  }

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
    return this.journal.history();
  }

  /**
   * Resolves once the work finished reloads leave after their answer is done: launches a step gave up on
   * have ended, old versions told to stop have exited and been reaped, pruning has run, and intent records
   * are removed. Nothing waits for it to serve or to answer; it is for a host program (or a test, or a
   * benchmark) that wants to see that work through before it looks at processes or the state directory.
   * close() does the same before it stops.
   */
  async settled(): Promise<void> {
    await this.host.launchesDone();
    await this.host.retired();
    await this.pruning;
    await this.intents.idle();
  }

  /** Stop every plugin (gracefully, then by force) and the slot actors. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.supervisor.stop();
    this.root.stop();
    // Intent records being written or removed, and pruning, finish first: nothing touches the state directory after close().
    await this.intents.idle();
    this.intents.close();
    await this.pruning;
    await this.engines.close();
    // A launch its step gave up on (the actors were just stopped) ends without a process; then every process stops.
    await this.host.launchesDone();
    await this.host.stopAll();
    await this.journal.close();
    this.storeClosed = true;
    await this.store.close();
  }

  private storeClosed = false;

  /** Pruning started after an activation; close() waits for it. */
  private pruning: Promise<unknown> = Promise.resolve();

  private pruneLater(name: string | undefined): void {
    this.pruning = this.pruning
      .then(() => new Promise((resolve) => setImmediate(resolve)))
      // The old version is reaped after the answer: its directory is in use until then.
      .then(() => this.host.retired())
      .then(async (): Promise<unknown> => {
        // A prune asked for before close() runs (close waits for it); one asked for after the store closed does not.
        if (this.storeClosed) return;
        // After a config activation, its plugins and the staged configs; after a plugin's, that plugin.
        const keep = this.options.retention.keepVersions;
        if (name === undefined) await Promise.all([this.prunePluginsNow(undefined, keep), this.pruneConfigsNow(keep)]);
        else await this.prunePluginsNow(name, keep);
      })
      .catch((error: unknown) => this.options.logger.warn({ err: toErrorInfo(error) }, 'could not prune staged versions'));
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidArgumentError('orchestrator', 'it was closed');
  }

  private async record(result: ReloadResult): Promise<void> {
    // A restart after a crash (not a start at boot) counts before anyone hears of it.
    if (result.outcome === 'restarted' && result.previous) this.supervisor.counted(result.name);
    if (result.outcome === 'activated') {
      // A new version (or config) starts with a clean crash history.
      for (const name of result.kind === 'plugin' ? [result.name] : this.host.activeNames()) this.supervisor.reset(name);
      // Retention: after a confirmed activation, older staged versions go (after this reload has released its target).
      this.pruneLater(result.kind === 'plugin' ? result.name : undefined);
    }
    const level = isSuccess(result.outcome) ? 'info' : 'warn';
    this.options.logger[level]({ reloadId: result.id, target: result.target, outcome: result.outcome }, formatReloadResult(result));
    // Told after it is journaled, or kept where history() finds it when the disk refuses it: an observer that hears of a result finds it in the history.
    await this.journal.append(result);
    this.events.emit({ type: 'reload', result });
  }
}

export type { PluginSlotContext };
