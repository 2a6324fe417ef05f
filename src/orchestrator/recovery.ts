/**
 * What a host does when it opens a state directory: crash recovery (revert
 * unconfirmed swaps, journal them as `recovered`, remove staging debris), then
 * start the confirmed set.
 */
import { CONFIG_TARGET } from '../../machines/orchestrator.js';
import { RecoveredUnconfirmedError, toErrorInfo } from '../errors.js';
import { revertPending, type ActiveMarker, type PendingSwap, type StateStore } from '../store/index.js';
import type { Logger } from 'pino';
import type { EngineRuntime } from './engine-runtime.js';
import type { PluginHost } from './plugin-host.js';
import type { ReloadResult, TargetInfo } from './reload-result.js';

export interface RecoveryDeps {
  store: StateStore;
  host: PluginHost;
  engines: EngineRuntime;
  logger: Logger;
  record: (result: ReloadResult) => Promise<void>;
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
export async function recoverAndStart(found: ActiveMarker, { store, host, engines, logger, record }: RecoveryDeps): Promise<void> {
  let marker = found;
  const pending = Object.entries(found.pending);
  if (pending.length > 0) {
    marker = await store.updateActiveMarker((m) => {
      for (const [target] of pending) revertPending(m, target);
    });
    for (const [target, swap] of pending) await record(recoveredResult(target, swap, found, marker));
  }
  await store.removeDebris();
  for (const [name, entry] of Object.entries(marker.plugins)) {
    const dir = store.fromStatePath(entry.dir);
    try {
      const ref = await host.launch({ dir, digest: entry.digest });
      await host.handshake(ref);
      await host.probe(ref);
      host.setActive(name, ref);
    } catch (error) {
      logger.error({ plugin: name, version: entry.version, err: toErrorInfo(error) }, 'could not restart the active plugin');
    }
  }
  try {
    await engines.restore();
  } catch (error) {
    logger.error({ err: toErrorInfo(error) }, 'could not restart the active engine');
  }
}
