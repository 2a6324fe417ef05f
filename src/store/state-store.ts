/**
 * The state directory, as one object: paths, the active marker (with
 * read-modify-write updates serialised so two slots swapping at once cannot
 * lose each other's change), the journal and staging.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { StateWriteError } from '../errors.js';
import { formatActiveMarker, readActiveMarker, writeActiveMarker, type ActiveMarker } from './active-marker.js';
import { prepareFileAtomic, type PreparedFile } from './atomic-write.js';
import { diskFault } from './disk-faults.js';
import { JournalWriter, readJournal } from './journal.js';
import { acquireStateLock, type StateLock } from './state-lock.js';
import { collectObjects } from './objects.js';
import { removeStagedPlugin, stagePlugin, type ReadManifest, type StagedPluginDir, type StagingManifest } from './stage-plugin.js';

/** A marker write made ahead of time (StateStore.prepareActiveMarker). */
export interface PreparedMarkerWrite {
  /** Put it in place, in turn with every other marker write; resolves to the marker as written. */
  commit(): Promise<ActiveMarker>;
  /** It will not be used: remove its temporary file. */
  discard(): void;
}

type MarkerChange = (marker: ActiveMarker) => void;

export class StateStore {
  readonly root: string;
  readonly markerPath: string;
  readonly journalPath: string;
  private marker: ActiveMarker | null = null;
  private lock: StateLock | null = null;
  private writes: Promise<unknown> = Promise.resolve();
  /** Prepared marker writes not committed or discarded yet (close() removes their files). */
  private readonly prepared = new Set<PreparedFile>();
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
    for (const file of this.prepared) file.discard();
    this.prepared.clear();
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
  updateActiveMarker(change: MarkerChange, { pending = false }: { pending?: boolean } = {}): Promise<ActiveMarker> {
    return this.inTurn(() => this.writeMarker(change, pending));
  }

  /**
   * The write `change` would make now, made ahead: the marker is written to a temporary file and flushed
   * at once, while the caller does something else (a probe, the last health call), and commit() only
   * renames it into place (and fsyncs the directory, unless `pending`), in turn with other writes. If
   * another write came first, or the flush failed, commit() applies `change` to the marker as it is then
   * and writes it in full, as updateActiveMarker does: the same marker either way, only sooner.
   * Its timestamps are those of the preparation.
   */
  prepareActiveMarker(change: MarkerChange, { pending = false }: { pending?: boolean } = {}): PreparedMarkerWrite {
    const next = this.nextMarker(this.activeMarker, change);
    /** The generation it was prepared from: committed as prepared only if the marker is still that one. */
    const base = next.generation - 1;
    let file: PreparedFile | null = null;
    try {
      diskFault('marker', this.markerPath);
      file = prepareFileAtomic(this.markerPath, formatActiveMarker(next));
      this.prepared.add(file);
    } catch {
      // The commit writes it in full and reports the failure then, as the write it stands for would.
    }
    const drop = () => {
      if (!file) return;
      this.prepared.delete(file);
      file.discard();
      file = null;
    };
    return {
      commit: () =>
        this.inTurn(async () => {
          const ready = file !== null && this.marker!.generation === base && (await file.flushed.then(() => true, () => false));
          if (!ready || !file) {
            drop();
            return this.writeMarker(change, pending);
          }
          const placing = file;
          this.prepared.delete(placing);
          file = null;
          try {
            // The fault switch as the write in full would meet it: armed now, this write fails now.
            diskFault('marker', this.markerPath);
            await placing.replace({ syncDir: !pending });
          } catch (error) {
            placing.discard();
            throw new StateWriteError(this.markerPath, error);
          }
          this.marker = next;
          return structuredClone(next);
        }),
      discard: drop,
    };
  }

  /** `change` applied to a copy of `marker`, as the next generation. */
  private nextMarker(marker: ActiveMarker, change: MarkerChange): ActiveMarker {
    change(marker);
    marker.generation += 1;
    marker.updatedAt = new Date().toISOString();
    return marker;
  }

  private async writeMarker(change: MarkerChange, pending: boolean): Promise<ActiveMarker> {
    const next = this.nextMarker(this.activeMarker, change);
    await writeActiveMarker(this.markerPath, next, { syncDir: !pending });
    this.marker = next;
    return structuredClone(next);
  }

  /** Marker writes run one at a time, in call order. */
  private inTurn(run: () => Promise<ActiveMarker>): Promise<ActiveMarker> {
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
