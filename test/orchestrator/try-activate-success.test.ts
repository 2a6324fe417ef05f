import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAlive, openTestHost, type TestHost } from '../helpers/host.js';
import { waitForExit } from '../helpers/wait.js';
import { scaled } from '../helpers/slowdown.js';
import { TEST_TIMEOUTS } from '../helpers/timeouts.js';
import { writeIntent } from '../../src/store/index.js';
import { EXAMPLES, makePluginDir, tempDir } from '../helpers/plugin-dirs.js';

describe('a successful swap', () => {
  let t: TestHost;
  beforeEach(async () => {
    t = await openTestHost();
  });
  afterEach(() => t.close());

  it('routes new calls to the new version and finishes calls in flight on the old one before stopping it', async () => {
    const v1 = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0' }));
    const oldPid = v1.active!.pid!;
    const release = join(await tempDir(), 'release');

    // A call held inside v1 until we release it: in flight across the swap.
    const held = t.host.invoke('fake', 'echo', { holdUntilFile: release });
    expect(t.host.listPlugins()[0]!.callsInFlight).toBe(1);

    const draining = t.waitForState('plugin:fake', 'draining');
    const reload = t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.0' }));
    await draining;

    // Swapped, but the old process is still up, serving its call.
    const fresh = (await t.host.invoke('fake', 'echo', {})) as { version: string; pid: number };
    expect(fresh.version).toBe('2.0.0');
    expect(fresh.pid).not.toBe(oldPid);
    expect(isAlive(oldPid)).toBe(true);

    await writeFile(release, '');
    expect(await held).toMatchObject({ version: '1.0.0', pid: oldPid });

    const result = await reload;
    expect(result.outcome).toBe('activated');
    expect(result.previous).toMatchObject({ version: '1.0.0', pid: oldPid });
    expect(result.active).toMatchObject({ version: '2.0.0', pid: fresh.pid });
    expect(result.steps.map((s) => s.work)).toEqual(['stage', 'start', 'handshake', 'probe', 'engine check', 'swap', 'confirm', 'drain']);
    // The result is returned once the old process drained (no call in flight) and was told to stop; it is reaped
    // after the answer, off the caller's critical path, within graceMs.
    expect(await waitForExit(oldPid)).toBe(true);
    expect(JSON.parse(await t.readMarker()).plugins.fake.version).toBe('2.0.0');
  });

  it('answers once the old version is drained and told to stop, without waiting for its exit; settled() and close() wait for it, and its process record stays until it is reaped', async () => {
    const slow = await openTestHost({ timeouts: { ...TEST_TIMEOUTS, graceMs: scaled(3_000) } });
    try {
      // 1.0.0 ignores `shutdown` and the end of stdin: only the SIGKILL after graceMs ends it.
      const v1 = await slow.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0', flags: ['ignore-shutdown'] }));
      const oldPid = v1.active!.pid!;
      const result = await slow.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.0' }));
      expect(result.outcome).toBe('activated');
      expect(result.steps.at(-1)).toMatchObject({ work: 'drain' });
      // Answered while the old process is still in its grace period, no longer routed to.
      expect(isAlive(oldPid)).toBe(true);
      expect(existsSync(join(slow.stateDir, 'processes', `${oldPid}.json`))).toBe(true);
      expect(((await slow.host.invoke('fake', 'echo', {})) as { version: string }).version).toBe('2.0.0');
      // settled() returns only after the old process was reaped, its record removed and the intent record gone.
      await slow.host.settled();
      expect(isAlive(oldPid)).toBe(false);
      expect(readdirSync(join(slow.stateDir, 'processes')).filter((name) => name.endsWith('.json'))).toEqual([`${result.active!.pid}.json`]);
      expect(readdirSync(join(slow.stateDir, 'intents'))).toEqual([]);
      expect(((await slow.host.invoke('fake', 'echo', {})) as { version: string }).version).toBe('2.0.0');
      // close() returns only after every process was reaped, and its record removed.
      await slow.host.close();
      expect(isAlive(result.active!.pid)).toBe(false);
      expect(readdirSync(join(slow.stateDir, 'processes')).filter((name) => name.endsWith('.json'))).toEqual([]);
    } finally {
      await slow.close();
    }
  });

  it('a host that died after answering, before removing the intent record, is not journaled twice: the next host finds the result and removes the record', async () => {
    const result = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0' }));
    await t.host.close();
    // What such a host leaves: the intent, in the state it last recorded, beside the journaled result.
    await writeIntent(t.stateDir, { id: result.id, target: 'plugin:fake', source: result.source, startedAt: result.startedAt, state: 'active', staged: null, candidate: null, plugins: [] });
    const again = await openTestHost({}, t.stateDir);
    try {
      expect((await again.host.history()).filter((r) => r.id === result.id)).toEqual([result]);
      expect(readdirSync(join(t.stateDir, 'intents')).filter((name) => name.endsWith('.json'))).toEqual([]);
      expect(again.host.listPlugins()[0]).toMatchObject({ version: '1.0.0' });
    } finally {
      await again.close();
    }
  });

  it('upgrades the example greeter from 1.0.0 to 2.0.0, whose new step answers', async () => {
    await t.host.tryActivatePlugin('greeter', join(EXAMPLES, 'greeter-v1'));
    expect(await t.host.invoke('greeter', 'greet', { name: 'Ada' })).toEqual({ message: 'Hello, Ada', version: '1.0.0' });
    const result = await t.host.tryActivatePlugin('greeter', join(EXAMPLES, 'greeter-v2'));
    expect(result.outcome).toBe('activated');
    expect(await t.host.invoke('greeter', 'farewell', { name: 'Ada' })).toEqual({ message: 'Goodbye, Ada.', version: '2.0.0' });
  });

  it('runs a plugin written in Python (the protocol is language-neutral)', async () => {
    const result = await t.host.tryActivatePlugin('wordcount', join(EXAMPLES, 'wordcount-py'));
    expect(result.outcome).toBe('activated');
    expect(await t.host.invoke('wordcount', 'count', { text: 'safe reloads only' })).toEqual({ words: 3, chars: 17 });
  });

  it('a dry run probes the candidate, stops it, and changes nothing', async () => {
    const v1 = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0' }));
    const marker = await t.readMarker();
    const result = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.0' }), { dryRun: true });
    expect(result.outcome).toBe('dryRunPassed');
    expect(result.steps.map((s) => s.work)).toEqual(['stage', 'start', 'handshake', 'probe', 'engine check', 'stop candidate']);
    expect(result.active).toEqual(v1.active);
    expect(isAlive(result.candidate!.pid)).toBe(false);
    expect(await t.readMarker()).toBe(marker);
    expect(((await t.host.invoke('fake', 'echo', {})) as { version: string }).version).toBe('1.0.0');
    // No staged copy of the candidate is left behind.
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(join(t.stateDir, 'plugins', 'fake'))).toEqual([JSON.parse(marker).plugins.fake.dir.split('/').pop()]);
  });

  it('journals every result, in order, as the history', async () => {
    const a = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0' }));
    const b = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.0', flags: ['unhealthy'] }));
    const history = await t.host.history();
    expect(history.map((r) => [r.id, r.outcome])).toEqual([
      [a.id, 'activated'],
      [b.id, 'rolledBack'],
    ]);
    expect(history[1]).toEqual(b);
  });

  it('restarts the active plugins from active.json when a host reopens the state directory', async () => {
    await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.4.2' }));
    await t.host.close();
    const again = await openTestHost({}, t.stateDir);
    try {
      expect(((await again.host.invoke('fake', 'echo', {})) as { version: string }).version).toBe('1.4.2');
    } finally {
      await again.close();
    }
  });

  it('logs one pino line per transition, each with the reload id, target and state', async () => {
    const result = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0' }));
    const lines = t.logs.filter((line) => line.reloadId === result.id && line.state);
    expect(lines.map((line) => line.state)).toEqual(['staging', 'staged', 'candidateStarted', 'handshaked', 'healthy', 'probed', 'confirming', 'draining', 'active']);
    expect(lines.every((line) => line.target === 'plugin:fake' && line.level === 30)).toBe(true);
  });
});
