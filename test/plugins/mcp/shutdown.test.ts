/**
 * Stopping an MCP plugin the way MCP's stdio transport asks: close stdin, then
 * SIGTERM, then SIGKILL after the grace period. A server that ignores the end
 * of its stdin gets SIGTERM and can save its state before it exits.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { isAlive, openTestHost, TEST_TIMEOUTS, type TestHost } from '../../helpers/host.js';
import { waitForExit } from '../../helpers/wait.js';
import { tempDir } from '../../helpers/plugin-dirs.js';
import { scaled } from '../../helpers/slowdown.js';

const SERVER = fileURLToPath(new URL('../../fixtures/mcp-server.mjs', import.meta.url));
const SDK_DIR = fileURLToPath(new URL('../../../node_modules/@modelcontextprotocol/sdk', import.meta.url));

async function mcpPlugin(version: string, flags: string[] = []): Promise<string> {
  const dir = join(await tempDir('wfr-mcp-fixture-'), 'p');
  await mkdir(dir);
  await writeFile(join(dir, 'server.mjs'), await readFile(SERVER));
  await writeFile(
    join(dir, 'plugin.json'),
    JSON.stringify({
      name: 'fixture',
      version,
      protocol: 'mcp',
      serverInfo: { name: 'fixture-server', version: '1.0.0' },
      command: ['node', 'server.mjs', ...flags],
      env: { MCP_SDK_DIR: SDK_DIR },
      contract: { steps: [{ type: 'echo' }] },
      probe: [{ step: 'echo', input: { ping: 1 }, expect: { echoed: true } }],
    }),
  );
  return dir;
}

let t: TestHost;
afterEach(async () => {
  await t?.close();
});

it('a server that ignores the end of stdin gets SIGTERM within the grace period, and exits on it', async () => {
  t = await openTestHost({ timeouts: { ...TEST_TIMEOUTS, graceMs: scaled(2_000) } });
  expect((await t.host.tryActivatePlugin('fixture', await mcpPlugin('1.0.0', ['linger']))).outcome).toBe('activated');
  const old = t.host.listPlugins()[0]!;
  expect(await t.host.invoke('fixture', 'echo', { a: 1 })).toEqual({ echoed: true });

  const result = await t.host.tryActivatePlugin('fixture', await mcpPlugin('2.0.0'));
  expect(result.outcome).toBe('activated');
  // The drain stopped the old server (after the answer): by SIGTERM, which it answered by writing its mark (not by SIGKILL).
  expect(await waitForExit(old.pid)).toBe(true);
  expect(await readFile(join(t.stateDir, 'data', 'fixture', 'signal'), 'utf8')).toBe('SIGTERM');
}, scaled(60_000));
