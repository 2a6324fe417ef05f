/**
 * The plugin processes and the active pointer (the registry). Reading is
 * open; moving the pointer is not a method of the host. It takes the
 * PointerWriter, handed out once (`claimPointer`): the orchestrator claims it
 * when it is built and gives it only to the slot work that may move the
 * pointer (plugin swap, swap back and reinstate; the engine's swap and swap
 * back) and to the legacy path kept for contrast.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PendingWork } from '../util/pending-work.js';
import type { PluginRef } from '../../machines/plugin-slot.js';
import { PluginFailedError, ProbeFailedError, UnknownPluginError, type ErrorInfo } from '../errors.js';
import { PluginProcess, readManifest, type ExitInfo, type Manifest } from '../plugins/index.js';
import type { PluginLimits } from '../plugins/limits.js';
import { processStartTicks, removeProcessRecord, writeProcessRecord, type StagedPluginDir } from '../store/index.js';
import type { NormalizedOptions } from './options.js';
import type { VersionInfo } from './reload-result.js';
import { containsSubset } from '../util/contains-subset.js';

/** A read-only window on whatever map is the registry now. */
class RegistryView implements ReadonlyMap<string, PluginRef> {
  constructor(private readonly current: () => Map<string, PluginRef>) {}
  get size(): number {
    return this.current().size;
  }
  get(name: string): PluginRef | undefined {
    return this.current().get(name);
  }
  has(name: string): boolean {
    return this.current().has(name);
  }
  forEach(callback: (ref: PluginRef, name: string, map: ReadonlyMap<string, PluginRef>) => void): void {
    for (const [name, ref] of this.current()) callback(ref, name, this);
  }
  entries() {
    return this.current().entries();
  }
  keys() {
    return this.current().keys();
  }
  values() {
    return this.current().values();
  }
  [Symbol.iterator]() {
    return this.current()[Symbol.iterator]();
  }
}

/** Moves the registry's pointer. Only the holder of the one writer (see PluginHost.claimPointer) can. */
export interface PointerWriter {
  /** Point `name` at `ref` (or remove it) and return what it replaced: a plugin swap, swap back or restart. */
  setActive(name: string, ref: PluginRef | null): PluginRef | null;
  /** Replace the whole registry (a config swap, or its swap back); returns the map it replaced. */
  replaceRegistry(next: Map<string, PluginRef>): Map<string, PluginRef>;
}

/** One stderr line of a plugin process, as `wfctl plugin logs` shows it. */
export interface PluginLogLine {
  at: string;
  pid: number;
  version: string;
  line: string;
}

export class PluginHost {
  /** instanceId → live process (candidates and active ones alike). */
  readonly processes = new Map<string, PluginProcess>();
  /**
   * name → the active plugin: the registry. Changing an entry is a plugin
   * swap; replacing the whole map is a config swap. The active engine routes
   * through this very map, so it follows plugin swaps.
   */
  #active = new Map<string, PluginRef>();
  #pointerClaimed = false;

  /**
   * New instance → the instance it replaced, from the swap until the new one
   * is confirmed: a call the new one drops by dying is retried there. Kept
   * after a swap-back (keyed weakly by the ref), so a call that raced the
   * swap-back still finds the old version.
   */
  private readonly fallbacks = new WeakMap<PluginRef, PluginRef>();

  /** name → times an active plugin process exited without being asked to. */
  readonly unexpectedExits = new Map<string, number>();
  /** Plugins the supervisor gave up on: their steps answer WFR_PLUGIN_FAILED until a new version is activated. */
  readonly failed = new Set<string>();
  /** Told when an active plugin process dies without being stopped (the supervisor). */
  onCrash: (ref: PluginRef, exit: ExitInfo, stderrTail: string[], limit: ErrorInfo | null) => void = () => {};
  /** Times the kernel stopped a process of a plugin at a limit, by plugin and limit (candidates too). */
  readonly limitsExceeded = new Map<string, Map<string, number>>();

  constructor(private readonly options: NormalizedOptions) {}

  activeRef(name: string): PluginRef | null {
    return this.#active.get(name) ?? null;
  }

  /**
   * The live registry, read-only: it always shows the current pointers (after plugin and config swaps
   * alike), and it cannot be written through, so holding the host does not let anyone move the pointer.
   */
  readonly registry: ReadonlyMap<string, PluginRef> = new RegistryView(() => this.#active);

  /** Of `refs`, the processes still running, described for a clean-up failure's `left` list. */
  stillRunning(refs: Iterable<PluginRef | null>): string[] {
    return [...refs].filter((ref): ref is PluginRef => ref !== null && this.processes.get(ref.instanceId)?.alive === true).map((ref) => `pid ${ref.pid} (${ref.name} ${ref.version})`);
  }

  /** The pointer's writer, once: a second claim throws, so nothing but its first holder can move the pointer. */
  claimPointer(): PointerWriter {
    if (this.#pointerClaimed) throw new Error('the registry pointer writer was already handed out; only the slot work may move the pointer');
    this.#pointerClaimed = true;
    return {
      setActive: (name, ref) => {
        const previous = this.#active.get(name) ?? null;
        if (ref) this.#active.set(name, ref);
        else this.#active.delete(name);
        return previous;
      },
      replaceRegistry: (next) => {
        const previous = this.#active;
        this.#active = next;
        return previous;
      },
    };
  }

  /** True when some registry entry runs in this process. */
  isActiveInstance(instanceId: string): boolean {
    return [...this.#active.values()].some((ref) => ref.instanceId === instanceId);
  }

  activeNames(): string[] {
    return [...this.#active.keys()].sort();
  }

  /** Keep `previous` as the fallback of `current` until confirm or swap-back. */
  setFallback(current: PluginRef, previous: PluginRef | null): void {
    if (previous) this.fallbacks.set(current, previous);
  }

  /** The new instance is confirmed: its calls are its own from now on. */
  clearFallback(current: PluginRef): void {
    this.fallbacks.delete(current);
  }

  /**
   * Invoke `step` on `ref`; if that process dies without answering while it
   * is inside its confirmation window, the call goes once to the version it
   * replaced (alive and idle until confirmation), so no caller sees the crash.
   */
  async invoke(ref: PluginRef, step: string, input: unknown, timeoutMs: number): Promise<unknown> {
    if (this.failed.has(ref.name) && this.activeRef(ref.name)?.instanceId === ref.instanceId) {
      throw new PluginFailedError(ref.name, ref.version, this.unexpectedExits.get(ref.name) ?? 0);
    }
    try {
      return await this.process(ref).invoke(step, input, timeoutMs);
    } catch (error) {
      const fallback = this.fallbacks.get(ref);
      const process = fallback && this.processes.get(fallback.instanceId);
      if ((error as { code?: string }).code !== 'WFR_PLUGIN_EXITED' || !process?.alive) throw error;
      this.options.logger.warn({ plugin: ref.name, step, from: ref.version, to: fallback!.version }, 'the new version died with a call in flight; retrying it on the previous version');
      return process.invoke(step, input, timeoutMs);
    }
  }

  /** The active plugin `name` (its process exists); throws UnknownPluginError otherwise. */
  requireActive(name: string): PluginRef {
    const ref = this.#active.get(name);
    if (!ref || !this.processes.has(ref.instanceId)) throw new UnknownPluginError(name, this.activeNames());
    return ref;
  }

  /** The process calls for `name` go to right now. */
  activeProcess(name: string): PluginProcess {
    return this.process(this.requireActive(name));
  }

  versionInfo(ref: PluginRef | null): VersionInfo | null {
    if (!ref) return null;
    const process = this.processes.get(ref.instanceId);
    return { version: ref.version, digest: ref.digest, pid: process?.alive ? ref.pid : null };
  }

  /** Manifests of staged version directories (immutable: one read each). */
  private readonly manifests = new Map<string, Manifest>();

  /** Whether the active version of `name` has this digest, and its process runs and is not marked failed. */
  isServing(name: string, digest: string): boolean {
    const active = this.#active.get(name);
    return active?.digest === digest && this.processes.get(active.instanceId)?.alive === true && !this.failed.has(name);
  }

  /** Per plugin name, its processes' last stderr lines (candidates' too), oldest first, at most `logLines`. */
  private readonly logs = new Map<string, PluginLogLine[]>();
  private readonly logListeners = new Set<(name: string, line: PluginLogLine) => void>();

  private logLine(name: string, version: string, pid: number, text: string): void {
    const ring = this.logs.get(name) ?? [];
    this.logs.set(name, ring);
    const line: PluginLogLine = { at: new Date().toISOString(), pid, version, line: text };
    ring.push(line);
    if (ring.length > this.options.logLines) ring.splice(0, ring.length - this.options.logLines);
    for (const listener of this.logListeners) listener(name, line);
  }

  /** The last `count` stderr lines of plugin `name`'s processes, oldest first. */
  pluginLogs(name: string, count: number): PluginLogLine[] {
    return (this.logs.get(name) ?? []).slice(-count);
  }

  /** Be told every stderr line of every plugin; returns the unsubscribe. */
  onLogLine(listener: (name: string, line: PluginLogLine) => void): () => void {
    this.logListeners.add(listener);
    return () => this.logListeners.delete(listener);
  }

  /** Remember the manifest staging parsed from `dir`, so launching it reads nothing again. */
  rememberManifest(dir: string, manifest: Manifest): void {
    this.manifests.set(dir, manifest);
  }

  /** The active engine config's limits for a plugin name (EngineRuntime sets this). */
  activeLimits: (name: string) => PluginLimits | undefined = () => undefined;
  /** Limits of a config reload's candidate, by staged directory: its plugins start under those, not the active config's. */
  private readonly candidateLimits = new Map<string, PluginLimits | undefined>();

  setCandidateLimits(dir: string, limits: PluginLimits | undefined): void {
    this.candidateLimits.set(dir, limits);
  }

  private limitsFor(name: string, dir: string): PluginLimits | undefined {
    if (!this.candidateLimits.has(dir)) return this.activeLimits(name);
    const limits = this.candidateLimits.get(dir);
    this.candidateLimits.delete(dir);
    return limits;
  }

  /** Launches not finished yet, including those whose step gave up on them (they end without a process). */
  private readonly launching = new PendingWork();

  /** Resolves once every launch started so far has ended: with a process, or, given up, with none. */
  launchesDone(): Promise<void> {
    return this.launching.idle();
  }

  launch(staged: Pick<StagedPluginDir, 'dir' | 'digest'>, signal?: AbortSignal): Promise<PluginRef> {
    return this.launching.track(this.launchNow(staged, signal));
  }

  private async launchNow(staged: Pick<StagedPluginDir, 'dir' | 'digest'>, signal?: AbortSignal): Promise<PluginRef> {
    const manifest = this.manifests.get(staged.dir) ?? (await readManifest(staged.dir));
    this.manifests.set(staged.dir, manifest);
    // The step gave up (its bound passed, or the host is closing) while the manifest was read: start nothing.
    signal?.throwIfAborted();
    // Lines arrive on later turns of the event loop, once `launched` is set.
    let launched: PluginProcess | null = null;
    // Where the plugin may write: kept across its versions, while staged directories stay read-only.
    const dataDir = join(resolve(this.options.stateDir), 'data', manifest.name);
    // One metadata call, on the candidate's path before its spawn: synchronous, like the state store's (src/store/atomic-write.ts).
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const process = await PluginProcess.launch({
      manifest,
      dir: staged.dir,
      dataDir,
      logger: this.options.logger,
      limits: { maxLineBytes: this.options.maxLineBytes, stderrTailLines: this.options.stderrTailLines },
      onStderrLine: (line) => this.logLine(manifest.name, manifest.version, launched?.pid ?? 0, line),
      resources: this.limitsFor(manifest.name, staged.dir),
      enforcementOptions: { cgroupRoot: this.options.cgroupRoot, pollMs: this.options.limitPollMs },
      ...(signal ? { signal } : {}),
    });
    if (signal?.aborted) {
      // Given up while it was being spawned: nobody will handshake or stop it, so it goes now.
      process.kill();
      await process.released;
      throw signal.reason;
    }
    launched = process;
    this.processes.set(process.instanceId, process);
    // So that a host that dies leaves no plugin running that would not notice (recovery.ts). Written while the
    // plugin starts up; the handshake does not pass before it is on disk, nor is it removed before it was written.
    const stateDir = resolve(this.options.stateDir);
    const recorded = (async () => writeProcessRecord(stateDir, { pid: process.pid, startTicks: processStartTicks(process.pid), plugin: manifest.name, version: manifest.version, tempDirs: [...process.tempDirs], cgroups: [...process.cgroupDirs] }))().catch((error: unknown) =>
      this.options.logger.warn({ plugin: manifest.name, pid: process.pid, err: error }, 'could not write the process record; a crash of this host could leave the process running'),
    );
    this.recorded.set(process.instanceId, recorded);
    const unrecorded: Promise<void> = process.released
      .then(() => recorded)
      .then(() => {
        this.recorded.delete(process.instanceId);
        return removeProcessRecord(stateDir, process.pid);
      })
      .catch(() => {})
      .finally(() => this.unrecording.delete(process.instanceId));
    this.unrecording.set(process.instanceId, unrecorded);
    const ref: PluginRef = {
      name: manifest.name,
      version: manifest.version,
      dir: staged.dir,
      digest: staged.digest,
      instanceId: process.instanceId,
      pid: process.pid,
    };
    void process.released.then(() => {
      const exit = process.exit!;
      const limit = process.limitExceeded;
      if (limit) {
        const byLimit = this.limitsExceeded.get(manifest.name) ?? new Map<string, number>();
        const which = String(limit.details.limit);
        byLimit.set(which, (byLimit.get(which) ?? 0) + 1);
        this.limitsExceeded.set(manifest.name, byLimit);
      }
      // Still the active instance when it died: nobody stopped it on purpose.
      if (!this.isActiveInstance(process.instanceId)) return;
      this.unexpectedExits.set(manifest.name, (this.unexpectedExits.get(manifest.name) ?? 0) + 1);
      this.options.logger.error({ plugin: manifest.name, pid: process.pid, exit, stderrTail: process.stderrTail() }, `active plugin ${manifest.name} exited unexpectedly`);
      // Inside its confirmation window the slot swaps back instead; the supervisor stays out of it.
      if (!this.fallbacks.has(ref)) this.onCrash(ref, exit, process.stderrTail(), limit?.toJSON() ?? null);
    });
    return ref;
  }

  process(ref: PluginRef): PluginProcess {
    const process = this.processes.get(ref.instanceId);
    if (!process) throw new Error(`no process for instance ${ref.instanceId}`);
    return process;
  }

  /** Each process's record write (launch), until it is removed. */
  private readonly recorded = new Map<string, Promise<void>>();

  /** `initialize` + strict contract check; passes once the process record is on disk too. */
  async handshake(ref: PluginRef): Promise<void> {
    await Promise.all([this.process(ref).initialize(this.options.timeouts.handshakeMs), this.recorded.get(ref.instanceId)]);
  }

  /** `health`, then every probe the manifest declares. */
  async probe(ref: PluginRef): Promise<void> {
    const process = this.process(ref);
    await process.health(this.options.timeouts.healthMs);
    for (const probe of process.manifest.probe ?? []) {
      const output = await process.invoke(probe.step, probe.input ?? {}, this.options.timeouts.probeMs).catch((error: unknown) => {
        // A probe that failed because the kernel refused a file past openFiles is that limit, not the plugin's error.
        throw process.openFilesExceeded(`invoke of "${probe.step}"`) ?? error;
      });
      if (probe.expect && !containsSubset(output, probe.expect)) {
        throw new ProbeFailedError(ref.name, probe.step, probe.expect, output);
      }
    }
  }

  /**
   * The confirmation window: health calls every fifth of `windowMs` (at least
   * one), failing at once if the process exits or answers anything but ok.
   */
  async watchHealth(ref: PluginRef, windowMs: number, beforeLastCheck?: () => void): Promise<void> {
    const process = this.process(ref);
    const interval = Math.max(20, Math.floor(windowMs / 5));
    const deadline = Date.now() + windowMs;
    let timer: NodeJS.Timeout | undefined;
    // Released, not just exited: by then a limit the kernel enforced is known (an OOM kill is that limit, not a crash).
    const died = process.released.then(() => {
      throw process.exitError('the confirmation window')!;
    });
    try {
      do {
        const last = Date.now() >= deadline;
        const check = process.health(this.options.timeouts.healthMs);
        // The window is over: this call ends it if it passes (with no window, the first and only one). Sent
        // first, so that what is done before the last check runs while the plugin answers.
        if (last) beforeLastCheck?.();
        await Promise.race([check, died]);
        const wait = Math.min(interval, deadline - Date.now());
        if (wait > 0) await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, wait))), died]);
      } while (Date.now() < deadline);
    } finally {
      clearTimeout(timer);
      died.catch(() => {});
    }
  }

  /** Kill now and wait until reaped (failed candidates get no grace). */
  async kill(ref: PluginRef): Promise<void> {
    const process = this.processes.get(ref.instanceId);
    if (!process) return;
    process.kill();
    await process.exited;
    this.processes.delete(ref.instanceId);
  }

  /** Let in-flight calls finish (bounded), then stop gracefully. Returns whether it drained in time. */
  async drainAndStop(ref: PluginRef): Promise<boolean> {
    const process = this.processes.get(ref.instanceId);
    if (!process) return true;
    const drained = await process.drain(this.options.timeouts.drainMs);
    await process.stop(this.options.timeouts.graceMs);
    this.processes.delete(ref.instanceId);
    return drained;
  }

  /** Old versions told to stop whose exit and reaping have not finished (stopAll waits for them). */
  private readonly retiring = new PendingWork();

  /**
   * The old version after a plugin swap: wait until no call is in flight (or drainMs), tell it to stop,
   * and resolve. Its exit and reaping (graceMs, then SIGKILL of its group) finish after this resolves,
   * off the caller's critical path; stopAll waits for them, and its process record stays on disk until
   * it is reaped, so a host that dies meanwhile leaves nothing the next one does not kill.
   */
  async drainAndRetire(ref: PluginRef): Promise<boolean> {
    const process = this.processes.get(ref.instanceId);
    if (!process) return true;
    const drained = await process.drain(this.options.timeouts.drainMs);
    const unrecorded = this.unrecording.get(ref.instanceId);
    void this.retiring.track(
      process.stop(this.options.timeouts.graceMs).then(
        async () => {
          this.processes.delete(ref.instanceId);
          await unrecorded;
        },
        (error: unknown) => this.options.logger.error({ plugin: ref.name, version: ref.version, pid: ref.pid, err: error }, `could not stop plugin ${ref.name} ${ref.version} (pid ${ref.pid}) after the swap; it may still run`),
      ),
    );
    return drained;
  }

  /** Each process's record removal, which starts once it is reaped (launch). */
  private readonly unrecording = new Map<string, Promise<void>>();

  /** Resolves once every old version told to stop so far is reaped and its process record removed. */
  retired(): Promise<void> {
    return this.retiring.idle();
  }

  async stopAll(): Promise<void> {
    await this.retired();
    // Clear first: these exits are requested, not crashes.
    this.#active.clear();
    await Promise.all(
      [...this.processes.values()].map(async (process) => {
        await process.stop(this.options.timeouts.graceMs);
        this.processes.delete(process.instanceId);
      }),
    );
  }
}
