/**
 * Keeps each running reload's intent record (src/store/intents.ts) current:
 * written before the reload is admitted, updated as it reaches new states
 * (the staged copy, the candidate's process and its start time), removed once
 * its result is journaled. Writes for one reload are serialised.
 */
import type { Logger } from 'pino';
import { toErrorInfo } from '../errors.js';
import { processStartTicks, removeIntent, writeIntent, type Intent, type IntentPart } from '../store/index.js';

export class IntentLog {
  private readonly chains = new Map<string, { intent: Intent; chain: Promise<void> }>();
  /** Every write and removal not finished yet (close() waits for them: nothing writes after the host is closed). */
  private readonly inFlight = new Set<Promise<unknown>>();

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work)).catch(() => {});
    return work;
  }

  /** Resolves once every write and removal started so far has finished. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  constructor(
    private readonly root: string,
    private readonly toStatePath: (path: string) => string,
    private readonly logger: Logger,
  ) {}

  /** The record exists on disk when this resolves. */
  async begin(intent: Omit<Intent, 'state' | 'staged' | 'candidate' | 'plugins'>): Promise<void> {
    const full: Intent = { ...intent, state: 'admitted', staged: null, candidate: null, plugins: [] };
    const chain = this.track(writeIntent(this.root, full));
    this.chains.set(intent.id, { intent: full, chain: chain.catch(() => {}) });
    await chain;
  }

  /**
   * The reload moved on: record its state, and what it has staged and started so far (from the slot's
   * context). With `plugin`, the context is that plugin slot's, in a config reload.
   */
  update(id: string, state: string, context: Record<string, unknown>, plugin?: string): void {
    const entry = this.chains.get(id);
    if (!entry) return;
    entry.chain = this.track(entry.chain.then(async () => {
      const before = plugin === undefined ? entry.intent : (entry.intent.plugins.find((p) => p.name === plugin) ?? { staged: null, candidate: null });
      const part = await this.partOf(context, before);
      const next: Intent =
        plugin === undefined
          ? { ...entry.intent, state, ...part }
          : { ...entry.intent, plugins: [...entry.intent.plugins.filter((p) => p.name !== plugin), { name: plugin, ...part }] };
      // Not fsync'd: the record itself was (begin), so a reload is never lost; these updates name what to release
      // after a crashed host (the page cache outlives the process). After a power loss no process survives, and
      // a staged copy an update did not reach is only left unused.
      entry.intent = next;
      await writeIntent(this.root, next, { durable: false }).catch((error: unknown) => this.logger.error({ reloadId: id, err: toErrorInfo(error) }, 'could not update the intent record'));
    }));
  }

  /** The staged copy (a plugin's directory or a config file) and the candidate process a slot's context names; `before` is kept where it names nothing new. */
  private async partOf(context: Record<string, unknown>, before: IntentPart): Promise<IntentPart> {
    const staged = context.staged as { dir?: string; file?: string; createdByReload?: boolean } | null | undefined;
    const candidate = context.candidate as { version?: string; pid?: number } | null | undefined;
    const path = staged?.dir ?? staged?.file;
    return {
      staged: path ? { dir: this.toStatePath(path), createdByReload: staged?.createdByReload === true } : before.staged,
      candidate:
        candidate?.pid && before.candidate?.pid !== candidate.pid
          ? { version: candidate.version ?? '', pid: candidate.pid, startTicks: await processStartTicks(candidate.pid) }
          : before.candidate,
    };
  }

  /** The result is journaled: the intent is fulfilled. */
  async end(id: string): Promise<void> {
    const entry = this.chains.get(id);
    this.chains.delete(id);
    await entry?.chain;
    await this.track(removeIntent(this.root, id)).catch((error: unknown) => this.logger.error({ reloadId: id, err: toErrorInfo(error) }, 'could not remove the intent record'));
  }
}
