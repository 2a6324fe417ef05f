/**
 * The file store under STATE/objects: every staged file's bytes, once, named
 * by their sha256 (and executable bit). Version directories hard-link to it,
 * so staging a version whose files are already stored (a re-staged build, a
 * new version sharing most of its node_modules) writes no bytes; a new file
 * is hashed while it is copied (and refused if the tree was hashed before and
 * its bytes changed since). Objects are read-only; an object no version
 * links to (link count 1) is garbage, collected after versions are removed.
 *
 * Race-free against a concurrent staging: a new object is the placed file
 * itself, linked into the store, so it appears with two links and no
 * collector takes it; linking an existing object that a collector has just
 * removed fails with ENOENT, and the file is then copied and stored again.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type BigIntStats } from 'node:fs';
import { link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PluginDirUnreadableError } from '../errors.js';

/** Files above this are streamed through the hash; below, read whole (fewer syscalls for node_modules' many small files). */
const STREAM_ABOVE_BYTES = 4 * 1024 * 1024;

export const objectsDir = (stateDir: string) => join(stateDir, 'objects');

const objectPath = (stateDir: string, sha: string, executable: boolean) => join(objectsDir(stateDir), sha.slice(0, 2), `${sha}${executable ? '.x' : ''}`);

/** Object subdirectories known to exist, so staging thousands of files does not ask for each. */
const madeDirs = new Set<string>();

async function objectParent(stateDir: string, sha: string): Promise<void> {
  const dir = join(objectsDir(stateDir), sha.slice(0, 2));
  if (madeDirs.has(dir)) return;
  await mkdir(dir, { recursive: true });
  madeDirs.add(dir);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** sha256 of a file's bytes, hex; `size` (when known) picks reading it whole or streaming it. */
async function sha256File(path: string, size?: number): Promise<string> {
  if ((size ?? (await stat(path)).size) <= STREAM_ABOVE_BYTES) return sha256(await readFile(path));
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), async function* (source) {
    for await (const chunk of source) hash.update(chunk as Buffer);
  });
  return hash.digest('hex');
}

/** What a remembered digest was taken of: the file's identity and times, as `stat` gives them in nanoseconds. */
type FileVersion = Pick<BigIntStats, 'dev' | 'ino' | 'size' | 'mtimeNs' | 'ctimeNs'>;

const sameVersion = (a: FileVersion, b: FileVersion) => a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

/** Entries kept at most (oldest dropped first): a few thousand node_modules files, or many small plugins. */
const REMEMBER_AT_MOST = 20_000;
/**
 * A file changed within this long before it was hashed is not remembered: timestamps are coarse (a
 * kernel tick), so a write in the same tick could leave them equal (git's "racy" entries). Any write
 * after that sets ctime, which no program can set back, past the remembered one.
 */
const RACY_NS = 2_000_000_000n;
const remembered = new Map<string, { version: FileVersion; sha: string }>();

/**
 * sha256 of a file, remembered for as long as it keeps the same device, inode, size, mtime and ctime:
 * offering an unchanged directory again (a re-run, a rollback by hand, the bench's alternation of two
 * builds) does not read its bytes again. A file whose ctime is within RACY_NS of its hashing is hashed
 * every time.
 */
export async function sha256FileRemembering(path: string): Promise<string> {
  const before = await stat(path, { bigint: true });
  const entry = remembered.get(path);
  if (entry && sameVersion(entry.version, before)) return entry.sha;
  const startedNs = BigInt(Date.now()) * 1_000_000n;
  const sha = await sha256File(path, Number(before.size));
  const after = await stat(path, { bigint: true });
  remembered.delete(path);
  if (sameVersion(before, after) && after.ctimeNs < startedNs - RACY_NS && after.mtimeNs < startedNs - RACY_NS) {
    if (remembered.size >= REMEMBER_AT_MOST) remembered.delete(remembered.keys().next().value!);
    const { dev, ino, size, mtimeNs, ctimeNs } = after;
    remembered.set(path, { version: { dev, ino, size, mtimeNs, ctimeNs }, sha });
  }
  return sha;
}

/**
 * Run `work` over `items`, at most `limit` at a time; results in input order. After the first failure no
 * item is started, and it rejects only once every item already started has settled: nothing is still
 * writing when the caller cleans up.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        results[i] = await work(items[i]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw (failure as { error: unknown }).error;
  return results;
}

export interface StoredFile {
  /** Where the bytes are read from. */
  from: string;
  /** Relative path, for messages. */
  path: string;
  executable: boolean;
  size: number;
  /** The sha256 the tree was hashed with, when it was: the bytes placed must have it. */
  sha?: string;
}

/**
 * Make `dest` the file `file` describes and return its sha256: a hard link to its stored object when there
 * is one; else its bytes are copied to `dest` (hashed on the way, and checked against `file.sha` when given)
 * and `dest` is then linked into the store. Only where hard links are refused is `dest` a plain copy.
 */
export async function placeFile(stateDir: string, file: StoredFile, dest: string): Promise<string> {
  const mode = file.executable ? 0o555 : 0o444;
  let bytes: Buffer | null = null;
  let sha = file.sha;
  if (sha === undefined && file.size <= STREAM_ABOVE_BYTES) {
    bytes = await readSource(file);
    sha = sha256(bytes);
  }
  if (sha !== undefined && (await tryLink(objectPath(stateDir, sha, file.executable), dest, file.size))) return sha;
  // Not stored yet: copy, hashing the bytes copied.
  let copied: string;
  if (bytes) {
    await writeFile(dest, bytes, { flag: 'wx', mode });
    copied = sha!;
  } else {
    copied = await copyHashing(file, dest, mode);
  }
  if (file.sha !== undefined && copied !== file.sha) throw new PluginDirUnreadableError(file.from, new Error(`${file.path} changed while it was being staged`));
  // Stored by linking the placed file: the object appears with two links, so no collector takes it.
  const object = objectPath(stateDir, copied, file.executable);
  await objectParent(stateDir, copied);
  try {
    await link(dest, object);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Links refused here (EXDEV, EPERM, EMLINK): dest stays a good copy of its own.
    if (code !== 'EEXIST') {
      if (!LINKS_REFUSED.has(code ?? '')) throw error;
      return copied;
    }
    // Stored meanwhile (another staging, or a large file this pass did not hash first): share the stored one.
    const shared = `${dest}.shared`;
    if (await tryLink(object, shared, file.size)) await rename(shared, dest);
  }
  return copied;
}

const LINKS_REFUSED = new Set(['EXDEV', 'EPERM', 'EMLINK']);

/**
 * Link `object` to `dest`; false when there is no such object (or links are refused, and the bytes must be
 * copied). A stored file of the wrong size (cut short by a crash before it reached the disk) is removed.
 */
async function tryLink(object: string, dest: string, size: number): Promise<boolean> {
  try {
    await link(object, dest);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || LINKS_REFUSED.has(code ?? '')) return false;
    throw error;
  }
  if ((await stat(dest)).size === size) return true;
  await rm(dest, { force: true });
  await rm(object, { force: true });
  return false;
}

/** The bytes of an offered file; failing to read them is the offered directory's fault. */
async function readSource(file: StoredFile): Promise<Buffer> {
  try {
    return await readFile(file.from);
  } catch (error) {
    throw new PluginDirUnreadableError(file.from, error);
  }
}

/** Copy `file` to `to` (created with `mode`), hashing the bytes on the way; returns their sha256. */
async function copyHashing(file: StoredFile, to: string, mode: number): Promise<string> {
  if (file.size <= STREAM_ABOVE_BYTES) {
    const bytes = await readSource(file);
    await writeFile(to, bytes, { flag: 'wx', mode });
    return sha256(bytes);
  }
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const source = createReadStream(file.from);
  let readError: unknown = null;
  source.once('error', (error) => (readError = error));
  try {
    await pipeline(source, tap, createWriteStream(to, { flags: 'wx', mode }));
  } catch (error) {
    if (readError) throw new PluginDirUnreadableError(file.from, readError);
    throw error;
  }
  return hash.digest('hex');
}

/** Remove every object no version links to (link count 1). Returns how many went. */
export async function collectObjects(stateDir: string): Promise<number> {
  const root = objectsDir(stateDir);
  let removed = 0;
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const dir = join(root, name);
    const objects = await readdir(dir).catch(() => [] as string[]);
    await mapLimit(objects, 16, async (object) => {
      const path = join(dir, object);
      // Linked meanwhile by a staging? Then removing the name loses nothing: the version keeps the bytes.
      if ((await stat(path).catch(() => null))?.nlink === 1) {
        await rm(path, { force: true });
        removed += 1;
      }
    });
  }
  return removed;
}
