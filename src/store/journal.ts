/**
 * journal.ndjson: one line per finished reload, appended and fsynced, never
 * rewritten. A crash can leave at most a torn last line, which reading skips.
 * Past `maxBytes` it rotates: the file becomes journal.1.ndjson (replacing the
 * one before) and a new one starts; reading joins the two, so the history
 * keeps at least the last `maxBytes` of results.
 */
import { open, readFile, rename } from 'node:fs/promises';
import { StateWriteError } from '../errors.js';
import { fsyncDir } from './atomic-write.js';
import { diskFault } from './disk-faults.js';
import { dirname } from 'node:path';

/** The rotated journal beside `path` (journal.ndjson → journal.1.ndjson). */
export const rotatedJournal = (path: string): string => path.replace(/\.ndjson$/, '.1.ndjson');

export async function appendJournal(path: string, record: unknown, { maxBytes = Infinity }: { maxBytes?: number } = {}): Promise<void> {
  try {
    diskFault('journal', path);
    const handle = await open(path, 'a+', 0o644);
    let size: number;
    try {
      // A crash mid-append leaves a torn last line without its newline: start on a line of our own, or this record is lost with it.
      const before = (await handle.stat()).size;
      const last = Buffer.alloc(1);
      const torn = before > 0 && (await handle.read(last, 0, 1, before - 1)).bytesRead === 1 && last[0] !== 0x0a;
      await handle.writeFile(`${torn ? '\n' : ''}${JSON.stringify(record)}\n`);
      await handle.sync();
      size = (await handle.stat()).size;
    } finally {
      await handle.close();
    }
    // The record is on disk; rotating after it never loses it (a crash between the two leaves a long journal).
    if (size > maxBytes) {
      await rename(path, rotatedJournal(path));
      await fsyncDir(dirname(path));
    }
  } catch (error) {
    throw new StateWriteError(path, error);
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
