/**
 * The process group a dead host's candidate left behind. Plugins run in their
 * own group (pgid = the plugin's pid), so a candidate's children share it.
 * After a host dies, its plugins exit when stdin closes, but a child that
 * ignores that keeps running. Recovery kills what is left of such a group:
 * only processes in it that started no earlier than the candidate did, so a
 * pid reused since then by an unrelated process is never signalled.
 */
import { readdir, readFile } from 'node:fs/promises';

interface ProcStat {
  pid: number;
  pgrp: number;
  startTicks: bigint;
  zombie: boolean;
}

async function statOf(pid: string): Promise<ProcStat | null> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // After the ")" that closes the command name: [0] state, [1] ppid, [2] pgrp, …, [19] starttime.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid: Number(pid), pgrp: Number(fields[2]), startTicks: BigInt(fields[19] ?? '0'), zombie: fields[0] === 'Z' };
  } catch {
    return null;
  }
}

/** SIGKILL every live process of group `pgid` that started at or after `leaderStartTicks`; returns their pids. */
export async function killStaleGroup(pgid: number, leaderStartTicks: string | null): Promise<number[]> {
  if (leaderStartTicks === null) return [];
  const since = BigInt(leaderStartTicks);
  const killed: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const stat = await statOf(name);
    if (!stat || stat.zombie || stat.pgrp !== pgid || stat.startTicks < since) continue;
    try {
      process.kill(stat.pid, 'SIGKILL');
      killed.push(stat.pid);
    } catch {
      // Gone meanwhile.
    }
  }
  return killed;
}
