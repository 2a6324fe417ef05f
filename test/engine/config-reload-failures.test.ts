/**
 * The seed's acceptance for engines: a config reload failure keeps the prior
 * engine active — same answers, same generation, same plugin pids, same
 * active.json — and releases every candidate process and socket.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigReloadResult } from '../../src/index.js';
import { writeConfig, writeRawConfig } from '../helpers/configs.js';
import { openTestHost, TEST_TIMEOUTS, type TestHost } from '../helpers/host.js';
import { listeningPorts, pluginChildPids } from '../helpers/resources.js';

interface Failure {
  what: string;
  /** Writes the bad candidate config; `busyPort` is a port something else listens on. */
  candidate: (busyPort: number) => Promise<string>;
  outcome: 'rolledBack' | 'rejected';
  failedStep: string;
  code: string;
  reason: RegExp;
  /** The nested result of the plugin the candidate config started, where that plugin is what failed. */
  plugin?: { name: string; outcome: string; failedStep: string; error: unknown };
}

const failures: Failure[] = [
  { what: 'the file is unreadable', candidate: async () => '/nonexistent/wfreload.yaml', outcome: 'rejected', failedStep: 'stage', code: 'WFR_CONFIG_UNREADABLE', reason: /Cannot read config file \/nonexistent\/wfreload\.yaml/ },
  { what: 'the YAML is invalid', candidate: () => writeRawConfig('http:\n  listen: [127.0.0.1:0\npipelines: {'), outcome: 'rejected', failedStep: 'stage', code: 'WFR_CONFIG_INVALID', reason: /line \d+, column \d+/ },
  { what: 'the schema is violated', candidate: () => writeConfig({ extra: { http: { listen: 'localhost' } } }), outcome: 'rejected', failedStep: 'stage', code: 'WFR_CONFIG_INVALID', reason: /http\.listen: must be host:port/ },
  {
    what: 'a step type is unknown',
    candidate: () => writeConfig({ extra: { pipelines: [{ route: 'GET /a', steps: [{ use: 'respond' }] }, { route: 'GET /b', steps: [{ use: 'set' }, { use: 'frobnicate' }] }] } }),
    outcome: 'rejected',
    failedStep: 'stage',
    code: 'WFR_CONFIG_INVALID',
    reason: /pipelines\[1\]\.steps\[1\]\.use: must be "plugin\.step" or one of the built-ins/,
  },
  { what: 'a plugin directory is missing', candidate: () => writeConfig({ extra: { plugins: { fake: { dir: '/nonexistent/plugin' } } } }), outcome: 'rejected', failedStep: 'stage', code: 'WFR_PLUGIN_DIR_UNREADABLE', reason: /\/nonexistent\/plugin/ },
  { what: 'a plugin fails its handshake', candidate: () => writeConfig({ plugin: { version: '2.0.0', flags: ['reply-version=1.0.0'] } }), outcome: 'rolledBack',
    failedStep: 'start plugins',
    code: 'WFR_PLUGIN_CONTRACT_MISMATCH',
    reason: /plugin "fake": .*version = "1\.0\.0", but plugin\.json declares "2\.0\.0"/,
    // The plugin's own slot says where it failed.
    plugin: { name: 'fake', outcome: 'rolledBack', failedStep: 'handshake', error: expect.objectContaining({ code: 'WFR_PLUGIN_CONTRACT_MISMATCH' }) },
  },
  {
    what: 'the build fails (a step the plugin does not offer)',
    candidate: () => writeConfig({ plugin: { version: '2.0.0' }, extra: { pipelines: [{ route: 'GET /x', steps: [{ use: 'fake.shout' }] }], probes: [] } }),
    outcome: 'rolledBack',
    failedStep: 'build',
    code: 'WFR_CONFIG_BUILD_FAILED',
    reason: /pipelines\[0\]\.steps\[0\]\.use: plugin "fake" has no step "shout"/,
  },
  {
    what: 'a probe gets the wrong status',
    candidate: () => writeConfig({ plugin: { version: '2.0.0' }, extra: { probes: [{ request: 'GET /nowhere', expect: { status: 200 } }] } }),
    outcome: 'rolledBack',
    failedStep: 'probe',
    code: 'WFR_HTTP_PROBE_FAILED',
    reason: /Probe GET \/nowhere answered .*"status":404/,
  },
  {
    what: 'a probe hangs',
    candidate: () => writeConfig({ plugin: { version: '2.0.0' }, extra: { probes: [{ request: 'GET /slow?file=/nonexistent/never', expect: { status: 200 } }] } }),
    outcome: 'rolledBack',
    failedStep: 'probe',
    code: 'WFR_HTTP_PROBE_TIMEOUT',
    reason: new RegExp(`got no answer within ${TEST_TIMEOUTS.probeMs} ms`),
  },
  { what: 'the new listen address is already in use', candidate: (busy) => writeConfig({ listen: `127.0.0.1:${busy}`, plugin: { version: '2.0.0' } }), outcome: 'rolledBack', failedStep: 'probe', code: 'WFR_LISTEN_FAILED', reason: new RegExp('already in use') },
];

describe('a failed config reload keeps the prior engine active', () => {
  let t: TestHost;
  let busy: Server;
  beforeEach(async () => {
    t = await openTestHost();
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    busy.close();
    await t.close();
  });

  it.each(failures)('when $what', async (failure) => {
    const good = await t.host.tryActivateConfig(await writeConfig({ tag: 'good' }));
    expect(good.outcome).toBe('activated');
    const front = `http://${t.host.engineStatus()!.address}`;
    const ask = async () => {
      const response = await fetch(`${front}/echo/hi`);
      return { generation: response.headers.get('x-wfreload-generation'), body: await response.json() };
    };
    const before = await ask();
    const pluginPids = t.host.listPlugins().map((p) => p.pid);
    const marker = await t.readMarker();
    const processes = pluginChildPids();
    expect(processes).toEqual([...pluginPids].sort((a, b) => a - b));
    const ports = listeningPorts();

    const busyPort = (busy.address() as { port: number }).port;
    const result: ConfigReloadResult = await t.host.tryActivateConfig(await failure.candidate(busyPort));

    expect(result.outcome).toBe(failure.outcome);
    expect(result.failedStep).toBe(failure.failedStep);
    expect(result.error?.code).toBe(failure.code);
    expect(result.error?.message).toMatch(failure.reason);
    // Each plugin the candidate config started was rolled back through its own slot.
    for (const plugin of result.plugins ?? []) expect(plugin.outcome, plugin.name).toBe('rolledBack');
    if (failure.plugin) expect(result.plugins).toEqual([expect.objectContaining(failure.plugin)]);
    // The old engine: same answers from the same generation, on the same plugin processes.
    expect(await ask()).toEqual(before);
    expect(before.generation).toBe('1');
    expect(result.active).toEqual(good.active);
    expect(t.host.listPlugins().map((p) => p.pid)).toEqual(pluginPids);
    expect(await t.readMarker()).toBe(marker);
    // Every candidate process and socket is gone.
    expect(pluginChildPids()).toEqual(processes);
    expect(listeningPorts()).toEqual(ports);
  });
});
