/**
 * active.json: which version of each plugin is live. Read at start, rewritten
 * atomically at each swap. Paths inside are relative to the state directory
 * so the directory can be moved as a whole.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { StateCorruptError, StateWriteError } from '../errors.js';
import { diskFault } from './disk-faults.js';
import { writeFileAtomic } from './atomic-write.js';

export const activePluginSchema = z.strictObject({
  version: z.string(),
  /** Version directory, relative to the state directory. */
  dir: z.string(),
  /** sha256 of the staged directory. */
  digest: z.string(),
  activatedAt: z.string(),
  /** The reload that activated it. */
  reloadId: z.string(),
});

export const activeEngineSchema = z.strictObject({
  /** Counts engine swaps. */
  generation: z.number().int().positive(),
  /** sha256 of the config text. */
  digest: z.string(),
  /** The staged copy, relative to the state directory (configs/DIGEST.yaml). */
  file: z.string(),
  /** The file it was staged from; plugin directories in it resolve against its directory. */
  source: z.string(),
  listen: z.string(),
  activatedAt: z.string(),
  reloadId: z.string(),
});

/**
 * A swap not yet confirmed (two-phase handoff, like OTP's make_permanent):
 * written with the swap, removed when the confirmation window passes. A host
 * that restarts and finds one puts back what it records.
 */
export const pendingSwapSchema = z.strictObject({
  reloadId: z.string(),
  startedAt: z.string(),
  /** name → the entry before the swap (null: the plugin was not active). */
  previousPlugins: z.record(z.string(), activePluginSchema.nullable()),
  /** Config swaps only: the engine before the swap. */
  previousEngine: activeEngineSchema.nullable().optional(),
});

export const activeMarkerSchema = z.strictObject({
  /** Bumped at every swap; lets readers tell two markers apart. */
  generation: z.number().int().nonnegative(),
  updatedAt: z.string().nullable(),
  plugins: z.record(z.string(), activePluginSchema),
  /** The active engine config, or null before the first config is activated. */
  engine: activeEngineSchema.nullable().default(null),
  /** target → its unconfirmed swap. */
  pending: z.record(z.string(), pendingSwapSchema).default({}),
});

export type ActivePlugin = z.infer<typeof activePluginSchema>;
export type ActiveEngine = z.infer<typeof activeEngineSchema>;
export type PendingSwap = z.infer<typeof pendingSwapSchema>;
export type ActiveMarker = z.infer<typeof activeMarkerSchema>;

export const emptyActiveMarker = (): ActiveMarker => ({ generation: 0, updatedAt: null, plugins: {}, engine: null, pending: {} });

export async function readActiveMarker(path: string): Promise<ActiveMarker> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyActiveMarker();
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new StateCorruptError(path, `not JSON (${(error as Error).message})`);
  }
  const parsed = activeMarkerSchema.safeParse(json);
  if (!parsed.success) throw new StateCorruptError(path, z.prettifyError(parsed.error));
  return parsed.data;
}

/** `syncDir: false` for a pending swap's record (StateStore.updateActiveMarker says when that is enough). */
export async function writeActiveMarker(path: string, marker: ActiveMarker, { syncDir = true }: { syncDir?: boolean } = {}): Promise<void> {
  try {
    diskFault('marker', path);
  } catch (error) {
    throw new StateWriteError(path, error);
  }
  await writeFileAtomic(path, formatActiveMarker(marker), { syncDir });
}

/** The marker as its file holds it. */
export const formatActiveMarker = (marker: ActiveMarker): string => `${JSON.stringify(marker, null, 2)}\n`;

/** Undo one pending swap in `marker` (in place): its previous entries come back and the record goes. */
export function revertPending(marker: ActiveMarker, target: string): void {
  const pending = marker.pending[target];
  if (!pending) return;
  for (const [name, entry] of Object.entries(pending.previousPlugins)) {
    if (entry) marker.plugins[name] = entry;
    else delete marker.plugins[name];
  }
  if (pending.previousEngine !== undefined) marker.engine = pending.previousEngine;
  delete marker.pending[target];
}
