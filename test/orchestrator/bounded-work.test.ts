/**
 * No slot waits forever on a step: each piece of reload work is bounded by
 * its own timeouts plus `timeouts.workMs`. Past the bound the slot moves on
 * (WFR_WORK_TIMEOUT), nothing active changes, and the slot takes the next
 * reload at once. Restarts at boot run through the slot, so they are bounded
 * (and journaled) the same way.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openTestHost, TEST_TIMEOUTS, type TestHost } from '../helpers/host.js';
import { makePluginDir, tempDir } from '../helpers/plugin-dirs.js';
import { processesUnder } from '../helpers/resources.js';

const hosts: TestHost[] = [];
afterEach(async () => {
  for (const t of hosts.splice(0)) await t.close();
});

/** A host whose every step gets 1 ms of slack on top of its own timeouts; the supervisor gives up at once. */
const openTight = async (stateDir?: string) => {
  const t = await openTestHost({ timeouts: { ...TEST_TIMEOUTS, workMs: 1 }, restart: { maxRestarts: 0, windowMs: 60_000, backoffMs: 1, backoffMaxMs: 1 } }, stateDir);
  hosts.push(t);
  return t;
};

describe('bounded reload work', () => {
  it('a step that outruns its bound fails the reload with WFR_WORK_TIMEOUT, changes nothing, and the slot takes the next reload', async () => {
    const t = await openTight();
    const marker = await t.readMarker();
    // Staging copies and hashes 8 MiB: far longer than its 1 ms bound.
    const heavy = await makePluginDir({ version: '2.0.0' });
    await writeFile(join(heavy, 'weights.bin'), randomBytes(8 * 1024 * 1024));
    const result = await t.host.tryActivatePlugin('fake', heavy);
    expect(result).toMatchObject({ outcome: 'rejected', failedStep: 'stage', error: { code: 'WFR_WORK_TIMEOUT', details: { work: 'stage', timeoutMs: 1 } } });
    expect(result.error!.message).toMatch(/The "stage" step did not finish within 1 ms/);
    expect(t.host.listPlugins()).toEqual([]);
    expect(await t.readMarker()).toBe(marker);
    // Not stuck: the next reload is admitted and runs (bounded the same way).
    expect(t.host.reloadsInFlight()).toEqual({});
    expect(await t.host.tryActivatePlugin('fake', heavy)).toMatchObject({ outcome: 'rejected', error: { code: 'WFR_WORK_TIMEOUT' } });
  });

  it('a restart at boot runs through the slot: bounded, journaled with the failing step, then handed to the supervisor; what outran its bound spawns nothing later', async () => {
    const stateDir = await tempDir('wfr-bounded-');
    const first = await openTestHost({}, stateDir);
    // A 16 MiB plugin.json: reading and validating it (the start step's first work) takes far longer than 1 ms,
    // on any machine, as the 8 MiB staging above does.
    await first.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0', manifest: { description: 'x'.repeat(16 * 1024 * 1024) } }));
    await first.host.close();

    // Reopened with 1 ms of slack, starting the process outruns its bound.
    const t = await openTight(stateDir);
    const journal = await t.host.history();
    const boot = journal.find((r) => r.source === 'restart');
    expect(boot).toMatchObject({ target: 'plugin:fake', outcome: 'rolledBack', error: { code: 'WFR_WORK_TIMEOUT' }, candidate: null });
    expect(boot!.steps[0]).toMatchObject({ work: 'start', error: { code: 'WFR_WORK_TIMEOUT' } });
    // The supervisor tried to start it again (maxRestarts 0: it gives up at once) and says so.
    const next = new Promise((resolve) => {
      const off = t.host.events.subscribe((event) => {
        if (event.type !== 'reload' || event.result.outcome !== 'crashed') return;
        off();
        resolve(event.result);
      });
    });
    const gaveUp = (await t.host.history()).find((r) => r.outcome === 'crashed') ?? (await next);
    expect(gaveUp).toMatchObject({ target: 'plugin:fake', source: 'supervisor', error: { code: 'WFR_PLUGIN_FAILED' } });
    expect(t.host.listPlugins()).toEqual([]);
    // The starts that outran their bound spawned nothing later: once they have ended, no process runs from the state directory.
    await t.host.settled();
    expect(processesUnder(stateDir)).toEqual([]);
  });
});
