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
  /** What was offered is exactly what is active (name, version and bytes; for a config, its text and every plugin): nothing was started, restarted or swapped. */
  | 'unchanged'
  /** Legacy mode only: the old version was unloaded and the new one failed, so nothing is active. */
  | 'failed'
  /** Journal only: a restart found this swap unconfirmed (the host died inside the window) and put the previous version back. */
  | 'recovered'
  /** Journal only: the supervisor restarted an active plugin that crashed (same version). */
  | 'restarted'
  /** Journal only: the plugin kept crashing; the supervisor gave up and marked it failed. */
  | 'crashed'
  /** Journal only: the host died during this reload; the next start released what it had started (see `error.details.cleaned`). */
  | 'interrupted';

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

/** An engine as config results report it. */
export interface EngineInfo {
  /** Counts engine swaps; front-door answers carry it in x-wfreload-generation. */
  generation: number;
  /** sha256 of the config text. */
  digest: string;
  listen: string;
}

export type TargetInfo = VersionInfo | EngineInfo;

const describeTarget = (info: TargetInfo, withPid = true): string =>
  'version' in info ? `${info.version}${withPid && info.pid ? ` (pid ${info.pid})` : ''}` : `generation ${info.generation} (config ${info.digest.slice(0, 12)})`;

export interface ReloadResult<T extends TargetInfo = TargetInfo> {
  id: string;
  kind: 'plugin' | 'config';
  /** `plugin:NAME`, or `config` */
  target: string;
  /** The plugin name, or `engine`. */
  name: string;
  /** The directory or file offered. */
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
  previous: T | null;
  /** What is active after it. */
  active: T | null;
  /** What was tried. */
  candidate: T | null;
  /** The caller's idempotency key, when it gave one. */
  requestId?: string;
  /**
   * Present only when clean-up work after the outcome failed or ran past its bound (WFR_CLEANUP_FAILED,
   * WFR_WORK_TIMEOUT): the outcome stands, and `details.left` names what may have been left behind.
   */
  cleanupError?: ErrorInfo;
  /**
   * Config reloads only: one result per plugin the candidate config started, each run through its own plugin
   * slot (same shape as a plugin reload's result, with the config reload's `id`). Plugins the config shares
   * with the running engine (same bytes) are not started, so not listed.
   */
  plugins?: PluginReloadResult[];
}

/** The result of a plugin reload. */
export type PluginReloadResult = ReloadResult<VersionInfo>;
/** The result of a config reload. */
export type ConfigReloadResult = ReloadResult<EngineInfo>;

export const isSuccess = (outcome: ReloadOutcome): boolean => outcome === 'activated' || outcome === 'dryRunPassed' || outcome === 'unchanged';

/** One line a person can read, e.g. for logs and the CLI. */
export function formatReloadResult(result: ReloadResult): string {
  const line = formatOutcome(result);
  return result.cleanupError ? `${line}\nClean-up failed afterwards (${result.cleanupError.code}): ${result.cleanupError.message}` : line;
}

function formatOutcome(result: ReloadResult): string {
  const tried = result.candidate ? ` ${describeTarget(result.candidate, false)}` : '';
  const active = result.active ? `${describeTarget(result.active)} is still active` : 'nothing was active';
  switch (result.outcome) {
    case 'activated':
      return `${result.target}: activated ${result.active ? describeTarget(result.active) : tried} in ${result.ms} ms (was ${result.previous ? describeTarget(result.previous) : 'nothing'})`;
    case 'dryRunPassed':
      return `${result.target}: dry run of${tried} passed every check; nothing changed, ${active}`;
    case 'unchanged':
      return `${result.target}: unchanged: ${result.active ? describeTarget(result.active) : tried} is already active with the same bytes; nothing was restarted`;
    case 'restarted':
      // At boot nothing was replaced: the version active.json names was started again.
      if (!result.previous) return `${result.target}: started ${result.active ? describeTarget(result.active) : tried} again from active.json`;
      return `${result.target}: restarted ${result.active ? describeTarget(result.active) : tried} after ${describeTarget(result.previous)} crashed (${result.error?.message})`;
    case 'crashed':
      return `${result.target}: ${result.error?.message}`;
    case 'recovered':
      return `${result.target}: recovered at restart: ${result.error?.message}`;
    case 'interrupted':
      return `${result.target}: interrupted at ${result.failedStep}: ${result.error?.message}`;
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
