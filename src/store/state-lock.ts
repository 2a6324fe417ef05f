/**
 * One writer per state directory: STATE/lock, created with its content in one
 * step (a temporary file linked to the name), holding the owner's pid and
 * process start time. A lock whose owner is gone (or
 * whose pid now belongs to another process: same pid, other start time) is
 * stale and taken over; a live owner makes the second host fail fast.
 */
import { link, open, readFile, stat, unlink } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fsyncDir } from './atomic-write.js';
import { randomBytes } from 'node:crypto';
import { StateLockedError } from '../errors.js';

interface LockOwner {
  pid: number;
  /** /proc/PID/stat start time (clock ticks since boot): tells a live owner from a reused pid. */
  startTicks: string | null;
  hostname: string;
  startedAt: string;
}

/**
 * A process's start time in clock ticks since boot, or null where /proc is not available. Read
 * synchronously: procfs is made by the kernel on the read and never waits on a disk, and an async read
 * costs a thread-pool round trip and several reads (the file's size shows as 0) for 300 bytes.
 */
export function processStartTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

async function isLive(owner: LockOwner): Promise<boolean> {
  if (owner.hostname !== hostname()) return true; // Another machine's host (shared disk): never assume it is dead.
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const ticks = processStartTicks(owner.pid);
  return owner.startTicks === null || ticks === null || ticks === owner.startTicks;
}

interface SeenLock {
  text: string;
  owner: LockOwner | null;
  /** Identity and age of the file read, so a breaker removes exactly the lock it judged stale. */
  ino: number;
  ageMs: number;
}

async function readOwner(path: string): Promise<SeenLock | null> {
  const info = await stat(path).catch(() => null);
  if (!info) return null;
  const text = await readFile(path, 'utf8').catch(() => '');
  let owner: LockOwner | null = null;
  try {
    owner = JSON.parse(text) as LockOwner;
  } catch {
    // Empty or torn: a lock from an older wfreload that crashed between create and write (this one writes first, then links).
  }
  return { text, owner, ino: info.ino, ageMs: Date.now() - info.mtimeMs };
}

/** A lock file without an owner record is held this long after it was made, then stale. */
export const OWNERLESS_LOCK_MS = 10_000;
/** A breaker's mutex older than this was left by a crash: breaking takes milliseconds. */
const BREAKER_STALE_MS = 10_000;

/** Create `path` with `content` in one step: write and fsync a temporary file, then link it to the name (EEXIST if taken). */
async function createWithContent(path: string, content: string): Promise<boolean> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o644);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(tmp, path);
    await fsyncDir(dirname(path));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/**
 * Remove the stale lock `seen`, under a mutex (`lock.break`, created exclusively) that every breaker takes:
 * under it the lock is read again and removed only if it is still the very file judged stale. A host that
 * created its lock meanwhile is never removed, because only a stale lock is removed, and while it exists no
 * other lock can be created.
 */
async function breakStale(path: string, seen: SeenLock, me: LockOwner): Promise<void> {
  const breaker = `${path}.break`;
  if (!(await createWithContent(breaker, JSON.stringify(me)))) {
    const held = await stat(breaker).catch(() => null);
    if (held && Date.now() - held.mtimeMs > BREAKER_STALE_MS) await unlink(breaker).catch(() => {});
    else await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 20));
    return;
  }
  try {
    const now = await readOwner(path);
    if (now && now.ino === seen.ino && now.text === seen.text) await unlink(path);
  } finally {
    await unlink(breaker).catch(() => {});
  }
}

export interface StateLock {
  release(): Promise<void>;
}

export async function acquireStateLock(stateDir: string): Promise<StateLock> {
  const path = join(stateDir, 'lock');
  const me: LockOwner = { pid: process.pid, startTicks: processStartTicks(process.pid), hostname: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await createWithContent(path, JSON.stringify(me))) {
      return {
        async release() {
          const seen = await readOwner(path);
          if (seen?.owner?.pid === me.pid && seen.owner.startTicks === me.startTicks) await unlink(path).catch(() => {});
        },
      };
    }
    const seen = await readOwner(path);
    if (!seen) continue; // Released meanwhile: try again.
    if (seen.owner && (await isLive(seen.owner))) throw new StateLockedError(stateDir, seen.owner);
    if (!seen.owner && seen.ageMs < OWNERLESS_LOCK_MS) {
      throw new StateLockedError(stateDir, { pid: -1 }, `its lock file has no owner record and is ${Math.round(seen.ageMs / 1000)} s old; it counts as held until it is ${OWNERLESS_LOCK_MS / 1000} s old`);
    }
    await breakStale(path, seen, me);
  }
  const seen = await readOwner(path);
  throw new StateLockedError(stateDir, seen?.owner ?? { pid: -1 });
}
