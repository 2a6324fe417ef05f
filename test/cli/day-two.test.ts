/**
 * Day-two commands through the real wfctl against a real host: the staged
 * versions of a plugin, and a rollback to the previous (or a named) one
 * through the same safe path as try-activate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pluginListSchema, pluginVersionsSchema, reloadResultSchema } from '../../src/api/schemas.js';
import { writeConfig } from '../helpers/configs.js';
import { makePluginDir, tempDir } from '../helpers/plugin-dirs.js';
import { startServe, wfctl, type RunningHost } from '../helpers/serve.js';

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
    expect(await servingPid()).toBe(reload.active!.pid);
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
