/**
 * An orchestrator on a fresh state directory with short timeouts, a captured
 * log, and a way to wait for slot states (events, not sleeps).
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { createOrchestrator, type Orchestrator, type OrchestratorOptions } from '../../src/index.js';
import { leafState } from '../../src/orchestrator/step-recorder.js';
import { tempDir } from './plugin-dirs.js';
import { TEST_TIMEOUTS } from './timeouts.js';

export { TEST_TIMEOUTS };

export interface TestHost {
  host: Orchestrator;
  stateDir: string;
  logs: Array<Record<string, unknown>>;
  /** Emits `state` with (actorId, leaf state) for every slot transition. */
  states: EventEmitter;
  waitForState(actorId: string, state: string): Promise<void>;
  readMarker(): Promise<string>;
  close(): Promise<void>;
}

export async function openTestHost(options: Partial<OrchestratorOptions> = {}, stateDir?: string): Promise<TestHost> {
  const dir = stateDir ?? (await tempDir('wfr-state-'));
  const logs: Array<Record<string, unknown>> = [];
  const states = new EventEmitter();
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const host = await createOrchestrator({
    stateDir: dir,
    logger,
    timeouts: TEST_TIMEOUTS,
    inspect: (event) => {
      if (event.type !== '@xstate.snapshot') return;
      const actorId = (event.actorRef as unknown as { id: string }).id;
      states.emit('state', actorId, leafState((event.snapshot as unknown as { value: unknown }).value));
    },
    ...options,
  });
  return {
    host,
    stateDir: dir,
    logs,
    states,
    waitForState(actorId, state) {
      return new Promise((resolve) => {
        const listener = (id: string, reached: string) => {
          if (id !== actorId || reached !== state) return;
          states.off('state', listener);
          resolve();
        };
        states.on('state', listener);
      });
    },
    readMarker: () => readFile(join(dir, 'active.json'), 'utf8').catch(() => ''),
    async close() {
      await host.close();
      if (!stateDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** True while a process with this pid exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number | null | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // Field 3 of /proc/PID/stat is the state; "Z" is dead but not yet reaped by its parent.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
