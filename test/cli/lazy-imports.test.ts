/**
 * wfctl starts fast because a command loads only what it runs: `--version`,
 * `--help` and the client commands never load the host (xstate, hono, pino,
 * the engine, the orchestrator). A loader hook records every module the real
 * wfctl process loads.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, tempDir } from '../helpers/plugin-dirs.js';
import { WFCTL } from '../helpers/serve.js';

const TRACER = fileURLToPath(new URL('../fixtures/trace-imports.mjs', import.meta.url));
/** What belongs to the host, never to a client command. */
const HOST_MODULES = /node_modules\/(xstate|hono|@hono|pino|execa|yaml|zod)\/|dist\/(machines\/|src\/(orchestrator\/orchestrator\.js|engine\/|api\/server\.js|plugins\/|store\/))/;

async function modulesLoadedBy(...args: string[]): Promise<{ exitCode: number | undefined; modules: string[] }> {
  const trace = join(await tempDir('wfr-trace-'), 'modules.txt');
  const run = await execa(process.execPath, ['--import', TRACER, WFCTL, ...args], { reject: false, env: { WFR_TRACE_IMPORTS: trace } });
  const modules = (await readFile(trace, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
  return { exitCode: run.exitCode, modules };
}

describe('wfctl loads only what a command needs', () => {
  it.each([
    [['--version'], 0],
    [['--help'], 0],
    [['plugin', 'try-activate', '--help'], 0],
    // Client commands against a host that is not there: they get as far as the request (exit 3).
    [['status', '--json', '--admin', '127.0.0.1:9', '--token', 't'], 3],
    [['plugin', 'try-activate', 'greeter', EXAMPLES, '--admin', '127.0.0.1:9', '--token', 't'], 3],
    [['reloads', '--admin', '127.0.0.1:9', '--token', 't'], 3],
  ])('wfctl %j loads no host module', async (args, exitCode) => {
    const { exitCode: code, modules } = await modulesLoadedBy(...args);
    expect(code).toBe(exitCode);
    // The compiled CLI ran (the tracer saw it), and nothing of the host came with it.
    expect(modules.some((url) => url.endsWith('/dist/src/cli/main.js'))).toBe(true);
    expect(modules.filter((url) => HOST_MODULES.test(url))).toEqual([]);
  });

  it('the tracer sees the host when a command needs it (plugin check runs an orchestrator)', async () => {
    const { exitCode, modules } = await modulesLoadedBy('plugin', 'check', join(EXAMPLES, 'greeter-v1'));
    expect(exitCode).toBe(0);
    expect(modules.filter((url) => HOST_MODULES.test(url))).toEqual(expect.arrayContaining([expect.stringMatching(/node_modules\/xstate\//), expect.stringMatching(/dist\/src\/orchestrator\/orchestrator\.js$/)]));
  });

  it('a protocol\'s libraries load only with a plugin of that protocol: gRPC for go-plugin, not for a wfreload plugin', async () => {
    const PROTOCOL_MODULES = /node_modules\/(@grpc|protobufjs|@modelcontextprotocol)\//;
    const native = await modulesLoadedBy('plugin', 'check', join(EXAMPLES, 'greeter-v1'));
    expect(native.exitCode).toBe(0);
    expect(native.modules.filter((url) => PROTOCOL_MODULES.test(url))).toEqual([]);
    const goPlugin = await modulesLoadedBy('plugin', 'check', join(EXAMPLES, 'kv-go-v1'));
    expect(goPlugin.exitCode).toBe(0);
    expect(goPlugin.modules.some((url) => /node_modules\/@grpc\/grpc-js\//.test(url))).toBe(true);
    expect(goPlugin.modules.filter((url) => /@modelcontextprotocol/.test(url))).toEqual([]);
  });
});
