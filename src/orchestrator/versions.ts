/**
 * The staged versions of a plugin (its immutable copies under
 * STATE/plugins/NAME/), which of them is active and which was active before,
 * and which one a rollback goes back to.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import type { ActiveMarker } from '../store/index.js';
import type { ReloadResult } from './reload-result.js';

export interface StagedVersion {
  version: string;
  /** The first 12 hex digits of the digest (the version directory's name carries them). */
  digest: string;
  /** The version directory. */
  dir: string;
  stagedAt: string;
  active: boolean;
  /** The version that was active before the active one (what `rollback` goes back to). */
  previous: boolean;
}

/** `VERSION-DIGEST12` → its parts (a version may hold dashes itself: 1.0.0-beta.1). */
const parseDirName = (name: string): { version: string; digest: string } | null => {
  const match = /^(.+)-([0-9a-f]{12})$/.exec(name);
  return match ? { version: match[1]!, digest: match[2]! } : null;
};

/**
 * The digest (12 hex digits) of the version active before the current one: the `previous` of the newest
 * activation of `name` in the journal (a plugin reload's, or a config reload's entry for it), if any.
 */
function previousDigest(name: string, history: ReloadResult[]): string | null {
  for (const result of [...history].reverse()) {
    const entry = result.target === `plugin:${name}` ? result : result.plugins?.find((p) => p.name === name);
    if (entry?.outcome !== 'activated') continue;
    const previous = entry.previous as { digest?: string } | null;
    return previous?.digest ? previous.digest.slice(0, 12) : null;
  }
  return null;
}

/** Every staged version of `name`, newest staged first. */
export async function stagedVersions(root: string, name: string, marker: ActiveMarker, history: ReloadResult[]): Promise<StagedVersion[]> {
  const parent = join(root, 'plugins', name);
  const names = await readdir(parent).catch(() => [] as string[]);
  const activeDigest = marker.plugins[name]?.digest.slice(0, 12) ?? null;
  const before = previousDigest(name, history);
  const versions: StagedVersion[] = [];
  for (const entry of names) {
    const parsed = parseDirName(entry);
    if (!parsed) continue;
    const dir = join(parent, entry);
    const info = await stat(dir).catch(() => null);
    if (!info?.isDirectory()) continue;
    versions.push({ ...parsed, dir, stagedAt: info.mtime.toISOString(), active: parsed.digest === activeDigest, previous: parsed.digest === before && parsed.digest !== activeDigest });
  }
  return versions.sort((a, b) => (a.stagedAt < b.stagedAt ? 1 : a.stagedAt > b.stagedAt ? -1 : 0));
}

/** The version directory a rollback of `name` activates: the previous version, or the newest staged `to`. */
export function rollbackTarget(name: string, versions: StagedVersion[], to: string | undefined): StagedVersion {
  const listed = versions.map((v) => `${v.version} (${v.digest})${v.active ? ' active' : ''}`).join(', ') || 'none';
  if (to !== undefined) {
    const match = versions.find((v) => v.version === to || v.digest === to);
    if (!match) throw new InvalidArgumentError('--to', `no staged version of plugin "${name}" matches it; staged: ${listed}`, to);
    return match;
  }
  const previous = versions.find((v) => v.previous);
  if (!previous) throw new InvalidArgumentError('rollback', `no previous version of plugin "${name}" is staged (the journal names none, or it was pruned); pick one with --to VERSION from: ${listed}`);
  return previous;
}

/** What a prune removed and kept. */
export interface PruneResult {
  name: string;
  removed: Array<Pick<StagedVersion, 'version' | 'digest' | 'dir'>>;
  kept: Array<Pick<StagedVersion, 'version' | 'digest' | 'dir'>>;
}

/**
 * Which staged versions of a plugin go: all but the active one, the previous one, any in use (a running
 * process, active.json, a pending swap), and the `keep` newest staged of the others.
 */
export function pruneSelection(versions: StagedVersion[], keep: number, inUse: ReadonlySet<string>): { removed: StagedVersion[]; kept: StagedVersion[] } {
  const removed: StagedVersion[] = [];
  const kept: StagedVersion[] = [];
  let spare = keep;
  for (const version of versions) {
    const pinned = version.active || version.previous || inUse.has(version.dir);
    if (pinned) kept.push(version);
    else if (spare > 0) {
      spare -= 1;
      kept.push(version);
    } else removed.push(version);
  }
  return { removed, kept };
}

