/**
 * journal.ndjson: one line per finished reload, appended and fsynced, never
 * rewritten. A crash can leave at most a torn last line, which reading skips.
 * Past `maxBytes` it rotates: the file becomes journal.1.ndjson (replacing the
 * one before) and a new one starts; reading joins the two, so the history
 * keeps at least the last `maxBytes` of results.
 */
import { open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { StateWriteError } from '../errors.js';
import { fdatasyncAsync, fsyncDir, writeAllSync } from './atomic-write.js';
import { diskFault } from './disk-faults.js';
import { dirname } from 'node:path';

/** The rotated journal beside `path` (journal.ndjson → journal.1.ndjson). */
export const rotatedJournal = (path: string): string => path.replace(/\.ndjson$/, '.1.ndjson');

/**
 * The journal's one writer (the host holds the state lock): the file stays open between appends, so an
 * append is one write and one fdatasync. Opening it checks for a torn last line a crashed host left; a
 * failed append closes it, so the next one opens it again and checks again.
 */
export class JournalWriter {
  private handle: FileHandle | null = null;
  private size = 0;
  /** The last line on disk lacks its newline (a crash mid-append): the next record starts a line of its own. */
  private torn = false;

  constructor(
    private readonly path: string,
    private readonly maxBytes: () => number = () => Infinity,
  ) {}

  async append(record: unknown): Promise<void> {
    try {
      diskFault('journal', this.path);
      const handle = this.handle ?? (await this.open());
      const line = Buffer.from(`${this.torn ? '\n' : ''}${JSON.stringify(record)}\n`);
      try {
        // The write only reaches the page cache (synchronous, like writeFileAtomic's); the flush stays off the event loop.
        writeAllSync(handle.fd, line);
        await fdatasyncAsync(handle.fd);
      } catch (error) {
        await this.close();
        throw error;
      }
      this.torn = false;
      this.size += line.length;
      // The record is on disk; rotating after it never loses it (a crash between the two leaves a long journal).
      if (this.size > this.maxBytes()) {
        await this.close();
        await rename(this.path, rotatedJournal(this.path));
        await fsyncDir(dirname(this.path));
      }
    } catch (error) {
      throw new StateWriteError(this.path, error);
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close().catch(() => {});
  }

  private async open(): Promise<FileHandle> {
    const handle = await open(this.path, 'a+', 0o644);
    try {
      this.size = (await handle.stat()).size;
      const last = Buffer.alloc(1);
      this.torn = this.size > 0 && (await handle.read(last, 0, 1, this.size - 1)).bytesRead === 1 && last[0] !== 0x0a;
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
    this.handle = handle;
    return handle;
  }
}

/** Append one record to the journal at `path` (opened and closed for it; the host keeps a JournalWriter instead). */
export async function appendJournal(path: string, record: unknown, { maxBytes = Infinity }: { maxBytes?: number } = {}): Promise<void> {
  const writer = new JournalWriter(path, () => maxBytes);
  try {
    await writer.append(record);
  } finally {
    await writer.close();
  }
}

/** The rotated journal's records, then the current one's, oldest first. */
export async function readJournal<T = unknown>(path: string): Promise<T[]> {
  return [...(await readJournalFile<T>(rotatedJournal(path))), ...(await readJournalFile<T>(path))];
}

async function readJournalFile<T>(path: string): Promise<T[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const records: T[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      records.push(JSON.parse(line) as T);
    } catch {
      // A torn final line from a crash mid-append; everything before it is whole.
    }
  }
  return records;
}
