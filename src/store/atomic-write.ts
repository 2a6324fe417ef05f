import { closeSync, fdatasync, fsync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { StateWriteError } from '../errors.js';

/*
 * How these writes use the event loop: opening, writing, closing and renaming a small file only touch the
 * page cache, so they run synchronously (each async call would be a round trip through libuv's thread pool,
 * about a quarter of a millisecond here, more while a plugin starts on the other core). The flushes to the
 * disk, which can take as long as the disk likes, never block the loop: fsync and fdatasync stay async.
 */
export const fsyncAsync = promisify(fsync);
export const fdatasyncAsync = promisify(fdatasync);

/** Write all of `data` at the file's current offset (writeSync may write less than asked). */
export function writeAllSync(fd: number, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** fsync a directory so a rename inside it survives power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await fsyncAsync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A file's next content, written and flushed beside it ahead of time, not yet in its place. */
export interface PreparedFile {
  /** Resolves once the temporary file is whole (and, when durable, on the disk); rejects if it cannot be. */
  readonly flushed: Promise<void>;
  /** Rename it over the target (call after `flushed`); with `syncDir`, fsync the directory so the rename survives power loss. */
  replace(options: { syncDir: boolean }): Promise<void>;
  /** Remove the temporary file (a prepared write that will not be used). */
  discard(): void;
}

/**
 * The first half of an atomic replace: write `data` to a temporary file beside `path` and, when
 * durable, fsync it, without waiting here. The open and write are synchronous (they reach only the
 * page cache); the flush runs in the thread pool while the caller goes on.
 */
export function prepareFileAtomic(path: string, data: string | Uint8Array, { durable = true }: { durable?: boolean } = {}): PreparedFile {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const flushed = (async () => {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeAllSync(fd, data);
      // Not durable: still never torn (the rename is atomic), but a power loss may lose it; a crashed process does not.
      if (durable) await fsyncAsync(fd);
    } finally {
      closeSync(fd);
    }
  })();
  // Whoever uses the file awaits it; one that is discarded unread must not surface as unhandled.
  flushed.catch(() => {});
  return {
    flushed,
    async replace({ syncDir }) {
      renameSync(tmp, path);
      if (syncDir) await fsyncDir(dirname(path));
    },
    discard() {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // Left for the next host's debris sweep (removeDebris, removeIntentDebris).
      }
    },
  };
}

/**
 * Replace `path` so that a crash at any instant leaves either the old or the
 * new content, never a torn file: write a temporary file beside it, fsync it,
 * rename over the target, then fsync the directory (the step write-file-atomic
 * skips, without which the rename itself can be lost).
 *
 * `durable: false` skips both fsyncs: still never torn, but a power loss may
 * lose the write. `syncDir: false` keeps the file's fsync (whatever name it
 * has after a power loss, its bytes are whole) and skips the directory's: for
 * a write whose loss leaves a state as good as the one it replaced, and that
 * a later durable write of the same file makes permanent.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, { durable = true, syncDir = durable }: { durable?: boolean; syncDir?: boolean } = {}): Promise<void> {
  const file = prepareFileAtomic(path, data, { durable });
  try {
    await file.flushed;
    await file.replace({ syncDir: durable && syncDir });
  } catch (error) {
    file.discard();
    throw new StateWriteError(path, error);
  }
}
