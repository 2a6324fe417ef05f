/**
 * What a host does when it opens a state directory: crash recovery (revert
 * unconfirmed swaps, journal them as `recovered`, remove staging debris), then
 * start the confirmed set.
 */
import { CONFIG_TARGET } from '../../machines/orchestrator.js';
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { RecoveredUnconfirmedError, ReloadInterruptedError, toErrorInfo, type ErrorInfo } from '../errors.js';
import { killStaleGroup } from '../plugins/index.js';
import { removeCgroups } from '../plugins/cgroup.js';
import type { StagedPlugin } from '../../machines/plugin-slot.js';
import { readIntents, readProcessRecords, removeIntent, removeProcessRecord, removeIntentDebris, revertPending, type ActiveMarker, type Intent, type PendingSwap, type StateStore } from '../store/index.js';
import { engineWorkOf, pluginWorkOf } from './run-reload.js';
import type { Logger } from 'pino';
import type { EngineRuntime } from './engine-runtime.js';
import type { PluginReloadResult, ReloadResult, TargetInfo } from './reload-result.js';

export interface RecoveryDeps {
  store: StateStore;
  engines: EngineRuntime;
  logger: Logger;
  record: (result: ReloadResult) => Promise<void>;
  /** The ids of the reloads the journal holds a result for. */
  journaled: () => Promise<ReadonlySet<string>>;
  /** Start a confirmed version through its slot (the restart path: checks, then reinstate). */
  restart: (staged: StagedPlugin) => Promise<PluginReloadResult>;
  /** Hand a version that would not start to the supervisor: retried with backoff, then marked failed. */
  retryLater: (staged: StagedPlugin, why: ErrorInfo) => void;
}

/** The journal entry for a swap a restart found unconfirmed and reverted. */
function recoveredResult(target: string, pending: PendingSwap, before: ActiveMarker, after: ActiveMarker): ReloadResult {
  const now = new Date().toISOString();
  const config = target === CONFIG_TARGET;
  const info = (m: ActiveMarker): TargetInfo | null => {
    if (config) return m.engine && { generation: m.engine.generation, digest: m.engine.digest, listen: m.engine.listen };
    const entry = m.plugins[target.slice('plugin:'.length)];
    return entry ? { version: entry.version, digest: entry.digest, pid: null } : null;
  };
  return {
    id: pending.reloadId,
    kind: config ? 'config' : 'plugin',
    target,
    name: config ? 'engine' : target.slice('plugin:'.length),
    source: 'restart',
    dryRun: false,
    legacy: false,
    outcome: 'recovered',
    startedAt: pending.startedAt,
    finishedAt: now,
    ms: Date.parse(now) - Date.parse(pending.startedAt),
    steps: [],
    failedStep: 'confirm',
    error: new RecoveredUnconfirmedError(target, pending.reloadId).toJSON(),
    previous: info(before),
    active: info(after),
    candidate: info(before),
  };
}

/**
 * Crash recovery, then start: unconfirmed swaps in active.json are put back
 * (each journaled as `recovered`), staging debris is removed, and the
 * confirmed set is started.
 */
export async function recoverAndStart(found: ActiveMarker, { store, engines, logger, record, journaled, restart, retryLater }: RecoveryDeps): Promise<void> {
  let marker = found;
  const pending = Object.entries(found.pending);
  if (pending.length > 0) {
    marker = await store.updateActiveMarker((m) => {
      for (const [target] of pending) revertPending(m, target);
    });
    for (const [target, swap] of pending) await record(recoveredResult(target, swap, found, marker));
  }
  await store.removeDebris();
  await releaseInterrupted(store, marker, new Set(pending.map(([, swap]) => swap.reloadId)), { logger, record, journaled });
  // After the candidates, which the journal names: what is left is what the dead host was serving with.
  await releaseStaleProcesses(store, logger);
  try {
    await engines.readActive();
  } catch (error) {
    logger.error({ err: toErrorInfo(error) }, 'could not read the active engine config; its plugins restart without its limits');
  }
  // Each confirmed plugin starts through its slot, like any reload, and is journaled (`restarted`, or
  // `rolledBack` with the step that failed); one that will not start is retried by the supervisor.
  for (const [name, entry] of Object.entries(marker.plugins)) {
    const staged: StagedPlugin = { name, version: entry.version, dir: store.fromStatePath(entry.dir), digest: entry.digest, createdByReload: false };
    const result = await restart(staged);
    if (result.outcome !== 'restarted') {
      logger.error({ plugin: name, version: entry.version, err: result.error }, 'could not restart the active plugin; retrying with backoff');
      retryLater(staged, result.error ?? { code: 'WFR_INTERNAL', message: 'the restart did not complete' });
    }
  }
  try {
    await engines.restore();
  } catch (error) {
    logger.error({ err: toErrorInfo(error) }, 'could not restart the active engine');
  }
}

/** Kill the plugin processes a dead host left running (their records are still on disk), and remove their temporary directories. */
async function releaseStaleProcesses(store: StateStore, logger: Logger): Promise<void> {
  for (const { pid, record } of await readProcessRecords(store.root)) {
    if (record) {
      const killed = await killStaleGroup(record.pid, record.startTicks);
      // Only directories the host makes itself (protocols.ts), whatever a damaged record says.
      for (const dir of record.tempDirs.filter((path) => /^wfr-gp-[^/]+$/.test(basename(path)))) await rm(dir, { recursive: true, force: true });
      await removeCgroups(record.cgroups ?? []);
      if (killed.length > 0) logger.warn({ plugin: record.plugin, version: record.version, killed }, `killed plugin ${record.plugin} ${record.version}'s process group ${record.pid}, left running by a host that died`);
    }
    await removeProcessRecord(store.root, pid);
  }
}

/**
 * Every intent record still on disk is a reload the host died in. Kill what is
 * left of its candidate's process group (a child that outlived the candidate),
 * remove a staged copy it created that active.json does not use, and journal it
 * as `interrupted`, unless the pending-swap recovery above already journaled it
 * as `recovered`.
 */
async function releaseInterrupted(store: StateStore, marker: ActiveMarker, recovered: Set<string>, { logger, record, journaled }: Pick<RecoveryDeps, 'logger' | 'record' | 'journaled'>): Promise<void> {
  const intents = await readIntents(store.root);
  // The host removes a reload's intent after answering it: one that died in between left an intent whose result is journaled.
  const done = intents.length > 0 ? await journaled() : new Set<string>();
  for (const { id, intent } of intents) {
    if (!intent) {
      logger.warn({ reloadId: id }, 'an unreadable intent record was removed');
      await removeIntent(store.root, id);
      continue;
    }
    const cleaned: string[] = [];
    const inUse = new Set([...Object.values(marker.plugins).map((entry) => entry.dir), ...(marker.engine ? [marker.engine.file] : [])]);
    for (const part of [intent, ...intent.plugins]) {
      const whose = 'name' in part ? `plugin ${part.name}'s candidate` : 'the candidate';
      if (part.candidate) {
        const killed = await killStaleGroup(part.candidate.pid, part.candidate.startTicks);
        if (killed.length > 0) cleaned.push(`${whose} ${part.candidate.version}'s process group ${part.candidate.pid} (killed ${killed.join(', ')})`);
      }
      if (part.staged?.createdByReload && !inUse.has(part.staged.dir)) {
        await rm(store.fromStatePath(part.staged.dir), { recursive: true, force: true });
        cleaned.push(`the staged copy ${part.staged.dir}`);
      }
    }
    if (!recovered.has(id) && !done.has(id)) await record(interruptedResult(intent, cleaned));
    await removeIntent(store.root, id);
  }
  await removeIntentDebris(store.root);
}

/** The journal entry for a reload the host died in. */
function interruptedResult(intent: Intent, cleaned: string[]): ReloadResult {
  const now = new Date().toISOString();
  const config = intent.target === CONFIG_TARGET;
  const work = (config ? engineWorkOf : pluginWorkOf)(intent.state) ?? intent.state;
  return {
    id: intent.id,
    kind: config ? 'config' : 'plugin',
    target: intent.target,
    name: config ? 'engine' : intent.target.slice('plugin:'.length),
    source: intent.source,
    dryRun: false,
    legacy: false,
    outcome: 'interrupted',
    startedAt: intent.startedAt,
    finishedAt: now,
    ms: Math.max(0, Date.parse(now) - Date.parse(intent.startedAt)),
    steps: [],
    failedStep: work,
    error: new ReloadInterruptedError(intent.target, intent.id, intent.state, cleaned).toJSON(),
    previous: null,
    active: null,
    candidate: intent.candidate ? { version: intent.candidate.version, digest: '', pid: intent.candidate.pid } : null,
    ...(intent.requestId ? { requestId: intent.requestId } : {}),
  };
}
