/**
 * A plugin swap answers to the engine config that routes to it: through a
 * real `wfctl serve`, a candidate that drops a step the config routes to, or
 * whose step fails the config's probe, is refused and the running version
 * keeps serving; a good one still swaps; a dry run judges the same way.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reloadResultSchema } from '../../src/api/schemas.js';
import { writeConfig } from '../helpers/configs.js';
import { makePluginDir, tempDir, type FakePluginSpec } from '../helpers/plugin-dirs.js';
import { startServe, wfctl, type RunningHost } from '../helpers/serve.js';

let stateDir: string;
let host: RunningHost;
let token: string;

beforeAll(async () => {
  stateDir = await tempDir('wfr-judge-');
  host = await startServe(stateDir, await writeConfig({ tag: 'A' }));
  token = (await readFile(join(stateDir, 'admin.token'), 'utf8')).trim();
});
afterAll(() => host?.stop());

const front = async (path: string) => {
  const response = await fetch(`http://${host.front}${path}`);
  return { status: response.status, body: (await response.json()) as { version?: string; pid?: number; error?: { code: string; message: string } } };
};

async function tryActivate(spec: FakePluginSpec, dryRun = false) {
  const response = await fetch(`http://${host.admin}/api/v1/plugins/fake/try-activate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ dir: await makePluginDir(spec), dryRun }),
  });
  return { status: response.status, result: reloadResultSchema.parse(await response.json()) };
}

describe('a plugin candidate is judged against the active engine config', () => {
  it('refuses a candidate that drops a step a route uses (422, WFR_PLUGIN_BREAKS_ROUTES naming the route); the old pid keeps serving', async () => {
    const before = await front('/echo/x');
    expect(before.status).toBe(200);
    const { status, result } = await tryActivate({ version: '3.0.0', steps: ['farewell'] });
    expect(status).toBe(422);
    expect(result).toMatchObject({ outcome: 'rolledBack', failedStep: 'engine check', error: { code: 'WFR_PLUGIN_BREAKS_ROUTES' } });
    expect(result.error!.message).toContain('GET /echo/:word → fake.echo at pipelines[0].steps[0].use');
    expect(result.error!.message).toContain('GET /slow → fake.echo at pipelines[1].steps[0].use');
    expect(result.error!.details).toMatchObject({ offered: ['farewell'], missing: [{ route: 'GET /echo/:word', step: 'echo' }, { route: 'GET /slow', step: 'echo' }] });
    // Every check before it passed; the engine check is a step of the result.
    expect(result.steps.map((s) => [s.work, s.error?.code ?? null])).toEqual([
      ['stage', null],
      ['start', null],
      ['handshake', null],
      ['probe', null],
      ['engine check', 'WFR_PLUGIN_BREAKS_ROUTES'],
      ['roll back', null],
    ]);
    const after = await front('/echo/x');
    expect(after).toEqual(before);
  });

  it('refuses a candidate that keeps the step but fails the config probe through it (WFR_PLUGIN_FAILS_CONFIG_PROBE)', async () => {
    const before = await front('/echo/x');
    const { status, result } = await tryActivate({ version: '3.1.0', flags: ['fail-invoke=database is gone'] });
    expect(status).toBe(422);
    expect(result).toMatchObject({ outcome: 'rolledBack', failedStep: 'engine check', error: { code: 'WFR_PLUGIN_FAILS_CONFIG_PROBE' } });
    expect(result.error!.message).toMatch(/fails a probe of the active engine config \(generation 1\) with its steps going to the candidate: probe GET \/echo\/probe answered .*database is gone/);
    expect(await front('/echo/x')).toEqual(before);
  });

  it('a dry run judges the same way, and changes nothing', async () => {
    const marker = await readFile(join(stateDir, 'active.json'), 'utf8');
    const bad = await wfctl(host, stateDir, 'plugin', 'try-activate', 'fake', await makePluginDir({ version: '3.2.0', steps: ['farewell'] }), '--dry-run');
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toMatch(/✗ plugin:fake: rolledBack at engine check: Plugin "fake" 3\.2\.0 does not offer "echo", which the active engine config routes to it/);
    expect(bad.stdout).toMatch(/✗ engine check .* WFR_PLUGIN_BREAKS_ROUTES/);
    const good = await tryActivate({ version: '3.3.0' }, true);
    expect(good.status).toBe(200);
    expect(good.result).toMatchObject({ outcome: 'dryRunPassed' });
    expect(good.result.steps.map((s) => s.work)).toEqual(['stage', 'start', 'handshake', 'probe', 'engine check', 'stop candidate']);
    expect(await readFile(join(stateDir, 'active.json'), 'utf8')).toBe(marker);
  });

  it('swaps a good candidate, which then serves the routes', async () => {
    const { status, result } = await tryActivate({ version: '4.0.0' });
    expect(status).toBe(200);
    expect(result).toMatchObject({ outcome: 'activated', active: { version: '4.0.0' } });
    expect(result.steps.map((s) => s.work)).toEqual(['stage', 'start', 'handshake', 'probe', 'engine check', 'swap', 'confirm', 'drain']);
    expect((await front('/echo/x')).body).toMatchObject({ version: '4.0.0' });
  });
});
