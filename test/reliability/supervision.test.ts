/**
 * Supervision: an active plugin that crashes is restarted (same version,
 * backoff, journaled, visible in status); one that keeps crashing is marked
 * failed instead of looping, until a new version is activated.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PluginReloadResult } from '../../src/index.js';
import { isAlive, openTestHost, type TestHost } from '../helpers/host.js';
import { makePluginDir } from '../helpers/plugin-dirs.js';

/** Resolves with the next journaled result of `outcome`. */
const nextResult = (t: TestHost, outcome: string) =>
  new Promise<PluginReloadResult>((resolve) => {
    const off = t.host.events.subscribe((event) => {
      if (event.type === 'reload' && event.result.outcome === outcome) {
        off();
        resolve(event.result as PluginReloadResult);
      }
    });
  });

const crash = (t: TestHost) => t.host.invoke('fake', 'echo', { dieNow: true }).catch((error: { code: string }) => error.code);

describe('supervision of active plugins', () => {
  let t: TestHost;
  beforeEach(async () => {
    t = await openTestHost({ restart: { maxRestarts: 2, windowMs: 60_000, backoffMs: 20, backoffMaxMs: 100 } });
  });
  afterEach(() => t.close());

  it('restarts a crashed plugin from the same version, journals it, and shows it in status', async () => {
    const first = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0', flags: ['die-on-invoke'] }));
    const restarted = nextResult(t, 'restarted');
    expect(await crash(t)).toBe('WFR_PLUGIN_EXITED');
    const result = await restarted;
    expect(result).toMatchObject({ target: 'plugin:fake', source: 'supervisor', previous: { version: '1.0.0', pid: first.active!.pid }, active: { version: '1.0.0' }, error: { code: 'WFR_PLUGIN_EXITED' } });
    expect(result.active!.pid).not.toBe(first.active!.pid);
    expect(isAlive(result.active!.pid)).toBe(true);
    expect(await t.host.invoke('fake', 'echo', {})).toMatchObject({ version: '1.0.0', pid: result.active!.pid });
    expect(t.host.listPlugins()[0]).toMatchObject({ restarts: 1, failed: false, pid: result.active!.pid });
    expect((await t.host.history()).map((r) => r.outcome)).toEqual(['activated', 'restarted']);
  });

  it('marks a plugin that keeps crashing as failed, answers its steps with WFR_PLUGIN_FAILED, and a new version clears it', async () => {
    await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0', flags: ['die-on-invoke'] }));
    for (let i = 0; i < 2; i++) {
      const restarted = nextResult(t, 'restarted');
      await crash(t);
      await restarted;
    }
    const crashed = nextResult(t, 'crashed');
    await crash(t);
    expect(await crashed).toMatchObject({ outcome: 'crashed', error: { code: 'WFR_PLUGIN_FAILED' } });
    await expect(t.host.invoke('fake', 'echo', {})).rejects.toMatchObject({ code: 'WFR_PLUGIN_FAILED', message: expect.stringContaining('kept crashing (3 times)') });
    expect(t.host.listPlugins()[0]).toMatchObject({ failed: true, restarts: 2 });

    const fixed = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.1' }));
    expect(fixed.outcome).toBe('activated');
    expect(await t.host.invoke('fake', 'echo', {})).toMatchObject({ version: '1.0.1' });
    expect(t.host.listPlugins()[0]).toMatchObject({ failed: false, restarts: 0 });
  });
});
