import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCallers } from '../helpers/callers.js';
import { writeConfig } from '../helpers/configs.js';
import { isAlive, openTestHost, type TestHost } from '../helpers/host.js';
import { tempDir } from '../helpers/plugin-dirs.js';
import { listeningPorts, pluginChildPids } from '../helpers/resources.js';

interface Echo {
  version: string;
  input: { tag: string };
  pid: number;
}

describe('a successful config swap', () => {
  let t: TestHost;
  let front: string;
  const ask = async (path = '/echo/hi') => {
    const response = await fetch(`${front}${path}`);
    return { status: response.status, generation: response.headers.get('x-wfreload-generation'), body: (await response.json()) as Echo };
  };
  beforeEach(async () => {
    t = await openTestHost();
    await t.host.tryActivateConfig(await writeConfig({ tag: 'A', plugin: { version: '1.0.0' } }));
    front = `http://${t.host.engineStatus()!.address}`;
  });
  afterEach(() => t.close());

  it('changes the answers, and a request in flight during the swap completes on the engine it started on', async () => {
    const release = join(await tempDir(), 'release');
    const oldPluginPid = t.host.listPlugins()[0]!.pid;
    const held = ask(`/slow?file=${release}`);
    // The held request has reached the plugin once the engine counts it in flight.
    while (t.host.engineStatus()!.requestsInFlight === 0) await new Promise((resolve) => setImmediate(resolve));

    const draining = t.waitForState('engine', 'draining');
    const reload = t.host.tryActivateConfig(await writeConfig({ tag: 'B', plugin: { version: '2.0.0' } }));
    await draining;
    const fresh = await ask();
    expect(fresh).toMatchObject({ status: 200, generation: '2', body: { version: '2.0.0', input: { tag: 'B' } } });
    expect(isAlive(oldPluginPid)).toBe(true);

    await writeFile(release, '');
    expect(await held).toMatchObject({ status: 200, generation: '1', body: { version: '1.0.0', input: { tag: 'A' }, pid: oldPluginPid } });
    const result = await reload;
    expect(result).toMatchObject({ outcome: 'activated', previous: { generation: 1 }, active: { generation: 2 } });
    expect(result.steps.map((s) => s.work)).toEqual(['stage', 'start plugins', 'build', 'probe', 'swap', 'confirm', 'drain']);
    // The new plugin version went through its own slot: start, handshake, probe, then the engine's swap and window.
    expect(result.plugins).toEqual([
      expect.objectContaining({ id: result.id, target: 'plugin:fake', outcome: 'activated', failedStep: null, error: null, previous: expect.objectContaining({ version: '1.0.0' }), active: expect.objectContaining({ version: '2.0.0' }) }),
    ]);
    expect(result.plugins![0]!.steps.map((s) => s.work)).toEqual(['start', 'handshake', 'probe', 'await engine', 'engine window']);
    // The old plugin served only the old engine: it was stopped once that engine drained.
    expect(isAlive(oldPluginPid)).toBe(false);
    const marker = JSON.parse(await t.readMarker());
    expect(marker.engine.generation).toBe(2);
    expect(marker.plugins.fake.version).toBe('2.0.0');
  });

  it('shares a plugin process the new config uses unchanged', async () => {
    const pid = t.host.listPlugins()[0]!.pid;
    const result = await t.host.tryActivateConfig(await writeConfig({ tag: 'B', plugin: { version: '1.0.0' } }));
    expect(result.outcome).toBe('activated');
    // Nothing new to start: no plugin slot ran, and the build came straight after staging.
    expect(result.plugins).toEqual([]);
    expect(result.steps.map((s) => s.work)).toEqual(['stage', 'build', 'probe', 'swap', 'confirm', 'drain']);
    expect((await ask()).body).toMatchObject({ input: { tag: 'B' }, pid });
  });

  it('moves to a new listen address, binding it before the swap and closing the old one after', async () => {
    const result = await t.host.tryActivateConfig(await writeConfig({ tag: 'B', listen: '127.0.0.2:0' }));
    expect(result.outcome).toBe('activated');
    const address = t.host.engineStatus()!.address!;
    expect(address).toMatch(/^127\.0\.0\.2:\d+$/);
    expect(((await (await fetch(`http://${address}/echo/x`)).json()) as Echo).input.tag).toBe('B');
    await expect(fetch(`${front}/echo/x`)).rejects.toThrow();
  });

  it('keeps answering every request from one generation or the other across 20 swaps, good and bad mixed', async () => {
    const configs = {
      A: await writeConfig({ tag: 'A', plugin: { version: '1.0.0' } }),
      B: await writeConfig({ tag: 'B', plugin: { version: '2.0.0' } }),
      bad: await writeConfig({ tag: 'bad', plugin: { version: '3.0.0', flags: ['unhealthy'] } }),
    };
    const expected = new Map<string, string>([['1', 'A']]);
    const load = startCallers(4, ask, ({ status, generation, body }) => {
      const tag = expected.get(generation ?? '');
      return status === 200 && tag && body.input.tag === tag ? null : `${status} gen ${generation} ${JSON.stringify(body)}`;
    });
    const plan = ['B', 'bad', 'A', 'B', 'bad', 'bad', 'A', 'B', 'A', 'bad', 'B', 'A', 'B', 'bad', 'A', 'B', 'A', 'bad', 'B', 'A'] as const;
    let generation = 1;
    for (const name of plan) {
      if (name !== 'bad') expected.set(String(generation + 1), name);
      const result = await t.host.tryActivateConfig(configs[name]);
      expect(result.outcome).toBe(name === 'bad' ? 'rolledBack' : 'activated');
      if (result.outcome === 'activated') generation++;
    }
    await load.stop();
    expect(load.failures).toEqual([]);
    expect(load.answered).toBeGreaterThan(plan.length);
    // No leaks: the live plugin processes are exactly those the active engine uses.
    expect(pluginChildPids()).toEqual(t.host.listPlugins().map((p) => p.pid));
  });

  it('a dry run leaves no process, socket, file or registry entry behind', async () => {
    const processes = pluginChildPids();
    const ports = listeningPorts();
    // Without the process's usage, which moves on with time.
    const steadyPlugins = () => t.host.listPlugins().map(({ usage: _usage, ...plugin }) => plugin);
    const plugins = steadyPlugins();
    const marker = await t.readMarker();
    const files = async () => ({
      configs: await readdir(join(t.stateDir, 'configs')),
      plugins: await readdir(join(t.stateDir, 'plugins', 'fake')),
      staging: await readdir(join(t.stateDir, 'staging')),
    });
    const before = await files();
    const result = await t.host.tryActivateConfig(await writeConfig({ tag: 'B', plugin: { version: '2.0.0' }, listen: '127.0.0.3:0' }), { dryRun: true });
    expect(result.outcome).toBe('dryRunPassed');
    expect(result.steps.map((s) => s.work)).toEqual(['stage', 'start plugins', 'build', 'probe', 'stop candidate', 'release plugins']);
    expect(result.plugins).toEqual([expect.objectContaining({ name: 'fake', outcome: 'dryRunPassed', dryRun: true, error: null })]);
    expect(result.plugins![0]!.steps.map((s) => s.work)).toEqual(['start', 'handshake', 'probe', 'await engine', 'stop candidate']);
    expect(pluginChildPids()).toEqual(processes);
    expect(listeningPorts()).toEqual(ports);
    expect(steadyPlugins()).toEqual(plugins);
    expect(await t.readMarker()).toBe(marker);
    expect(await files()).toEqual(before);
    expect((await ask()).body.input.tag).toBe('A');
  });
});

describe('the first config swap', () => {
  it('stops plugins activated by hand that the config does not use, and shares those it does', async () => {
    const t = await openTestHost();
    try {
      const { makePluginDir } = await import('../helpers/plugin-dirs.js');
      const stray = await t.host.tryActivatePlugin('stray', await makePluginDir({ name: 'stray' }));
      const result = await t.host.tryActivateConfig(await writeConfig({ tag: 'A' }));
      expect(result.outcome).toBe('activated');
      expect(isAlive(stray.active!.pid)).toBe(false);
      expect(t.host.listPlugins().map((p) => p.name)).toEqual(['fake']);
      expect(Object.keys(JSON.parse(await t.readMarker()).plugins)).toEqual(['fake']);
    } finally {
      await t.close();
    }
  });
});
