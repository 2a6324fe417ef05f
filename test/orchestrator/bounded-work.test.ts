/**
 * No slot waits forever on a step: each piece of reload work is bounded by
 * its own timeouts plus `timeouts.workMs`. Past the bound the slot moves on
 * (WFR_WORK_TIMEOUT), the running version is untouched, and the slot takes
 * the next reload at once.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, openTestHost, TEST_TIMEOUTS, type TestHost } from '../helpers/host.js';
import { makePluginDir, tempDir } from '../helpers/plugin-dirs.js';

let hosts: TestHost[] = [];
afterEach(async () => {
  for (const t of hosts.splice(0)) await t.close();
});

describe('bounded reload work', () => {
  it('a step that outruns its bound fails the reload with WFR_WORK_TIMEOUT; the old version keeps serving and the slot takes the next reload', async () => {
    const stateDir = await tempDir('wfr-bounded-');
    // Activate 1.0.0 with the usual bounds, then reopen the state directory with a 1 ms slack for every step.
    const first = await openTestHost({}, stateDir);
    await first.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0' }));
    await first.host.close();
    const t = await openTestHost({ timeouts: { ...TEST_TIMEOUTS, workMs: 1 } }, stateDir);
    hosts.push(t);
    const [running] = t.host.listPlugins();
    expect(running).toMatchObject({ name: 'fake', version: '1.0.0', alive: true });
    const marker = await t.readMarker();

    // Staging copies and hashes 8 MiB: far longer than its 1 ms bound.
    const heavy = await makePluginDir({ version: '2.0.0' });
    await writeFile(join(heavy, 'weights.bin'), randomBytes(8 * 1024 * 1024));
    const result = await t.host.tryActivatePlugin('fake', heavy);
    expect(result).toMatchObject({ outcome: 'rejected', failedStep: 'stage', error: { code: 'WFR_WORK_TIMEOUT', details: { work: 'stage', timeoutMs: 1 } } });
    expect(result.error!.message).toMatch(/The "stage" step did not finish within 1 ms/);

    // Nothing changed, and the slot is not stuck: the next reload runs (and is bounded the same way).
    expect(t.host.listPlugins()).toEqual([expect.objectContaining({ name: 'fake', version: '1.0.0', pid: running!.pid, alive: true })]);
    expect(isAlive(running!.pid)).toBe(true);
    expect(await t.host.invoke('fake', 'echo', { x: 1 })).toMatchObject({ version: '1.0.0' });
    expect(await t.readMarker()).toBe(marker);
    const again = await t.host.tryActivatePlugin('fake', heavy);
    expect(again).toMatchObject({ outcome: 'rejected', error: { code: 'WFR_WORK_TIMEOUT' } });
  });
});
