/**
 * Per-plugin resource limits from the engine config, enforced by the kernel:
 * a cgroup per plugin process (memory, processes) and RLIMIT_NOFILE at spawn.
 * A candidate the kernel stops at its memory limit is rolled back with the
 * limit named, and the old process serves on.
 */
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startCallers } from '../helpers/callers.js';
import { TEST_TIMEOUTS } from '../helpers/timeouts.js';
import { scaled } from '../helpers/slowdown.js';
import { writeConfig } from '../helpers/configs.js';
import { isAlive, openTestHost, type TestHost } from '../helpers/host.js';
import { join } from 'node:path';
import { makePluginDir, tempDir } from '../helpers/plugin-dirs.js';
import { startServe } from '../helpers/serve.js';
import { createAdminApi } from '../../src/api/index.js';
import type { ReloadResult } from '../../src/index.js';

const TOKEN = 'test-token-0123456789abcdef';

/** Where this machine keeps the plugins' cgroups (v1: one per hierarchy; v2: one tree). */
const CGROUP_PARENTS = ['/sys/fs/cgroup/memory/wfreload', '/sys/fs/cgroup/pids/wfreload', '/sys/fs/cgroup/wfreload'].filter((dir) => existsSync(dir) || existsSync(dir.replace('/wfreload', '')));
const pluginCgroups = () => CGROUP_PARENTS.flatMap((dir) => (existsSync(dir) ? readdirSync(dir).filter((name) => name.startsWith('p-')) : []));

async function limitedHost(limits: Record<string, unknown>, options: Parameters<typeof openTestHost>[0] = {}): Promise<TestHost> {
  const t = await openTestHost(options);
  const result = await t.host.tryActivateConfig(await writeConfig({ limits }));
  expect(result.outcome, JSON.stringify(result.error)).toBe('activated');
  return t;
}

describe('resource limits', () => {
  it('a candidate that allocates 256 MiB in its probe under memoryMiB: 64 is rolled back at probe with WFR_PLUGIN_LIMIT_EXCEEDED; the old process serves on', async () => {
    const t = await limitedHost({ memoryMiB: 64 });
    try {
      const before = t.host.listPlugins()[0]!;
      const hungry = await makePluginDir({ version: '2.0.0', manifest: { probe: [{ step: 'echo', input: { allocMiB: 256 } }] } });
      const result = await t.host.tryActivatePlugin('fake', hungry);
      expect(result).toMatchObject({ outcome: 'rolledBack', failedStep: 'probe', error: { code: 'WFR_PLUGIN_LIMIT_EXCEEDED', details: { limit: 'memoryMiB', allowed: '64 MiB' } } });
      expect(result.error!.message).toMatch(/exceeded its limit memoryMiB \(64 MiB\) during invoke of "echo": the kernel stopped it at a peak of \d+ MiB/);
      expect(t.host.listPlugins()[0]).toMatchObject({ version: '1.0.0', pid: before.pid });
      expect(isAlive(before.pid)).toBe(true);
      expect(await t.host.invoke('fake', 'echo', {})).toMatchObject({ version: '1.0.0' });
    } finally {
      await t.close();
    }
    expect(pluginCgroups()).toEqual([]);
  });

  it('an active plugin that leaks past memoryMiB is restarted through its slot, with the limit as the reason in the history and counted in wfreload_plugin_limit_exceeded_total', async () => {
    const t = await limitedHost({ memoryMiB: 64 });
    try {
      const before = t.host.listPlugins()[0]!;
      const restarted = new Promise<ReloadResult>((resolve) => t.host.events.subscribe((event) => event.type === 'reload' && event.result.outcome === 'restarted' && resolve(event.result)));
      await expect(t.host.invoke('fake', 'echo', { allocMiB: 256 })).rejects.toMatchObject({ code: 'WFR_PLUGIN_LIMIT_EXCEEDED' });
      const result = await restarted;
      expect(result).toMatchObject({ source: 'supervisor', error: { code: 'WFR_PLUGIN_LIMIT_EXCEEDED', details: { limit: 'memoryMiB', allowed: '64 MiB' } } });
      expect((await t.host.history()).find((r) => r.id === result.id)).toEqual(result);
      const after = t.host.listPlugins()[0]!;
      expect(after.pid).not.toBe(before.pid);
      expect(await t.host.invoke('fake', 'echo', {})).toMatchObject({ version: '1.0.0', pid: after.pid });
      const metrics = await (await createAdminApi(t.host, TOKEN)).app.fetch(new Request('http://host/api/v1/metrics', { headers: { authorization: `Bearer ${TOKEN}` } }));
      expect(await metrics.text()).toContain('wfreload_plugin_limit_exceeded_total{plugin="fake",limit="memoryMiB"} 1');
    } finally {
      await t.close();
    }
    expect(pluginCgroups()).toEqual([]);
  });

  it('without cgroups (forced: a cgroup root with none), memory is measured from /proc and a candidate past memoryMiB is rolled back with the measured peak; the status says so', async () => {
    const t = await limitedHost({ memoryMiB: 64 }, { cgroupRoot: '/nonexistent/cgroup', limitPollMs: 20 });
    try {
      const before = t.host.listPlugins()[0]!;
      expect(before.limits?.enforcement.cgroup).toBe('none (no cgroup v1 or v2 hierarchy at /nonexistent/cgroup); memoryMiB by measuring its resident memory every 20 ms');
      expect(t.logs.some((line) => String(line.msg).includes('limits are not enforced by the kernel'))).toBe(true);
      // Held past the limit until the measurement catches it: the probe's step allocates, then waits.
      const hungry = await makePluginDir({ version: '2.0.0', manifest: { probe: [{ step: 'echo', input: { allocMiB: 256, holdUntilFile: '/nonexistent/never' } }] } });
      const result = await t.host.tryActivatePlugin('fake', hungry);
      expect(result).toMatchObject({ outcome: 'rolledBack', failedStep: 'probe', error: { code: 'WFR_PLUGIN_LIMIT_EXCEEDED', details: { limit: 'memoryMiB', allowed: '64 MiB' } } });
      expect(result.error!.message).toMatch(/at a peak of \d+ MiB \(measured\)/);
      expect(t.host.listPlugins()[0]).toMatchObject({ version: '1.0.0', pid: before.pid });
    } finally {
      await t.close();
    }
  });

  it('under load (8 callers) while a limited plugin is killed for memory and restarted, the front door answers every request, from the plugin or with a coded error, and the host\'s memory stays flat', async () => {
    const t = await limitedHost({ memoryMiB: 64 });
    try {
      const front = t.host.engineStatus()!.address!;
      const get = () => fetch(`http://${front}/echo/load`).then(async (response) => ({ status: response.status, body: (await response.json()) as any }));
      for (let i = 0; i < 50; i++) await get();
      const hostBefore = process.memoryUsage().rss;
      const errors = new Map<string, number>();
      const load = startCallers(8, get, ({ status, body }) => {
        if (status === 200 && body.step === 'echo') return null;
        // Not from the plugin: then a coded error saying why (the plugin stopped at its limit, or restarting).
        if (status >= 500 && typeof body.error?.code === 'string') {
          errors.set(body.error.code, (errors.get(body.error.code) ?? 0) + 1);
          return null;
        }
        return `${status} ${JSON.stringify(body)}`;
      });
      const restarted = new Promise<void>((resolve) => t.host.events.subscribe((event) => event.type === 'reload' && event.result.outcome === 'restarted' && resolve()));
      await expect(t.host.invoke('fake', 'echo', { allocMiB: 256 })).rejects.toMatchObject({ code: 'WFR_PLUGIN_LIMIT_EXCEEDED' });
      await restarted;
      const answeredAtRestart = load.answered;
      // Served again by the restarted plugin.
      while (load.answered < answeredAtRestart + 50) await new Promise((resolve) => setTimeout(resolve, 10));
      await load.stop();
      expect(load.failures).toEqual([]);
      expect([...errors.keys()].every((code) => code.startsWith('WFR_'))).toBe(true);
      // The plugin's 256 MiB were never the host's.
      expect(process.memoryUsage().rss - hostBefore).toBeLessThan(64 * 1024 * 1024);
    } finally {
      await t.close();
    }
  });

  it('a new version that blows memoryMiB inside its confirmation window is swapped back: rolledBack at confirm, the cause the limit, the old process serving', async () => {
    const t = await limitedHost({ memoryMiB: 64 }, { timeouts: { ...TEST_TIMEOUTS, confirmMs: scaled(1_000) } });
    try {
      const before = t.host.listPlugins()[0]!;
      // Passes its probe, then takes 256 MiB right after the first health call of the window.
      const result = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.0', flags: ['alloc-after-health=2'] }));
      expect(result).toMatchObject({ outcome: 'rolledBack', failedStep: 'confirm', error: { code: 'WFR_CONFIRM_FAILED', details: { cause: 'WFR_PLUGIN_LIMIT_EXCEEDED' } }, active: { version: '1.0.0', pid: before.pid } });
      expect(result.error!.message).toMatch(/exceeded its limit memoryMiB \(64 MiB\)/);
      expect(result.steps.map((s) => s.work)).toEqual(['stage', 'start', 'handshake', 'probe', 'engine check', 'swap', 'confirm', 'swap back']);
      expect(t.host.listPlugins()[0]).toMatchObject({ version: '1.0.0', pid: before.pid });
      expect(await t.host.invoke('fake', 'echo', {})).toMatchObject({ version: '1.0.0' });
      expect(JSON.parse(await t.readMarker()).plugins.fake.version).toBe('1.0.0');
    } finally {
      await t.close();
    }
  });

  it('openFiles: 64 is the process\'s RLIMIT_NOFILE: a plugin that opens 500 files gets EMFILE before 64', async () => {
    const t = await limitedHost({ openFiles: 64 });
    try {
      const { pid } = t.host.listPlugins()[0]!;
      expect((await import('node:fs')).readFileSync(`/proc/${pid}/limits`, 'utf8')).toMatch(/Max open files\s+64\s+64\s+files/);
      await expect(t.host.invoke('fake', 'echo', { openFiles: 500 })).rejects.toMatchObject({ message: expect.stringMatching(/opened \d+ files, then EMFILE/) });
      const opened = Number(/opened (\d+) files/.exec(((await t.host.invoke('fake', 'echo', { openFiles: 500 }).catch((error: Error) => error)) as Error).message)?.[1]);
      expect(opened).toBeLessThan(64);
    } finally {
      await t.close();
    }
  });

  it('a candidate that opens 500 files in its probe under openFiles: 64 is rolled back at probe with WFR_PLUGIN_LIMIT_EXCEEDED naming openFiles and the count; the old process serves on', async () => {
    const t = await limitedHost({ openFiles: 64 });
    try {
      const before = t.host.listPlugins()[0]!;
      const greedy = await makePluginDir({ version: '2.0.0', manifest: { probe: [{ step: 'echo', input: { openFiles: 500 } }] } });
      const result = await t.host.tryActivatePlugin('fake', greedy);
      expect(result).toMatchObject({ outcome: 'rolledBack', failedStep: 'probe', error: { code: 'WFR_PLUGIN_LIMIT_EXCEEDED', details: { limit: 'openFiles', allowed: '64 files', during: 'invoke of "echo"' } } });
      expect(result.error!.message).toMatch(/exceeded its limit openFiles \(64 files\) during invoke of "echo": the kernel refused its next file \(EMFILE\) with 6\d open/);
      expect(t.host.listPlugins()[0]).toMatchObject({ version: '1.0.0', pid: before.pid });
      expect(isAlive(result.candidate!.pid)).toBe(false);
      expect(await t.host.invoke('fake', 'echo', {})).toMatchObject({ version: '1.0.0' });
    } finally {
      await t.close();
    }
  });

  it('a fork bomb under processes: 16 is contained by the kernel, and the host stays responsive', async () => {
    const t = await limitedHost({ processes: 16 });
    try {
      const output = (await t.host.invoke('fake', 'echo', { spawn: 100 })) as { spawned: number; error?: string };
      expect(output.spawned).toBeLessThan(16);
      expect(output.error).toBe('EAGAIN');
      // The status says what is set and how the kernel holds it, beside what the process uses.
      const status = t.host.listPlugins()[0]!;
      expect(status).toMatchObject({ health: 'serving', limits: { set: { processes: 16 }, enforcement: { cgroup: expect.stringMatching(/^cgroup v[12]$/), openFiles: null } } });
      expect(status.usage!.memoryBytes).toBeGreaterThan(1024 * 1024);
      expect(await t.host.invoke('fake', 'echo', { tag: 'still here' })).toMatchObject({ input: { tag: 'still here' } });
    } finally {
      await t.close();
    }
    expect(pluginCgroups()).toEqual([]);
  });

  it('a manifest that requires more memory than the config allows is rejected at stage, naming both numbers, and leaves nothing staged', async () => {
    const t = await limitedHost({ memoryMiB: 64 });
    try {
      const needy = await makePluginDir({ version: '3.0.0', manifest: { requires: { memoryMiB: 128 } } });
      const result = await t.host.tryActivatePlugin('fake', needy);
      expect(result).toMatchObject({ outcome: 'rejected', failedStep: 'stage', error: { code: 'WFR_PLUGIN_REQUIRES_MORE', details: { required: 128, allowed: 64 } } });
      expect(result.error!.message).toContain('requires memoryMiB 128 (plugin.json "requires"), but the engine config allows it 64 (plugins.fake.limits.memoryMiB)');
      expect(readdirSync(`${t.stateDir}/plugins/fake`).some((name) => name.startsWith('3.0.0-'))).toBe(false);
    } finally {
      await t.close();
    }
  });

  it('a host killed with SIGKILL leaves its plugins\' cgroups behind; the next host on the state directory removes them, and restarts the plugin under the active config\'s limits', async () => {
    const stateDir = join(await tempDir('wfr-limits-kill-'), 'state');
    const doomed = await startServe(stateDir, await writeConfig({ limits: { memoryMiB: 64, processes: 32 } }));
    const left = pluginCgroups();
    expect(left.length).toBeGreaterThan(0);
    doomed.process.kill('SIGKILL');
    await doomed.process;
    expect(pluginCgroups()).toEqual(left);
    const restarted = await startServe(stateDir);
    try {
      // The dead host's cgroups are gone; the restarted plugin has one of its own (the limits were read back before it started).
      const now = pluginCgroups();
      expect(now.filter((name) => left.includes(name))).toEqual([]);
      expect(now.length).toBeGreaterThan(0);
    } finally {
      await restarted.stop();
    }
    expect(pluginCgroups()).toEqual([]);
  });

  it.each([
    [{ memoryMiB: 2 }, /memoryMiB[\s\S]*at least 8/],
    [{ openFiles: 4 }, /openFiles[\s\S]*at least 16/],
    [{ processes: 0 }, /processes/],
    [{ memory: 64 }, /memory/],
  ])('a config with limits %j is invalid, naming the field', async (limits, problem) => {
    const t = await openTestHost();
    try {
      const result = await t.host.tryActivateConfig(await writeConfig({ limits }));
      expect(result).toMatchObject({ outcome: 'rejected', error: { code: 'WFR_CONFIG_INVALID' } });
      expect(result.error!.message).toMatch(problem);
    } finally {
      await t.close();
    }
  });
});
