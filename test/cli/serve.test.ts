import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { writeConfig } from '../helpers/configs.js';
import { watchLines } from '../helpers/lines.js';
import { tempDir } from '../helpers/plugin-dirs.js';
import { childPids } from '../helpers/resources.js';
import { timeoutArgs } from '../helpers/timeouts.js';
import { waitForExit } from '../helpers/wait.js';

const wfctl = fileURLToPath(new URL('../../bin/wfctl.js', import.meta.url));

describe('wfctl serve', () => {
  it('re-reads its config on SIGHUP through try-activate, and stops every plugin on SIGTERM', async () => {
    const stateDir = await tempDir('wfr-serve-');
    const file = await writeConfig({ tag: 'A' });
    const serve = execa(process.execPath, [wfctl, 'serve', '--config', file, '--state-dir', stateDir, '--admin', '127.0.0.1:0', ...timeoutArgs(), '--log-level', 'warn'], { reject: false });
    const out = watchLines(serve.stdout!);
    const address = (await out.waitFor(/front door on http:\/\//)).match(/http:\/\/(\S+)/)![1]!;
    const tag = async () => ((await (await fetch(`http://${address}/echo/x`)).json()) as { input: { tag: string } }).input.tag;
    expect(await tag()).toBe('A');
    const plugins = childPids(serve.pid!, /plugin\.mjs/);
    expect(plugins).toHaveLength(1);

    // A bad edit: SIGHUP rolls back and the old config keeps serving.
    const good = `${file}.good`;
    await copyFile(file, good);
    await writeFile(file, 'http: [');
    serve.kill('SIGHUP');
    expect(await out.waitFor(/SIGHUP: config: rejected at stage/)).toMatch(/WFR_CONFIG_INVALID|Invalid engine config/);
    expect(await tag()).toBe('A');

    // A good edit: SIGHUP swaps.
    await writeFile(file, (await readFile(good, 'utf8')).replaceAll('tag: A', 'tag: B'));
    serve.kill('SIGHUP');
    await out.waitFor(/SIGHUP: config: activated generation 2/);
    expect(await tag()).toBe('B');

    serve.kill('SIGTERM');
    const result = await serve;
    expect(result.exitCode).toBe(0);
    // Stopping plugins on purpose is not a crash.
    expect(result.stderr).not.toMatch(/exited unexpectedly/);
    expect(result.stdout).toMatch(/SIGTERM received, draining and stopping plugins…\nwfreload: stopped\./);
    for (const pid of plugins) expect(await waitForExit(pid)).toBe(true);
  });

  it('exits 1 with the reason when the first config fails and nothing was active', async () => {
    const stateDir = await tempDir('wfr-serve-');
    const result = await execa(process.execPath, [wfctl, 'serve', '--config', await writeConfig({ plugin: { flags: ['unhealthy'] } }), '--state-dir', stateDir, '--admin', '127.0.0.1:0', ...timeoutArgs(), '--log-level', 'silent'], { reject: false });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/config: rolledBack at start plugins: plugin "fake": Plugin "fake" answered health with \{"status":"degraded"\}/);
  });

  it('answers SIGHUP without an active config with a message, and keeps running', async () => {
    const stateDir = await tempDir('wfr-serve-');
    const serve = execa(process.execPath, [wfctl, 'serve', '--state-dir', stateDir, '--admin', '127.0.0.1:0', ...timeoutArgs(), '--log-level', 'silent'], { reject: false });
    const out = watchLines(serve.stdout!);
    await out.waitFor(/admin API on/);
    serve.kill('SIGHUP');
    expect(await out.waitFor(/SIGHUP:/)).toMatch(/no engine config is active, so there is no file to re-read/);
    serve.kill('SIGTERM');
    expect((await serve).exitCode).toBe(0);
  });

  it('refuses a second host on the same state directory, naming the pid that holds it (exit 2)', async () => {
    const stateDir = await tempDir('wfr-serve-');
    const first = execa(process.execPath, [wfctl, 'serve', '--state-dir', stateDir, '--admin', '127.0.0.1:0', ...timeoutArgs(), '--log-level', 'silent'], { reject: false });
    await watchLines(first.stdout!).waitFor(/admin API on/);
    const second = await execa(process.execPath, [wfctl, 'serve', '--state-dir', stateDir, '--admin', '127.0.0.1:0', ...timeoutArgs(), '--log-level', 'silent'], { reject: false });
    expect(second.exitCode).toBe(2);
    expect(second.stderr).toContain(`in use by another wfreload host (pid ${first.pid}`);
    first.kill('SIGTERM');
    expect((await first).exitCode).toBe(0);
  });
});
