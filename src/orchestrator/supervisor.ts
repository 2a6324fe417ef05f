/**
 * Supervision of active plugins: a process that dies while active is
 * restarted from the same version directory, with exponential backoff, at
 * most `maxRestarts` times per `windowMs`; past that it is marked failed (its
 * steps answer WFR_PLUGIN_FAILED) instead of looping. A plugin that could not
 * be started at boot is retried the same way. Each restart runs through the
 * plugin's slot (start, handshake, probe, engine check, reinstate) and is
 * journaled there; each give-up is journaled here. Both show in status.
 */
import type { PluginRef, StagedPlugin } from '../../machines/plugin-slot.js';
import { PluginFailedError, type ErrorInfo } from '../errors.js';
import type { ExitInfo } from '../plugins/index.js';
import type { NormalizedOptions } from './options.js';
import type { PluginHost } from './plugin-host.js';
import { newReloadId, type PluginReloadResult } from './reload-result.js';

/** What to start again, and what it must replace to go live (the crashed process, or nothing at boot). */
export interface RestartAttempt {
  staged: StagedPlugin;
  replacing: PluginRef | null;
}

/** Runs one restart through the plugin's slot and returns its journaled result; throws when it was not admitted. */
export type RestartThroughSlot = (attempt: RestartAttempt, why: ErrorInfo) => Promise<PluginReloadResult>;

export const stagedOf = (ref: PluginRef): StagedPlugin => ({ name: ref.name, version: ref.version, dir: ref.dir, digest: ref.digest, createdByReload: false });

export class Supervisor {
  /** name → times of recent crashes (inside the window). */
  private readonly crashes = new Map<string, number[]>();
  /** name → successful restarts since it was last activated. */
  readonly restarts = new Map<string, number>();
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly host: PluginHost,
    private readonly options: NormalizedOptions,
    private readonly record: (result: PluginReloadResult) => Promise<void>,
    private readonly restartThroughSlot: RestartThroughSlot,
  ) {
    host.onCrash = (ref, exit, stderrTail, limit) => {
      // The kernel's stop at a limit is the reason, not a crash.
      const why = limit ?? { code: 'WFR_PLUGIN_EXITED', message: `pid ${ref.pid} exited ${exit.signal ? `on signal ${exit.signal}` : `with code ${exit.code}`}`, details: { stderrTail } };
      this.failed({ staged: stagedOf(ref), replacing: ref }, why);
    };
  }

  /** A new version was activated: its history starts clean. */
  reset(name: string): void {
    this.crashes.delete(name);
    this.restarts.delete(name);
    this.host.failed.delete(name);
  }

  /** A restart after a crash is about to be published: count it first. */
  counted(name: string): void {
    this.restarts.set(name, (this.restarts.get(name) ?? 0) + 1);
  }

  /** A plugin active.json names could not be started at boot: retry it like a crash. */
  restoreFailed(staged: StagedPlugin, why: ErrorInfo): void {
    this.failed({ staged, replacing: null }, why);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
  }

  private failed(attempt: RestartAttempt, why: ErrorInfo, exit?: ExitInfo): void {
    if (this.stopped) return;
    const name = attempt.staged.name;
    const { maxRestarts, windowMs, backoffMs, backoffMaxMs } = this.options.restart;
    const now = Date.now();
    const recent = (this.crashes.get(name) ?? []).filter((at) => now - at < windowMs);
    recent.push(now);
    this.crashes.set(name, recent);
    if (recent.length > maxRestarts) {
      this.host.failed.add(name);
      const error = new PluginFailedError(name, attempt.staged.version, recent.length).toJSON();
      this.options.logger.error({ plugin: name, crashes: recent.length, exit }, error.message);
      void this.record(this.gaveUp(attempt, error, now));
      return;
    }
    const delay = Math.min(backoffMs * 2 ** (recent.length - 1), backoffMaxMs);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.restart(attempt, why);
    }, delay);
    this.timers.add(timer);
  }

  /** Still wanted: nothing replaced what the attempt replaces (a reload wins). */
  private wanted(attempt: RestartAttempt): boolean {
    return !this.stopped && (this.host.activeRef(attempt.staged.name)?.instanceId ?? null) === (attempt.replacing?.instanceId ?? null);
  }

  private async restart(attempt: RestartAttempt, why: ErrorInfo): Promise<void> {
    if (!this.wanted(attempt)) return;
    const name = attempt.staged.name;
    let result: PluginReloadResult;
    try {
      result = await this.restartThroughSlot(attempt, why);
    } catch (error) {
      // Not admitted (a reload of it is running) or the host is closing: try again later, if still wanted.
      if (this.wanted(attempt)) this.failed(attempt, why);
      return;
    }
    if (result.outcome === 'restarted') {
      // Counted by counted() as the result was recorded, so status agrees with the result the moment it is out.
      this.options.logger.warn({ plugin: name, oldPid: attempt.replacing?.pid ?? null, pid: result.active?.pid }, `restarted plugin ${name} ${attempt.staged.version}`);
      return;
    }
    // A reload replaced it meanwhile: not ours to restart any more.
    if (result.error?.code === 'WFR_RESTART_SUPERSEDED' || !this.wanted(attempt)) return;
    // A failed restart counts as another crash: backoff grows, and the bound applies.
    this.options.logger.error({ plugin: name, err: result.error }, 'restarting the plugin failed');
    this.failed(attempt, result.error ?? why);
  }

  private gaveUp(attempt: RestartAttempt, error: ErrorInfo, startedAt: number): PluginReloadResult {
    const finished = Date.now();
    const { staged, replacing } = attempt;
    const dead = { version: staged.version, digest: staged.digest, pid: null };
    return {
      id: newReloadId(),
      kind: 'plugin',
      target: `plugin:${staged.name}`,
      name: staged.name,
      source: 'supervisor',
      dryRun: false,
      legacy: false,
      outcome: 'crashed',
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      ms: finished - startedAt,
      steps: [],
      failedStep: null,
      error,
      previous: replacing ? { version: replacing.version, digest: replacing.digest, pid: replacing.pid } : null,
      // A plugin given up on has no live process.
      active: dead,
      candidate: null,
    };
  }
}
