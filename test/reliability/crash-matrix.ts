/**
 * The crash matrix: a real host is SIGKILLed exactly at each boundary of a
 * reload (test-only fault injection, WFRELOAD_FAULT_CRASH_AT), then restarted
 * on the same state directory. It must come back with exactly one version of
 * each plugin and one engine: the old ones unless the new ones were confirmed,
 * with no process of the dead host left and the journal explaining it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { statusSchema } from '../../src/api/schemas.js';
import { createOrchestrator } from '../../src/index.js';
import { CRASH_BOUNDARIES, type CrashBoundary } from '../../src/orchestrator/faults.js';
import { writeConfig } from '../helpers/configs.js';
import { TEST_TIMEOUTS, timeoutArgs } from '../helpers/timeouts.js';
import { scaled } from '../helpers/slowdown.js';
import { makePluginDir, tempDir } from '../helpers/plugin-dirs.js';
import { processesUnder } from '../helpers/resources.js';
import { startServe, WFCTL, wfctl } from '../helpers/serve.js';

const matrix: string[] = [];
afterAll(() => {
  // Printed so a run shows the whole matrix at a glance.
  console.log(['', 'crash matrix (boundary × reload kind → what the restart came back on)', ...matrix].join('\n'));
});

/** A state directory with config A (plugin fake 1.0.0) active and confirmed. */
async function seededState(): Promise<{ stateDir: string; configB: string; pluginV2: string }> {
  const stateDir = await tempDir('wfr-crash-');
  const host = await createOrchestrator({ stateDir, logger: pino({ level: 'silent' }), timeouts: TEST_TIMEOUTS });
  await host.tryActivateConfig(await writeConfig({ tag: 'A', plugin: { version: '1.0.0' } }));
  await host.close();
  return { stateDir, configB: await writeConfig({ tag: 'B', plugin: { version: '2.0.0' } }), pluginV2: await makePluginDir({ version: '2.0.0' }) };
}

async function waitUntilNoneUnder(dir: string): Promise<number[]> {
  const deadline = Date.now() + scaled(5_000);
  let left = processesUnder(dir);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    left = processesUnder(dir);
  }
  return left;
}

/** One test per boundary for reloads of `kind` (the two kinds live in two files so they run in parallel). */
export function crashMatrix(kind: 'plugin' | 'config'): void {
describe(`a host killed at each boundary of a ${kind} reload`, () => {
  it.each(CRASH_BOUNDARIES.map((boundary) => ({ boundary })))('killed at $boundary', async ({ boundary }: { boundary: CrashBoundary }) => {
    const { stateDir, configB, pluginV2 } = await seededState();
    // The doomed host: restores config A, then dies inside the reload.
    const args = [WFCTL, 'serve', '--state-dir', stateDir, '--admin', '127.0.0.1:0', '--log-level', 'silent', ...timeoutArgs({ ...TEST_TIMEOUTS, confirmMs: 300 })];
    const doomed = execa(process.execPath, args, { reject: false, env: { WFRELOAD_FAULT_CRASH_AT: boundary } });
    const { watchLines } = await import('../helpers/lines.js');
    const admin = (await watchLines(doomed.stdout!).waitFor(/admin API on/)).match(/http:\/\/([^/]+)/)![1]!;
    const trigger = kind === 'plugin' ? ['plugin', 'try-activate', 'fake', pluginV2] : ['config', 'try-activate', configB];
    const client = await execa(process.execPath, [WFCTL, ...trigger, '--admin', admin, '--state-dir', stateDir], { reject: false });
    const death = await doomed;
    expect(death.signal, `${client.stdout}${client.stderr}`).toBe('SIGKILL');
    // The client saw the host vanish mid-request.
    expect(client.exitCode).toBe(3);
    // Every plugin of the dead host exits on its own (stdin closed): none survives.
    expect(await waitUntilNoneUnder(stateDir)).toEqual([]);

    const marker = await readFile(join(stateDir, 'active.json'), 'utf8');
    expect(() => JSON.parse(marker)).not.toThrow();

    const host = await startServe(stateDir);
    try {
      const status = statusSchema.parse(JSON.parse((await wfctl(host, stateDir, 'status', '--json')).stdout));
      const confirmed = boundary === 'confirmed';
      // A restore that failed is only logged by the host: show its log if the plugin is not back.
      expect(status.plugins.map((p) => [p.name, p.version, p.alive]), host.stderr.lines.join('\n')).toEqual([['fake', confirmed ? '2.0.0' : '1.0.0', true]]);
      expect(status.engine?.generation).toBe(kind === 'config' && confirmed ? 2 : 1);
      const after = JSON.parse(await readFile(join(stateDir, 'active.json'), 'utf8'));
      expect(after.pending).toEqual({});
      const journal = (await readFile(join(stateDir, 'journal.ndjson'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
      const swappedUnconfirmed = boundary === 'pendingWritten' || boundary === 'swapped';
      const recovered = journal.filter((r) => r.outcome === 'recovered');
      expect(recovered).toHaveLength(swappedUnconfirmed ? 1 : 0);
      if (swappedUnconfirmed) expect(recovered[0].error.code).toBe('WFR_RECOVERED_UNCONFIRMED');
      // Only the restarted host's plugins run now, from the state directory.
      expect(processesUnder(stateDir)).toHaveLength(1);
      matrix.push(`  ${boundary.padEnd(17)} ${kind.padEnd(7)} → fake ${status.plugins[0]!.version}, engine generation ${status.engine?.generation}${swappedUnconfirmed ? ', journal: recovered (pending swap reverted)' : ''}`);
    } finally {
      await host.stop();
    }
  });
});
}
