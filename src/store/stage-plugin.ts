/**
 * Staging: copy an offered plugin directory into an immutable version
 * directory `plugins/NAME/VERSION-DIGEST`, verifying the manifest, paths and
 * declared checksums on the copy (what is verified is what will run).
 * Staging never touches active.json.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import { ChecksumMismatchError, ManifestNameMismatchError, PathEscapeError, PluginDirUnreadableError, StateWriteError } from '../errors.js';
import { diskFault } from './disk-faults.js';
import { isInside, isPathCommand } from '../util/paths.js';
import { fsyncDir } from './atomic-write.js';
import { copyPluginFiles, listPluginFiles, type CopiedFile } from './copy-plugin-dir.js';

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

const sha256File = (path: string): Promise<string> =>
  new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });

/** Digest of a directory: every file's path, executable bit and content hash (read from `from`, or under `root`). */
async function digestFiles(root: string, files: Array<CopiedFile & { from?: string }>): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(`${file.path}\0${file.executable ? 'x' : '-'}\0${await sha256File(file.from ?? join(root, file.path))}\n`);
  }
  return hash.digest('hex');
}

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

async function verifyCopy(root: string, manifest: StagingManifest, files: CopiedFile[]): Promise<void> {
  const present = new Set(files.map((f) => f.path));
  const command = manifest.command[0]!;
  if (isPathCommand(command)) checkInside(root, command, '"command"');
  for (const [file, expected] of Object.entries(manifest.sha256 ?? {})) {
    const full = checkInside(root, file, `sha256 key "${file}"`);
    const rel = full.slice(root.length + 1).split('\\').join('/');
    if (!present.has(rel)) throw new ChecksumMismatchError(file, expected, '(file missing)');
    const actual = await sha256File(full);
    if (actual !== expected) throw new ChecksumMismatchError(file, expected, actual);
  }
}

/**
 * Stage `sourceDir` for slot `name` under `stateDir`. On any error nothing is
 * left behind in the state directory.
 */
export async function stagePlugin<M extends StagingManifest>(stateDir: string, name: string, sourceDir: string, readManifest: ReadManifest<M>): Promise<StagedPluginDir<M>> {
  let root: string;
  try {
    root = await realpath(sourceDir);
    if (!(await stat(root)).isDirectory()) throw new Error('not a directory');
  } catch (error) {
    throw new PluginDirUnreadableError(sourceDir, error);
  }
  const manifest = await readManifest(root);
  if (manifest.name !== name) throw new ManifestNameMismatchError(name, manifest.name);

  // The same bytes staged before (a rollback, a re-run of the same upgrade): the immutable copy is reused,
  // verified when it was made, and nothing is copied. The digest covers every file, plugin.json included.
  const tree = await listPluginFiles(root);
  const sourceDigest = await digestFiles(root, tree.files);
  const staged = versionDir(stateDir, name, manifest.version, sourceDigest);
  if (await exists(staged)) return { name, version: manifest.version, dir: staged, digest: sourceDigest, manifest, createdByReload: false };

  const stagingDir = join(stateDir, 'staging');
  const tmp = join(stagingDir, `${name}-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(stagingDir, { recursive: true });
    diskFault('stage', tmp);
  } catch (error) {
    throw new StateWriteError(tmp, error);
  }
  try {
    const files = await copyPluginFiles(tree, tmp).catch((error: unknown) => {
      // A full disk, a read-only or forbidden state directory: say so, with the path.
      throw new StateWriteError(tmp, error);
    });
    // Re-read the manifest from the copy: the source may change under us.
    const copied = await readManifest(tmp);
    if (JSON.stringify(copied) !== JSON.stringify(manifest)) throw new PluginDirUnreadableError(sourceDir, new Error('plugin.json changed while it was being staged'));
    await verifyCopy(tmp, copied, files);
    const digest = await digestFiles(tmp, files);
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

/** Remove a version directory this reload created (rollback, dry run). */
export async function removeStagedPlugin(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
