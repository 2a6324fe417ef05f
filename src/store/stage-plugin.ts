/**
 * Staging: turn an offered plugin directory into an immutable version
 * directory `plugins/NAME/VERSION-DIGEST`, verifying the manifest, paths and
 * declared checksums on the staged files (what is verified is what will run).
 * Content-addressed: the offered files are hashed once, and a version whose
 * digest is already staged is reused without writing a byte; a new version's
 * files are hard links into the file store (objects.ts), so only files never
 * staged before are copied, hashed as they are copied. Staging never touches
 * active.json.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import { ChecksumMismatchError, ManifestNameMismatchError, PathEscapeError, PluginDirUnreadableError, StateWriteError } from '../errors.js';
import { diskFault } from './disk-faults.js';
import { isInside, isPathCommand } from '../util/paths.js';
import { fsyncDir } from './atomic-write.js';
import { listPluginFiles, type CopiedFile } from './list-plugin-dir.js';
import { collectObjects, mapLimit, placeFile, sha256FileRemembering } from './objects.js';

/** Files hashed or placed at once: enough to keep the disk busy, few enough to stay far from the fd limit. */
const FILE_CONCURRENCY = 16;

/**
 * What staging needs from a manifest. The store does not parse manifests (that is src/plugins'
 * job): the orchestrator hands it the parser, and gets its parsed manifest back.
 */
export interface StagingManifest {
  name: string;
  version: string;
  command: readonly string[];
  sha256?: Record<string, string> | undefined;
}

/** Reads and validates `DIR/plugin.json`; throws the manifest's own errors. */
export type ReadManifest<M extends StagingManifest> = (dir: string) => Promise<M>;

export interface StagedPluginDir<M extends StagingManifest = StagingManifest> {
  name: string;
  version: string;
  /** Absolute path of the version directory. */
  dir: string;
  digest: string;
  manifest: M;
  /** False when an identical copy was already staged (re-activating a version). */
  createdByReload: boolean;
}

/** Digest of a directory: every file's path, executable bit and content hash, in path order. */
function digestFiles(files: Array<CopiedFile & { sha: string }>): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(`${file.path}\0${file.executable ? 'x' : '-'}\0${file.sha}\n`);
  return hash.digest('hex');
}

/** The staged builds of `name` (VERSION-DIGEST directory names), none if there are none. */
const stagedVersions = (stateDir: string, name: string): Promise<string[]> => readdir(join(stateDir, 'plugins', name)).catch(() => [] as string[]);

/** The version directory of `name` at `version` with `digest`. */
const versionDir = (stateDir: string, name: string, version: string, digest: string) => join(stateDir, 'plugins', name, `${version}-${digest.slice(0, 12)}`);

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** A manifest path must be relative and stay inside the plugin directory. */
function checkInside(root: string, path: string, what: string): string {
  if (isAbsolute(path)) throw new PathEscapeError(path, `${what} is an absolute path`);
  const full = resolve(root, normalize(path));
  if (!isInside(root, full) || full === root) throw new PathEscapeError(path, `${what} points outside the plugin directory`);
  return full;
}

/** The staged files' bytes were verified against `files[].sha` as they were placed, so the declared checksums are checked against those. */
function verifyCopy(root: string, manifest: StagingManifest, files: Array<CopiedFile & { sha: string }>): void {
  const shas = new Map(files.map((f) => [f.path, f.sha]));
  const command = manifest.command[0]!;
  if (isPathCommand(command)) checkInside(root, command, '"command"');
  for (const [file, expected] of Object.entries(manifest.sha256 ?? {})) {
    const full = checkInside(root, file, `sha256 key "${file}"`);
    const rel = full.slice(root.length + 1).split('\\').join('/');
    const actual = shas.get(rel);
    if (actual === undefined) throw new ChecksumMismatchError(file, expected, '(file missing)');
    if (actual !== expected) throw new ChecksumMismatchError(file, expected, actual);
  }
}

/**
 * Stage `sourceDir` for slot `name` under `stateDir`. On any error nothing is
 * left behind in the state directory.
 */
export async function stagePlugin<M extends StagingManifest>(stateDir: string, name: string, sourceDir: string, readManifest: ReadManifest<M>): Promise<StagedPluginDir<M>> {
  // Three reads at once: where the offered path leads, what it is, and its manifest, read through the offered
  // path. The manifest comes before any walk: a directory without one is not walked (it may be any directory at all, even /).
  const [where, what, read] = await Promise.allSettled([realpath(sourceDir), stat(sourceDir), readManifest(sourceDir)]);
  if (where.status === 'rejected') throw new PluginDirUnreadableError(sourceDir, where.reason);
  if (what.status === 'rejected' || !what.value.isDirectory()) throw new PluginDirUnreadableError(sourceDir, what.status === 'rejected' ? what.reason : new Error('not a directory'));
  if (read.status === 'rejected') throw read.reason;
  const root = where.value;
  const manifest = read.value;
  if (manifest.name !== name) throw new ManifestNameMismatchError(name, manifest.name);
  // Then two independent reads at once (each a round trip to the disk).
  const [tree, stagedBuilds] = await Promise.all([listPluginFiles(root), stagedVersions(stateDir, name)]);

  // The same bytes staged before (a rollback, a re-run of the same upgrade): the immutable copy is reused,
  // verified when it was made, and nothing is written. The digest covers every file, plugin.json included.
  // Only worth hashing first when this version was staged before; else the files are hashed as they are placed.
  // A file offered before and unchanged since (same inode, size, mtime and ctime) is not read again.
  let known: Array<(typeof tree.files)[number] & { sha: string }> | null = null;
  if (stagedBuilds.some((entry) => entry.startsWith(`${manifest.version}-`))) {
    known = await mapLimit(tree.files, FILE_CONCURRENCY, async (file) => {
      try {
        return { ...file, sha: await sha256FileRemembering(file.from) };
      } catch (error) {
        throw new PluginDirUnreadableError(file.from, error);
      }
    });
    const digest = digestFiles(known);
    const staged = versionDir(stateDir, name, manifest.version, digest);
    // Found in the listing read above (pruning never runs on a plugin with a reload in flight).
    if (stagedBuilds.includes(basename(staged))) return { name, version: manifest.version, dir: staged, digest, manifest, createdByReload: false };
  }

  const stagingDir = join(stateDir, 'staging');
  const tmp = join(stagingDir, `${name}-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(stagingDir, { recursive: true });
    diskFault('stage', tmp);
  } catch (error) {
    throw new StateWriteError(tmp, error);
  }
  try {
    let files: Array<CopiedFile & { sha: string }>;
    try {
      await mkdir(tmp);
      for (const dir of tree.dirs) await mkdir(join(tmp, dir), { recursive: true });
      const placing = known ?? tree.files;
      const shas = await mapLimit(placing, FILE_CONCURRENCY, (file) => placeFile(stateDir, file, join(tmp, file.path)));
      files = placing.map((file, i) => ({ path: file.path, executable: file.executable, sha: shas[i]! }));
    } catch (error) {
      if (error instanceof PluginDirUnreadableError) throw error;
      // A file of the offered directory that cannot be read is the offer's fault, not the state directory's.
      const path = (error as NodeJS.ErrnoException).path;
      if (path !== undefined && isInside(root, path)) throw new PluginDirUnreadableError(path, error);
      // A full disk, a read-only or forbidden state directory: say so, with the path.
      throw new StateWriteError(tmp, error);
    }
    // Re-read the manifest from the staged files: the source may have changed under us.
    const copied = await readManifest(tmp);
    if (JSON.stringify(copied) !== JSON.stringify(manifest)) throw new PluginDirUnreadableError(sourceDir, new Error('plugin.json changed while it was being staged'));
    verifyCopy(tmp, copied, files);
    // The digest of the bytes placed, each hashed as it was read for placing (or checked against the hash read before).
    const digest = digestFiles(files);
    const dir = versionDir(stateDir, name, manifest.version, digest);
    const parent = dirname(dir);
    await mkdir(parent, { recursive: true });
    const already = await exists(dir);
    if (already) {
      // Same version, same bytes: the staged copy is immutable, so reuse it.
      await rm(tmp, { recursive: true, force: true });
    } else {
      await rename(tmp, dir);
      await fsyncDir(parent);
    }
    return { name, version: manifest.version, dir, digest, manifest: copied, createdByReload: !already };
  } catch (error) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw error;
  }
}

/** Remove a version directory (a rollback's, a dry run's, a pruned one), then the stored files no version links to any more. */
export async function removeStagedPlugin(stateDir: string, dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await collectObjects(stateDir);
}
