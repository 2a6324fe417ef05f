/**
 * Readiness for other engines (Kubernetes probes, Nomad checks, campaigns):
 * /livez and /readyz answer without a token and reveal only ready-or-not and
 * a reason code; `wfctl ready` exits 0, 1 or 3 on it.
 */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { readyzSchema } from '../../src/api/schemas.js';
import { writeConfig } from '../helpers/configs.js';
import { openTestHost } from '../helpers/host.js';
import { makePluginDir, tempDir } from '../helpers/plugin-dirs.js';
import { startServe, wfctl, WFCTL } from '../helpers/serve.js';
import { TEST_TIMEOUTS } from '../helpers/timeouts.js';

describe('readiness through the real host and wfctl', () => {
  it('not ready without an engine, ready once one serves; no token needed, nothing else revealed', async () => {
    const stateDir = await tempDir('wfr-ready-');
    const host = await startServe(stateDir);
    try {
      const probe = async () => {
        const response = await fetch(`http://${host.admin}/readyz`);
        return { status: response.status, body: await response.json() };
      };
      expect(await probe()).toEqual({ status: 503, body: { ready: false, reason: 'no-engine' } });
      const notReady = await execa(process.execPath, [WFCTL, 'ready', '--admin', host.admin], { reject: false });
      expect(notReady.exitCode).toBe(1);
      expect(notReady.stdout).toBe('not ready: no-engine');

      expect((await wfctl(host, stateDir, 'config', 'try-activate', await writeConfig({ tag: 'A' }))).exitCode).toBe(0);
      const ready = await probe();
      expect(ready).toEqual({ status: 200, body: { ready: true } });
      readyzSchema.parse(ready.body);
      const yes = await execa(process.execPath, [WFCTL, 'ready', '--admin', host.admin, '--json'], { reject: false });
      expect(yes.exitCode).toBe(0);
      expect(JSON.parse(yes.stdout)).toEqual({ ready: true });
      expect(await (await fetch(`http://${host.admin}/livez`)).json()).toEqual({ live: true });
    } finally {
      await host.stop();
    }
  });

  it('wfctl ready exits 3 when nothing answers', async () => {
    const result = await execa(process.execPath, [WFCTL, 'ready', '--admin', '127.0.0.1:9'], { reject: false });
    expect(result.exitCode).toBe(3);
  });
});

describe('readiness of a host', () => {
  it('is not ready while a swap is inside its confirmation window, nor while a plugin is failed', async () => {
    const t = await openTestHost({ timeouts: { ...TEST_TIMEOUTS, confirmMs: 1_000 }, restart: { maxRestarts: 0, windowMs: 60_000, backoffMs: 1, backoffMaxMs: 1 } });
    try {
      await t.host.tryActivateConfig(await writeConfig({ tag: 'A' }));
      expect(t.host.readiness()).toEqual({ ready: true });
      const confirming = t.waitForState('plugin:fake', 'confirming');
      const swap = t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.0' }));
      await confirming;
      expect(t.host.readiness()).toEqual({ ready: false, reason: 'confirming' });
      expect((await swap).outcome).toBe('activated');
      expect(t.host.readiness()).toEqual({ ready: true });

      const gaveUp = new Promise<void>((resolve) => t.host.events.subscribe((event) => event.type === 'reload' && event.result.outcome === 'crashed' && resolve()));
      process.kill(t.host.listPlugins()[0]!.pid, 'SIGKILL');
      await gaveUp;
      expect(t.host.readiness()).toEqual({ ready: false, reason: 'plugin-failed' });
    } finally {
      await t.close();
    }
  });
});
