/**
 * One writer per state directory: STATE/lock, created exclusively, holding
 * the owner's pid and process start time. A lock whose owner is gone (or
 * whose pid now belongs to another process: same pid, other start time) is
 * stale and taken over; a live owner makes the second host fail fast.
 */
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { StateLockedError } from '../errors.js';

interface LockOwner {
  pid: number;
  /** /proc/PID/stat start time (clock ticks since boot): tells a live owner from a reused pid. */
  startTicks: string | null;
  hostname: string;
  startedAt: string;
}

/** A process's start time in clock ticks since boot, or null where /proc is not available. */
export async function processStartTicks(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
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
  const ticks = await processStartTicks(owner.pid);
  return owner.startTicks === null || ticks === null || ticks === owner.startTicks;
}

async function readOwner(path: string): Promise<{ text: string; owner: LockOwner | null }> {
  const text = await readFile(path, 'utf8').catch(() => '');
  try {
    return { text, owner: JSON.parse(text) as LockOwner };
  } catch {
    // Torn by a crash between create and write: nobody can own it.
    return { text, owner: null };
  }
}

export interface StateLock {
  release(): Promise<void>;
}

export async function acquireStateLock(stateDir: string): Promise<StateLock> {
  const path = join(stateDir, 'lock');
  const me: LockOwner = { pid: process.pid, startTicks: await processStartTicks(process.pid), hostname: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o644);
      try {
        await handle.writeFile(JSON.stringify(me));
        await handle.sync();
      } finally {
        await handle.close();
      }
      return {
        async release() {
          const { owner } = await readOwner(path);
          if (owner?.pid === me.pid && owner.startTicks === me.startTicks) await unlink(path).catch(() => {});
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const stale = await readOwner(path);
    if (stale.owner && (await isLive(stale.owner))) throw new StateLockedError(stateDir, stale.owner);
    // Stale: move it aside, and make sure what we moved is the stale lock and not a fresh one a racing host just made.
    const aside = `${path}.stale-${randomBytes(4).toString('hex')}`;
    try {
      await rename(path, aside);
    } catch {
      continue;
    }
    const moved = await readFile(aside, 'utf8').catch(() => '');
    if (moved !== stale.text) await link(aside, path).catch(() => {});
    await unlink(aside).catch(() => {});
  }
  const { owner } = await readOwner(path);
  throw new StateLockedError(stateDir, owner ?? { pid: -1 });
}
