import { execFileSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, ReloadInProgressError, UnknownPluginError, UnknownStepError } from '../../src/index.js';
import { isAlive, openTestHost, type TestHost } from '../helpers/host.js';
import { makePluginDir, tempDir } from '../helpers/plugin-dirs.js';

/** A valid goPlugin section, for the malformed go-plugin manifests below. */
const GO_PLUGIN = { magicCookie: { key: 'KV_COOKIE', value: 'x' }, appProtocolVersions: [1], protoFiles: ['kv.proto'], service: 'kv.KV', steps: { get: { method: 'Get' } } };

describe('bad input to the library API', () => {
  let t: TestHost;
  let marker: string;
  let oldPid: number;
  beforeEach(async () => {
    t = await openTestHost();
    oldPid = (await t.host.tryActivatePlugin('fake', await makePluginDir())).active!.pid!;
    marker = await t.readMarker();
  });
  afterEach(async () => {
    // Whatever the input, nothing changed.
    expect(await t.readMarker()).toBe(marker);
    expect(isAlive(oldPid)).toBe(true);
    expect(t.host.listPlugins().map((p) => [p.name, p.pid])).toEqual([['fake', oldPid]]);
    await t.close();
  });

  it('invoke on an unknown plugin throws WFR_UNKNOWN_PLUGIN naming the active ones', async () => {
    const error = await t.host.invoke('nope', 'echo', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownPluginError);
    expect(error).toMatchObject({ code: 'WFR_UNKNOWN_PLUGIN', message: expect.stringContaining('active plugins: fake') });
  });

  it('invoke of a step the contract lacks throws WFR_UNKNOWN_STEP', async () => {
    const error = await t.host.invoke('fake', 'shout', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownStepError);
    expect((error as Error).message).toContain('its contract declares: echo');
  });

  it.each([
    ['an empty name', '', '/tmp'],
    ['an uppercase name', 'Fake', '/tmp'],
    ['a non-string dir', 'fake', 42],
    ['an empty dir', 'fake', ''],
  ])('tryActivatePlugin rejects %s with WFR_INVALID_ARGUMENT', async (_what, name, dir) => {
    await expect(t.host.tryActivatePlugin(name, dir as string)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('tryActivatePlugin rejects a non-boolean dryRun', async () => {
    await expect(t.host.tryActivatePlugin('fake', '/tmp', { dryRun: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'WFR_INVALID_ARGUMENT' });
  });

  it('an unreadable directory is rejected with WFR_PLUGIN_DIR_UNREADABLE', async () => {
    const result = await t.host.tryActivatePlugin('fake', '/nonexistent/wfreload/plugin');
    expect(result).toMatchObject({ outcome: 'rejected', failedStep: 'stage', error: { code: 'WFR_PLUGIN_DIR_UNREADABLE' } });
    expect(result.error?.message).toContain('/nonexistent/wfreload/plugin');
  });

  it.each([
    ['plugin.json missing', null, /plugin\.json is missing/],
    ['not JSON', '{"name": ', /not valid JSON/],
    ['an unknown key', { name: 'fake', version: '1.0.0', protocolVersion: 1, command: ['node'], contract: { steps: [{ type: 'echo' }] }, colour: 'blue' }, /colour/],
    ['a bad version', { name: 'fake', version: 'v1', protocolVersion: 1, command: ['node'], contract: { steps: [{ type: 'echo' }] } }, /semantic version[\s\S]*version/],
    ['protocolVersion 2', { name: 'fake', version: '1.0.0', protocolVersion: 2, command: ['node'], contract: { steps: [{ type: 'echo' }] } }, /protocolVersion/],
    ['no steps', { name: 'fake', version: '1.0.0', protocolVersion: 1, command: ['node'], contract: { steps: [] } }, /at least one step/],
    ['duplicate steps', { name: 'fake', version: '1.0.0', protocolVersion: 1, command: ['node'], contract: { steps: [{ type: 'a' }, { type: 'a' }] } }, /unique/],
    ['an empty command', { name: 'fake', version: '1.0.0', protocolVersion: 1, command: [], contract: { steps: [{ type: 'echo' }] } }, /command/],
    ['a probe of an unknown step', { name: 'fake', version: '1.0.0', protocolVersion: 1, command: ['node'], contract: { steps: [{ type: 'echo' }] }, probe: [{ step: 'x' }] }, /probe step "x"/],
    ['no protocolVersion', { name: 'fake', version: '1.0.0', command: ['node'], contract: { steps: [{ type: 'echo' }] } }, /expected 1, the protocol this host speaks \(or "protocol": "mcp" for an MCP server\)/],
    ['an unknown protocol', { name: 'fake', version: '1.0.0', protocol: 'grpc', command: ['node'], contract: { steps: [{ type: 'echo' }] } }, /protocol/],
    ['MCP without serverInfo', { name: 'fake', version: '1.0.0', protocol: 'mcp', command: ['node'], contract: { steps: [{ type: 'echo' }] } }, /an MCP plugin must declare "serverInfo"/],
    ['MCP with protocolVersion', { name: 'fake', version: '1.0.0', protocol: 'mcp', protocolVersion: 1, serverInfo: { name: 's', version: '1' }, command: ['node'], contract: { steps: [{ type: 'echo' }] } }, /negotiates its own in initialize, so remove it/],
    ['serverInfo without MCP', { name: 'fake', version: '1.0.0', protocolVersion: 1, serverInfo: { name: 's', version: '1' }, command: ['node'], contract: { steps: [{ type: 'echo' }] } }, /"serverInfo" is for MCP plugins only/],
    ['go-plugin without goPlugin', { name: 'fake', version: '1.0.0', protocol: 'go-plugin', command: ['./plugin'], contract: { steps: [{ type: 'get' }] } }, /a go-plugin plugin must declare "goPlugin"/],
    ['goPlugin without go-plugin', { name: 'fake', version: '1.0.0', protocolVersion: 1, goPlugin: GO_PLUGIN, command: ['node'], contract: { steps: [{ type: 'get' }] } }, /"goPlugin" is for go-plugin plugins only/],
    ['a go-plugin step without a method', { name: 'fake', version: '1.0.0', protocol: 'go-plugin', goPlugin: GO_PLUGIN, command: ['./plugin'], contract: { steps: [{ type: 'get' }, { type: 'put' }] } }, /contract step "put" has no method: add "put": \{"method": "…"\} to goPlugin\.steps/],
    ['a go-plugin method for no step', { name: 'fake', version: '1.0.0', protocol: 'go-plugin', goPlugin: { ...GO_PLUGIN, steps: { get: { method: 'Get' }, del: { method: 'Delete' } } }, command: ['./plugin'], contract: { steps: [{ type: 'get' }] } }, /goPlugin\.steps maps "del", which contract\.steps does not declare/],
    ['a proto file outside the plugin', { name: 'fake', version: '1.0.0', protocol: 'go-plugin', goPlugin: { ...GO_PLUGIN, protoFiles: ['../kv.proto'] }, command: ['./plugin'], contract: { steps: [{ type: 'get' }] } }, /must be a path inside the plugin directory/],
    ['a magic cookie named like go-plugin\'s own variables', { name: 'fake', version: '1.0.0', protocol: 'go-plugin', goPlugin: { ...GO_PLUGIN, magicCookie: { key: 'PLUGIN_COOKIE', value: 'x' } }, command: ['./plugin'], contract: { steps: [{ type: 'get' }] } }, /names starting with WFRELOAD_ or PLUGIN_/],
    ['no app protocol version', { name: 'fake', version: '1.0.0', protocol: 'go-plugin', goPlugin: { ...GO_PLUGIN, appProtocolVersions: [] }, command: ['./plugin'], contract: { steps: [{ type: 'get' }] } }, /must list at least one version/],
    ['a service name that is not one', { name: 'fake', version: '1.0.0', protocol: 'go-plugin', goPlugin: { ...GO_PLUGIN, service: 'kv/KV' }, command: ['./plugin'], contract: { steps: [{ type: 'get' }] } }, /fully qualified gRPC service name/],
    ['an env name that is not one', { name: 'fake', version: '1.0.0', protocolVersion: 1, env: { 'MY-VAR': 'x' }, command: ['node'], contract: { steps: [{ type: 'echo' }] } }, /must be a variable name/],
    ['an env name of the host', { name: 'fake', version: '1.0.0', protocolVersion: 1, env: { WFRELOAD_DATA_DIR: '/tmp' }, command: ['node'], contract: { steps: [{ type: 'echo' }] } }, /names starting with WFRELOAD_ are the host's own/],
    ['an env value naming another variable', { name: 'fake', version: '1.0.0', protocolVersion: 1, env: { DB: '${HOME}/db' }, command: ['node'], contract: { steps: [{ type: 'echo' }] } }, /only \$\{WFRELOAD_DATA_DIR\} is expanded/],
  ])('a malformed manifest (%s) is rejected with WFR_MANIFEST_INVALID naming the problem', async (_what, manifest, problem) => {
    const dir = join(await tempDir(), 'p');
    await mkdir(dir);
    if (manifest !== null) await writeFile(join(dir, 'plugin.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
    const result = await t.host.tryActivatePlugin('fake', dir);
    expect(result).toMatchObject({ outcome: 'rejected', failedStep: 'stage', error: { code: 'WFR_MANIFEST_INVALID' } });
    expect(result.error?.message).toMatch(problem);
  });

  it('a manifest for another plugin is rejected with WFR_MANIFEST_NAME_MISMATCH', async () => {
    const result = await t.host.tryActivatePlugin('fake', await makePluginDir({ name: 'other' }));
    expect(result.error).toMatchObject({ code: 'WFR_MANIFEST_NAME_MISMATCH', details: { expected: 'fake', actual: 'other' } });
  });

  it('a FIFO in the plugin directory is rejected and leaves no staging behind', async () => {
    const dir = await makePluginDir({ version: '3.0.0' });
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    const result = await t.host.tryActivatePlugin('fake', dir);
    expect(result.error).toMatchObject({ code: 'WFR_PATH_ESCAPE', message: expect.stringContaining('not a regular file') });
    expect(await readdir(join(t.stateDir, 'staging'))).toEqual([]);
  });
});

describe('concurrent reloads', () => {
  let t: TestHost;
  beforeEach(async () => {
    t = await openTestHost();
  });
  afterEach(() => t.close());

  it('a second reload of the same plugin is refused with the id of the one in flight', async () => {
    const dir = await makePluginDir({ version: '2.0.0' });
    // Admitted once its intent record is written: wait for its slot to start, then ask again.
    const admitted = t.waitForState('plugin:fake', 'staging');
    const slow = t.host.tryActivatePlugin('fake', dir);
    await admitted;
    const refused = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '3.0.0' })).catch((e: unknown) => e);
    const legacyRefused = await t.host.reloadPluginLegacy('fake', await makePluginDir({ version: '3.0.0' })).catch((e: unknown) => e);
    const first = await slow;
    expect(refused).toBeInstanceOf(ReloadInProgressError);
    expect(refused).toMatchObject({ code: 'WFR_RELOAD_IN_PROGRESS', httpStatus: 409, inFlightId: first.id });
    expect(legacyRefused).toMatchObject({ code: 'WFR_RELOAD_IN_PROGRESS', inFlightId: first.id });
    // The refused calls did not disturb the one in flight.
    expect(first.outcome).toBe('activated');
    expect(t.host.listPlugins().map((p) => p.version)).toEqual(['2.0.0']);
  });

  it('a plugin reload is refused while a config reload runs, and the reverse, each naming the one in flight', async () => {
    const { writeConfig } = await import('../helpers/configs.js');
    const config = await writeConfig();
    const configAdmitted = t.waitForState('engine', 'staging');
    const configReload = t.host.tryActivateConfig(config);
    await configAdmitted;
    const pluginRefused = await t.host.tryActivatePlugin('fake', await makePluginDir()).catch((e: unknown) => e);
    const first = await configReload;
    expect(pluginRefused).toMatchObject({ code: 'WFR_RELOAD_IN_PROGRESS', details: { target: 'config', inFlightId: first.id } });

    const pluginDir = await makePluginDir({ version: '2.0.0' });
    const pluginAdmitted = t.waitForState('plugin:fake', 'staging');
    const pluginReload = t.host.tryActivatePlugin('fake', pluginDir);
    await pluginAdmitted;
    const configRefused = await t.host.tryActivateConfig(await writeConfig()).catch((e: unknown) => e);
    const second = await pluginReload;
    expect(configRefused).toMatchObject({ code: 'WFR_RELOAD_IN_PROGRESS', details: { target: 'plugin:fake', inFlightId: second.id } });
    expect(t.host.reloadsInFlight()).toEqual({});
  });
});
