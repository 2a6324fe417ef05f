/**
 * The reload history's writer. A result is appended to STATE/journal.ndjson
 * before anyone hears of it. When the append fails (a full or read-only disk,
 * after the swap is done and cannot be taken back), the result is kept in
 * memory, in order, and history() serves it from there. Each later append,
 * and a retry every `retryMs`, writes the backlog first. So what was
 * announced can always be found, and reaches the journal once the disk
 * takes writes again (docs/reliability.md, "Disk faults").
 */
import type { Logger } from 'pino';
import { toErrorInfo } from '../errors.js';
import type { StateStore } from '../store/index.js';
import type { ReloadResult } from './reload-result.js';

export class ResultJournal {
  private readonly backlog: ReloadResult[] = [];
  /** Appends run one at a time, in the order results came. */
  private writes: Promise<void> = Promise.resolve();
  private retry: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly store: StateStore,
    private readonly logger: Logger,
    private readonly retryMs: number,
  ) {}

  /** Journal `result` (after any backlog). Never throws: a result the disk refuses waits in the backlog. */
  append(result: ReloadResult): Promise<void> {
    this.backlog.push(result);
    for (const name of activatedPlugins(result)) this.activatedSinceOpen.set(name, result);
    return this.flush();
  }

  /** Plugin name → the newest result appended since the host opened that activated it. */
  private readonly activatedSinceOpen = new Map<string, ReloadResult>();
  /** The same, from the journal as the host found it: read once, when first asked. */
  private activatedBefore: Promise<Map<string, ReloadResult>> | null = null;

  /**
   * The newest result that activated plugin `name` (its own reload, or a config reload's entry for it), or
   * null. Pruning asks after every activation: this reads the journal once per host, not at every ask.
   */
  async lastActivation(name: string): Promise<ReloadResult | null> {
    const recent = this.activatedSinceOpen.get(name);
    if (recent) return recent;
    this.activatedBefore ??= this.history().then(
      (all) => new Map(all.flatMap((result) => activatedPlugins(result).map((plugin) => [plugin, result] as const))),
      (error: unknown) => {
        this.activatedBefore = null;
        throw error;
      },
    );
    return (await this.activatedBefore).get(name) ?? null;
  }

  /** The journal, then the results still waiting to be written. */
  async history(): Promise<ReloadResult[]> {
    const waiting = [...this.backlog];
    const written = await this.store.readJournal<ReloadResult>();
    const ids = new Set(written.map((result) => result.id));
    return [...written, ...waiting.filter((result) => !ids.has(result.id))];
  }

  /** How many results are not on disk yet. */
  get pending(): number {
    return this.backlog.length;
  }

  /** A last attempt to write the backlog; what still cannot be written is logged by id. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    await this.flush();
    if (this.backlog.length > 0) {
      this.logger.error({ reloadIds: this.backlog.map((result) => result.id) }, `${this.backlog.length} reload result(s) could not be journaled before the host stopped; they are not in the history`);
    }
  }

  private flush(): Promise<void> {
    const run = async () => {
      while (this.backlog.length > 0) {
        const next = this.backlog[0]!;
        try {
          await this.store.appendJournal(next);
        } catch (error) {
          this.logger.error({ reloadId: next.id, waiting: this.backlog.length, err: toErrorInfo(error) }, `could not journal reload result ${next.id}; it is kept in memory (history shows it) and written when the disk takes writes again`);
          this.scheduleRetry();
          return;
        }
        this.backlog.shift();
        if (this.backlog.length === 0 && this.retry) {
          clearTimeout(this.retry);
          this.retry = null;
        }
      }
    };
    this.writes = this.writes.then(run, run);
    return this.writes;
  }

  private scheduleRetry(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.flush();
    }, this.retryMs);
    this.retry.unref();
  }
}

/** The plugins `result` activated: a plugin reload's own, or the plugins of a config reload that each activated. */
function activatedPlugins(result: ReloadResult): string[] {
  if (result.kind === 'plugin') return result.outcome === 'activated' ? [result.name] : [];
  return (result.plugins ?? []).filter((entry) => entry.outcome === 'activated').map((entry) => entry.name);
}
