/**
 * List a plugin directory for staging, refusing anything that could make the
 * staged copy depend on files outside it: symlinks that leave the directory,
 * symlinked directories, devices, sockets and FIFOs.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { PathEscapeError, PluginDirUnreadableError } from '../errors.js';
import { isInside } from '../util/paths.js';

export interface CopiedFile {
  /** Path relative to the plugin directory, with "/" separators. */
  path: string;
  executable: boolean;
}

/** A file of a plugin directory, and where its bytes are read from (the file a symlink inside the directory points to). */
export interface PluginFile extends CopiedFile {
  from: string;
  /** Bytes, when listed. */
  size: number;
}

/**
 * The files of a plugin directory, sorted by path, checked as a copy would be (no symlink leaving the
 * directory, no symlinked directory, no device, socket or FIFO). `root` must already be a real path.
 */
export interface PluginTree {
  files: PluginFile[];
  /** Every directory under the root (relative paths), empty ones included, parents first. */
  dirs: string[];
}

export async function listPluginFiles(root: string): Promise<PluginTree> {
  const files: PluginFile[] = [];
  const dirs: string[] = [];
  // Each directory's entries are examined together: node_modules holds thousands of small files.
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      throw new PluginDirUnreadableError(dir, error);
    }
    await Promise.all(
      entries.map(async (entry) => {
        const source = join(dir, entry.name);
        const rel = relative(root, source).split('\\').join('/');
        if (entry.isDirectory()) {
          dirs.push(rel);
          await walk(source);
          return;
        }
        let from = source;
        if (entry.isSymbolicLink()) {
          const resolved = await realpath(source).catch(() => null);
          if (resolved === null) throw new PathEscapeError(rel, 'it is a dangling symlink');
          if (!isInside(root, resolved)) throw new PathEscapeError(rel, `it is a symlink to ${resolved}, outside the plugin directory`);
          if ((await stat(resolved)).isDirectory()) throw new PathEscapeError(rel, 'it is a symlink to a directory (copy the files instead)');
          // A symlink inside the plugin directory is staged as the file it points to.
          from = resolved;
        } else if (!entry.isFile()) {
          throw new PathEscapeError(rel, 'it is not a regular file, directory or symlink');
        }
        const info = await lstat(from);
        files.push({ path: rel, from, executable: (info.mode & 0o111) !== 0, size: info.size });
      }),
    );
  };
  await walk(root);
  const byPath = (a: { path: string } | string, b: { path: string } | string) => {
    const [x, y] = [typeof a === 'string' ? a : a.path, typeof b === 'string' ? b : b.path];
    return x < y ? -1 : x > y ? 1 : 0;
  };
  // Sorted: the digest depends on the order, and a parent directory sorts before its children.
  return { files: files.sort(byPath), dirs: dirs.sort(byPath) };
}
