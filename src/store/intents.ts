/**
 * Intent records: one file per reload in progress, `STATE/intents/ID.json`,
 * written (atomically) before the reload starts work and updated as it goes,
 * removed once its result is journaled. A file still there when a host opens
 * the state directory is a reload the host died in: recovery journals it as
 * `interrupted` and releases what it names.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-write.js';

/** A staged path (relative to the state directory) and whether this reload created it. */
const stagedSchema = z.object({ dir: z.string(), createdByReload: z.boolean() }).nullable();
/** A candidate process once it exists: its pid is its process group; `startTicks` tells it from a later process with the same pid. */
const candidateSchema = z.object({ version: z.string(), pid: z.number().int(), startTicks: z.string().nullable() }).nullable();

export const intentSchema = z.object({
  id: z.string(),
  target: z.string(),
  requestId: z.string().optional(),
  source: z.string(),
  startedAt: z.string(),
  /** The slot state the reload had reached. */
  state: z.string(),
  /** The staged copy: a plugin's version directory, or a config reload's config file. */
  staged: stagedSchema,
  /** The candidate process, once started. */
  candidate: candidateSchema,
  /** A config reload: each plugin it starts through its own slot, with its staged copy and process. */
  plugins: z.array(z.object({ name: z.string(), staged: stagedSchema, candidate: candidateSchema })).default([]),
});

export type IntentPart = Pick<Intent, 'staged' | 'candidate'>;

export type Intent = z.infer<typeof intentSchema>;

const dirOf = (root: string) => join(root, 'intents');
const fileOf = (root: string, id: string) => join(dirOf(root), `${id}.json`);

/** `durable: false` for updates that only move `state` on: they survive a crashed host, just not a power loss. */
export async function writeIntent(root: string, intent: Intent, options: { durable?: boolean } = {}): Promise<void> {
  await mkdir(dirOf(root), { recursive: true });
  await writeFileAtomic(fileOf(root, intent.id), `${JSON.stringify(intent)}\n`, options);
}

/** Leftover temporary files of intent writes a crash interrupted. */
export async function removeIntentDebris(root: string): Promise<void> {
  for (const name of await readdir(dirOf(root)).catch(() => [] as string[])) {
    if (name.endsWith('.tmp')) await rm(join(dirOf(root), name), { force: true });
  }
}

export async function removeIntent(root: string, id: string): Promise<void> {
  await rm(fileOf(root, id), { force: true });
}

/** Every intent left in the state directory; an unreadable one is returned as null with its id (the file name). */
export async function readIntents(root: string): Promise<Array<{ id: string; intent: Intent | null }>> {
  const names = await readdir(dirOf(root)).catch(() => [] as string[]);
  const found: Array<{ id: string; intent: Intent | null }> = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const id = name.slice(0, -'.json'.length);
    const parsed = intentSchema.safeParse(await readFile(join(dirOf(root), name), 'utf8').then(JSON.parse).catch(() => null));
    found.push({ id, intent: parsed.success ? parsed.data : null });
  }
  return found;
}
