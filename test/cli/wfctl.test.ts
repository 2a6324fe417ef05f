/**
 * The real wfctl binary against a real `wfctl serve` on loopback.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pluginListSchema, reloadListSchema, reloadResultSchema, statusSchema } from '../../src/api/schemas.js';
import { writeConfig } from '../helpers/configs.js';
import { makePluginDir, tempDir } from '../helpers/plugin-dirs.js';
import { startServe, wfctl, type RunningHost } from '../helpers/serve.js';

let stateDir: string;
let host: RunningHost;
const run = (...args: string[]) => wfctl(host, stateDir, ...args);
const marker = () => readFile(join(stateDir, 'active.json'), 'utf8');
const statusJson = async () => statusSchema.parse(JSON.parse((await run('status', '--json')).stdout));

beforeAll(async () => {
  stateDir = await tempDir('wfr-cli-');
  host = await startServe(stateDir, await writeConfig({ tag: 'A' }));
});
afterAll(() => host?.stop());

describe('wfctl against a running host', () => {
  it('try-activates a good plugin: exit 0, and --json is a reload result', async () => {
    const result = await run('plugin', 'try-activate', 'fake', await makePluginDir({ version: '1.1.0' }), '--json');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(reloadResultSchema.parse(JSON.parse(result.stdout))).toMatchObject({ outcome: 'activated', active: { version: '1.1.0' } });
  });

  it('re-offering the active bytes is unchanged: exit 0, the same pid, said plainly (and 200 with outcome unchanged in --json)', async () => {
    const before = await statusJson();
    const result = await run('plugin', 'try-activate', 'fake', await makePluginDir({ version: '1.1.0' }));
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^✓ plugin:fake: unchanged: 1\.1\.0 \(pid \d+\) is already active with the same bytes; nothing was restarted\n {2}✓ stage/);
    const json = await run('plugin', 'try-activate', 'fake', await makePluginDir({ version: '1.1.0' }), '--json');
    expect(reloadResultSchema.parse(JSON.parse(json.stdout))).toMatchObject({ outcome: 'unchanged' });
    expect((await statusJson()).plugins.map((p) => p.pid)).toEqual(before.plugins.map((p) => p.pid));
  });

  it('rolls back a bad plugin: exit 1, naming the failed step, the stderr and what to do next', async () => {
    const before = await statusJson();
    const result = await run('plugin', 'try-activate', 'fake', await makePluginDir({ version: '9.0.0', flags: ['exit-early'] }));
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/✗ plugin:fake: rolledBack at handshake: Plugin "fake" \(pid \d+\) exited with code 3/);
    expect(result.stdout).toMatch(/Nothing changed: 1\.1\.0 \(pid \d+\) is still active\./);
    expect(result.stdout).toMatch(/✗ handshake .* WFR_PLUGIN_EXITED/);
    expect(result.stdout).toMatch(/last stderr lines of the candidate:\n {4}fatal: cannot open database/);
    expect(result.stdout).toMatch(/next: fix the plugin, check it with `wfctl plugin check DIR`/);
    const after = await statusJson();
    // Everything but the state is as it was (usage moves on with time).
    const steady = (plugins: typeof before.plugins) => plugins.map(({ usage: _usage, ...p }) => p);
    expect(steady(after.plugins)).toEqual(steady(before.plugins).map((p) => ({ ...p, state: 'rolledBack' })));
    expect(after.lastAttempts['plugin:fake']).toMatchObject({ outcome: 'rolledBack', failedStep: 'handshake', error: { code: 'WFR_PLUGIN_EXITED' } });
  });

  it('plugin list shows health apart from the last attempt: after a rolled-back upgrade the running version is serving', async () => {
    const list = await run('plugin', 'list');
    expect(list.exitCode, list.stderr).toBe(0);
    const [header, row, ...more] = list.stdout.trim().split('\n');
    expect(more).toEqual([]);
    expect(header).toMatch(/^NAME +VERSION +DIGEST +PID +UPTIME +MEM +CPU +RESTARTS +HEALTH +LAST ATTEMPT$/);
    expect(row).toMatch(/^fake +1\.1\.0 +[0-9a-f]{12} +\d+ +\d+(s|m\d+s) +\d+ MiB +\d+\.\ds +0 +serving +rolledBack at handshake \(rl-[a-z0-9-]+\)$/);
    const json = pluginListSchema.parse(JSON.parse((await run('plugin', 'list', '--json')).stdout));
    expect(json.plugins).toEqual([expect.objectContaining({ name: 'fake', version: '1.1.0', health: 'serving', alive: true, lastAttempt: expect.objectContaining({ outcome: 'rolledBack', failedStep: 'handshake' }) })]);
    // status says the same: serving, and the last attempt on its own line.
    const status = (await run('status')).stdout;
    expect(status).toMatch(/^plugin +fake +1\.1\.0 +pid \d+ +serving {2}up \S+$/m);
    expect(status).toMatch(/^last +plugin:fake +rolledBack at handshake/m);
  });

  it('a dry run exits 0 and changes nothing, as status and active.json show', async () => {
    const before = await statusJson();
    const file = await marker();
    const result = await run('plugin', 'try-activate', 'fake', await makePluginDir({ version: '2.0.0' }), '--dry-run', '--json');
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'dryRunPassed', dryRun: true });
    const after = await statusJson();
    expect(after.plugins.map(({ state: _s, ...p }) => p)).toEqual(before.plugins.map(({ state: _s, ...p }) => p));
    expect(after.engine).toEqual(before.engine);
    expect(await marker()).toBe(file);
  });

  it('try-activates configs: a good one swaps (exit 0), a bad one rolls back (exit 1), a dry run changes nothing', async () => {
    const good = await run('config', 'try-activate', await writeConfig({ tag: 'B' }));
    expect(good.exitCode, good.stdout + good.stderr).toBe(0);
    expect(good.stdout).toMatch(/✓ config: activated generation 2/);
    const bad = await run('config', 'try-activate', await writeConfig({ tag: 'C', extra: { probes: [{ request: 'GET /missing', expect: { status: 200 } }] } }));
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toMatch(/rolledBack at probe: Probe GET \/missing answered/);
    expect(bad.stdout).toMatch(/next: fix the config/);
    const file = await marker();
    const dry = await run('config', 'try-activate', await writeConfig({ tag: 'D' }), '--dry-run');
    expect(dry.exitCode).toBe(0);
    expect(await marker()).toBe(file);
    expect((await statusJson()).engine?.generation).toBe(2);
  });

  it('shows a config reload\'s plugins, each with its own outcome and steps: the one that failed, and where', async () => {
    const root = await tempDir('wfr-config-');
    const plugins = { fake: { dir: await makePluginDir({}, root) }, extra: { dir: await makePluginDir({ name: 'extra', flags: ['unhealthy'] }, root) } };
    const result = await run('config', 'try-activate', await writeConfig({ tag: 'E', extra: { plugins } }, root));
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/✗ config: rolledBack at start plugins: plugin "extra": Plugin "extra" answered health/);
    expect(result.stdout).toMatch(/ {2}✗ start plugins +\d+ ms {2}WFR_PLUGIN_UNHEALTHY\n/);
    expect(result.stdout).toMatch(/ {2}plugin extra 1\.0\.0: rolledBack at probe: WFR_PLUGIN_UNHEALTHY\n {4}✓ start +\d+ ms\n {4}✓ handshake +\d+ ms\n {4}✗ probe +\d+ ms {2}WFR_PLUGIN_UNHEALTHY\n {4}✓ roll back/);
    expect(result.stdout).toMatch(/next: fix the plugin/);
  });

  it('the legacy reload on a bad candidate loses the plugin (exit 1), and try-activate brings it back', async () => {
    const result = await run('plugin', 'reload', 'fake', await makePluginDir({ version: '3.0.0', flags: ['hang-health'] }), '--legacy', '--json');
    expect(result.exitCode).toBe(1);
    expect(reloadResultSchema.parse(JSON.parse(result.stdout))).toMatchObject({ legacy: true, outcome: 'failed', active: null });
    expect((await statusJson()).plugins.map((p) => p.name)).not.toContain('fake');
    expect((await run('plugin', 'try-activate', 'fake', await makePluginDir({ version: '1.2.0' }))).exitCode).toBe(0);
  });

  it('follows reloads live with `reloads watch`', async () => {
    const watch = wfctl(host, stateDir, 'reloads', 'watch', '--json', '--count', '1');
    const { watchLines } = await import('../helpers/lines.js');
    // The first line says the stream is subscribed; a reload started after it is seen whole.
    await watchLines(watch.stdout!).waitFor(/"type":"hello"/);
    await run('plugin', 'try-activate', 'fake', await makePluginDir({ version: '1.3.0' }), '--dry-run');
    const result = await watch;
    expect(result.exitCode).toBe(0);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line)).filter((e) => e.type !== 'hello');
    expect(events.at(-1)).toMatchObject({ type: 'reload', result: { outcome: 'dryRunPassed' } });
    expect(events.filter((e) => e.type === 'transition').map((e) => e.state)).toEqual(['staging', 'staged', 'candidateStarted', 'handshaked', 'healthy', 'stoppingCandidate', 'dryRunPassed']);
  });

  it('keeps the history across a restart of the host', async () => {
    const before = reloadListSchema.parse(JSON.parse((await run('reloads', '--json', '--limit', '100')).stdout)).reloads;
    expect(before.length).toBeGreaterThanOrEqual(7);
    await host.stop();
    host = await startServe(stateDir);
    const after = reloadListSchema.parse(JSON.parse((await run('reloads', '--json', '--limit', '100')).stdout)).reloads;
    // The restart started the active plugin again through its slot, and journaled that (newest first) before anything else.
    const [boot, ...rest] = after;
    expect(boot).toMatchObject({ target: 'plugin:fake', source: 'restart', outcome: 'restarted', previous: null });
    expect(rest.map((r) => r.id)).toEqual(before.map((r) => r.id));
    const one = await run('reloads', before[0]!.id);
    expect(one.exitCode).toBe(0);
    expect(one.stdout).toContain(`reload id: ${before[0]!.id}`);
    // The engine and plugin came back from active.json.
    expect((await statusJson()).engine?.generation).toBe(2);
  });
});

describe('wfctl exit codes', () => {
  it.each([
    [['plugin', 'try-activate', 'fake'], 2, /missing required argument 'dir'/],
    [['plugin', 'reload', 'fake', '/tmp'], 2, /needs --legacy/],
    [['reloads', 'rl-does-not-exist'], 2, /No reload with id "rl-does-not-exist"/],
    [['status', '--token', 'wrong'], 3, /Unauthorized: the bearer token is wrong/],
    [['plugin', 'try-activate', 'Bad_Name', '/tmp'], 2, /Invalid plugin name/],
  ])('wfctl %j exits %i', async (args, code, message) => {
    const result = await run(...args);
    expect(result.exitCode).toBe(code);
    expect(result.stderr).toMatch(message);
  });

  it('exits 3 when no host answers', async () => {
    const result = await wfctl(null, stateDir, 'status', '--admin', '127.0.0.1:9');
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toMatch(/Cannot reach the wfreload admin API at 127\.0\.0\.1:9/);
  });
});
