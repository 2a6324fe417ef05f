/** What a process uses now, from /proc: resident memory and CPU time (status, limits, the polling fallback). */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessUsage {
  memoryBytes: number;
  cpuSeconds: number;
}

/** Clock ticks per second of /proc/PID/stat's times (USER_HZ: 100 on every Linux port). */
const USER_HZ = 100;

/** The process's resident memory and CPU time, or null when /proc does not have it. */
export function processUsage(pid: number): ProcessUsage | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the ")" that closes the command name: [11] utime, [12] stime.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const rssKiB = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
    return { memoryBytes: rssKiB * 1024, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / USER_HZ };
  } catch {
    return null;
  }
}

/** How many file descriptors the process holds now, or null when /proc does not say. */
export function openFileCount(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}
