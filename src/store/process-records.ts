/**
 * Process records: one file per running plugin process,
 * `STATE/processes/PID.json`, written once it starts and removed once it is
 * reaped. A plugin on stdio exits when a dead host's pipe closes; a go-plugin
 * plugin serves a socket and never notices. So a record still there when a
 * host opens the state directory names a process group a dead host left
 * running, and the temporary directories it used: recovery kills the one and
 * removes the others, before anything starts again.
 */
import { mkdirSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-write.js';

export const processRecordSchema = z.object({
  pid: z.number().int(),
  /** Tells the process from a later one with the same pid (see processStartTicks). */
  startTicks: z.string().nullable(),
  plugin: z.string(),
  version: z.string(),
  /** Outside the state directory (a go-plugin plugin's socket directory): removed with the record. */
  tempDirs: z.array(z.string()),
  /** Its cgroups (resource limits): what is left in them is killed, then they are removed. */
  cgroups: z.array(z.string()).default([]),
});

export type ProcessRecord = z.input<typeof processRecordSchema>;

const dirOf = (root: string) => join(root, 'processes');
const fileOf = (root: string, pid: number) => join(dirOf(root), `${pid}.json`);

/** Not durable: a record has to survive a crashed host, and after a power loss no process survives either. */
export async function writeProcessRecord(root: string, record: ProcessRecord): Promise<void> {
  // Synchronous, like the write itself (src/store/atomic-write.ts): one metadata call, no thread-pool round trip.
  mkdirSync(dirOf(root), { recursive: true });
  await writeFileAtomic(fileOf(root, record.pid), `${JSON.stringify(record)}\n`, { durable: false });
}

export async function removeProcessRecord(root: string, pid: number): Promise<void> {
  await rm(fileOf(root, pid), { force: true });
}

/** Every record left in the state directory (an unreadable one as null), and removes temporary files of interrupted writes. */
export async function readProcessRecords(root: string): Promise<Array<{ pid: number; record: ProcessRecord | null }>> {
  const found: Array<{ pid: number; record: ProcessRecord | null }> = [];
  for (const name of (await readdir(dirOf(root)).catch(() => [] as string[])).sort()) {
    if (!name.endsWith('.json')) {
      await rm(join(dirOf(root), name), { force: true });
      continue;
    }
    const parsed = processRecordSchema.safeParse(await readFile(join(dirOf(root), name), 'utf8').then(JSON.parse).catch(() => null));
    found.push({ pid: Number(name.slice(0, -'.json'.length)), record: parsed.success ? parsed.data : null });
  }
  return found;
}
