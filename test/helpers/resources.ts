/**
 * What this test process holds right now, read from /proc: its live child
 * processes and its listening TCP ports. Used to prove a reload released
 * every candidate resource.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const statOf = (pid: string): string[] | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" that closes the command name: state is [0], ppid is [1].
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
};

const commandLine = (pid: string): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
};

/**
 * Pids of the live (not zombie) children of `parent` (default: this process),
 * sorted; only those whose command line matches `command` when given.
 */
export function childPids(parent = process.pid, command?: RegExp): number[] {
  const me = String(parent);
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      const fields = statOf(pid);
      return fields !== null && fields[1] === me && fields[0] !== 'Z' && (!command || command.test(commandLine(pid)));
    })
    .map(Number)
    .sort((a, b) => a - b);
}

/** TCP ports this process is listening on, sorted. */
export function listeningPorts(): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const link = readlinkSync(`/proc/self/fd/${fd}`);
      const match = /^socket:\[(\d+)\]$/.exec(link);
      if (match) inodes.add(match[1]!);
    } catch {
      // The fd closed while we looked.
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // st 0A is LISTEN; column 9 is the socket inode.
      if (cols[3] === '0A' && inodes.has(cols[9]!)) ports.add(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/** The plugin processes this test process started (test plugins run `plugin.mjs`). */
export const pluginChildPids = (): number[] => childPids(process.pid, /plugin\.mjs/);

/**
 * Pids of every live (not zombie) process on the machine for which `matches` holds; it gets the pid and the
 * fields of /proc/PID/stat after the command name (state [0], ppid [1], pgid [2]). A process that vanishes
 * while it is read, or whose files cannot be read, does not match.
 */
export function liveProcesses(matches: (pid: string, stat: string[]) => boolean): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      const stat = statOf(pid);
      if (!stat || stat[0] === 'Z') return false;
      try {
        return matches(pid, stat);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Pids of live processes whose working directory is inside `dir` (plugins run in their version directory). */
export const processesUnder = (dir: string): number[] => liveProcesses((pid) => readlinkSync(`/proc/${pid}/cwd`).startsWith(dir));

/** Live processes whose process group is `pgid`. */
export const groupMembers = (pgid: number): number[] => liveProcesses((_pid, stat) => Number(stat[2]) === pgid);
