import { join } from 'node:path';
import { execa } from 'execa';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { PluginProcess, readManifest } from '../../src/plugins/index.js';
import { isAlive } from '../helpers/host.js';
import { EXAMPLES, makePluginDir } from '../helpers/plugin-dirs.js';
import { waitForExit } from '../helpers/wait.js';

const started: PluginProcess[] = [];
afterEach(async () => {
  for (const process of started.splice(0)) process.kill();
});

async function launch(flags: string[] = []) {
  const logs: Array<Record<string, unknown>> = [];
  const dir = await makePluginDir({ flags });
  const process = await PluginProcess.launch({
    manifest: await readManifest(dir),
    dir,
    dataDir: dir,
    logger: pino({}, { write: (line: string) => void logs.push(JSON.parse(line)) }),
    limits: { maxLineBytes: 1 << 20, stderrTailLines: 5 },
  });
  started.push(process);
  return { process, logs };
}

/** Resolves once the plugin has written a stderr line matching `pattern`. */
async function stderrLine(logs: Array<Record<string, unknown>>, pattern: RegExp, process: PluginProcess): Promise<string> {
  // The plugin's first reply proves it is past start-up, so its earlier stderr lines have been logged or are in the pipe.
  await process.health(5_000);
  for (;;) {
    const line = logs.find((entry) => entry.stream === 'stderr' && pattern.test(String(entry.msg)));
    if (line) return String(line.msg);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('PluginProcess', () => {
  it('logs each stderr line through pino with the plugin name, version and pid', async () => {
    const { process, logs } = await launch();
    await stderrLine(logs, /ready/, process);
    expect(logs.find((entry) => entry.stream === 'stderr')).toMatchObject({ plugin: 'fake', version: '1.0.0', pid: process.pid, msg: `fake 1.0.0 (fake) ready, pid ${process.pid}` });
    expect(process.stderrTail()).toContain(`fake 1.0.0 (fake) ready, pid ${process.pid}`);
  });

  it('stops gracefully on shutdown with exit code 0: the shutdown call reaches the plugin before its stdin closes', async () => {
    // require-shutdown: the plugin exits 9 if stdin closes without a shutdown call first.
    const { process } = await launch(['require-shutdown']);
    await process.initialize(5_000);
    expect(await process.stop(5_000)).toEqual({ code: 0, signal: null });
    expect(isAlive(process.pid)).toBe(false);
  });

  it('SIGKILLs a plugin that ignores shutdown and stdin EOF once the grace period is over', async () => {
    const { process } = await launch(['ignore-shutdown']);
    await process.initialize(5_000);
    expect(await process.stop(100)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(isAlive(process.pid)).toBe(false);
  });

  it('kills the whole process group, leaving no orphaned grandchild', async () => {
    const { process, logs } = await launch(['spawn-grandchild']);
    const grandchild = Number((await stderrLine(logs, /^grandchild \d+/, process)).split(' ')[1]);
    expect(isAlive(grandchild)).toBe(true);
    process.kill();
    await process.exited;
    // The group was SIGKILLed in one call; wait for the kernel to tear down the orphaned child, bounded.
    expect(await waitForExit(grandchild)).toBe(true);
  });

  it('fails at once with WFR_PLUGIN_PROTOCOL_ERROR when the plugin closes stdout but keeps running', async () => {
    const { process } = await launch(['close-stdout']);
    // Well inside the timeout: the closed pipe, not the clock, ends the call.
    await expect(process.initialize(60_000)).rejects.toMatchObject({ code: 'WFR_PLUGIN_PROTOCOL_ERROR', message: expect.stringContaining('closed its stdout but kept running') });
  });

  it('keeps a note instead of a stderr line over the limit', async () => {
    const { process, logs } = await launch(['flood-stderr-line=100000']);
    expect(await stderrLine(logs, /stderr line of \d+ bytes was dropped/, process)).toMatch(/the limit is 16384/);
    expect(process.stderrTail().every((line) => line.length < 20_000)).toBe(true);
  });

  it('fails calls in flight with WFR_PLUGIN_EXITED and the last stderr lines when the plugin dies', async () => {
    const { process } = await launch(['exit-early']);
    await expect(process.initialize(5_000)).rejects.toMatchObject({ code: 'WFR_PLUGIN_EXITED', message: expect.stringContaining('cannot open database') });
  });
});

describe('a plugin started by hand, without the magic cookie', () => {
  const plugins = [
    ['greeter-v1', ['node', 'greeter.mjs']],
    ['greeter-v2', ['node', 'greeter.mjs']],
    ['wordcount-py', ['python3', 'plugin.py']],
  ] as const;

  it.each(plugins)('%s prints one line saying what it is and how to run it, and exits non-zero', async (dir, command) => {
    const [file, ...args] = command;
    const result = await execa(file, args, { cwd: join(EXAMPLES, dir), reject: false, input: '', env: { WFRELOAD_PLUGIN_MAGIC_COOKIE: '' } });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^This is a wfreload plugin \(\w+ \d\.\d\.\d\); start it with `wfctl plugin try-activate/);
  });
});
