/**
 * Intent records: one file per reload in progress, `STATE/intents/ID.json`,
 * created before the reload starts work (and fsynced, with its directory,
 * before any candidate process starts), removed once its result is journaled. The file is a log of JSON lines, each
 * the whole record as it stood: the first written at the start, one appended
 * as the reload reaches each new state. Appending keeps an update to one
 * write on a file already open (a rewrite by rename cost half a millisecond
 * here, on the reload's path, at every state). The last whole line is the
 * record; a line a crash tore is skipped. A file still there when a host opens
 * the state directory is a reload the host died in: recovery journals it as
 * `interrupted` and releases what it names.
 */
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { fsyncAsync, fsyncDir, writeAllSync, writeFileAtomic } from './atomic-write.js';
import { StateWriteError } from '../errors.js';
import { diskFault } from './disk-faults.js';

/** A staged path (relative to the state directory) and whether this reload created it. */
const stagedSchema = z.object({ dir: z.string(), createdByReload: z.boolean() }).nullable();
/** A candidate process once it exists: its pid is its process group; `startTicks` tells it from a later process with the same pid. */
const candidateSchema = z.object({ version: z.string(), pid: z.number().int(), startTicks: z.string().nullable() }).nullable();

export const intentSchema = z.object({
  id: z.string(),
  target: z.string(),
  requestId: z.string().optional(),
  source: z.string(),
  startedAt: z.string(),
  /** The slot state the reload had reached. */
  state: z.string(),
  /** The staged copy: a plugin's version directory, or a config reload's config file. */
  staged: stagedSchema,
  /** The candidate process, once started. */
  candidate: candidateSchema,
  /** A config reload: each plugin it starts through its own slot, with its staged copy and process. */
  plugins: z.array(z.object({ name: z.string(), staged: stagedSchema, candidate: candidateSchema })).default([]),
});

export type IntentPart = Pick<Intent, 'staged' | 'candidate'>;

export type Intent = z.infer<typeof intentSchema>;

const dirOf = (root: string) => join(root, 'intents');
const fileOf = (root: string, id: string) => join(dirOf(root), `${id}.json`);

/** An intent record being kept: its file stays open, and each update is one line appended to it. */
export interface IntentFile {
  /** Resolves once the record is on the disk (file and directory entry fsynced); rejects with WFR_STATE_WRITE_FAILED if it cannot be. */
  readonly flushed: Promise<void>;
  /** Append `intent` as the record's new state. Not fsynced: it survives a crashed host, not a power loss. */
  update(intent: Intent): void;
  /** Close the file (the record stays on disk until removeIntent). */
  close(): void;
}

const lineOf = (intent: Intent) => `${JSON.stringify(intent)}\n`;

/**
 * Create the record for a reload that starts now. It exists when this returns (in the page cache, which
 * a crashed host leaves behind); its flush to the disk, against a power loss, runs from here on, and
 * `flushed` says when it is done. Throws WFR_STATE_WRITE_FAILED when it cannot be created, or exists.
 */
export function beginIntent(root: string, intent: Intent): IntentFile {
  const path = fileOf(root, intent.id);
  let fd: number | null = null;
  try {
    // Synchronous metadata calls, async flushes: as in writeFileAtomic (src/store/atomic-write.ts).
    mkdirSync(dirOf(root), { recursive: true });
    fd = openSync(path, 'ax', 0o644);
    writeAllSync(fd, lineOf(intent));
  } catch (error) {
    // Only a file this call created is removed (never another reload's record with the same name).
    if (fd !== null) {
      closeSync(fd);
      rmSync(path, { force: true });
    }
    throw new StateWriteError(path, error);
  }
  const open = fd;
  const flushed = (async () => {
    try {
      await fsyncAsync(open);
      diskFault('intent', path);
      await fsyncDir(dirOf(root));
    } catch (error) {
      throw new StateWriteError(path, error);
    }
  })();
  // A failed flush is the caller's to handle, through `flushed`; the descriptor is closed only once the flush is done with it.
  const flushDone = flushed.catch(() => {});
  let isOpen = true;
  return {
    flushed,
    update(next) {
      if (!isOpen) return;
      try {
        writeAllSync(open, lineOf(next));
      } catch (error) {
        throw new StateWriteError(path, error);
      }
    },
    close() {
      if (!isOpen) return;
      isOpen = false;
      void flushDone.then(() => closeSync(open));
    },
  };
}

/** Write a whole record at once, replacing any (a record of one line). */
export async function writeIntent(root: string, intent: Intent): Promise<void> {
  mkdirSync(dirOf(root), { recursive: true });
  await writeFileAtomic(fileOf(root, intent.id), lineOf(intent));
}

/** The record a file's text holds: its last whole line that is a valid record (a torn last line is skipped), else null. */
function lastRecord(text: string): Intent | null {
  const lines = text.split('\n');
  // The text after the last newline is a line a crash tore (or nothing).
  for (let k = lines.length - 2; k >= 0; k--) {
    let json: unknown;
    try {
      json = JSON.parse(lines[k]!);
    } catch {
      continue;
    }
    const parsed = intentSchema.safeParse(json);
    if (parsed.success) return parsed.data;
  }
  return null;
}

/** Leftover temporary files of intent writes a crash interrupted. */
export async function removeIntentDebris(root: string): Promise<void> {
  for (const name of await readdir(dirOf(root)).catch(() => [] as string[])) {
    if (name.endsWith('.tmp')) await rm(join(dirOf(root), name), { force: true });
  }
}

export async function removeIntent(root: string, id: string): Promise<void> {
  await rm(fileOf(root, id), { force: true });
}

/** Every intent left in the state directory; an unreadable one is returned as null with its id (the file name). */
export async function readIntents(root: string): Promise<Array<{ id: string; intent: Intent | null }>> {
  const names = await readdir(dirOf(root)).catch(() => [] as string[]);
  const found: Array<{ id: string; intent: Intent | null }> = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const id = name.slice(0, -'.json'.length);
    found.push({ id, intent: lastRecord(await readFile(join(dirOf(root), name), 'utf8').catch(() => '')) });
  }
  return found;
}
