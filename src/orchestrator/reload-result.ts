/**
 * The reload result: what every reload returns, journals and (later) the API
 * answers with. One shape for plugins and configs.
 */
import type { ErrorInfo } from '../errors.js';

export type ReloadOutcome =
  /** The candidate passed every check and is now active. */
  | 'activated'
  /** The candidate was started and failed a check; it was stopped and the previous version kept serving. */
  | 'rolledBack'
  /** The candidate failed staging (manifest, paths, checksums), so no process was ever launched. */
  | 'rejected'
  /** A dry run passed every check; the candidate was stopped without swapping. */
  | 'dryRunPassed'
  /** Legacy mode only: the old version was unloaded and the new one failed, so nothing is active. */
  | 'failed';

export interface ReloadStep {
  /** The machine state the slot was in. */
  state: string;
  /** The work done in that state (stage, start, handshake, probe, swap, drain…). */
  work: string;
  startedAt: string;
  ms: number;
  error?: ErrorInfo;
}

/** A plugin version as results report it. */
export interface VersionInfo {
  version: string;
  digest: string;
  pid: number | null;
}

export interface ReloadResult {
  id: string;
  kind: 'plugin';
  /** `plugin:NAME` */
  target: string;
  name: string;
  source: string;
  dryRun: boolean;
  legacy: boolean;
  outcome: ReloadOutcome;
  startedAt: string;
  finishedAt: string;
  ms: number;
  steps: ReloadStep[];
  /** The work that failed, when the outcome is not a success. */
  failedStep: string | null;
  error: ErrorInfo | null;
  /** What was active before the reload. */
  previous: VersionInfo | null;
  /** What is active after it. */
  active: VersionInfo | null;
  /** The version that was tried. */
  candidate: VersionInfo | null;
}

export const isSuccess = (outcome: ReloadOutcome): boolean => outcome === 'activated' || outcome === 'dryRunPassed';

/** One line a person can read, e.g. for logs and the CLI. */
export function formatReloadResult(result: ReloadResult): string {
  const tried = result.candidate ? ` ${result.candidate.version}` : '';
  const active = result.active ? `${result.active.version} (pid ${result.active.pid}) is still active` : 'nothing was active';
  switch (result.outcome) {
    case 'activated':
      return `${result.target}: activated${tried} in ${result.ms} ms (was ${result.previous?.version ?? 'nothing'})`;
    case 'dryRunPassed':
      return `${result.target}: dry run of${tried} passed every check; nothing changed, ${active}`;
    case 'failed':
      return `${result.target}: LEGACY reload failed at ${result.failedStep}: ${result.error?.message} The old version was already unloaded; nothing is active.`;
    default:
      return `${result.target}: ${result.outcome} at ${result.failedStep}: ${result.error?.message}\nNothing changed: ${active}.`;
  }
}

export const newReloadId = (): string =>
  `rl-${Date.now().toString(36)}-${Math.floor(Math.random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0')}`;
