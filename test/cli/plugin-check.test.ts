import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, makePluginDir } from '../helpers/plugin-dirs.js';

const wfctl = fileURLToPath(new URL('../../bin/wfctl.js', import.meta.url));
const run = (...args: string[]) => execa(process.execPath, [wfctl, ...args], { reject: false });

describe('wfctl plugin check', () => {
  it('exits 0 and lists every step for a good plugin', async () => {
    const result = await run('plugin', 'check', join(EXAMPLES, 'wordcount-py'));
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/dry run of 1\.0\.0 passed every check/);
    expect(result.stdout).toMatch(/✓ handshake/);
  });

  it('exits 1 and names the failing step and the plugin stderr for a bad one', async () => {
    const result = await run('plugin', 'check', await makePluginDir({ flags: ['exit-early'] }));
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/rolledBack at handshake/);
    expect(result.stdout).toMatch(/✗ handshake .* WFR_PLUGIN_EXITED/);
    expect(result.stdout).toMatch(/last stderr lines of the candidate:\n {4}fatal: cannot open database/);
  });

  it('prints the reload result as JSON with --json', async () => {
    const result = await run('plugin', 'check', join(EXAMPLES, 'greeter-v1'), '--json');
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'dryRunPassed', target: 'plugin:greeter', dryRun: true });
  });

  it.each([
    [['plugin', 'check'], /missing required argument 'dir'/],
    [['plugin', 'check', '.', '--handshake-timeout', 'soon'], /--handshake-timeout: must be a positive whole number.*"soon"/],
    [['plugin', 'frobnicate'], /unknown command 'frobnicate'/],
  ])('exits 2 on bad usage: wfctl %j', async (args, message) => {
    const result = await run(...args);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
