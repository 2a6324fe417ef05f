/**
 * Keeps each running reload's intent record (src/store/intents.ts) current:
 * created before the reload is admitted, updated as it reaches new states
 * (the staged copy, the candidate's process and its start time), removed once
 * its result is journaled. Updates for one reload are applied in order, each
 * one line appended to its open record.
 */
import type { Logger } from 'pino';
import { toErrorInfo } from '../errors.js';
import { PendingWork } from '../util/pending-work.js';
import { beginIntent, processStartTicks, removeIntent, type Intent, type IntentFile, type IntentPart } from '../store/index.js';

interface QueuedUpdate {
  state: string;
  context: Record<string, unknown>;
  plugin: string | undefined;
}

export class IntentLog {
  private readonly chains = new Map<string, { intent: Intent; file: IntentFile; chain: Promise<void>; queued: QueuedUpdate[] }>();
  /** Every flush, update and removal not finished yet (close() waits for them: nothing writes after the host is closed). */
  private readonly inFlight = new PendingWork();

  private track<T>(work: Promise<T>): Promise<T> {
    return this.inFlight.track(work);
  }

  /** Resolves once every flush, update and removal started so far has finished. */
  idle(): Promise<void> {
    return this.inFlight.idle();
  }

  constructor(
    private readonly root: string,
    private readonly toStatePath: (path: string) => string,
    private readonly logger: Logger,
  ) {}

  /**
   * Create the record: it exists when this returns (a crashed host leaves it behind). Its flush to the disk
   * runs alongside the reload's first step (staging); onDisk() says when it is done, and no candidate
   * process starts before. Throws WFR_STATE_WRITE_FAILED when the record cannot be created.
   */
  begin(intent: Omit<Intent, 'state' | 'staged' | 'candidate' | 'plugins'>): void {
    const full: Intent = { ...intent, state: 'admitted', staged: null, candidate: null, plugins: [] };
    const file = beginIntent(this.root, full);
    this.track(file.flushed).catch(() => {});
    this.chains.set(intent.id, { intent: full, file, chain: Promise.resolve(), queued: [] });
  }

  /** Resolves once reload `id`'s record is on the disk (at once for a reload without one); rejects if it cannot be flushed. */
  onDisk(id: string): Promise<void> {
    return this.chains.get(id)?.file.flushed ?? Promise.resolve();
  }

  /** Close the records of reloads still running (a host closing under them): they stay on disk, for the next host's recovery. */
  close(): void {
    for (const entry of this.chains.values()) entry.file.close();
  }

  /**
   * The reload moved on: record its state, and what it has staged and started so far (from the slot's
   * context). With `plugin`, the context is that plugin slot's, in a config reload. The line is written
   * once the turn of the event loop that made the update is over, so that what the reload does next (a
   * request to its plugin, a flush) goes out first; updates made in one turn fold into one line of the
   * newest record (a reload passes several states in a millisecond; only the last one matters to a restart).
   */
  update(id: string, state: string, context: Record<string, unknown>, plugin?: string): void {
    const entry = this.chains.get(id);
    if (!entry) return;
    entry.queued.push({ state, context, plugin });
    if (entry.queued.length > 1) return;
    entry.chain = this.track(
      entry.chain
        .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
        .then(() => {
          for (const next of entry.queued.splice(0)) entry.intent = this.apply(entry.intent, next);
          // Not fsync'd: the record itself was (begin), so a reload is never lost; these updates name what to release
          // after a crashed host (the page cache outlives the process). After a power loss no process survives, and
          // a staged copy an update did not reach is only left unused.
          try {
            entry.file.update(entry.intent);
          } catch (error) {
            this.logger.error({ reloadId: id, err: toErrorInfo(error) }, 'could not update the intent record');
          }
        }),
    );
  }

  private apply(intent: Intent, { state, context, plugin }: QueuedUpdate): Intent {
    const before = plugin === undefined ? intent : (intent.plugins.find((p) => p.name === plugin) ?? { staged: null, candidate: null });
    const part = this.partOf(context, before);
    return plugin === undefined ? { ...intent, state, ...part } : { ...intent, plugins: [...intent.plugins.filter((p) => p.name !== plugin), { name: plugin, ...part }] };
  }

  /** The staged copy (a plugin's directory or a config file) and the candidate process a slot's context names; `before` is kept where it names nothing new. */
  private partOf(context: Record<string, unknown>, before: IntentPart): IntentPart {
    const staged = context.staged as { dir?: string; file?: string; createdByReload?: boolean } | null | undefined;
    const candidate = context.candidate as { version?: string; pid?: number } | null | undefined;
    const path = staged?.dir ?? staged?.file;
    return {
      staged: path ? { dir: this.toStatePath(path), createdByReload: staged?.createdByReload === true } : before.staged,
      candidate:
        candidate?.pid && before.candidate?.pid !== candidate.pid
          ? { version: candidate.version ?? '', pid: candidate.pid, startTicks: processStartTicks(candidate.pid) }
          : before.candidate,
    };
  }

  /** The result is journaled: the intent is fulfilled. */
  end(id: string): Promise<void> {
    const entry = this.chains.get(id);
    this.chains.delete(id);
    // Tracked as a whole, so idle() cannot find nothing in flight between the last update and the removal.
    return this.track(
      (async () => {
        await entry?.chain;
        entry?.file.close();
        await removeIntent(this.root, id).catch((error: unknown) => this.logger.error({ reloadId: id, err: toErrorInfo(error) }, 'could not remove the intent record'));
      })(),
    );
  }
}
