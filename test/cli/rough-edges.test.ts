/**
 * The rough edges a new user hit (issue 12), each through the real wfctl:
 * bad addresses are bad input naming the option, the token's location is
 * said, help shows each default once, and the host says its own pid.
 */
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { writeConfig } from '../helpers/configs.js';
import { tempDir } from '../helpers/plugin-dirs.js';
import { startServe, WFCTL } from '../helpers/serve.js';

const run = (args: string[], env: Record<string, string> = {}) => execa(process.execPath, [WFCTL, ...args], { reject: false, env: { ...env } });

describe('a bad admin address is bad input (exit 2) that names where it came from', () => {
  it.each([
    ['serve --admin nonsense', ['serve', '--admin', 'nonsense'], {}, /Invalid --admin: must be HOST:PORT/],
    ['serve --admin with port 70000', ['serve', '--admin', '127.0.0.1:70000'], {}, /Invalid --admin: the port must be from 0 to 65535/],
    ['status --admin with port 99999', ['status', '--admin', '127.0.0.1:99999'], {}, /Invalid --admin: the port must be from 1 to 65535, got "127\.0\.0\.1:99999"/],
    ['status --admin with port 0', ['status', '--admin', '127.0.0.1:0'], {}, /Invalid --admin: the port must be from 1 to 65535/],
    ['status with WFRELOAD_ADMIN=bad', ['status'], { WFRELOAD_ADMIN: 'bad' }, /Invalid WFRELOAD_ADMIN: must be HOST:PORT/],
  ])('%s', async (_what, args, env, message) => {
    const stateDir = await tempDir('wfr-edge-');
    const result = await run([...args, '--state-dir', stateDir], env);
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/ at |node:internal|ERR_/);
  });
});

it('says where it looked for the token when there is none', async () => {
  const stateDir = await tempDir('wfr-edge-');
  const result = await run(['status', '--state-dir', stateDir, '--admin', '127.0.0.1:9']);
  expect(result.exitCode).toBe(3);
  expect(result.stderr).toContain(`no ${join(stateDir, 'admin.token')} (pass the host's --state-dir`);
});

it('serve --help shows the admin default once', async () => {
  const help = (await run(['serve', '--help'])).stdout;
  expect(help.match(/127\.0\.0\.1:7070/g)).toHaveLength(1);
});

it('the host prints one ready line with its pid, front door, admin address, state directory and live view', async () => {
  const stateDir = await tempDir('wfr-edge-');
  const host = await startServe(stateDir, await writeConfig({ tag: 'A' }));
  try {
    const line = await host.lines.waitFor(/^wfreload: ready: /);
    const pid = host.process.pid!;
    expect(line).toBe(
      `wfreload: ready: pid ${pid}, front door http://${host.front}, admin http://${host.admin}/api/v1, state directory ${stateDir}, live view http://${host.admin}/inspect?token=… (\`wfctl live\` prints it with the token)`,
    );
  } finally {
    await host.stop();
  }
});
