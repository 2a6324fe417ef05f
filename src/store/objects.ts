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
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
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
export async function sha256File(path: string, size?: number): Promise<string> {
  if ((size ?? (await stat(path)).size) <= STREAM_ABOVE_BYTES) return sha256(await readFile(path));
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), async function* (source) {
    for await (const chunk of source) hash.update(chunk as Buffer);
  });
  return hash.digest('hex');
}

/** Run `work` over `items`, at most `limit` at a time; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
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
    bytes = await readFile(file.from);
    sha = sha256(bytes);
  }
  if (sha !== undefined && (await tryLink(objectPath(stateDir, sha, file.executable), dest))) return sha;
  // Not stored yet: copy, hashing the bytes copied.
  let copied: string;
  if (bytes) {
    await writeFile(dest, bytes, { flag: 'wx', mode });
    copied = sha!;
  } else {
    copied = await copyHashing(file.from, dest, mode, file.size);
  }
  if (file.sha !== undefined && copied !== file.sha) throw new PluginDirUnreadableError(file.from, new Error(`${file.path} changed while it was being staged`));
  // Stored by linking the placed file: the object appears with two links, so no collector takes it.
  await objectParent(stateDir, copied);
  await link(dest, objectPath(stateDir, copied, file.executable)).catch((error: NodeJS.ErrnoException) => {
    // Stored meanwhile by another staging (EEXIST), or links refused here (EXDEV, EPERM): dest is a good copy.
    if (!['EEXIST', 'EXDEV', 'EPERM', 'EMLINK'].includes(error.code ?? '')) throw error;
  });
  return copied;
}

/** Link `object` to `dest`; false when there is no such object (or links are refused, and the bytes must be copied). */
async function tryLink(object: string, dest: string): Promise<boolean> {
  try {
    await link(object, dest);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EXDEV' || code === 'EPERM' || code === 'EMLINK') return false;
    throw error;
  }
}

/** Copy `from` to `to` (created with `mode`), hashing the bytes on the way; returns their sha256. */
async function copyHashing(from: string, to: string, mode: number, size: number): Promise<string> {
  if (size <= STREAM_ABOVE_BYTES) {
    const bytes = await readFile(from);
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
  await pipeline(createReadStream(from), tap, createWriteStream(to, { flags: 'wx', mode }));
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
