/**
 * The one owner of all reload state: the plugin slots, the processes, the
 * active marker and the journal. Host programs embed it; the admin API (later)
 * talks only to it.
 */
import { createActor, waitFor, type Actor } from 'xstate';
import {
  pluginSlotSettledStates,
  pluginSlotWork,
  type PluginRef,
  type PluginSlotContext,
} from '../../machines/plugin-slot.js';
import { InvalidArgumentError, ReloadInProgressError, toErrorInfo, type ErrorInfo } from '../errors.js';
import { pluginNameSchema, type Manifest } from '../plugins/index.js';
import { StateStore, type ActiveMarker } from '../store/index.js';
import { reloadPluginLegacy } from './legacy-reload.js';
import { normalizeOrchestratorOptions, type NormalizedOptions, type OrchestratorOptions } from './options.js';
import { PluginHost } from './plugin-host.js';
import { providePluginSlot } from './plugin-slot-actors.js';
import { formatReloadResult, newReloadId, type ReloadOutcome, type ReloadResult, type VersionInfo } from './reload-result.js';
import { leafState, StepRecorder } from './step-recorder.js';

type SlotActor = Actor<ReturnType<typeof providePluginSlot>>;

const settled = new Set<string>(pluginSlotSettledStates);
const outcomeOf: Record<string, ReloadOutcome> = {
  active: 'activated',
  rolledBack: 'rolledBack',
  rejected: 'rejected',
  dryRunPassed: 'dryRunPassed',
};
const workOf = (state: string) => (pluginSlotWork as Record<string, string>)[state];

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
}

export class Orchestrator {
  readonly options: NormalizedOptions;
  readonly store: StateStore;
  private readonly host: PluginHost;
  private readonly slots = new Map<string, SlotActor>();
  /** target → id of the reload running on it. */
  private readonly inFlight = new Map<string, string>();
  private closed = false;

  private constructor(options: NormalizedOptions) {
    this.options = options;
    this.store = new StateStore(options.stateDir);
    this.host = new PluginHost(options);
  }

  /** Open the state directory and start the plugins active.json names. */
  static async open(raw: OrchestratorOptions): Promise<Orchestrator> {
    const orchestrator = new Orchestrator(normalizeOrchestratorOptions(raw));
    await orchestrator.restore(await orchestrator.store.open());
    return orchestrator;
  }

  private async restore(marker: ActiveMarker): Promise<void> {
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
  }

  private slot(name: string): SlotActor {
    let slot = this.slots.get(name);
    if (!slot) {
      slot = createActor(providePluginSlot(this.host, this.store, this.options), {
        input: { name },
        id: `plugin:${name}`,
        inspect: this.options.inspect,
      });
      slot.start();
      this.slots.set(name, slot);
    }
    return slot;
  }

  private claim(target: string): string {
    const running = this.inFlight.get(target);
    if (running) throw new ReloadInProgressError(target, running);
    const id = newReloadId();
    this.inFlight.set(target, id);
    return id;
  }

  /**
   * Stage `dir`, start it, handshake, probe, and only then swap it in for the
   * active version of `name`. Any failure before the swap leaves the active
   * version exactly as it was. Resolves with the result (never rejects for a
   * bad candidate); throws for bad arguments or a reload already running.
   */
  async tryActivatePlugin(name: string, dir: string, options: TryActivateOptions = {}): Promise<ReloadResult> {
    this.assertOpen();
    const { name: slotName, dir: sourceDir, dryRun } = validatePluginArgs(name, dir, options);
    const target = `plugin:${slotName}`;
    const id = this.claim(target);
    try {
      const slot = this.slot(slotName);
      const startedAt = Date.now();
      const previous = this.host.activeRef(slotName);
      const recorder = new StepRecorder(workOf);
      let candidate: VersionInfo | null = null;
      let failure: ErrorInfo | null = null;
      const subscription = slot.subscribe((snapshot) => {
        const state = leafState(snapshot.value);
        if (!recorder.enter(state)) return;
        this.options.logger.info({ reloadId: id, target, state }, `${target} → ${state}`);
        const { candidate: started, staged } = snapshot.context;
        if (started) candidate = { version: started.version, digest: started.digest, pid: started.pid };
        else if (staged && !candidate) candidate = { version: staged.version, digest: staged.digest, pid: null };
        if (snapshot.context.error && !failure) {
          failure = snapshot.context.error;
          recorder.failLast(failure);
        }
      });
      slot.send({ type: 'TRY_ACTIVATE', reloadId: id, sourceDir, dryRun });
      const final = await waitFor(slot, (s) => s.context.request?.reloadId === id && settled.has(leafState(s.value)));
      subscription.unsubscribe();
      recorder.close();
      const outcome = outcomeOf[leafState(final.value)]!;
      const result = this.buildResult({ id, target, name: slotName, source: sourceDir, dryRun, legacy: false, outcome, startedAt, recorder, previous, candidate, error: final.context.error });
      await this.record(result);
      return result;
    } finally {
      this.inFlight.delete(target);
    }
  }

  /**
   * The old host's behaviour, for contrast only: stop the active version
   * first, then load the new one. A bad candidate leaves nothing active.
   */
  async reloadPluginLegacy(name: string, dir: string): Promise<ReloadResult> {
    this.assertOpen();
    const { name: slotName, dir: sourceDir } = validatePluginArgs(name, dir, {});
    const target = `plugin:${slotName}`;
    const id = this.claim(target);
    try {
      const result = await reloadPluginLegacy({ id, target, name: slotName, sourceDir, host: this.host, store: this.store, options: this.options });
      await this.record(result);
      return result;
    } finally {
      this.inFlight.delete(target);
    }
  }

  /** Call `step` on the active version of plugin `name`. */
  async invoke(name: string, step: string, input: unknown): Promise<unknown> {
    this.assertOpen();
    return this.host.activeProcess(name).invoke(step, input, this.options.timeouts.invokeMs);
  }

  /** The active plugins. */
  listPlugins(): PluginStatus[] {
    return this.host.activeNames().map((name) => {
      const ref = this.host.activeRef(name)!;
      const process = this.host.processes.get(ref.instanceId);
      const slot = this.slots.get(name);
      return {
        name,
        version: ref.version,
        digest: ref.digest,
        pid: ref.pid,
        alive: process?.alive ?? false,
        state: slot ? leafState(slot.getSnapshot().value) : 'active',
        steps: process?.manifest.contract.steps.map((s) => s.type) ?? [],
        callsInFlight: process?.callsInFlight ?? 0,
      };
    });
  }

  /** The manifest of the active version of `name`. */
  manifest(name: string): Manifest {
    return this.host.activeProcess(name).manifest;
  }

  /** Reloads running now, as target → reload id. */
  reloadsInFlight(): Record<string, string> {
    return Object.fromEntries(this.inFlight);
  }

  /** Every journaled reload result, oldest first. */
  history(): Promise<ReloadResult[]> {
    return this.store.readJournal<ReloadResult>();
  }

  /** Stop every plugin (gracefully, then by force) and the slot actors. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const slot of this.slots.values()) slot.stop();
    await this.host.stopAll();
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidArgumentError('orchestrator', 'it was closed');
  }

  private buildResult(facts: {
    id: string;
    target: string;
    name: string;
    source: string;
    dryRun: boolean;
    legacy: boolean;
    outcome: ReloadOutcome;
    startedAt: number;
    recorder: StepRecorder;
    previous: PluginRef | null;
    candidate: VersionInfo | null;
    error: ErrorInfo | null;
  }): ReloadResult {
    const finished = Date.now();
    const failed = facts.recorder.steps.find((step) => step.error);
    return {
      id: facts.id,
      kind: 'plugin',
      target: facts.target,
      name: facts.name,
      source: facts.source,
      dryRun: facts.dryRun,
      legacy: facts.legacy,
      outcome: facts.outcome,
      startedAt: new Date(facts.startedAt).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      ms: finished - facts.startedAt,
      steps: facts.recorder.steps,
      failedStep: failed?.work ?? null,
      error: facts.error,
      previous: facts.previous && { version: facts.previous.version, digest: facts.previous.digest, pid: facts.previous.pid },
      active: this.host.versionInfo(this.host.activeRef(facts.name)),
      candidate: facts.candidate,
    };
  }

  private async record(result: ReloadResult): Promise<void> {
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
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object', options);
  const dryRun = (options as TryActivateOptions).dryRun ?? false;
  if (typeof dryRun !== 'boolean') throw new InvalidArgumentError('dryRun', 'must be true or false', dryRun);
  return { name: parsedName.data, dir, dryRun };
}

export type { PluginSlotContext };
