import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAlive, openTestHost, type TestHost } from '../helpers/host.js';
import { makePluginDir } from '../helpers/plugin-dirs.js';

describe('the legacy unload-then-load path (kept for contrast)', () => {
  let t: TestHost;
  beforeEach(async () => {
    t = await openTestHost();
  });
  afterEach(() => t.close());

  it('loses a healthy plugin on the same bad candidate that try-activate survives', async () => {
    const good = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0' }));
    const oldPid = good.active!.pid!;
    const bad = await makePluginDir({ version: '2.0.0', flags: ['reply-version=1.9.9'] });

    const safe = await t.host.tryActivatePlugin('fake', bad);
    expect(safe.outcome).toBe('rolledBack');
    expect(isAlive(oldPid)).toBe(true);
    expect(((await t.host.invoke('fake', 'echo', {})) as { version: string }).version).toBe('1.0.0');

    const legacy = await t.host.reloadPluginLegacy('fake', bad);
    expect(legacy).toMatchObject({ legacy: true, outcome: 'failed', failedStep: 'handshake', active: null, previous: { version: '1.0.0', pid: oldPid } });
    expect(legacy.error?.code).toBe('WFR_PLUGIN_CONTRACT_MISMATCH');
    // The healthy plugin was stopped first, so nothing serves it any more.
    expect(isAlive(oldPid)).toBe(false);
    expect(isAlive(legacy.candidate?.pid)).toBe(false);
    await expect(t.host.invoke('fake', 'echo', {})).rejects.toMatchObject({ code: 'WFR_UNKNOWN_PLUGIN' });
    expect(JSON.parse(await t.readMarker()).plugins).toEqual({});
    expect(t.host.listPlugins()).toEqual([]);
  });

  it('does upgrade on a good candidate, with the unload step first', async () => {
    await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0' }));
    const legacy = await t.host.reloadPluginLegacy('fake', await makePluginDir({ version: '2.0.0' }));
    expect(legacy.outcome).toBe('activated');
    expect(legacy.steps.map((s) => s.work)).toEqual(['unload', 'stage', 'start', 'handshake', 'probe', 'register']);
    expect(((await t.host.invoke('fake', 'echo', {})) as { version: string }).version).toBe('2.0.0');
  });
});
