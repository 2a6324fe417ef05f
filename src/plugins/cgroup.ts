/**
 * A cgroup per plugin process, where the host may create one: cgroup v2
 * (one directory under the unified tree) or v1 (one under each of the
 * memory, pids and cpu hierarchies). The process joins it before its
 * program runs (plugin-process.ts's spawn wrapper), so its children are in
 * it too, and the kernel enforces memory, processes and CPU. Removed once the
 * process is reaped; a dead host's are removed by recovery (process records).
 */
import { randomUUID } from 'node:crypto';
import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PluginLimits } from './limits.js';

/** Every plugin cgroup lives under this parent, so recovery never touches anything else. */
const PARENT = 'wfreload';
const MiB = 1024 * 1024;
const CPU_PERIOD_US = 100_000;

export type CgroupVersion = 'v2' | 'v1';

export interface PluginCgroup {
  version: CgroupVersion;
  /** The directories, one per hierarchy (v1) or one (v2). */
  dirs: string[];
  /** The files the process writes its pid to, to join. */
  procsFiles: string[];
  /** Whether the kernel's OOM killer stopped a process of it. */
  oomKilled(): Promise<boolean>;
  /** The most memory it used, in bytes, or null when the kernel does not say. */
  peakMemory(): Promise<number | null>;
}

const exists = (path: string) => access(path).then(() => true, () => false);
const readNumber = async (file: string): Promise<number | null> => {
  const text = await readFile(file, 'utf8').catch(() => null);
  const value = text === null ? NaN : Number(text.trim());
  return Number.isFinite(value) ? value : null;
};
/** A `key value` line of a flat-keyed cgroup file (memory.events, memory.oom_control). */
const readKey = async (file: string, key: string): Promise<number | null> => {
  const text = await readFile(file, 'utf8').catch(() => '');
  const line = text.split('\n').find((l) => l.startsWith(`${key} `));
  return line ? Number(line.slice(key.length + 1)) : null;
};

/** Which cgroup version is mounted where the host can use it, or null. */
export async function cgroupVersion(root: string): Promise<CgroupVersion | null> {
  if (await exists(join(root, 'cgroup.controllers'))) return 'v2';
  if ((await exists(join(root, 'memory'))) && (await exists(join(root, 'pids')))) return 'v1';
  return null;
}

/** A new cgroup with `limits` written, or the reason the host cannot make one. */
export async function createCgroup(limits: PluginLimits, root: string): Promise<PluginCgroup | { unavailable: string }> {
  const version = await cgroupVersion(root);
  if (version === null) return { unavailable: `no cgroup v1 or v2 hierarchy at ${root}` };
  const name = `p-${randomUUID().slice(0, 12)}`;
  const made: string[] = [];
  try {
    if (version === 'v2') {
      // Controllers must be enabled for the children of each level on the way down.
      await writeFile(join(root, 'cgroup.subtree_control'), '+memory +pids +cpu').catch(() => {});
      await mkdir(join(root, PARENT), { recursive: true });
      await writeFile(join(root, PARENT, 'cgroup.subtree_control'), '+memory +pids +cpu');
      const dir = join(root, PARENT, name);
      await mkdir(dir);
      made.push(dir);
      if (limits.memoryMiB !== undefined) {
        await writeFile(join(dir, 'memory.max'), String(limits.memoryMiB * MiB));
        await writeFile(join(dir, 'memory.swap.max'), '0').catch(() => {});
      }
      if (limits.processes !== undefined) await writeFile(join(dir, 'pids.max'), String(limits.processes));
      if (limits.cpuPercent !== undefined) await writeFile(join(dir, 'cpu.max'), `${(limits.cpuPercent * CPU_PERIOD_US) / 100} ${CPU_PERIOD_US}`);
      return {
        version,
        dirs: made,
        procsFiles: [join(dir, 'cgroup.procs')],
        oomKilled: async () => ((await readKey(join(dir, 'memory.events'), 'oom_kill')) ?? 0) > 0,
        peakMemory: async () => (await readNumber(join(dir, 'memory.peak'))) ?? (await readNumber(join(dir, 'memory.current'))),
      };
    }
    const dirOf = (controller: string) => join(root, controller, PARENT, name);
    for (const controller of ['memory', 'pids', ...(limits.cpuPercent !== undefined ? ['cpu'] : [])]) {
      await mkdir(dirOf(controller), { recursive: true });
      made.push(dirOf(controller));
    }
    const memory = dirOf('memory');
    if (limits.memoryMiB !== undefined) {
      await writeFile(join(memory, 'memory.limit_in_bytes'), String(limits.memoryMiB * MiB));
      // With swap accounting, swap counts too; without it the file is absent.
      await writeFile(join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryMiB * MiB)).catch(() => {});
    }
    if (limits.processes !== undefined) await writeFile(join(dirOf('pids'), 'pids.max'), String(limits.processes));
    if (limits.cpuPercent !== undefined) {
      await writeFile(join(dirOf('cpu'), 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
      await writeFile(join(dirOf('cpu'), 'cpu.cfs_quota_us'), String((limits.cpuPercent * CPU_PERIOD_US) / 100));
    }
    return {
      version,
      dirs: made,
      procsFiles: made.map((dir) => join(dir, 'cgroup.procs')),
      // oom_kill is in memory.oom_control since Linux 4.13.
      oomKilled: async () => ((await readKey(join(memory, 'memory.oom_control'), 'oom_kill')) ?? 0) > 0,
      peakMemory: () => readNumber(join(memory, 'memory.max_usage_in_bytes')),
    };
  } catch (error) {
    await removeCgroups(made);
    return { unavailable: `cannot create a cgroup under ${root} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
}

/** SIGKILL what is left in each cgroup, then remove it (a cgroup with processes cannot be removed). Only under the wfreload parent. */
export async function removeCgroups(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs.filter((path) => path.split('/').includes(PARENT))) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const pids = (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      const removed = await rmdir(dir).then(
        () => true,
        (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
      );
      if (removed) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
