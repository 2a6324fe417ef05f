/**
 * journal.ndjson: one line per finished reload, appended and fsynced, never
 * rewritten. A crash can leave at most a torn last line, which reading skips.
 */
import { open, readFile } from 'node:fs/promises';
import { StateWriteError } from '../errors.js';

export async function appendJournal(path: string, record: unknown): Promise<void> {
  try {
    const handle = await open(path, 'a', 0o644);
    try {
      await handle.writeFile(`${JSON.stringify(record)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new StateWriteError(path, error);
  }
}

export async function readJournal<T = unknown>(path: string): Promise<T[]> {
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
