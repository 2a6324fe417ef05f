/**
 * The engine side of the host: the front door, the active engine pointer,
 * and the candidate builds of config reloads in progress. The engine slot's
 * actors (engine-slot-actors.ts) call into it; nothing else changes it.
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigPluginStart, ConfigReloadRequest, EngineRef, StagedConfig } from '../../machines/engine-config.js';
import type { PluginRef } from '../../machines/plugin-slot.js';
import { BreaksRoutesError, CleanupFailedError, ConfigBuildError, ConfirmFailedError, FailsConfigProbeError, NoEngineError, toErrorInfo, UnknownPluginError, type RoutedStep } from '../errors.js';
import { faults } from './faults.js';
import { Engine } from '../engine/engine.js';
import { FrontDoor } from '../engine/front-door.js';
import { loadConfig, parseConfig, type LoadedConfig } from '../engine/load-config.js';
import { probeEngine } from '../engine/probe-engine.js';
import { compileRoute, matchRoute } from '../engine/routes.js';
import type { InvokePlugin } from '../engine/pipeline.js';
import { revertPending, writeFileAtomic, type StateStore } from '../store/index.js';

/** The pending-swap key of config reloads (the config reload target). */
const CONFIG_PENDING = 'config';
import type { NormalizedOptions } from './options.js';
import { checkRequirements } from '../plugins/limits.js';
import type { PluginHost, PointerWriter } from './plugin-host.js';
import { readManifest } from '../plugins/index.js';

/** Everything a candidate engine holds until it is swapped in or discarded. */
interface CandidateBuild {
  loaded: LoadedConfig;
  /** The registry the engine will use once live. */
  bindings: Map<string, PluginRef>;
  /** Plugin processes started for this candidate, each by its own plugin slot (not shared with the active engine). */
  ownPlugins: PluginRef[];
  engine: Engine | null;
  /** A listen address this candidate bound (it was not bound before). */
  boundListen: string | null;
}

/** What a swap replaced, until it has drained: the engine (none on the first swap) and the registry it used. */
interface Retired {
  engine: Engine | null;
  bindings: Map<string, PluginRef>;
}

export class EngineRuntime {
  readonly frontDoor: FrontDoor;
  private engine: Engine | null = null;
  /** The active config read back at boot, from `readActive()` until `restore()` builds its engine. */
  private restoring: LoadedConfig | null = null;
  private readonly builds = new Map<string, CandidateBuild>();
  private retired: Retired | null = null;

  constructor(
    private readonly host: PluginHost,
    /** Moves the registry: only the engine's swap and swap back use it. */
    private readonly pointer: PointerWriter,
    private readonly store: StateStore,
    private readonly options: NormalizedOptions,
  ) {
    // A plugin started outside a config reload (its own reload, a restart) runs under the active config's limits.
    // On boot, before the engine is rebuilt, the plugins restart under the config active.json names.
    host.activeLimits = (name) => (this.engine?.loaded ?? this.restoring)?.config.plugins[name]?.limits;
    // Bound at arrival: a request keeps the engine it started on, whatever swaps happen meanwhile.
    this.frontDoor = new FrontDoor((req, res) => {
      const engine = this.engine;
      if (engine) void engine.handle(req, res);
      else {
        const error = new NoEngineError();
        res.writeHead(error.httpStatus, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: error.toJSON() }));
      }
    });
  }

  get active(): Engine | null {
    return this.engine;
  }

  activeRef(): EngineRef | null {
    return this.engine && refOf(this.engine);
  }

  /** Calls a plugin step through `bindings` (the live registry for the active engine). */
  private invokeThrough(bindings: ReadonlyMap<string, PluginRef>): InvokePlugin {
    return (plugin, step, input, timeoutMs) => {
      const ref = bindings.get(plugin);
      if (!ref || !this.host.processes.has(ref.instanceId)) throw new UnknownPluginError(plugin, [...bindings.keys()]);
      return this.host.invoke(ref, step, input, timeoutMs ?? this.options.timeouts.invokeMs);
    };
  }

  // ---------------------------------------------------------------- reload steps

  /**
   * A plugin candidate against the active engine (the plugin slot's engine check): it must offer every
   * step type the config's pipelines call on `candidate.name`, and pass the config's probes whose route
   * runs one of its steps, on a private view of the engine in which that plugin's steps go to the
   * candidate. The live front door and registry are not touched. No engine, or no route using the
   * plugin, passes at once.
   */
  /** How many probes a candidate config sends (bounds its probe step). */
  candidateProbeCount(request: ConfigReloadRequest): number {
    return this.builds.get(request.reloadId)?.loaded.config.probes.length ?? 0;
  }

  /** How many probes the active config sends (bounds the engine check of a plugin candidate). */
  activeProbeCount(): number {
    return this.engine?.loaded.config.probes.length ?? 0;
  }

  async checkPluginCandidate(candidate: PluginRef): Promise<void> {
    const engine = this.engine;
    if (!engine) return;
    const { config } = engine.loaded;
    const uses = (step: { use: string }) => step.use.startsWith(`${candidate.name}.`);
    const offered = this.host.process(candidate).manifest.contract.steps.map((c) => c.type);
    const missing: RoutedStep[] = [];
    config.pipelines.forEach((pipeline, p) =>
      pipeline.steps.forEach((step, s) => {
        const type = step.use.slice(candidate.name.length + 1);
        if (uses(step) && !offered.includes(type)) missing.push({ route: pipeline.route, step: type, at: `pipelines[${p}].steps[${s}].use` });
      }),
    );
    if (missing.length > 0) throw new BreaksRoutesError(candidate.name, candidate.version, missing, offered);

    const routes = config.pipelines.map((pipeline) => compileRoute(pipeline.route, pipeline));
    const probes = config.probes.filter((probe) => {
      const [method, target] = probe.request.split(' ') as [string, string];
      return matchRoute(routes, method, new URL(target, 'http://probe').pathname)?.target.steps.some(uses) ?? false;
    });
    if (probes.length === 0) return;
    const bindings = new Map(this.host.registry);
    bindings.set(candidate.name, candidate);
    const view = new Engine(engine.generation, engine.loaded, this.invokeThrough(bindings));
    try {
      await probeEngine(view, probes, this.options.timeouts.probeMs);
    } catch (error) {
      throw new FailsConfigProbeError(candidate.name, candidate.version, engine.generation, toErrorInfo(error));
    }
  }

  /**
   * Parse the config and copy it to `configs/DIGEST.yaml`; stage every plugin directory it names. A plugin
   * already running with the same bytes is shared, not started twice; the others are returned, to be started
   * by their own plugin slots. On any error nothing this staging created is left.
   */
  async stage(request: ConfigReloadRequest): Promise<StagedConfig> {
    const loaded = request.yaml === undefined ? await loadConfig(request.file) : parseConfig(request.yaml, request.file);
    const file = join(this.store.root, 'configs', `${loaded.digest}.yaml`);
    const exists = await stat(file).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await mkdir(join(this.store.root, 'configs'), { recursive: true });
      await writeFileAtomic(file, loaded.text);
    }
    const build: CandidateBuild = { loaded, bindings: new Map(), ownPlugins: [], engine: null, boundListen: null };
    const plugins: ConfigPluginStart[] = [];
    const created: string[] = [];
    try {
      for (const [name, dir] of Object.entries(loaded.pluginDirs)) {
        const { manifest, ...staged } = await this.store.stagePlugin(name, dir, readManifest);
        if (staged.createdByReload) created.push(staged.dir);
        const limits = loaded.config.plugins[name]?.limits;
        checkRequirements(name, manifest.version, manifest.requires, limits);
        this.host.setCandidateLimits(staged.dir, limits);
        const running = this.host.activeRef(name);
        // The same bytes already run: share that process rather than start a twin.
        if (running && running.digest === staged.digest && this.host.processes.get(running.instanceId)?.alive) build.bindings.set(name, running);
        else plugins.push({ sourceDir: dir, staged });
      }
    } catch (error) {
      for (const dir of created) await this.store.removeStagedPlugin(dir).catch(() => {});
      if (!exists) await rm(file, { force: true }).catch(() => {});
      throw error;
    }
    this.builds.set(request.reloadId, build);
    return { digest: loaded.digest, file, source: loaded.source, createdByReload: !exists, plugins };
  }

  /**
   * Whether a staged candidate is the active engine: the same config text, every plugin it names running
   * with the same bytes (none to start). Then the reload ends `unchanged`, and its candidate build is dropped.
   */
  isUnchanged(request: ConfigReloadRequest, staged: StagedConfig): boolean {
    if (!this.engine || staged.digest !== this.engine.loaded.digest || staged.plugins.length > 0) return false;
    this.builds.delete(request.reloadId);
    return true;
  }

  /** Check every pipeline step against the contract of the plugin it will call (shared, or started by a plugin slot: `started`), and build the engine. */
  async build(request: ConfigReloadRequest, started: PluginRef[]): Promise<EngineRef> {
    const build = this.buildFor(request);
    for (const ref of started) {
      build.bindings.set(ref.name, ref);
      build.ownPlugins.push(ref);
    }
    build.loaded.config.pipelines.forEach((pipeline, p) =>
      pipeline.steps.forEach((step, s) => {
        if (!step.use.includes('.')) return;
        const [plugin, type] = step.use.split('.') as [string, string];
        const offered = this.host.process(build.bindings.get(plugin)!).manifest.contract.steps.map((c) => c.type);
        if (!offered.includes(type)) {
          throw new ConfigBuildError(`pipelines[${p}].steps[${s}].use`, `plugin "${plugin}" has no step "${type}" (its contract offers: ${offered.join(', ')})`);
        }
      }),
    );
    const generation = (this.engine?.generation ?? this.store.activeMarker.engine?.generation ?? 0) + 1;
    build.engine = new Engine(generation, build.loaded, this.invokeThrough(build.bindings));
    return refOf(build.engine);
  }

  async probe(request: ConfigReloadRequest): Promise<void> {
    const build = this.buildFor(request);
    const listen = build.loaded.config.http.listen;
    if (!this.frontDoor.has(listen)) {
      // A new address must be bound before the swap; failing to bind is a probe failure.
      await this.frontDoor.bind(listen);
      build.boundListen = listen;
    }
    await probeEngine(build.engine!, build.loaded.config.probes, this.options.timeouts.probeMs);
  }

  /** Marker first (engine and plugins in one atomic write), then the pointers. */
  async commit(request: ConfigReloadRequest, staged: StagedConfig, signal?: AbortSignal): Promise<EngineRef | null> {
    const build = this.buildFor(request);
    const engine = build.engine!;
    for (const ref of build.bindings.values()) {
      const exit = this.host.process(ref).exitError('the swap');
      if (exit) throw exit;
    }
    const now = new Date().toISOString();
    const before = this.store.activeMarker;
    await this.store.updateActiveMarker((marker) => {
      const previous = marker.plugins;
      // Pending until confirmed: a host that dies before then comes back on the previous engine and plugins.
      const names = new Set([...Object.keys(previous), ...build.bindings.keys()]);
      marker.pending[CONFIG_PENDING] = {
        reloadId: request.reloadId,
        startedAt: now,
        previousPlugins: Object.fromEntries([...names].map((name) => [name, previous[name] ?? null])),
        previousEngine: marker.engine,
      };
      marker.plugins = {};
      for (const [name, ref] of build.bindings) {
        // A shared plugin keeps its entry: it was activated earlier, by another reload.
        const kept = previous[name];
        marker.plugins[name] = kept?.digest === ref.digest ? kept : { version: ref.version, dir: this.store.toStatePath(ref.dir), digest: ref.digest, activatedAt: now, reloadId: request.reloadId };
      }
      marker.engine = {
        generation: engine.generation,
        digest: staged.digest,
        file: this.store.toStatePath(staged.file),
        source: staged.source,
        listen: build.loaded.config.http.listen,
        activatedAt: now,
        reloadId: request.reloadId,
      };
    }, { pending: true });
    faults.reached('pendingWritten');
    // A plugin may have died while the marker was written, or the write outran the step's bound (the slot
    // has already rolled back): put the marker back and fail before any pointer moves.
    const lateFailures = [...build.bindings.values()].map((ref) => this.host.process(ref).exitError('the swap'));
    if (signal?.aborted) lateFailures.unshift(signal.reason);
    for (const exit of lateFailures) {
      if (!exit) continue;
      await this.store.updateActiveMarker((marker) => {
        marker.plugins = before.plugins;
        marker.engine = before.engine;
        delete marker.pending[CONFIG_PENDING];
      });
      throw exit;
    }
    // One synchronous step: no request can see the new engine with the old registry or the reverse.
    const previous = this.engine;
    const previousBindings = this.pointer.replaceRegistry(build.bindings);
    this.engine = engine;
    this.retired = { engine: previous, bindings: previousBindings };
    for (const ref of build.ownPlugins) this.host.setFallback(ref, previousBindings.get(ref.name) ?? null);
    return previous && refOf(previous);
  }

  /** The confirmation window: the candidate's own plugins must stay healthy; then the swap is confirmed on disk. */
  /** Resolves false when `signal` aborted first (the slot gave up on the window and is swapping back). */
  async confirm(request: ConfigReloadRequest, signal?: AbortSignal): Promise<boolean> {
    const build = this.buildFor(request);
    try {
      await Promise.all(build.ownPlugins.map((ref) => this.host.watchHealth(ref, this.options.timeouts.confirmMs)));
    } catch (error) {
      throw new ConfirmFailedError(CONFIG_PENDING, toErrorInfo(error).message);
    }
    if (signal?.aborted) return false;
    await this.store.updateActiveMarker((marker) => {
      if (marker.pending[CONFIG_PENDING]?.reloadId === request.reloadId) delete marker.pending[CONFIG_PENDING];
    });
    for (const ref of build.ownPlugins) this.host.clearFallback(ref);
    this.builds.delete(request.reloadId);
    return true;
  }

  /** Put the replaced engine and registry back (they were kept alive for this; first, synchronously), revert the marker, release the candidate (a failed release throws CleanupFailedError). */
  async swapBack(request: ConfigReloadRequest, staged: StagedConfig | null): Promise<void> {
    const retired = this.retired;
    this.retired = null;
    if (retired) {
      this.pointer.replaceRegistry(retired.bindings);
      this.engine = retired.engine;
    }
    this.options.logger.warn({ reloadId: request.reloadId }, 'the new engine failed inside its confirmation window: swapped back');
    try {
      await this.store.updateActiveMarker((marker) => revertPending(marker, CONFIG_PENDING));
    } catch (error) {
      this.options.logger.error({ err: toErrorInfo(error) }, 'could not revert active.json; a restart will revert the pending swap');
    }
    await this.discard(request, staged);
  }

  /** Drain the replaced engine, then release what only it used; a failure throws CleanupFailedError. */
  async drainRetired(): Promise<void> {
    const retired = this.retired;
    this.retired = null;
    if (!retired) return;
    const log = this.options.logger;
    try {
      if (retired.engine) {
        if (!(await retired.engine.drain(this.options.timeouts.drainMs))) {
          log.warn({ generation: retired.engine.generation }, `engine drain timed out after ${this.options.timeouts.drainMs} ms`);
        }
        const oldListen = retired.engine.loaded.config.http.listen;
        if (oldListen !== this.engine?.loaded.config.http.listen) await this.frontDoor.close(oldListen);
      }
      // Plugins the new registry dropped (including ones activated by hand before the first config) stop now.
      for (const ref of retired.bindings.values()) {
        if (!this.host.isActiveInstance(ref.instanceId)) await this.host.drainAndStop(ref);
      }
    } catch (error) {
      const left = this.host.stillRunning([...retired.bindings.values()].filter((ref) => !this.host.isActiveInstance(ref.instanceId)));
      throw new CleanupFailedError('drain', left, error);
    }
  }

  /**
   * Release the config's own candidate resources: a listener it bound, the staged config file it created. Its
   * plugins are not touched here: each is rolled back by its own slot. What could not be released throws
   * CleanupFailedError naming it.
   */
  async discard(request: ConfigReloadRequest, staged: StagedConfig | null): Promise<void> {
    const build = this.builds.get(request.reloadId);
    this.builds.delete(request.reloadId);
    try {
      if (build?.boundListen) await this.frontDoor.close(build.boundListen);
      if (staged?.createdByReload) await rm(staged.file, { force: true });
    } catch (error) {
      const left = [...(build?.boundListen && this.frontDoor.has(build.boundListen) ? [`listener ${build.boundListen}`] : []), ...(staged?.createdByReload ? [`staged config ${staged.file}`] : [])];
      throw new CleanupFailedError('discard the candidate', left, error);
    }
  }

  // ---------------------------------------------------------------- start and stop

  /** Read the config active.json names, so the plugins restored before the engine run under its limits. Throws what parsing it throws. */
  async readActive(): Promise<void> {
    const entry = this.store.activeMarker.engine;
    this.restoring = entry ? parseConfig(await readFile(this.store.fromStatePath(entry.file), 'utf8'), entry.source) : null;
  }

  /** Rebuild the engine active.json names, on the plugins already restored. */
  async restore(): Promise<void> {
    const entry = this.store.activeMarker.engine;
    if (!entry) return;
    const loaded = this.restoring ?? parseConfig(await readFile(this.store.fromStatePath(entry.file), 'utf8'), entry.source);
    this.restoring = null;
    // Bind first: an engine that cannot listen is not reported active.
    await this.frontDoor.bind(loaded.config.http.listen);
    // The restored engine routes through the registry the plugins were restored into: the same map object
    // (as after a config swap), so it follows plugin swaps, and keeps it when a later config swap retires it.
    const bindings = new Map(this.host.registry);
    this.pointer.replaceRegistry(bindings);
    this.engine = new Engine(entry.generation, loaded, this.invokeThrough(bindings));
  }

  async close(): Promise<void> {
    await this.frontDoor.closeAll();
    this.engine = null;
  }

  private buildFor(request: ConfigReloadRequest): CandidateBuild {
    const build = this.builds.get(request.reloadId);
    if (!build) throw new Error(`no candidate build for reload ${request.reloadId}`);
    return build;
  }
}

const refOf = (engine: Engine): EngineRef => ({ generation: engine.generation, digest: engine.loaded.digest, listen: engine.loaded.config.http.listen });
