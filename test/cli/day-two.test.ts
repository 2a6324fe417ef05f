/**
 * Day-two commands through the real wfctl against a real host: the staged
 * versions of a plugin, and a rollback to the previous (or a named) one
 * through the same safe path as try-activate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pluginListSchema, pluginVersionsSchema, reloadResultSchema } from '../../src/api/schemas.js';
import { writeConfig } from '../helpers/configs.js';
import { makePluginDir, tempDir } from '../helpers/plugin-dirs.js';
import { startServe, wfctl, WFCTL, type RunningHost } from '../helpers/serve.js';
import { execa } from 'execa';

let stateDir: string;
let host: RunningHost;
const run = (...args: string[]) => wfctl(host, stateDir, ...args);
const versions = async () => pluginVersionsSchema.parse(JSON.parse((await run('plugin', 'versions', 'fake', '--json')).stdout)).versions;
const servingPid = async () => pluginListSchema.parse(JSON.parse((await run('plugin', 'list', '--json')).stdout)).plugins.find((p) => p.name === 'fake')!.pid;

beforeAll(async () => {
  stateDir = await tempDir('wfr-day2-');
  // The config's fake plugin is 1.0.0; then 2.0.0 by hand.
  host = await startServe(stateDir, await writeConfig({ tag: 'A' }));
});
afterAll(() => host?.stop());

describe('plugin versions and rollback', () => {
  it('a rollback with nothing to go back to is bad input (exit 2) that lists what is staged', async () => {
    const result = await run('plugin', 'rollback', 'fake');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/no previous version of plugin "fake" is staged .* pick one with --to VERSION from: 1\.0\.0 \([0-9a-f]{12}\) active/);
  });

  it('lists the staged versions, newest first, with the active and the previous one marked', async () => {
    const upgrade = await run('plugin', 'try-activate', 'fake', await makePluginDir({ version: '2.0.0' }));
    expect(upgrade.exitCode, upgrade.stdout).toBe(0);
    const listed = await versions();
    expect(listed.map((v) => [v.version, v.active, v.previous])).toEqual([
      ['2.0.0', true, false],
      ['1.0.0', false, true],
    ]);
    const text = await run('plugin', 'versions', 'fake');
    expect(text.stdout).toMatch(/^\* 2\.0\.0 +[0-9a-f]{12} {2}staged \S+ {2}active\n< 1\.0\.0 +[0-9a-f]{12} {2}staged \S+ {2}previous \(rollback goes here\)$/);
  });

  it('rolls back to the previous version through the safe path: a new process, exit 0, and the two swap roles', async () => {
    const before = await servingPid();
    const result = await run('plugin', 'rollback', 'fake', '--json');
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const reload = reloadResultSchema.parse(JSON.parse(result.stdout));
    expect(reload).toMatchObject({ outcome: 'activated', previous: { version: '2.0.0' }, active: { version: '1.0.0' } });
    expect(reload.steps.map((s) => s.work)).toEqual(['stage', 'start', 'handshake', 'probe', 'engine check', 'swap', 'confirm', 'drain']);
    expect(await servingPid()).not.toBe(before);
    expect(await servingPid()).toBe((reload.active as { pid: number }).pid);
    // Rolling back again goes forward to 2.0.0 (like `kubectl rollout undo`).
    expect((await versions()).map((v) => [v.version, v.active, v.previous])).toEqual([
      ['2.0.0', false, true],
      ['1.0.0', true, false],
    ]);
  });

  it('rolls back to a named staged version with --to, and refuses one that is not staged (exit 2)', async () => {
    const named = await run('plugin', 'rollback', 'fake', '--to', '2.0.0');
    expect(named.exitCode, named.stdout).toBe(0);
    expect(named.stdout).toMatch(/^✓ plugin:fake: activated 2\.0\.0/);
    const missing = await run('plugin', 'rollback', 'fake', '--to', '9.9.9');
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/Invalid --to: no staged version of plugin "fake" matches it; staged: 2\.0\.0 \([0-9a-f]{12}\) active, 1\.0\.0/);
    // Going to the active version itself is unchanged.
    expect(reloadResultSchema.parse(JSON.parse((await run('plugin', 'rollback', 'fake', '--to', '2.0.0', '--json')).stdout)).outcome).toBe('unchanged');
  });
});

describe('plugin logs', () => {
  it('prints the last stderr lines of the plugin\'s processes, every version, oldest first; --lines bounds them', async () => {
    const all = await run('plugin', 'logs', 'fake');
    expect(all.exitCode, all.stderr).toBe(0);
    const ready = all.stdout.trim().split('\n').filter((line) => / ready, pid /.test(line));
    // Each process the walk above started said it was ready: 1.0.0 at start, 2.0.0, the rollback's 1.0.0, --to's 2.0.0.
    expect(ready.map((line) => /(\d\.\d\.\d) pid (\d+) {2}fake (\d\.\d\.\d) \(fake\) ready, pid (\d+)$/.exec(line)?.slice(1))).toEqual([
      [expect.any(String), expect.any(String), '1.0.0', expect.any(String)],
      [expect.any(String), expect.any(String), '2.0.0', expect.any(String)],
      [expect.any(String), expect.any(String), '1.0.0', expect.any(String)],
      [expect.any(String), expect.any(String), '2.0.0', expect.any(String)],
    ]);
    for (const line of ready) {
      const [, version, pid, said, saidPid] = /(\S+) pid (\d+) {2}fake (\S+) \(fake\) ready, pid (\d+)$/.exec(line)!;
      expect([version, pid]).toEqual([said, saidPid]);
    }
    const one = await run('plugin', 'logs', 'fake', '--lines', '1', '--json');
    expect(JSON.parse(one.stdout).lines).toHaveLength(1);
    expect((await run('plugin', 'logs', 'fake', '--lines', 'lots')).exitCode).toBe(2);
  });

  it('--follow prints new lines as they come: a candidate\'s stderr appears while it starts', async () => {
    const follow = wfctl(host, stateDir, 'plugin', 'logs', 'fake', '--follow', '--json', '--lines', '1');
    const { watchLines } = await import('../helpers/lines.js');
    const lines = watchLines(follow.stdout!);
    await lines.waitFor(/ready/);
    const upgrade = await run('plugin', 'try-activate', 'fake', await makePluginDir({ version: '3.0.0' }), '--json');
    const pid = (reloadResultSchema.parse(JSON.parse(upgrade.stdout)).active as { pid: number }).pid;
    const seen = JSON.parse(await lines.waitFor(new RegExp(`"line":"fake 3\\.0\\.0 \\(fake\\) ready, pid ${pid}"`)));
    expect(seen).toMatchObject({ version: '3.0.0', pid, line: `fake 3.0.0 (fake) ready, pid ${pid}` });
    follow.kill('SIGTERM');
    await follow.catch(() => {});
  });
});

describe('plugin prune', () => {
  it('removes old staged versions by hand, never the active or the previous one, and says what it did', async () => {
    const before = (await versions()).map((v) => v.version);
    expect(before.length).toBeGreaterThanOrEqual(3);
    const result = await run('plugin', 'prune', 'fake', '--keep', '0');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^fake: removed \d+: .*; kept 2: /);
    const after = await versions();
    expect(after).toHaveLength(2);
    expect(after.filter((v) => v.active || v.previous)).toHaveLength(2);
    expect((await run('plugin', 'prune', 'fake', '--keep', 'some')).exitCode).toBe(2);
  });
});

describe('progress on a terminal', () => {
  it('shows each state as it happens, then the result; without a terminal, only the result', async () => {
    const dir = await makePluginDir({ version: '4.0.0' });
    // `script` gives wfctl a real pseudo-terminal as stdout.
    const command = [process.execPath, WFCTL, 'plugin', 'try-activate', 'fake', dir, '--admin', host.admin, '--state-dir', stateDir].map((arg) => `'${arg}'`).join(' ');
    const tty = await execa('script', ['-qefc', command, '/dev/null'], { reject: false });
    expect(tty.exitCode, tty.stdout).toBe(0);
    const screen = tty.stdout;
    for (const state of ['staging', 'staged', 'candidateStarted', 'handshaked', 'healthy', 'probed', 'confirming', 'draining']) expect(screen).toContain(`… plugin:fake: ${state}`);
    expect(screen).toMatch(/… plugin:fake: handshaked {2}\(handshake \d+ ms\)/);
    // The progress line is cleared before the result.
    expect(screen).toMatch(/\r\x1b\[K✓ plugin:fake: activated 4\.0\.0/);
    const plain = await run('plugin', 'try-activate', 'fake', await makePluginDir({ version: '4.0.1' }));
    expect(plain.stdout).not.toContain('…');
    expect(plain.stdout).toMatch(/^✓ plugin:fake: activated 4\.0\.1/);
  });
});
