/**
 * The confirmation window: after the swap the replaced version stays alive
 * and idle until the new one has stayed healthy; if the new one dies inside
 * the window, the host swaps back by itself and no call fails.
 */
import { readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAlive, openTestHost, TEST_TIMEOUTS, type TestHost } from '../helpers/host.js';
import { startCallers } from '../helpers/callers.js';
import { makePluginDir } from '../helpers/plugin-dirs.js';
import { waitForExit } from '../helpers/wait.js';

describe('the confirmation window', () => {
  let t: TestHost;
  beforeEach(async () => {
    t = await openTestHost({ timeouts: { ...TEST_TIMEOUTS, confirmMs: 1_000 } });
  });
  afterEach(() => t.close());

  it('swaps back to the old version when the new one dies after the swap, and no call fails', async () => {
    const v1 = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0' }));
    const oldPid = v1.active!.pid!;
    const callers = startCallers(2, () => t.host.invoke('fake', 'echo', {}));
    const confirming = t.waitForState('plugin:fake', 'confirming');
    const reload = t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.0', flags: ['exit-after-health=2'] }));
    await confirming;
    const result = await reload;
    await callers.stop();

    expect(result).toMatchObject({ outcome: 'rolledBack', failedStep: 'confirm', error: { code: 'WFR_CONFIRM_FAILED' }, active: { version: '1.0.0', pid: oldPid } });
    expect(result.error?.message).toMatch(/exited with code 7 .*lost my database connection/);
    expect(result.steps.map((s) => s.work)).toEqual(['stage', 'start', 'handshake', 'probe', 'engine check', 'swap', 'confirm', 'swap back']);
    expect(callers.failures).toEqual([]);
    expect(callers.answered).toBeGreaterThan(0);
    expect(isAlive(oldPid)).toBe(true);
    expect(isAlive(result.candidate!.pid)).toBe(false);
    expect(((await t.host.invoke('fake', 'echo', {})) as { version: string }).version).toBe('1.0.0');
    const marker = JSON.parse(await t.readMarker());
    expect(marker.plugins.fake.version).toBe('1.0.0');
    expect(marker.pending).toEqual({});
  });

  it('keeps the old process alive until the new one is confirmed, then confirms on disk and stops it', async () => {
    const v1 = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0' }));
    const confirming = t.waitForState('plugin:fake', 'confirming');
    const reload = t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.0' }));
    await confirming;
    // Swapped but unconfirmed: the marker says so, and the old process is alive.
    const pending = JSON.parse(await t.readMarker());
    expect(pending.plugins.fake.version).toBe('2.0.0');
    expect(pending.pending['plugin:fake']).toMatchObject({ previousPlugins: { fake: { version: '1.0.0' } } });
    expect(isAlive(v1.active!.pid)).toBe(true);
    const result = await reload;
    expect(result.outcome).toBe('activated');
    expect(JSON.parse(await t.readMarker()).pending).toEqual({});
    // Told to stop before the answer; its exit and reaping finish within graceMs after it.
    expect(await waitForExit(v1.active!.pid!)).toBe(true);
  });

  it('retries a call the new version dropped by dying inside the window on the old version', async () => {
    const v1 = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0' }));
    const confirming = t.waitForState('plugin:fake', 'confirming');
    const reload = t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.0', flags: ['die-on-invoke'] }));
    await confirming;
    // Routed to 2.0.0, which crashes without answering; the caller still gets an answer, from 1.0.0.
    expect(await t.host.invoke('fake', 'echo', { dieNow: true })).toMatchObject({ version: '1.0.0', pid: v1.active!.pid });
    const result = await reload;
    expect(result).toMatchObject({ outcome: 'rolledBack', failedStep: 'confirm', active: { version: '1.0.0', pid: v1.active!.pid } });
    expect(result.error?.message).toMatch(/segfault in step/);
  });
});

describe('the confirmation window of a config swap', () => {
  it('swaps the engine back when a plugin of the new config dies after the swap', async () => {
    const { writeConfig } = await import('../helpers/configs.js');
    const t = await openTestHost({ timeouts: { ...TEST_TIMEOUTS, confirmMs: 1_000 } });
    try {
      const first = await t.host.tryActivateConfig(await writeConfig({ tag: 'A', plugin: { version: '1.0.0' } }));
      const marker = JSON.parse(await t.readMarker());
      const result = await t.host.tryActivateConfig(await writeConfig({ tag: 'B', plugin: { version: '2.0.0', flags: ['exit-after-health=2'] } }));
      expect(result).toMatchObject({ outcome: 'rolledBack', failedStep: 'confirm', error: { code: 'WFR_CONFIRM_FAILED' }, active: first.active });
      expect(result.steps.map((s) => s.work)).toEqual(['stage', 'start plugins', 'build', 'probe', 'swap', 'confirm', 'swap back', 'release plugins']);
      // The dead plugin's slot was told the engine swapped back, and rolled it back itself.
      expect(result.plugins).toEqual([expect.objectContaining({ name: 'fake', outcome: 'rolledBack', failedStep: 'engine window', error: expect.objectContaining({ code: 'WFR_CONFIRM_FAILED' }) })]);
      const answer = await fetch(`http://${t.host.engineStatus()!.address}/echo/x`);
      expect(answer.headers.get('x-wfreload-generation')).toBe('1');
      expect(((await answer.json()) as { input: { tag: string } }).input.tag).toBe('A');
      const after = JSON.parse(await t.readMarker());
      expect({ plugins: after.plugins, engine: after.engine, pending: after.pending }).toEqual({ plugins: marker.plugins, engine: marker.engine, pending: {} });
    } finally {
      await t.close();
    }
  });
});

describe('the marker writes made ahead (the swap while the probe runs, the confirmation while its health call runs)', () => {
  let t: TestHost;
  beforeEach(async () => {
    t = await openTestHost({ timeouts: { ...TEST_TIMEOUTS, confirmMs: 0 } });
  });
  afterEach(() => t.close());

  /** The marker on disk, and the temporary files beside it (prepared writes not put in place). */
  const onDisk = async () => ({ marker: JSON.parse(await t.readMarker()), temporary: (await readdir(t.stateDir)).filter((name) => name.endsWith('.tmp')) });

  it('put in place, leave the marker a swap writes and no temporary file; one not used is removed, whichever way the reload ended', async () => {
    await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0' }));
    const start = await onDisk();
    expect(start.temporary).toEqual([]);

    // A swap: the pending write, then the confirmation, each one generation.
    const swapped = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.0' }));
    expect(swapped.outcome).toBe('activated');
    const after = await onDisk();
    expect(after.marker).toEqual(t.host.activeMarker());
    expect(after.marker).toMatchObject({ generation: start.marker.generation + 2, pending: {}, plugins: { fake: { version: '2.0.0', reloadId: swapped.id } } });
    expect(after.temporary).toEqual([]);

    // Ended before the swap (a failed probe, a dry run) or after it (the candidate died right after its probe): the marker is as it was.
    for (const [flags, dryRun] of [[['unhealthy'], false], [[], true], [['exit-after-health=1'], false]] as const) {
      const result = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '3.0.0', flags: [...flags] }), { dryRun });
      expect(result.outcome, JSON.stringify(result.error)).toBe(dryRun ? 'dryRunPassed' : 'rolledBack');
      await t.host.settled();
      const now = await onDisk();
      expect(now.marker.plugins).toEqual(after.marker.plugins);
      expect(now.marker.pending).toEqual({});
      expect(now.temporary).toEqual([]);
    }
  });
});
