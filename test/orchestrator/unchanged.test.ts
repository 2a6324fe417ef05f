/**
 * Unchanged is an outcome: offering exactly what is active (a plugin's name,
 * version and bytes; a config's text with every plugin it names running with
 * the same bytes) restarts nothing, succeeds, and is journaled. Fleet tools
 * re-run the same upgrade; a re-run must be a no-op that says so.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatReloadResult } from '../../src/index.js';
import { writeConfig } from '../helpers/configs.js';
import { openTestHost, type TestHost } from '../helpers/host.js';
import { makePluginDir } from '../helpers/plugin-dirs.js';
import { pluginChildPids } from '../helpers/resources.js';

describe('offering what is already active', () => {
  let t: TestHost;
  beforeEach(async () => {
    t = await openTestHost();
  });
  afterEach(() => t.close());

  it('a plugin: outcome unchanged, the same process, no new staged copy, journaled', async () => {
    const dir = await makePluginDir({ version: '1.0.0' });
    const first = await t.host.tryActivatePlugin('fake', dir);
    expect(first.outcome).toBe('activated');
    const marker = await t.readMarker();
    const processes = pluginChildPids();

    // The same bytes from another directory are the same version too.
    const again = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0' }));
    expect(again).toMatchObject({ outcome: 'unchanged', failedStep: null, error: null, previous: first.active, active: first.active, candidate: first.active });
    expect(again.steps.map((s) => s.work)).toEqual(['stage']);
    expect(pluginChildPids()).toEqual(processes);
    expect(await t.readMarker()).toBe(marker);
    expect((await t.host.history()).at(-1)).toEqual(again);
    // A dry run of it says the same, and a different version still goes through the whole path.
    expect((await t.host.tryActivatePlugin('fake', dir, { dryRun: true })).outcome).toBe('unchanged');
    expect((await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.1' }))).outcome).toBe('activated');
  });

  it('a plugin the supervisor gave up on is not unchanged: offering the same bytes starts it again', async () => {
    const failing = await openTestHost({ restart: { maxRestarts: 0, windowMs: 60_000, backoffMs: 1, backoffMaxMs: 1 } });
    try {
      const dir = await makePluginDir({ version: '1.0.0' });
      await failing.host.tryActivatePlugin('fake', dir);
      const gaveUp = new Promise<void>((resolve) => failing.host.events.subscribe((event) => event.type === 'reload' && event.result.outcome === 'crashed' && resolve()));
      process.kill(failing.host.listPlugins()[0]!.pid, 'SIGKILL');
      await gaveUp;
      expect(failing.host.listPlugins()[0]).toMatchObject({ failed: true });
      const again = await failing.host.tryActivatePlugin('fake', dir);
      expect(again.outcome).toBe('activated');
      expect(failing.host.listPlugins()[0]).toMatchObject({ failed: false, alive: true, pid: again.active!.pid });
    } finally {
      await failing.close();
    }
  });

  it('a config: outcome unchanged, the same generation and plugin processes; a changed plugin dir is not unchanged', async () => {
    const file = await writeConfig({ tag: 'A' });
    const first = await t.host.tryActivateConfig(file);
    expect(first.outcome).toBe('activated');
    const processes = pluginChildPids();
    const again = await t.host.tryActivateConfig(file);
    expect(again).toMatchObject({ outcome: 'unchanged', previous: first.active, active: first.active, plugins: [] });
    expect(again.steps.map((s) => s.work)).toEqual(['stage']);
    expect(formatReloadResult(again)).toMatch(/^config: unchanged: generation 1 \(config [0-9a-f]{12}\) is already active with the same bytes; nothing was restarted$/);
    expect(t.host.engineStatus()!.generation).toBe(1);
    expect(pluginChildPids()).toEqual(processes);
    // Same text, but the plugin it names now has other bytes: the plugin starts, the engine swaps.
    const other = await writeConfig({ tag: 'A', plugin: { version: '1.0.1' } });
    expect((await t.host.tryActivateConfig(other)).outcome).toBe('activated');
  });
});
