/**
 * Copy a plugin directory file by file, refusing anything that could make
 * the staged copy depend on files outside it: symlinks that leave the
 * directory, symlinked directories, devices, sockets and FIFOs.
 */
import { chmod, copyFile, lstat, mkdir, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { PathEscapeError, PluginDirUnreadableError } from '../errors.js';
import { isInside } from '../util/paths.js';

export interface CopiedFile {
  /** Path relative to the plugin directory, with "/" separators. */
  path: string;
  executable: boolean;
}

/** `root` must already be a real path. Returns the files copied, sorted by path. */
export async function copyPluginDir(root: string, target: string): Promise<CopiedFile[]> {
  const files: CopiedFile[] = [];

  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      throw new PluginDirUnreadableError(dir, error);
    }
    for (const entry of entries) {
      const source = join(dir, entry.name);
      const rel = relative(root, source).split('\\').join('/');
      const dest = join(target, rel);
      if (entry.isDirectory()) {
        await mkdir(dest, { recursive: true });
        await walk(source);
        continue;
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
      const mode = (await lstat(from)).mode;
      const executable = (mode & 0o111) !== 0;
      await copyFile(from, dest);
      // Staged copies are immutable: what was verified is what runs.
      await chmod(dest, executable ? 0o555 : 0o444);
      files.push({ path: rel, executable });
    }
  };

  await mkdir(target, { recursive: true });
  await walk(root);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
