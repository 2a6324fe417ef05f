import { isAlive } from './host.js';
import { scaled } from './slowdown.js';

/**
 * Wait for a process that is not our child (so no exit event reaches us) to
 * disappear. Polls, bounded by `timeoutMs`; returns whether it exited.
 */
export async function waitForExit(pid: number, timeoutMs = scaled(5_000)): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
