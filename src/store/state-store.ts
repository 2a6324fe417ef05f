/**
 * The state directory, as one object: paths, the active marker (with
 * read-modify-write updates serialised so two slots swapping at once cannot
 * lose each other's change), the journal and staging.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { readActiveMarker, writeActiveMarker, type ActiveMarker } from './active-marker.js';
import { JournalWriter, readJournal } from './journal.js';
import { acquireStateLock, type StateLock } from './state-lock.js';
import { collectObjects } from './objects.js';
import { removeStagedPlugin, stagePlugin, type ReadManifest, type StagedPluginDir, type StagingManifest } from './stage-plugin.js';

export class StateStore {
  readonly root: string;
  readonly markerPath: string;
  readonly journalPath: string;
  private marker: ActiveMarker | null = null;
  private lock: StateLock | null = null;
  private writes: Promise<unknown> = Promise.resolve();
  /** The journal's open file (appends are one write and one fdatasync). */
  private readonly journal: JournalWriter;

  constructor(root: string) {
    this.root = resolve(root);
    this.markerPath = join(this.root, 'active.json');
    this.journalPath = join(this.root, 'journal.ndjson');
    this.journal = new JournalWriter(this.journalPath, () => this.journalMaxBytes);
  }

  /** Take the single-writer lock, then read the marker. Throws StateLockedError if another host holds the directory. */
  async open(): Promise<ActiveMarker> {
    await mkdir(this.root, { recursive: true });
    this.lock = await acquireStateLock(this.root);
    try {
      this.marker = await readActiveMarker(this.markerPath);
    } catch (error) {
      await this.close();
      throw error;
    }
    return this.marker;
  }

  /** Release the lock (after the last write). */
  async close(): Promise<void> {
    await this.writes.catch(() => {});
    await this.journal.close();
    await this.lock?.release();
    this.lock = null;
  }

  /** The marker as last read or written (a copy). */
  get activeMarker(): ActiveMarker {
    if (!this.marker) throw new Error('StateStore.open() was not called');
    return structuredClone(this.marker);
  }

  /**
   * Apply `change` to the latest marker, bump the generation and write it
   * atomically. Updates run one at a time, in call order. The in-memory copy
   * changes only after the write succeeded.
   *
   * `pending: true` is for the write that records a swap as pending: its bytes are fsynced, its rename is
   * not (no directory fsync). A power loss that takes that rename back leaves the marker before the swap,
   * which a restart comes back on just as it would from the pending record (it puts back the previous
   * version). Every swap ends in a durable write (its confirmation, or its revert), which makes the
   * directory's latest state permanent, before anyone is told of the outcome.
   */
  updateActiveMarker(change: (marker: ActiveMarker) => void, { pending = false }: { pending?: boolean } = {}): Promise<ActiveMarker> {
    const run = async () => {
      const next = this.activeMarker;
      change(next);
      next.generation += 1;
      next.updatedAt = new Date().toISOString();
      await writeActiveMarker(this.markerPath, next, { syncDir: !pending });
      this.marker = next;
      return structuredClone(next);
    };
    const result = this.writes.then(run, run);
    this.writes = result.catch(() => {});
    return result;
  }

  /** Remove what a crash can leave: staging work, stored files no version links to, and temporary marker files (never a real file). */
  async removeDebris(): Promise<void> {
    await rm(join(this.root, 'staging'), { recursive: true, force: true });
    await collectObjects(this.root);
    for (const name of await readdir(this.root)) {
      if (/^\..+\.[0-9a-f]{12}\.tmp$/.test(name)) await rm(join(this.root, name), { force: true });
    }
  }

  /** Past this size the journal rotates (journal.1.ndjson keeps the one before). */
  journalMaxBytes = 10 * 1024 * 1024;

  appendJournal(record: unknown): Promise<void> {
    return this.journal.append(record);
  }

  readJournal<T>(): Promise<T[]> {
    return readJournal<T>(this.journalPath);
  }

  /** Stage `sourceDir` for slot `name`; `readManifest` (src/plugins' parser, handed in by the orchestrator) reads its plugin.json. */
  stagePlugin<M extends StagingManifest>(name: string, sourceDir: string, readManifest: ReadManifest<M>): Promise<StagedPluginDir<M>> {
    return stagePlugin(this.root, name, sourceDir, readManifest);
  }

  /** The plugin names that have staged versions. */
  async stagedPluginNames(): Promise<string[]> {
    return (await readdir(join(this.root, 'plugins')).catch(() => [] as string[])).sort();
  }

  removeStagedPlugin(dir: string): Promise<void> {
    return removeStagedPlugin(this.root, dir);
  }

  /** Store paths relative to the root, so the state directory can move. */
  toStatePath(path: string): string {
    return relative(this.root, path);
  }

  fromStatePath(path: string): string {
    return isAbsolute(path) ? path : join(this.root, path);
  }
}
