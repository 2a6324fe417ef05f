/**
 * The file store under STATE/objects: every staged file's bytes, once, named
 * by their sha256 (and executable bit). Version directories hard-link to it,
 * so staging a version whose files are already stored (a re-staged build, a
 * new version sharing most of its node_modules) writes no bytes; a new file
 * is hashed while it is copied, and refused if its bytes are not the ones
 * hashed when the tree was read. Objects are read-only; an object no version
 * links to (link count 1) is garbage, collected after versions are removed.
 *
 * Race-free against a concurrent staging: a new object is linked into its
 * version directory before it gets its final name, so no collector ever sees
 * it with a link count of 1; linking an existing object that a collector has
 * just removed fails with ENOENT, and the file is then stored again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PluginDirUnreadableError } from '../errors.js';

/** Files above this are streamed through the hash; below, read whole (fewer syscalls for node_modules' many small files). */
const STREAM_ABOVE_BYTES = 4 * 1024 * 1024;

export const objectsDir = (stateDir: string) => join(stateDir, 'objects');

const objectPath = (stateDir: string, sha: string, executable: boolean) => join(objectsDir(stateDir), sha.slice(0, 2), `${sha}${executable ? '.x' : ''}`);

/** sha256 of a file's bytes, hex. */
export async function sha256File(path: string): Promise<string> {
  const { size } = await stat(path);
  if (size <= STREAM_ABOVE_BYTES) return createHash('sha256').update(await readFile(path)).digest('hex');
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
  /** The sha256 the tree was hashed with: the bytes stored must have it. */
  sha: string;
}

/**
 * Make `dest` the file `file` describes: a hard link to its object, storing the object first (hashed while
 * copied) if it is not stored yet. Falls back to a plain read-only copy where hard links are refused.
 */
export async function placeFile(stateDir: string, file: StoredFile, dest: string): Promise<'linked' | 'stored' | 'copied'> {
  const object = objectPath(stateDir, file.sha, file.executable);
  try {
    await link(object, dest);
    return 'linked';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') return copyPlain(file, dest, code);
  }
  await mkdir(join(objectsDir(stateDir), file.sha.slice(0, 2)), { recursive: true });
  const tmp = join(objectsDir(stateDir), `tmp-${randomBytes(6).toString('hex')}`);
  try {
    const sha = await copyHashing(file.from, tmp);
    if (sha !== file.sha) throw new PluginDirUnreadableError(file.from, new Error(`${file.path} changed while it was being staged`));
    await chmod(tmp, file.executable ? 0o555 : 0o444);
    // Linked into the version first, then named: a collector never sees it with one link.
    await link(tmp, dest);
    await rename(tmp, object);
    return 'stored';
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Copy `from` to `to`, hashing the bytes on the way; returns their sha256. */
async function copyHashing(from: string, to: string): Promise<string> {
  const { size } = await stat(from);
  if (size <= STREAM_ABOVE_BYTES) {
    const bytes = await readFile(from);
    await writeFile(to, bytes, { flag: 'wx' });
    return createHash('sha256').update(bytes).digest('hex');
  }
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(createReadStream(from), tap, createWriteStream(to, { flags: 'wx' }));
  return hash.digest('hex');
}

/** Where hard links are refused (EXDEV, EPERM): a plain copy, verified like an object. */
async function copyPlain(file: StoredFile, dest: string, why: string | undefined): Promise<'copied'> {
  await copyFile(file.from, dest);
  const sha = await sha256File(dest);
  if (sha !== file.sha) throw new PluginDirUnreadableError(file.from, new Error(`${file.path} changed while it was being staged (hard links refused: ${why})`));
  await chmod(dest, file.executable ? 0o555 : 0o444);
  return 'copied';
}

/** Remove every object no version links to, and temporary objects a crash left. Returns how many went. */
export async function collectObjects(stateDir: string, { temporaries = false } = {}): Promise<number> {
  const root = objectsDir(stateDir);
  let removed = 0;
  const names = await readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    if (name.startsWith('tmp-')) {
      // Only at start-up: while the host runs, a temporary object may be a staging in progress.
      if (temporaries) {
        await rm(join(root, name), { force: true });
        removed += 1;
      }
      continue;
    }
    const dir = join(root, name);
    const objects = await readdir(dir).catch(() => [] as string[]);
    await mapLimit(objects, 16, async (object) => {
      const path = join(dir, object);
      const info = await stat(path).catch(() => null);
      if (info?.nlink === 1) {
        await rm(path, { force: true });
        removed += 1;
      }
    });
  }
  return removed;
}
