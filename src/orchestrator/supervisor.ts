/**
 * Supervision of active plugins: a process that dies while active is
 * restarted from the same version directory, with exponential backoff, at
 * most `maxRestarts` times per `windowMs`; past that it is marked failed (its
 * steps answer WFR_PLUGIN_FAILED) instead of looping. Each restart and each
 * give-up is journaled and visible in status.
 */
import type { PluginRef } from '../../machines/plugin-slot.js';
import { PluginFailedError, toErrorInfo, type ErrorInfo } from '../errors.js';
import type { ExitInfo } from '../plugins/index.js';
import type { NormalizedOptions } from './options.js';
import type { PluginHost } from './plugin-host.js';
import { newReloadId, type PluginReloadResult } from './reload-result.js';

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
  ) {
    host.onCrash = (ref, exit, stderrTail) => this.crashed(ref, exit, stderrTail);
  }

  /** A new version was activated: its history starts clean. */
  reset(name: string): void {
    this.crashes.delete(name);
    this.restarts.delete(name);
    this.host.failed.delete(name);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
  }

  private crashed(ref: PluginRef, exit: ExitInfo, stderrTail: string[]): void {
    if (this.stopped) return;
    const { maxRestarts, windowMs, backoffMs, backoffMaxMs } = this.options.restart;
    const now = Date.now();
    const recent = (this.crashes.get(ref.name) ?? []).filter((at) => now - at < windowMs);
    recent.push(now);
    this.crashes.set(ref.name, recent);
    const why = { code: 'WFR_PLUGIN_EXITED', message: `pid ${ref.pid} exited ${exit.signal ? `on signal ${exit.signal}` : `with code ${exit.code}`}`, details: { stderrTail } };
    if (recent.length > maxRestarts) {
      this.host.failed.add(ref.name);
      const error = new PluginFailedError(ref.name, ref.version, recent.length).toJSON();
      this.options.logger.error({ plugin: ref.name, crashes: recent.length }, error.message);
      void this.record(this.result(ref, 'crashed', null, error, now));
      return;
    }
    const delay = Math.min(backoffMs * 2 ** (recent.length - 1), backoffMaxMs);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.restart(ref, why, now);
    }, delay);
    this.timers.add(timer);
  }

  private async restart(dead: PluginRef, why: ErrorInfo, crashedAt: number): Promise<void> {
    if (this.stopped || this.host.activeRef(dead.name)?.instanceId !== dead.instanceId) return;
    let ref: PluginRef | null = null;
    try {
      ref = await this.host.launch({ dir: dead.dir, digest: dead.digest });
      await this.host.handshake(ref);
      await this.host.probe(ref);
    } catch (error) {
      if (ref) await this.host.kill(ref);
      this.options.logger.error({ plugin: dead.name, err: toErrorInfo(error) }, 'restarting the plugin failed');
      // A failed restart counts as another crash: backoff grows, and the bound applies.
      return this.crashed(dead, { code: null, signal: null }, []);
    }
    // Replaced by a reload meanwhile, or the host is closing: this restart is not wanted.
    if (this.stopped || this.host.activeRef(dead.name)?.instanceId !== dead.instanceId) {
      await this.host.kill(ref);
      return;
    }
    this.host.setActive(dead.name, ref);
    this.restarts.set(dead.name, (this.restarts.get(dead.name) ?? 0) + 1);
    this.options.logger.warn({ plugin: dead.name, oldPid: dead.pid, pid: ref.pid }, `restarted plugin ${dead.name} ${dead.version}`);
    await this.record(this.result(dead, 'restarted', ref, why, crashedAt));
  }

  private result(dead: PluginRef, outcome: 'restarted' | 'crashed', restarted: PluginRef | null, error: ErrorInfo, startedAt: number): PluginReloadResult {
    const finished = Date.now();
    const info = (ref: PluginRef) => ({ version: ref.version, digest: ref.digest, pid: ref.pid });
    return {
      id: newReloadId(),
      kind: 'plugin',
      target: `plugin:${dead.name}`,
      name: dead.name,
      source: 'supervisor',
      dryRun: false,
      legacy: false,
      outcome,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      ms: finished - startedAt,
      steps: [],
      failedStep: null,
      error,
      previous: info(dead),
      // A plugin given up on has no live process.
      active: restarted ? info(restarted) : { ...info(dead), pid: null },
      candidate: restarted ? info(restarted) : null,
    };
  }
}
