import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { StateWriteError } from '../errors.js';

/** fsync a directory so a rename inside it survives power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replace `path` so that a crash at any instant leaves either the old or the
 * new content, never a torn file: write a temporary file beside it, fsync it,
 * rename over the target, then fsync the directory (the step write-file-atomic
 * skips, without which the rename itself can be lost).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, { durable = true }: { durable?: boolean } = {}): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx', 0o644);
    try {
      await handle.writeFile(data);
      // Not durable: still never torn (the rename is atomic), but a power loss may lose it; a crashed process does not.
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
    if (durable) await fsyncDir(dirname(path));
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => {});
    throw new StateWriteError(path, error);
  }
}
