/**
 * A config reload starts the plugins it needs through plugin slots (children
 * of the engine slot), and reports each in its result's `plugins`. Through the
 * real host: real plugin processes, real files, the real front door.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostEvent } from '../../src/index.js';
import { writeConfig } from '../helpers/configs.js';
import { isAlive, openTestHost, type TestHost } from '../helpers/host.js';
import { makePluginDir, tempDir } from '../helpers/plugin-dirs.js';
import { processesUnder } from '../helpers/resources.js';

/** The staged versions of plugin `name` in the state directory. */
const stagedVersions = (t: TestHost, name: string) => readdir(join(t.stateDir, 'plugins', name)).catch(() => [] as string[]);

describe('a config reload runs its new plugins through plugin slots', () => {
  let t: TestHost;
  let events: HostEvent[];
  beforeEach(async () => {
    t = await openTestHost();
    events = [];
    t.host.events.subscribe((event) => events.push(event));
    expect((await t.host.tryActivateConfig(await writeConfig({ tag: 'A' }))).outcome).toBe('activated');
  });
  afterEach(() => t.close());

  /** A config that keeps `fake` (same bytes: shared) and adds plugin `extra` on GET /extra. */
  const withExtra = async (...extras: Array<{ name: string; flags?: string[] }>) => {
    const root = await tempDir('wfr-config-');
    const plugins: Record<string, { dir: string }> = { fake: { dir: await makePluginDir({}, root) } };
    for (const extra of extras) plugins[extra.name] = { dir: await makePluginDir({ name: extra.name, version: '1.0.0', flags: extra.flags ?? [] }, root) };
    return writeConfig(
      {
        tag: 'B',
        extra: {
          plugins,
          pipelines: [
            { route: 'GET /echo/:word', steps: [{ use: 'fake.echo', with: { tag: 'B' } }] },
            ...extras.map((extra) => ({ route: `GET /${extra.name}`, steps: [{ use: `${extra.name}.echo` }] })),
          ],
        },
      },
      root,
    );
  };

  it('rolls back a config adding a plugin that fails its health check: its own result says rolledBack at probe, and no process of it survives', async () => {
    const front = `http://${t.host.engineStatus()!.address}`;
    const before = await (await fetch(`${front}/echo/x`)).json();
    const pids = t.host.listPlugins().map((p) => p.pid);
    const marker = await t.readMarker();
    const extraDir = join(t.stateDir, 'plugins', 'extra');
    // While its slot handshakes, the candidate runs, with a child of its own (spawn-grandchild).
    const whileRunning = t.waitForState('config/plugin:extra', 'handshaked').then(() => processesUnder(extraDir));

    const result = await t.host.tryActivateConfig(await withExtra({ name: 'extra', flags: ['spawn-grandchild', 'unhealthy'] }));

    expect(result).toMatchObject({ outcome: 'rolledBack', failedStep: 'start plugins', error: { code: 'WFR_PLUGIN_UNHEALTHY', details: { plugin: 'extra' } } });
    expect(result.error!.message).toMatch(/^plugin "extra": /);
    // `fake` runs with the same bytes: shared, not started, not listed.
    expect(result.plugins).toHaveLength(1);
    const [extra] = result.plugins!;
    expect(extra).toMatchObject({ id: result.id, kind: 'plugin', target: 'plugin:extra', name: 'extra', outcome: 'rolledBack', failedStep: 'probe', error: { code: 'WFR_PLUGIN_UNHEALTHY' }, previous: null, active: null });
    expect(extra!.steps.map((s) => s.work)).toEqual(['start', 'handshake', 'probe', 'roll back']);
    expect(extra!.candidate).toMatchObject({ version: '1.0.0' });

    // It ran with a child (the check can fail), and now nothing of it runs, and its staged copy is gone.
    expect((await whileRunning).length).toBeGreaterThanOrEqual(2);
    expect(isAlive(extra!.candidate!.pid)).toBe(false);
    expect(processesUnder(extraDir)).toEqual([]);
    expect(await stagedVersions(t, 'extra')).toEqual([]);
    // The running engine and its plugin never noticed.
    expect(await (await fetch(`${front}/echo/x`)).json()).toEqual(before);
    expect(t.host.listPlugins().map((p) => p.pid)).toEqual(pids);
    expect(await t.readMarker()).toBe(marker);
    expect((await t.host.history()).at(-1)).toEqual(result);
  });

  it('streams the plugin slot moving during the config reload: transitions under plugin:NAME with the config reload id, and inspection snapshots of config/plugin:NAME', async () => {
    const result = await t.host.tryActivateConfig(await withExtra({ name: 'extra', flags: ['unhealthy'] }));
    const transitions = events.filter((e): e is Extract<HostEvent, { type: 'transition' }> => e.type === 'transition' && e.target === 'plugin:extra');
    expect(transitions.map((e) => e.reloadId)).toEqual(transitions.map(() => result.id));
    expect(transitions.map((e) => e.state)).toEqual(['staged', 'candidateStarted', 'handshaked', 'rollingBack', 'rolledBack']);
    // The engine slot's own transitions interleave: it waited for its plugin, then released it.
    const engineStates = events.filter((e) => e.type === 'transition' && e.target === 'config' && e.reloadId === result.id).map((e) => (e as { state: string }).state);
    expect(engineStates).toEqual(['staging', 'startingPlugins', 'rollingBack', 'rolledBack']);
    const inspected = events.filter((e) => e.type === 'inspect' && e.actorId === 'config/plugin:extra');
    expect(inspected.length).toBeGreaterThan(0);
  });

  it('activates a config adding a healthy plugin: its own result says activated, and it serves the new route', async () => {
    const result = await t.host.tryActivateConfig(await withExtra({ name: 'extra' }));
    expect(result.outcome).toBe('activated');
    const [extra] = result.plugins!;
    expect(extra).toMatchObject({ name: 'extra', outcome: 'activated', failedStep: null, error: null, previous: null, active: { version: '1.0.0' } });
    expect(extra!.active!.pid).toBe(extra!.candidate!.pid);
    expect(extra!.steps.map((s) => s.work)).toEqual(['start', 'handshake', 'probe', 'await engine', 'engine window']);
    expect(t.host.listPlugins().find((p) => p.name === 'extra')?.pid).toBe(extra!.active!.pid);
    const answer = await fetch(`http://${t.host.engineStatus()!.address}/extra`);
    expect(answer.status).toBe(200);
    expect(await stagedVersions(t, 'extra')).toHaveLength(1);
  });

  it('rolls back, through its own slot, a healthy plugin the config started beside one that failed', async () => {
    const result = await t.host.tryActivateConfig(await withExtra({ name: 'good' }, { name: 'bad', flags: ['reply-version=9.9.9'] }));
    expect(result).toMatchObject({ outcome: 'rolledBack', failedStep: 'start plugins', error: { details: { plugin: 'bad' } } });
    const byName = Object.fromEntries(result.plugins!.map((p) => [p.name, p]));
    expect(byName.bad).toMatchObject({ outcome: 'rolledBack', failedStep: 'handshake' });
    // The healthy one had passed its own checks; it was released with the config's error and rolled back.
    expect(byName.good).toMatchObject({ outcome: 'rolledBack', failedStep: 'await engine', error: { code: result.error!.code, details: { plugin: 'bad' } } });
    expect(byName.good!.steps.map((s) => s.work)).toEqual(['start', 'handshake', 'probe', 'await engine', 'roll back']);
    for (const plugin of result.plugins!) expect(isAlive(plugin.candidate!.pid), plugin.name).toBe(false);
    expect(await stagedVersions(t, 'good')).toEqual([]);
    expect(await stagedVersions(t, 'bad')).toEqual([]);
  });
});
